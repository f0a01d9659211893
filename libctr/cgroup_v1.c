/* cgroup v1: one hierarchy per controller (or group of co-mounted controllers), each with its own
 * file names. cgroup.c picks the hierarchy; this writes the OCI resources into it, in the order
 * the kernel needs, and names the field and file when the kernel refuses or lacks one. Every
 * write goes through cgroup_set(), so that an update can be undone; devices are cgroup_devices.c's.
 * Also here: emptying a cgroup by SIGKILL and removing it with retries, which is v1's only way
 * and v2's fallback where cgroup.kill is missing.
 */
#include "cgroup_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>


static void fmt_i64(char buf[static 24], int64_t v)
{
    snprintf(buf, 24, "%" PRId64, v);
}

static void fmt_u64(char buf[static 24], uint64_t v)
{
    snprintf(buf, 24, "%" PRIu64, v);
}

/* ---- memory ---------------------------------------------------------------------------------- */

/* The kernel keeps memory.limit <= memory.memsw.limit at every moment, so when both change the
 * one that moves away from the other goes first: memsw first when it grows past the current
 * limit, the limit first otherwise (always the case on a new cgroup, where both are unlimited). */
static int v1_memory_and_swap(struct cgroup_journal *journal, const char *dir, const struct spec_memory *m, ctr_error **err)
{
    static const char *const limit_file = "memory.limit_in_bytes";
    static const char *const memsw_file = "memory.memsw.limit_in_bytes";
    bool has_limit = m->limit.set, has_swap = m->swap.set && m->swap.value != 0;
    int64_t swap = m->swap.value;
    /* Unlimited memory with swap left out means both unlimited (a limited memsw would stop the
     * memory limit from rising); where swap is not accounted there is nothing to lift. */
    if (has_limit && m->limit.value == -1 && !has_swap && cgroup_has_file(dir, memsw_file)) {
        has_swap = true;
        swap = -1;
    }
    char limit_text[24], swap_text[24];
    fmt_i64(limit_text, m->limit.value);
    fmt_i64(swap_text, swap);
    bool swap_first = false;
    if (has_limit && has_swap) {
        _cleanup_free_ char *current = NULL;
        if (cgroup_read(dir, limit_file, &current, err) < 0)
            return error_wrap(err, "linux.resources.memory.limit");
        swap_first = swap == -1 || strtoull(current, NULL, 10) <= (uint64_t)swap;
    }
    if (swap_first &&
        cgroup_set(journal, dir, memsw_file, swap_text, "linux.resources.memory.swap", err) < 0)
        return -1;
    if (has_limit &&
        cgroup_set(journal, dir, limit_file, limit_text, "linux.resources.memory.limit", err) < 0)
        return -1;
    if (has_swap && !swap_first &&
        cgroup_set(journal, dir, memsw_file, swap_text, "linux.resources.memory.swap", err) < 0)
        return -1;
    return 0;
}

/* Since Linux 5.16 memory.kmem.limit_in_bytes may still exist yet ignore what is written, and
 * later kernels drop it: either way the limit would not hold, so say so rather than pretend. */
static int v1_kernel_memory(struct cgroup_journal *journal, const char *dir, int64_t value, ctr_error **err)
{
    static const char *const field = "linux.resources.memory.kernel";
    static const char *const file = "memory.kmem.limit_in_bytes";
    if (!cgroup_has_file(dir, file))
        return error_set(err, EOPNOTSUPP,
                         "%s: kernel memory limits were removed from the kernel (no %s)", field,
                         file);
    char text[24];
    fmt_i64(text, value);
    _cleanup_free_ char *back = NULL;
    if (cgroup_set(journal, dir, file, text, field, err) < 0 || cgroup_read(dir, file, &back, err) < 0)
        return -1;
    uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
    if (value >= 0 && strtoull(back, NULL, 10) != (uint64_t)value / page * page)
        return error_set(err, EOPNOTSUPP,
                         "%s: this kernel ignores %s (kernel memory limits were removed from the "
                         "kernel)",
                         field, file);
    return 0;
}

static int v1_memory(struct cgroup_journal *journal, const char *dir, const struct spec_memory *m, ctr_error **err)
{
    char text[24];
    if (v1_memory_and_swap(journal, dir, m, err) < 0)
        return -1;
    if (m->reservation.set) {
        fmt_i64(text, m->reservation.value);
        if (cgroup_set(journal, dir, "memory.soft_limit_in_bytes", text,
                         "linux.resources.memory.reservation", err) < 0)
            return -1;
    }
    if (m->kernel.set && v1_kernel_memory(journal, dir, m->kernel.value, err) < 0)
        return -1;
    if (m->kernel_tcp.set) {
        static const char *const field = "linux.resources.memory.kernelTCP";
        if (!cgroup_has_file(dir, "memory.kmem.tcp.limit_in_bytes"))
            return error_set(err, EOPNOTSUPP,
                             "%s: kernel TCP memory limits were removed from the kernel "
                             "(no memory.kmem.tcp.limit_in_bytes)",
                             field);
        fmt_i64(text, m->kernel_tcp.value);
        if (cgroup_set(journal, dir, "memory.kmem.tcp.limit_in_bytes", text, field, err) < 0)
            return -1;
    }
    if (m->swappiness.set) {
        if (m->swappiness.value > 100)
            return error_set(err, EINVAL,
                             "linux.resources.memory.swappiness: %" PRIu64
                             " is out of range (0..100)",
                             m->swappiness.value);
        fmt_u64(text, m->swappiness.value);
        if (cgroup_set(journal, dir, "memory.swappiness", text, "linux.resources.memory.swappiness", err) <
            0)
            return -1;
    }
    if (m->disable_oom_killer.set &&
        cgroup_set(journal, dir, "memory.oom_control", m->disable_oom_killer.value ? "1" : "0",
                     "linux.resources.memory.disableOOMKiller", err) < 0)
        return -1;
    if (m->use_hierarchy.set &&
        cgroup_set(journal, dir, "memory.use_hierarchy", m->use_hierarchy.value ? "1" : "0",
                     "linux.resources.memory.useHierarchy", err) < 0)
        return -1;
    return 0;
}

/* ---- cpu, cpuset, pids ----------------------------------------------------------------------- */

static int v1_cpu(struct cgroup_journal *journal, const char *dir, const struct spec_cpu *cpu, ctr_error **err)
{
    char text[24];
    if (cgroup_cpu_shares_set(cpu)) {
        fmt_u64(text, cpu->shares.value);
        _cleanup_free_ char *back = NULL;
        if (cgroup_set(journal, dir, "cpu.shares", text, "linux.resources.cpu.shares", err) < 0 ||
            cgroup_read(dir, "cpu.shares", &back, err) < 0)
            return -1;
        /* The kernel clamps out-of-range shares silently; a config asking for more gets less. */
        if (strtoull(back, NULL, 10) != cpu->shares.value)
            return error_set(err, ERANGE,
                             "linux.resources.cpu.shares: %" PRIu64 " is out of the kernel's range "
                             "(2..262144), it set %llu",
                             cpu->shares.value, strtoull(back, NULL, 10));
    }
    char quota[24], period[24];
    fmt_i64(quota, cpu->quota.value);
    fmt_u64(period, cpu->period.value);
    bool has_quota = cgroup_cpu_quota_set(cpu), has_period = cgroup_cpu_period_set(cpu);
    if (has_period) {
        ctr_error *e = NULL;
        /* A shorter period can exceed the parent's bandwidth with the old quota (EINVAL); once
         * the new quota is in, the same period fits. */
        if (cgroup_set(journal, dir, "cpu.cfs_period_us", period, "linux.resources.cpu.period", &e) < 0) {
            if (ctr_error_code(e) != EINVAL || !has_quota)
                return error_pass(err, e);
            ctr_error_free(e);
            if (cgroup_set(journal, dir, "cpu.cfs_quota_us", quota, "linux.resources.cpu.quota", err) <
                    0 ||
                cgroup_set(journal, dir, "cpu.cfs_period_us", period, "linux.resources.cpu.period", err) <
                    0)
                return -1;
            has_quota = false;
        }
    }
    if (has_quota &&
        cgroup_set(journal, dir, "cpu.cfs_quota_us", quota, "linux.resources.cpu.quota", err) < 0)
        return -1;
    if (cpu->burst.set) {
        fmt_u64(text, cpu->burst.value);
        if (cgroup_set(journal, dir, "cpu.cfs_burst_us", text, "linux.resources.cpu.burst", err) < 0)
            return -1;
    }
    /* The runtime must fit in the period: set the period first. */
    if (cpu->realtime_period.set) {
        fmt_u64(text, cpu->realtime_period.value);
        if (cgroup_set(journal, dir, "cpu.rt_period_us", text, "linux.resources.cpu.realtimePeriod", err) <
            0)
            return -1;
    }
    if (cpu->realtime_runtime.set) {
        fmt_i64(text, cpu->realtime_runtime.value);
        if (cgroup_set(journal, dir, "cpu.rt_runtime_us", text, "linux.resources.cpu.realtimeRuntime",
                         err) < 0)
            return -1;
    }
    if (cpu->idle.set) {
        fmt_i64(text, cpu->idle.value);
        if (cgroup_set(journal, dir, "cpu.idle", text, "linux.resources.cpu.idle", err) < 0)
            return -1;
    }
    return 0;
}

static int v1_cpuset(struct cgroup_journal *journal, const char *dir, const struct spec_cpu *cpu, ctr_error **err)
{
    if (cpu->cpus && cpu->cpus[0] &&
        cgroup_set(journal, dir, "cpuset.cpus", cpu->cpus, "linux.resources.cpu.cpus", err) < 0)
        return -1;
    if (cpu->mems && cpu->mems[0] &&
        cgroup_set(journal, dir, "cpuset.mems", cpu->mems, "linux.resources.cpu.mems", err) < 0)
        return -1;
    return 0;
}

int cgroup_v1_cpuset_fill(const char *mount_point, const char *path, ctr_error **err)
{
    static const char *const files[] = {"cpuset.cpus", "cpuset.mems"};
    /* What the parent level holds, once known: the level above was read on the way down. */
    _cleanup_free_ char *cpus = NULL, *mems = NULL;
    char **inherited[] = {&cpus, &mems};
    _cleanup_free_ char *parent = strdup(mount_point);
    if (parent == NULL)
        return error_set(err, ENOMEM, "cpuset");
    for (const char *p = path; *p;) {
        const char *next = strchr(p + 1, '/');
        size_t len = next ? (size_t)(next - p) : strlen(p);
        _cleanup_free_ char *child = NULL;
        if (asprintf(&child, "%s%.*s", parent, (int)len, p) < 0)
            return error_set(err, ENOMEM, "cpuset");
        for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
            char **value = inherited[i];
            _cleanup_free_ char *mine = NULL;
            if (cgroup_read(child, files[i], &mine, err) < 0)
                return -1;
            if (mine[strspn(mine, " \n")] == '\0') {
                if (*value == NULL && cgroup_read(parent, files[i], value, err) < 0)
                    return -1;
                (*value)[strcspn(*value, "\n")] = '\0';
                if (cgroup_write(child, files[i], *value, NULL, err) < 0)
                    return -1;
            } else {
                free(*value);
                *value = steal_pointer(&mine);
            }
        }
        free(parent);
        parent = steal_pointer(&child);
        p += len;
    }
    return 0;
}

static int v1_pids(struct cgroup_journal *journal, const char *dir, int64_t limit, ctr_error **err)
{
    char text[24];
    cgroup_format_limit(limit, text);
    return cgroup_set(journal, dir, "pids.max", text, "linux.resources.pids.limit", err);
}

/* ---- blkio ----------------------------------------------------------------------------------- */

static int write_throttle(struct cgroup_journal *journal, const char *dir, const char *file, const char *name,
                          const struct spec_throttle_device *list, size_t count, ctr_error **err)
{
    char field[FIELD_MAX], line[80];
    for (size_t i = 0; i < count; i++) {
        snprintf(field, sizeof(field), "linux.resources.blockIO.%s[%zu]", name, i);
        char key[48], reset[64];
        snprintf(key, sizeof(key), "%" PRId64 ":%" PRId64, list[i].major, list[i].minor);
        snprintf(line, sizeof(line), "%s %" PRIu64, key, list[i].rate);
        snprintf(reset, sizeof(reset), "%s 0", key); /* 0 removes the device's limit */
        if (cgroup_set_keyed(journal, dir, file, key, line, reset, field, err) < 0)
            return -1;
    }
    return 0;
}

static int v1_blkio(struct cgroup_journal *journal, const char *dir, const struct spec_block_io *b, ctr_error **err)
{
    /* CFQ had blkio.weight; with BFQ (CFQ is gone since 5.0) the files are blkio.bfq.*. */
    bool bfq = !cgroup_has_file(dir, "blkio.weight") && cgroup_has_file(dir, "blkio.bfq.weight");
    const char *weight_file = bfq ? "blkio.bfq.weight" : "blkio.weight";
    const char *weight_device_file = bfq ? "blkio.bfq.weight_device" : "blkio.weight_device";
    char text[80], field[FIELD_MAX];
    if (b->weight.set) {
        fmt_u64(text, b->weight.value);
        if (cgroup_set(journal, dir, weight_file, text, "linux.resources.blockIO.weight", err) < 0)
            return -1;
    }
    if (b->leaf_weight.set) {
        fmt_u64(text, b->leaf_weight.value);
        if (cgroup_set(journal, dir, "blkio.leaf_weight", text, "linux.resources.blockIO.leafWeight",
                         err) < 0)
            return -1;
    }
    for (size_t i = 0; i < b->weight_devices_count; i++) {
        const struct spec_weight_device *d = &b->weight_devices[i];
        char key[48], reset[64];
        snprintf(key, sizeof(key), "%" PRId64 ":%" PRId64, d->major, d->minor);
        snprintf(reset, sizeof(reset), "%s 0", key); /* 0 removes the device's own weight */
        if (d->weight.set) {
            snprintf(field, sizeof(field), "linux.resources.blockIO.weightDevice[%zu].weight", i);
            snprintf(text, sizeof(text), "%s %" PRIu64, key, d->weight.value);
            if (cgroup_set_keyed(journal, dir, weight_device_file, key, text, reset, field, err) <
                0)
                return -1;
        }
        if (d->leaf_weight.set) {
            snprintf(field, sizeof(field), "linux.resources.blockIO.weightDevice[%zu].leafWeight",
                     i);
            snprintf(text, sizeof(text), "%s %" PRIu64, key, d->leaf_weight.value);
            if (cgroup_set_keyed(journal, dir, "blkio.leaf_weight_device", key, text, reset, field,
                                 err) < 0)
                return -1;
        }
    }
    return write_throttle(journal, dir, "blkio.throttle.read_bps_device", "throttleReadBpsDevice",
                          b->throttle_read_bps, b->throttle_read_bps_count, err) < 0 ||
                   write_throttle(journal, dir, "blkio.throttle.write_bps_device", "throttleWriteBpsDevice",
                                  b->throttle_write_bps, b->throttle_write_bps_count, err) < 0 ||
                   write_throttle(journal, dir, "blkio.throttle.read_iops_device", "throttleReadIOPSDevice",
                                  b->throttle_read_iops, b->throttle_read_iops_count, err) < 0 ||
                   write_throttle(journal, dir, "blkio.throttle.write_iops_device",
                                  "throttleWriteIOPSDevice", b->throttle_write_iops,
                                  b->throttle_write_iops_count, err) < 0
               ? -1
               : 0;
}

/* ---- network --------------------------------------------------------------------------------- */

static int v1_net_prio(struct cgroup_journal *journal, const char *dir, const struct spec_resources *res, ctr_error **err)
{
    char field[FIELD_MAX], line[64];
    for (size_t i = 0; i < res->net_priorities_count; i++) {
        const struct spec_net_priority *p = &res->net_priorities[i];
        snprintf(field, sizeof(field), "linux.resources.network.priorities[%zu]", i);
        /* One "ifname priority" line per write: a blank in the name would forge another. */
        if (p->name == NULL || p->name[0] == '\0' || strpbrk(p->name, " \t\n") ||
            strlen(p->name) > 32)
            return error_set(err, EINVAL, "%s: invalid interface name `%s`", field,
                             p->name ? p->name : "");
        char reset[48];
        snprintf(line, sizeof(line), "%s %" PRIu32, p->name, p->priority);
        snprintf(reset, sizeof(reset), "%s 0", p->name);
        if (cgroup_set_keyed(journal, dir, "net_prio.ifpriomap", p->name, line, reset, field,
                             err) < 0)
            return -1;
    }
    return 0;
}

int cgroup_v1_apply(struct cgroup_journal *journal, const char *dir, enum cgroup_controller c,
                    const struct spec_resources *res, ctr_error **err)
{
    char text[24];
    switch (c) {
    case CGROUP_CTRL_DEVICES:
        return cgroup_v1_devices(journal, dir, res, err);
    case CGROUP_CTRL_MEMORY:
        return v1_memory(journal, dir, &res->memory, err);
    case CGROUP_CTRL_PIDS:
        return v1_pids(journal, dir, res->pids_limit.value, err);
    case CGROUP_CTRL_CPU:
        return v1_cpu(journal, dir, &res->cpu, err);
    case CGROUP_CTRL_CPUSET:
        return v1_cpuset(journal, dir, &res->cpu, err);
    case CGROUP_CTRL_BLKIO:
        return v1_blkio(journal, dir, &res->block_io, err);
    case CGROUP_CTRL_HUGETLB:
        return cgroup_apply_hugetlb(journal, dir, res, "limit_in_bytes", err);
    case CGROUP_CTRL_NET_CLS:
        fmt_u64(text, res->net_class_id.value);
        return cgroup_set(journal, dir, "net_cls.classid", text, "linux.resources.network.classID", err);
    case CGROUP_CTRL_NET_PRIO:
        return v1_net_prio(journal, dir, res, err);
    case CGROUP_CTRL_RDMA:
        return cgroup_apply_rdma(journal, dir, res, err);
    case CGROUP_CTRL_COUNT:
        break;
    }
    return 0;
}

/* ---- emptying and removing (both versions) --------------------------------------------------- */

void cgroup_backoff(unsigned *ms)
{
    struct timespec ts = {.tv_sec = *ms / 1000, .tv_nsec = (long)(*ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
    if (*ms < 64)
        *ms *= 2;
}

/* Counts in *found the processes it could send SIGKILL. */
static int kill_one(const char *cgroup_dir, pid_t pid, void *found, ctr_error **err)
{
    (void)cgroup_dir;
    (void)err;
    if (pid > 0 && kill(pid, SIGKILL) == 0)
        (*(size_t *)found)++;
    return 0;
}

int cgroup_kill_all(const char *dir, const struct timespec *deadline, ctr_error **err)
{
    /* Re-read after each round: a process may have forked between the read and the kill. */
    for (unsigned ms = 1;; cgroup_backoff(&ms)) {
        size_t found = 0;
        if (cgroup_walk_procs(dir, kill_one, &found, "kill the processes of", err) < 0)
            return -1;
        if (found == 0)
            return 0;
        if (cgroup_ms_left(deadline) <= 0)
            return error_set(err, EBUSY, "kill the processes of %s: %zu left after %d ms", dir,
                             found, CGROUP_DESTROY_TIMEOUT_MS);
    }
}

/* rmdir, retried with a backoff while the kernel still counts exiting tasks (EBUSY); no retry
 * when `deadline` is NULL. ENOENT counts as done. */
static int remove_dir(const char *dir, const struct timespec *deadline, ctr_error **err)
{
    for (unsigned ms = 1;; cgroup_backoff(&ms)) {
        if (rmdir(dir) == 0 || errno == ENOENT)
            return 0;
        if (errno != EBUSY || deadline == NULL || cgroup_ms_left(deadline) <= 0)
            return error_set(err, errno, "remove cgroup %s", dir);
    }
}

/* Removes the cgroup `dir` and, first, every cgroup below it. */
static int remove_tree(const char *dir, const void *deadline, ctr_error **err)
{
    if (cgroup_each_child(dir, remove_tree, deadline, "remove cgroup", err) < 0)
        return -1;
    return remove_dir(dir, deadline, err);
}

int cgroup_remove_created(struct cgroup_hierarchy *h, const struct timespec *deadline,
                          ctr_error **err)
{
    if (h->created_levels == 0 || h->dir == NULL)
        return 0;
    /* Sub-cgroups the container made inside its own, deepest first. */
    if (cgroup_each_child(h->dir, remove_tree, deadline, "remove cgroup", err) < 0)
        return -1;
    _cleanup_free_ char *dir = strdup(h->dir);
    if (dir == NULL)
        return error_set(err, ENOMEM, "remove cgroup %s", h->dir);
    for (unsigned level = 0; level < h->created_levels; level++) {
        if (level == 0) {
            if (remove_dir(dir, deadline, err) < 0)
                return -1;
        } else if (rmdir(dir) < 0) {
            /* A parent we made may hold another container's cgroup by now: it stays. */
            if (errno == EBUSY || errno == ENOTEMPTY)
                break;
            if (errno != ENOENT)
                return error_set(err, errno, "remove cgroup %s", dir);
        }
        *strrchr(dir, '/') = '\0';
    }
    h->created_levels = 0;
    return 0;
}
