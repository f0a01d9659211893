/* `events --stats`: the cgroup's counters in runc's JSON shape (runc's types.Stats: cpu, memory,
 * pids, blkio, hugetlb), read from v1's files or v2's, so that the managers that parse runc's
 * output read ours. Units are runc's: nanoseconds for CPU time, bytes for memory.
 *
 * A controller the host does not have is left out (runc would print zeros). jansson's integers
 * are signed 64-bit: a v2 limit of "max", which runc prints as 2^64-1, is printed as 2^63-1;
 * both mean "no limit" to a reader.
 */
#include "cgroup_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define NSEC_PER_USEC 1000ULL
#define NSEC_PER_SEC 1000000000ULL

static json_t *number(uint64_t value)
{
    return json_integer(value > INT64_MAX ? INT64_MAX : (json_int_t)value);
}

static void put(json_t *object, const char *key, uint64_t value)
{
    json_object_set_new(object, key, number(value));
}

/* Files that a kernel may not have (newer or older ones) read as nothing: *text NULL, or 0. */
static int optional_read(const char *dir, const char *file, char **text, ctr_error **err)
{
    ctr_error *e = NULL;
    *text = NULL;
    if (cgroup_read(dir, file, text, &e) == 0)
        return 0;
    if (ctr_error_code(e) != ENOENT)
        return error_pass(err, e);
    ctr_error_free(e);
    return 0;
}

static int optional_u64(const char *dir, const char *file, uint64_t *value, ctr_error **err)
{
    ctr_error *e = NULL;
    *value = 0;
    if (cgroup_read_u64(dir, file, value, &e) == 0)
        return 0;
    if (ctr_error_code(e) != ENOENT)
        return error_pass(err, e);
    ctr_error_free(e);
    return 0;
}

static int optional_keyed(const char *dir, const char *file, const char *key, uint64_t *value,
                          ctr_error **err)
{
    _cleanup_free_ char *text = NULL;
    *value = 0;
    if (optional_read(dir, file, &text, err) < 0)
        return -1;
    if (text != NULL)
        cgroup_parse_keyed(text, key, value);
    return 0;
}

/* The hierarchy serving a controller: its v1 hierarchy, else the v2 cgroup when the controller
 * is enabled there (listed in `v2_controllers`, its cgroup.controllers). */
static const struct cgroup_hierarchy *served_by(const struct cgroup *cg,
                                                const char *v2_controllers, const char *v1,
                                                const char *v2)
{
    const struct cgroup_hierarchy *h = cgroup_find_v1(cg, v1);
    if (h != NULL || (h = cgroup_find_v2(cg)) == NULL)
        return h;
    return cgroup_list_has(v2_controllers, v2) ? h : NULL;
}

/* "1 2 3" -> [1, 2, 3]. */
static json_t *number_list(const char *text)
{
    json_t *list = json_array();
    for (const char *p = text; list && *p;) {
        char *end = NULL;
        uint64_t v = strtoull(p, &end, 10);
        if (end == p)
            break;
        json_array_append_new(list, number(v));
        p = end;
    }
    return list;
}

/* ---- cpu ------------------------------------------------------------------------------------- */

/* cpu.stat's throttling lines (none: zeros); the time is `time_key` in units of `time_ns`. */
static void put_throttling(json_t *throttling, const char *cpu_stat, const char *time_key,
                           uint64_t time_ns)
{
    uint64_t periods = 0, throttled = 0, time = 0;
    if (cpu_stat != NULL) {
        cgroup_parse_keyed(cpu_stat, "nr_periods", &periods);
        cgroup_parse_keyed(cpu_stat, "nr_throttled", &throttled);
        cgroup_parse_keyed(cpu_stat, time_key, &time);
    }
    put(throttling, "periods", periods);
    put(throttling, "throttledPeriods", throttled);
    put(throttling, "throttledTime", time * time_ns);
}

static int cpu_v1(const char *acct, const char *cpu, json_t *usage, json_t *throttling,
                  ctr_error **err)
{
    uint64_t total = 0, kernel = 0, user = 0;
    if (acct != NULL) {
        if (cgroup_read_u64(acct, "cpuacct.usage", &total, err) < 0)
            return -1;
        put(usage, "total", total);
        static const char *const lists[][2] = {{"cpuacct.usage_percpu", "percpu"},
                                               {"cpuacct.usage_percpu_sys", "percpu_kernel"},
                                               {"cpuacct.usage_percpu_user", "percpu_user"}};
        for (size_t i = 0; i < ARRAY_SIZE(lists); i++) {
            _cleanup_free_ char *text = NULL;
            if (optional_read(acct, lists[i][0], &text, err) < 0)
                return -1;
            if (text != NULL)
                json_object_set_new(usage, lists[i][1], number_list(text));
        }
        if (cgroup_has_file(acct, "cpuacct.usage_sys")) {
            if (cgroup_read_u64(acct, "cpuacct.usage_sys", &kernel, err) < 0 ||
                cgroup_read_u64(acct, "cpuacct.usage_user", &user, err) < 0)
                return -1;
        } else {
            /* Older kernels: cpuacct.stat, in clock ticks. */
            uint64_t hz = (uint64_t)sysconf(_SC_CLK_TCK);
            if (cgroup_read_keyed(acct, "cpuacct.stat", "system", &kernel, err) < 0 ||
                cgroup_read_keyed(acct, "cpuacct.stat", "user", &user, err) < 0)
                return -1;
            kernel = kernel * NSEC_PER_SEC / hz;
            user = user * NSEC_PER_SEC / hz;
        }
        put(usage, "kernel", kernel);
        put(usage, "user", user);
    }
    if (cpu != NULL) {
        _cleanup_free_ char *text = NULL;
        if (optional_read(cpu, "cpu.stat", &text, err) < 0)
            return -1;
        put_throttling(throttling, text, "throttled_time", 1);
    }
    return 0;
}

/* v2's cpu.stat is in microseconds and has no per-CPU figures. */
static int cpu_v2(const char *dir, json_t *usage, json_t *throttling, ctr_error **err)
{
    _cleanup_free_ char *text = NULL;
    if (cgroup_read(dir, "cpu.stat", &text, err) < 0)
        return -1;
    static const char *const usec[][2] = {
        {"usage_usec", "total"}, {"system_usec", "kernel"}, {"user_usec", "user"}};
    for (size_t i = 0; i < ARRAY_SIZE(usec); i++) {
        uint64_t v = 0;
        cgroup_parse_keyed(text, usec[i][0], &v);
        put(usage, usec[i][1], v * NSEC_PER_USEC);
    }
    put_throttling(throttling, text, "throttled_usec", NSEC_PER_USEC);
    return 0;
}

static int stats_cpu(const struct cgroup *cg, json_t *root, ctr_error **err)
{
    const struct cgroup_hierarchy *acct = cgroup_find_v1(cg, "cpuacct");
    const struct cgroup_hierarchy *cpu = cgroup_find_v1(cg, "cpu");
    /* v2's cpu.stat has the usage even without the cpu controller (the throttling lines come
     * with it). */
    const struct cgroup_hierarchy *v2 = acct || cpu ? NULL : cgroup_find_v2(cg);
    if (v2 && !cgroup_has_file(v2->dir, "cpu.stat"))
        v2 = NULL;
    if (!acct && !cpu && !v2)
        return 0;
    json_t *usage = json_object(), *throttling = json_object();
    json_object_set_new(root, "cpu", json_pack("{s:o,s:o}", "usage", usage, "throttling",
                                               throttling));
    return v2 ? cpu_v2(v2->dir, usage, throttling, err)
              : cpu_v1(acct ? acct->dir : NULL, cpu ? cpu->dir : NULL, usage, throttling, err);
}

/* ---- memory ---------------------------------------------------------------------------------- */

/* One of runc's MemoryEntry from v1's <prefix>.usage_in_bytes, max_usage_in_bytes, failcnt and
 * limit_in_bytes ("memory", "memory.memsw", "memory.kmem", "memory.kmem.tcp"). */
static int memory_entry_v1(const char *dir, const char *prefix, json_t **out, ctr_error **err)
{
    static const char *const files[][2] = {{"usage_in_bytes", "usage"},
                                           {"max_usage_in_bytes", "max"},
                                           {"failcnt", "failcnt"},
                                           {"limit_in_bytes", "limit"}};
    char file[64];
    snprintf(file, sizeof(file), "%s.usage_in_bytes", prefix);
    if (!cgroup_has_file(dir, file))
        return 0; /* no swap accounting, kernel memory accounting removed... */
    *out = json_object();
    for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
        uint64_t v;
        snprintf(file, sizeof(file), "%s.%s", prefix, files[i][0]);
        if (optional_u64(dir, file, &v, err) < 0)
            return -1;
        put(*out, files[i][1], v);
    }
    return 0;
}

static int memory_v1(const char *dir, json_t *memory, ctr_error **err)
{
    static const char *const entries[][2] = {{"memory", "usage"},
                                             {"memory.memsw", "swap"},
                                             {"memory.kmem", "kernel"},
                                             {"memory.kmem.tcp", "kernelTCP"}};
    for (size_t i = 0; i < ARRAY_SIZE(entries); i++) {
        json_t *entry = NULL;
        if (memory_entry_v1(dir, entries[i][0], &entry, err) < 0)
            return -1;
        if (entry != NULL)
            json_object_set_new(memory, entries[i][1], entry);
    }
    return 0;
}

/* v2 counts swap apart from memory; runc reports swap as memory+swap, as v1 does, and so do we.
 * failcnt is how often the usage hit the limit ("max" in memory.events). */
static int memory_v2(const char *dir, json_t *memory, ctr_error **err)
{
    uint64_t usage, limit, peak, failcnt, swap = 0, swap_limit = 0, swap_failcnt = 0;
    if (cgroup_read_u64(dir, "memory.current", &usage, err) < 0 ||
        cgroup_read_u64(dir, "memory.max", &limit, err) < 0 ||
        optional_u64(dir, "memory.peak", &peak, err) < 0 ||
        optional_keyed(dir, "memory.events", "max", &failcnt, err) < 0)
        return -1;
    json_object_set_new(memory, "usage",
                        json_pack("{s:o,s:o,s:o,s:o}", "usage", number(usage), "max", number(peak),
                                  "failcnt", number(failcnt), "limit", number(limit)));
    if (cgroup_has_file(dir, "memory.swap.current")) {
        if (cgroup_read_u64(dir, "memory.swap.current", &swap, err) < 0 ||
            cgroup_read_u64(dir, "memory.swap.max", &swap_limit, err) < 0 ||
            optional_keyed(dir, "memory.swap.events", "max", &swap_failcnt, err) < 0)
            return -1;
        uint64_t both = swap_limit == UINT64_MAX || limit == UINT64_MAX ? UINT64_MAX
                                                                         : swap_limit + limit;
        json_object_set_new(memory, "swap",
                            json_pack("{s:o,s:o,s:o}", "usage", number(swap + usage), "failcnt",
                                      number(swap_failcnt), "limit", number(both)));
    }
    return 0;
}

static int stats_memory(const struct cgroup *cg, const char *v2_controllers, json_t *root,
                        ctr_error **err)
{
    const struct cgroup_hierarchy *h = served_by(cg, v2_controllers, "memory", "memory");
    if (h == NULL)
        return 0;
    json_t *memory = json_object(), *raw = json_object();
    json_object_set_new(root, "memory", memory);
    _cleanup_free_ char *stat = NULL;
    if (cgroup_read(h->dir, "memory.stat", &stat, err) < 0)
        return -1;
    for (char *line = stat, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        char *space = strchr(line, ' ');
        if (space == NULL)
            continue;
        *space = '\0';
        json_object_set_new(raw, line, number(strtoull(space + 1, NULL, 10)));
    }
    /* The page cache: "cache" on v1, "file" on v2. */
    json_t *cache = json_object_get(raw, h->v2 ? "file" : "cache");
    put(memory, "cache", cache ? (uint64_t)json_integer_value(cache) : 0);
    json_object_set_new(memory, "raw", raw);
    return h->v2 ? memory_v2(h->dir, memory, err) : memory_v1(h->dir, memory, err);
}

/* ---- pids, blkio, hugetlb -------------------------------------------------------------------- */

static int stats_pids(const struct cgroup *cg, const char *v2_controllers, json_t *root,
                      ctr_error **err)
{
    const struct cgroup_hierarchy *h = served_by(cg, v2_controllers, "pids", "pids");
    uint64_t current, limit;
    if (h == NULL)
        return 0;
    if (cgroup_read_u64(h->dir, "pids.current", &current, err) < 0 ||
        cgroup_read_u64(h->dir, "pids.max", &limit, err) < 0)
        return -1;
    /* runc reports no limit as 0. */
    json_object_set_new(root, "pids", json_pack("{s:o,s:o}", "current", number(current), "limit",
                                                number(limit == UINT64_MAX ? 0 : limit)));
    return 0;
}

static void blkio_entry(json_t *list, const char *device, const char *op, uint64_t value)
{
    unsigned major = 0, minor = 0;
    if (sscanf(device, "%u:%u", &major, &minor) != 2)
        return;
    json_array_append_new(list, json_pack("{s:i,s:i,s:s,s:o}", "major", (int)major, "minor",
                                          (int)minor, "op", op, "value", number(value)));
}

/* v1: lines "8:0 Read 4096" (and a "Total N" line, which names no device); no file: no list. */
static int blkio_v1_list(const char *dir, const char *file, json_t **out, ctr_error **err)
{
    _cleanup_free_ char *text = NULL;
    if (optional_read(dir, file, &text, err) < 0)
        return -1;
    if (text == NULL)
        return 0;
    *out = json_array();
    char device[32], op[16];
    unsigned long long value;
    for (char *line = text; line && *line;) {
        if (sscanf(line, "%31s %15s %llu", device, op, &value) == 3)
            blkio_entry(*out, device, op, value);
        line = strchr(line, '\n');
        line = line ? line + 1 : NULL;
    }
    return 0;
}

static int blkio_v1(const char *dir, json_t *blkio, ctr_error **err)
{
    /* CFQ's or BFQ's counters where they count anything, else the throttle layer's, which
     * sees every device (runc's order). */
    static const char *const prefixes[] = {"blkio.", "blkio.bfq.", "blkio.throttle."};
    static const char *const lists[][2] = {{"io_service_bytes_recursive", "ioServiceBytesRecursive"},
                                           {"io_serviced_recursive", "ioServicedRecursive"}};
    for (size_t i = 0; i < ARRAY_SIZE(lists); i++) {
        json_t *found = NULL;
        for (size_t p = 0; p < ARRAY_SIZE(prefixes) && found == NULL; p++) {
            char file[96];
            snprintf(file, sizeof(file), "%s%s", prefixes[p], lists[i][0]);
            json_t *list = NULL;
            if (blkio_v1_list(dir, file, &list, err) < 0)
                return -1;
            if (list && (json_array_size(list) > 0 || p == ARRAY_SIZE(prefixes) - 1))
                found = list;
            else
                json_decref(list);
        }
        if (found != NULL)
            json_object_set_new(blkio, lists[i][1], found);
    }
    return 0;
}

/* v2's io.stat: "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0" per device. */
static int blkio_v2(const char *dir, json_t *blkio, ctr_error **err)
{
    _cleanup_free_ char *text = NULL;
    if (cgroup_read(dir, "io.stat", &text, err) < 0)
        return -1;
    json_t *bytes = json_array(), *ios = json_array();
    json_object_set_new(blkio, "ioServiceBytesRecursive", bytes);
    json_object_set_new(blkio, "ioServicedRecursive", ios);
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *inner = NULL, *device = strtok_r(line, " ", &inner);
        for (char *kv = strtok_r(NULL, " ", &inner); device && kv; kv = strtok_r(NULL, " ", &inner)) {
            char *eq = strchr(kv, '=');
            if (eq == NULL)
                continue;
            *eq = '\0';
            uint64_t value = strtoull(eq + 1, NULL, 10);
            if (strcmp(kv, "rbytes") == 0 || strcmp(kv, "wbytes") == 0)
                blkio_entry(bytes, device, kv[0] == 'r' ? "Read" : "Write", value);
            else if (strcmp(kv, "rios") == 0 || strcmp(kv, "wios") == 0)
                blkio_entry(ios, device, kv[0] == 'r' ? "Read" : "Write", value);
        }
    }
    return 0;
}

static int stats_blkio(const struct cgroup *cg, const char *v2_controllers, json_t *root,
                       ctr_error **err)
{
    const struct cgroup_hierarchy *h = served_by(cg, v2_controllers, "blkio", "io");
    if (h == NULL)
        return 0;
    json_t *blkio = json_object();
    json_object_set_new(root, "blkio", blkio);
    return h->v2 ? blkio_v2(h->dir, blkio, err) : blkio_v1(h->dir, blkio, err);
}

/* Each huge page size the kernel offers (/sys/kernel/mm/hugepages/hugepages-2048kB), named as
 * the cgroup files name it ("2MB"). */
static int stats_hugetlb(const struct cgroup *cg, const char *v2_controllers, json_t *root,
                         ctr_error **err)
{
    const struct cgroup_hierarchy *h = served_by(cg, v2_controllers, "hugetlb", "hugetlb");
    if (h == NULL)
        return 0;
    _cleanup_closedir_ DIR *d = opendir("/sys/kernel/mm/hugepages");
    if (d == NULL)
        return 0;
    json_t *hugetlb = json_object();
    json_object_set_new(root, "hugetlb", hugetlb);
    for (struct dirent *de; (de = readdir(d)) != NULL;) {
        unsigned long kb;
        if (sscanf(de->d_name, "hugepages-%lukB", &kb) != 1)
            continue;
        char size[32], usage_file[64], max_file[64], fail_file[64];
        if (kb % (1024 * 1024) == 0)
            snprintf(size, sizeof(size), "%luGB", kb / 1024 / 1024);
        else if (kb % 1024 == 0)
            snprintf(size, sizeof(size), "%luMB", kb / 1024);
        else
            snprintf(size, sizeof(size), "%luKB", kb);
        uint64_t usage = 0, max = 0, failcnt = 0;
        snprintf(usage_file, sizeof(usage_file), h->v2 ? "hugetlb.%s.current"
                                                       : "hugetlb.%s.usage_in_bytes", size);
        snprintf(max_file, sizeof(max_file), "hugetlb.%s.max_usage_in_bytes", size);
        snprintf(fail_file, sizeof(fail_file), h->v2 ? "hugetlb.%s.events" : "hugetlb.%s.failcnt",
                 size);
        if (optional_u64(h->dir, usage_file, &usage, err) < 0 ||
            (!h->v2 && optional_u64(h->dir, max_file, &max, err) < 0) ||
            (h->v2 ? optional_keyed(h->dir, fail_file, "max", &failcnt, err)
                   : optional_u64(h->dir, fail_file, &failcnt, err)) < 0)
            return -1;
        json_object_set_new(hugetlb, size, json_pack("{s:o,s:o,s:o}", "usage", number(usage),
                                                     "max", number(max), "failcnt",
                                                     number(failcnt)));
    }
    return 0;
}

int cgroup_stats(const struct cgroup *cgroup, json_t **stats, ctr_error **err)
{
    json_t *root = json_object();
    if (root == NULL)
        return error_set(err, ENOMEM, "stats of cgroup %s", cgroup->path);
    /* Read once for every controller the v2 tree may serve; unreadable: it serves none. */
    const struct cgroup_hierarchy *v2 = cgroup_find_v2(cgroup);
    _cleanup_free_ char *v2_controllers = NULL;
    if (v2 != NULL)
        cgroup_read(v2->dir, "cgroup.controllers", &v2_controllers, NULL);
    if (stats_cpu(cgroup, root, err) < 0 || stats_memory(cgroup, v2_controllers, root, err) < 0 ||
        stats_pids(cgroup, v2_controllers, root, err) < 0 ||
        stats_blkio(cgroup, v2_controllers, root, err) < 0 ||
        stats_hugetlb(cgroup, v2_controllers, root, err) < 0) {
        json_decref(root);
        return error_wrap(err, "stats of cgroup %s", cgroup->path);
    }
    *stats = root;
    return 0;
}
