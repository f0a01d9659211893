/* cgroup v2: one tree, controllers enabled per level through cgroup.subtree_control, and file
 * names of its own. The OCI resources are v1-shaped; cgroup_convert.c turns them into v2 values.
 * Device access on v2 is an eBPF program (cgroup_bpf.c). Every write goes through cgroup_set(), so
 * that an update can be undone.
 */
#include "cgroup_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>


static bool named(const char *const *names, size_t count, const char *name)
{
    for (size_t i = 0; i < count; i++)
        if (strcmp(names[i], name) == 0)
            return true;
    return false;
}

/* One at a time, errors ignored: a write naming several fails whole when the kernel refuses one. */
static void enable_available(const char *dir, const char *current, const char *const *names,
                             size_t count, const char *available)
{
    for (const char *a = available; a && *a;) {
        a += strspn(a, " \n");
        size_t len = strcspn(a, " \n");
        char add[65]; /* "+<name>" */
        if (len > 0 && len < sizeof(add) - 1) {
            snprintf(add, sizeof(add), "+%.*s", (int)len, a);
            if (!cgroup_list_has(current, add + 1) && !named(names, count, add + 1))
                cgroup_write(dir, "cgroup.subtree_control", add, NULL, NULL);
        }
        a += len;
    }
}

int cgroup_v2_enable(const char *mount_point, const char *path, const char *const *names,
                     size_t count, const char *available, ctr_error **err)
{
    _cleanup_free_ char *dir = strdup(mount_point);
    if (dir == NULL)
        return error_set(err, ENOMEM, "enable cgroup v2 controllers");
    /* Every level above the container's cgroup, the root included; a controller can only be
     * enabled where the parent enabled it, hence top-down. */
    for (const char *p = path;;) {
        _cleanup_free_ char *current = NULL;
        ctr_error *e = NULL;
        if (cgroup_read(dir, "cgroup.subtree_control", &current, &e) < 0) {
            if (count > 0)
                return error_pass(err, e);
            ctr_error_free(e); /* only `available` asked for: where it can */
            return 0;
        }
        char add[256] = "";
        for (size_t i = 0; i < count; i++) {
            if (cgroup_list_has(current, names[i]))
                continue; /* already on: no write, so no EBUSY from a busy ancestor */
            size_t used = strlen(add);
            snprintf(add + used, sizeof(add) - used, "%s+%s", used ? " " : "", names[i]);
        }
        if (add[0] != '\0' && cgroup_write(dir, "cgroup.subtree_control", add, NULL, err) < 0)
            return error_wrap(err, "enable cgroup v2 controllers");
        enable_available(dir, current, names, count, available);
        const char *next = strchr(p + 1, '/');
        if (next == NULL)
            return 0;
        char *longer = NULL;
        if (asprintf(&longer, "%s%.*s", dir, (int)(next - p), p) < 0)
            return error_set(err, ENOMEM, "enable cgroup v2 controllers");
        free(dir);
        dir = longer;
        p = next;
    }
}

/* cgroup_set() of a typed field, unless linux.resources.unified sets the same file. */
static int v2_write(struct cgroup_journal *journal, const char *dir,
                    const struct spec_resources *res, const char *file, const char *value,
                    const char *field, ctr_error **err)
{
    return cgroup_unified_sets(res, file) ? 0 : cgroup_set(journal, dir, file, value, field, err);
}

static int v2_memory(struct cgroup_journal *journal, const char *dir, const struct spec_resources *res, ctr_error **err)
{
    const struct spec_memory *m = &res->memory;
    char text[24];
    if (m->swappiness.set)
        return error_set(
            err, EOPNOTSUPP,
            "linux.resources.memory.swappiness: cgroup v2 has no per-cgroup swappiness");
    if (m->kernel.set || m->kernel_tcp.set)
        return error_set(err, EOPNOTSUPP,
                         "linux.resources.memory.%s: kernel memory limits were removed from the "
                         "kernel (cgroup v2 counts kernel memory in memory.max)",
                         m->kernel.set ? "kernel" : "kernelTCP");
    if (m->disable_oom_killer.set && m->disable_oom_killer.value)
        return error_set(err, EOPNOTSUPP,
                         "linux.resources.memory.disableOOMKiller: cgroup v2 cannot disable the "
                         "OOM killer");
    if (m->use_hierarchy.set && !m->use_hierarchy.value)
        return error_set(err, EOPNOTSUPP,
                         "linux.resources.memory.useHierarchy: cgroup v2 is always hierarchical");
    int64_t swap;
    int r = cgroup_memory_swap_to_v2(m, &swap, err);
    if (r < 0)
        return -1;
    /* An implied unlimited swap (memory -1, swap absent) has nothing to lift without swap
     * accounting; an explicit swap limit must land or fail. */
    if (r == 1 && (m->swap.set || cgroup_has_file(dir, "memory.swap.max"))) {
        cgroup_format_limit(swap, text);
        if (v2_write(journal, dir, res, "memory.swap.max", text, "linux.resources.memory.swap", err) < 0)
            return -1;
    }
    if (m->limit.set) {
        cgroup_format_limit(m->limit.value, text);
        if (v2_write(journal, dir, res, "memory.max", text, "linux.resources.memory.limit", err) < 0)
            return -1;
    }
    if (m->reservation.set) {
        cgroup_format_limit(m->reservation.value, text);
        if (v2_write(journal, dir, res, "memory.low", text, "linux.resources.memory.reservation", err) < 0)
            return -1;
    }
    return 0;
}

static int v2_cpu(struct cgroup_journal *journal, const char *dir, const struct spec_resources *res, ctr_error **err)
{
    const struct spec_cpu *cpu = &res->cpu;
    char text[48];
    if (cpu->realtime_runtime.set || cpu->realtime_period.set)
        return error_set(err, EOPNOTSUPP,
                         "linux.resources.cpu.%s: cgroup v2 has no realtime CPU bandwidth",
                         cpu->realtime_runtime.set ? "realtimeRuntime" : "realtimePeriod");
    /* An idle group has no weight (the kernel refuses cpu.weight there): leaving idle comes
     * before the weight, entering it after. */
    bool idle_first = cpu->idle.set && cpu->idle.value == 0;
    if (idle_first && v2_write(journal, dir, res, "cpu.idle", "0", "linux.resources.cpu.idle",
                               err) < 0)
        return -1;
    if (cgroup_cpu_shares_set(cpu)) {
        snprintf(text, sizeof(text), "%" PRIu64, cgroup_cpu_shares_to_weight(cpu->shares.value));
        if (v2_write(journal, dir, res, "cpu.weight", text, "linux.resources.cpu.shares", err) < 0)
            return -1;
    }
    if (cgroup_cpu_max(cpu, text, sizeof(text)) &&
        v2_write(journal, dir, res, "cpu.max", text,
                 cgroup_cpu_quota_set(cpu) ? "linux.resources.cpu.quota"
                                           : "linux.resources.cpu.period",
                 err) < 0)
        return -1;
    if (cpu->burst.set) {
        snprintf(text, sizeof(text), "%" PRIu64, cpu->burst.value);
        if (v2_write(journal, dir, res, "cpu.max.burst", text, "linux.resources.cpu.burst", err) < 0)
            return -1;
    }
    if (cpu->idle.set && !idle_first) {
        snprintf(text, sizeof(text), "%" PRId64, cpu->idle.value);
        if (v2_write(journal, dir, res, "cpu.idle", text, "linux.resources.cpu.idle", err) < 0)
            return -1;
    }
    return 0;
}

static int v2_cpuset(struct cgroup_journal *journal, const char *dir, const struct spec_resources *res, ctr_error **err)
{
    const struct spec_cpu *cpu = &res->cpu;
    if (cpu->cpus && cpu->cpus[0] &&
        v2_write(journal, dir, res, "cpuset.cpus", cpu->cpus, "linux.resources.cpu.cpus", err) < 0)
        return -1;
    if (cpu->mems && cpu->mems[0] &&
        v2_write(journal, dir, res, "cpuset.mems", cpu->mems, "linux.resources.cpu.mems", err) < 0)
        return -1;
    return 0;
}

/* ---- io -------------------------------------------------------------------------------------- */

struct io_limits {
    int64_t major, minor;
    uint64_t rate[4]; /* rbps, wbps, riops, wiops; 0 = none ("max") */
};

/* io.max takes one device per write with all four limits, where v1 has a file per limit. */
static int v2_io_max(struct cgroup_journal *journal, const char *dir, const struct spec_resources *res, ctr_error **err)
{
    const struct spec_block_io *b = &res->block_io;
    const struct spec_throttle_device *lists[4] = {b->throttle_read_bps, b->throttle_write_bps,
                                                   b->throttle_read_iops, b->throttle_write_iops};
    size_t counts[4] = {b->throttle_read_bps_count, b->throttle_write_bps_count,
                        b->throttle_read_iops_count, b->throttle_write_iops_count};
    static const char *const keys[4] = {"rbps", "wbps", "riops", "wiops"};
    size_t total = counts[0] + counts[1] + counts[2] + counts[3], used = 0;
    if (total == 0)
        return 0;
    _cleanup_free_ struct io_limits *devs = calloc(total, sizeof(*devs));
    if (devs == NULL)
        return error_set(err, ENOMEM, "linux.resources.blockIO");
    for (int k = 0; k < 4; k++)
        for (size_t i = 0; i < counts[k]; i++) {
            size_t d = 0;
            while (d < used &&
                   (devs[d].major != lists[k][i].major || devs[d].minor != lists[k][i].minor))
                d++;
            if (d == used) {
                devs[used].major = lists[k][i].major;
                devs[used++].minor = lists[k][i].minor;
            }
            devs[d].rate[k] = lists[k][i].rate;
        }
    for (size_t d = 0; d < used; d++) {
        char line[160], field[FIELD_MAX];
        int n = snprintf(line, sizeof(line), "%" PRId64 ":%" PRId64, devs[d].major, devs[d].minor);
        for (int k = 0; k < 4; k++) {
            if (devs[d].rate[k] != 0)
                n += snprintf(line + n, sizeof(line) - (size_t)n, " %s=%" PRIu64, keys[k],
                              devs[d].rate[k]);
            else
                n += snprintf(line + n, sizeof(line) - (size_t)n, " %s=max", keys[k]);
        }
        snprintf(field, sizeof(field), "linux.resources.blockIO (device %" PRId64 ":%" PRId64 ")",
                 devs[d].major, devs[d].minor);
        char key[48], reset[160];
        snprintf(key, sizeof(key), "%" PRId64 ":%" PRId64, devs[d].major, devs[d].minor);
        snprintf(reset, sizeof(reset), "%s rbps=max wbps=max riops=max wiops=max", key);
        if (cgroup_set_keyed(journal, dir, "io.max", key, line, reset, field, err) < 0)
            return -1;
    }
    return 0;
}

static int v2_io(struct cgroup_journal *journal, const char *dir, const struct spec_resources *res, ctr_error **err)
{
    const struct spec_block_io *b = &res->block_io;
    /* BFQ keeps v1's 1..1000 weights in io.bfq.weight; otherwise io.weight takes 1..10000. */
    bool bfq = cgroup_has_file(dir, "io.bfq.weight");
    const char *file = bfq ? "io.bfq.weight" : "io.weight";
    char text[80], field[FIELD_MAX];
    if (b->leaf_weight.set)
        return error_set(err, EOPNOTSUPP,
                         "linux.resources.blockIO.leafWeight: cgroup v2 has no leaf weight");
    if (b->weight.set) {
        uint64_t w = bfq ? b->weight.value : cgroup_blkio_weight_to_io_weight(b->weight.value);
        snprintf(text, sizeof(text), "%" PRIu64, w);
        if (v2_write(journal, dir, res, file, text, "linux.resources.blockIO.weight", err) < 0)
            return -1;
    }
    for (size_t i = 0; i < b->weight_devices_count; i++) {
        const struct spec_weight_device *d = &b->weight_devices[i];
        if (d->leaf_weight.set)
            return error_set(err, EOPNOTSUPP,
                             "linux.resources.blockIO.weightDevice[%zu].leafWeight: cgroup v2 has "
                             "no leaf weight",
                             i);
        if (!d->weight.set)
            continue;
        uint64_t w = bfq ? d->weight.value : cgroup_blkio_weight_to_io_weight(d->weight.value);
        char key[48], reset[64];
        snprintf(field, sizeof(field), "linux.resources.blockIO.weightDevice[%zu].weight", i);
        snprintf(key, sizeof(key), "%" PRId64 ":%" PRId64, d->major, d->minor);
        snprintf(text, sizeof(text), "%s %" PRIu64, key, w);
        snprintf(reset, sizeof(reset), "%s default", key);
        if (cgroup_set_keyed(journal, dir, file, key, text, reset, field, err) < 0)
            return -1;
    }
    return v2_io_max(journal, dir, res, err);
}

/* ---- dispatch, unified ----------------------------------------------------------------------- */

int cgroup_v2_apply(struct cgroup_journal *journal, const char *dir, enum cgroup_controller c,
                    const struct spec_resources *res, ctr_error **err)
{
    char text[24];
    switch (c) {
    case CGROUP_CTRL_MEMORY:
        return v2_memory(journal, dir, res, err);
    case CGROUP_CTRL_PIDS:
        cgroup_format_limit(res->pids_limit.value, text);
        return v2_write(journal, dir, res, "pids.max", text, "linux.resources.pids.limit", err);
    case CGROUP_CTRL_CPU:
        return v2_cpu(journal, dir, res, err);
    case CGROUP_CTRL_CPUSET:
        return v2_cpuset(journal, dir, res, err);
    case CGROUP_CTRL_BLKIO:
        return v2_io(journal, dir, res, err);
    case CGROUP_CTRL_HUGETLB:
        return cgroup_apply_hugetlb(journal, dir, res, "max", err);
    case CGROUP_CTRL_RDMA:
        return cgroup_apply_rdma(journal, dir, res, err);
    case CGROUP_CTRL_DEVICES:
        return cgroup_bpf_apply_devices(dir, res, err);
    case CGROUP_CTRL_NET_CLS:
    case CGROUP_CTRL_NET_PRIO:
    case CGROUP_CTRL_COUNT:
        break;
    }
    return error_set(err, EOPNOTSUPP, "linux.resources.network: cgroup v2 has no net_cls/net_prio");
}

int cgroup_v2_apply_unified(struct cgroup_journal *journal, const char *dir,
                            const struct spec_resources *res, ctr_error **err)
{
    char field[FIELD_MAX + 64];
    for (size_t i = 0; i < res->unified_count; i++) {
        snprintf(field, sizeof(field), "linux.resources.unified[\"%s\"]", res->unified[i].key);
        if (cgroup_set(journal, dir, res->unified[i].key,
                         res->unified[i].value ? res->unified[i].value : "", field, err) < 0)
            return -1;
    }
    return 0;
}

/* ---- waiting for cgroup.events --------------------------------------------------------------- */

/* Whether `events` has the line "<key> <value>". */
static bool event_is(const char *events, const char *key, char value)
{
    const char *line = cgroup_find_line(events, key);
    return line != NULL && line[strlen(key) + 1] == value;
}

int cgroup_v2_wait_event(const char *dir, const char *key, char value, bool gone_ok,
                         const struct timespec *deadline, ctr_error **err)
{
    _cleanup_free_ char *path = NULL;
    if (asprintf(&path, "%s/cgroup.events", dir) < 0)
        return error_set(err, ENOMEM, "wait for %s", dir);
    /* Usually the state is reached already. Check before making an inotify instance: closing one
     * waits for an SRCU grace period, milliseconds on every container's exit. */
    _cleanup_free_ char *first = NULL;
    if (read_file_at(AT_FDCWD, path, &first, NULL, NULL) == 0 && event_is(first, key, value))
        return 0;
    _cleanup_close_ int ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    if (ifd < 0)
        return error_set(err, errno, "inotify for %s", path);
    /* Watch first, then read: a change between the two still wakes the poll. The kernel
     * signals every change of "populated" and "frozen" as a modification of cgroup.events. */
    if (inotify_add_watch(ifd, path, IN_MODIFY) < 0)
        return errno == ENOENT && gone_ok ? 0 : error_set(err, errno, "watch %s", path);
    for (;;) {
        _cleanup_free_ char *events = NULL;
        ctr_error *e = NULL;
        if (read_file_at(AT_FDCWD, path, &events, NULL, &e) < 0) {
            int code = ctr_error_code(e);
            ctr_error_free(e);
            return code == ENOENT && gone_ok ? 0 : error_set(err, code, "read %s", path);
        }
        if (event_is(events, key, value))
            return 0;
        int64_t left = cgroup_ms_left(deadline);
        if (left <= 0)
            return error_set(err, ETIMEDOUT, "%s never showed \"%s %c\"", path, key, value);
        struct pollfd pfd = {.fd = ifd, .events = POLLIN};
        if (poll(&pfd, 1, (int)left) < 0 && errno != EINTR)
            return error_set(err, errno, "wait for \"%s %c\" in %s", key, value, path);
        char buf[4096];
        while (read(ifd, buf, sizeof(buf)) > 0)
            ;
    }
}

int cgroup_v2_wait_empty(const char *dir, const struct timespec *deadline, ctr_error **err)
{
    ctr_error *e = NULL;
    if (cgroup_v2_wait_event(dir, "populated", '0', true, deadline, &e) == 0)
        return 0;
    if (ctr_error_code(e) != ETIMEDOUT)
        return error_pass(err, e);
    ctr_error_free(e);
    return error_set(err, EBUSY, "processes are still in %s after %d ms", dir,
                     CGROUP_DESTROY_TIMEOUT_MS);
}
