/* libctr stats JSON -> io.containerd.cgroups.v1.Metrics; see metrics.h. */
#include "metrics.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.pb-c.h"
#include "ttrpc.h"

static uint64_t u64(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_integer(v) && json_integer_value(v) > 0 ? (uint64_t)json_integer_value(v) : 0;
}

static void memory_entry(json_t *obj, Io__Containerd__Cgroups__V1__MemoryEntry *entry)
{
    entry->limit = u64(obj, "limit");
    entry->usage = u64(obj, "usage");
    entry->max = u64(obj, "max");
    entry->failcnt = u64(obj, "failcnt");
}

int metrics_from_stats_json(const char *text, uint8_t **data, size_t *len)
{
    json_t *stats = json_loads(text, 0, NULL);
    if (stats == NULL)
        return -1;
    Io__Containerd__Cgroups__V1__Metrics metrics = IO__CONTAINERD__CGROUPS__V1__METRICS__INIT;
    Io__Containerd__Cgroups__V1__PidsStat pids = IO__CONTAINERD__CGROUPS__V1__PIDS_STAT__INIT;
    Io__Containerd__Cgroups__V1__CPUStat cpu = IO__CONTAINERD__CGROUPS__V1__CPUSTAT__INIT;
    Io__Containerd__Cgroups__V1__CPUUsage usage = IO__CONTAINERD__CGROUPS__V1__CPUUSAGE__INIT;
    Io__Containerd__Cgroups__V1__Throttle throttle = IO__CONTAINERD__CGROUPS__V1__THROTTLE__INIT;
    Io__Containerd__Cgroups__V1__MemoryStat memory = IO__CONTAINERD__CGROUPS__V1__MEMORY_STAT__INIT;
    Io__Containerd__Cgroups__V1__MemoryEntry entries[3];
    for (int i = 0; i < 3; i++)
        io__containerd__cgroups__v1__memory_entry__init(&entries[i]);

    json_t *p = json_object_get(stats, "pids");
    if (p) {
        pids.current = u64(p, "current");
        pids.limit = u64(p, "limit");
        metrics.pids = &pids;
    }
    json_t *c = json_object_get(stats, "cpu");
    uint64_t *per_cpu = NULL;
    if (c) {
        json_t *u = json_object_get(c, "usage"), *t = json_object_get(c, "throttling");
        usage.total = u64(u, "total");
        usage.kernel = u64(u, "kernel");
        usage.user = u64(u, "user");
        json_t *list = json_object_get(u, "percpu");
        size_t n = json_array_size(list);
        if (n && (per_cpu = calloc(n, sizeof(*per_cpu))) != NULL) {
            for (size_t i = 0; i < n; i++)
                per_cpu[i] = (uint64_t)json_integer_value(json_array_get(list, i));
            usage.n_per_cpu = n;
            usage.per_cpu = per_cpu;
        }
        throttle.periods = u64(t, "periods");
        throttle.throttled_periods = u64(t, "throttledPeriods");
        throttle.throttled_time = u64(t, "throttledTime");
        cpu.usage = &usage;
        cpu.throttling = &throttle;
        metrics.cpu = &cpu;
    }
    json_t *m = json_object_get(stats, "memory");
    if (m) {
        json_t *raw = json_object_get(m, "raw");
        memory.cache = u64(m, "cache");
        memory.rss = u64(raw, "rss") ? u64(raw, "rss") : u64(raw, "anon");
        memory.rss_huge = u64(raw, "rss_huge");
        memory.mapped_file = u64(raw, "mapped_file");
        memory.dirty = u64(raw, "dirty");
        memory.writeback = u64(raw, "writeback");
        memory.pg_fault = u64(raw, "pgfault");
        memory.pg_maj_fault = u64(raw, "pgmajfault");
        memory.inactive_anon = u64(raw, "inactive_anon");
        memory.active_anon = u64(raw, "active_anon");
        memory.inactive_file = u64(raw, "inactive_file");
        memory.active_file = u64(raw, "active_file");
        memory.unevictable = u64(raw, "unevictable");
        memory.hierarchical_memory_limit = u64(raw, "hierarchical_memory_limit");
        const char *names[] = {"usage", "swap", "kernel"};
        Io__Containerd__Cgroups__V1__MemoryEntry **slots[] = {&memory.usage, &memory.swap,
                                                              &memory.kernel};
        for (int i = 0; i < 3; i++) {
            json_t *e = json_object_get(m, names[i]);
            if (e) {
                memory_entry(e, &entries[i]);
                *slots[i] = &entries[i];
            }
        }
        metrics.memory = &memory;
    }
    json_t *h = json_object_get(stats, "hugetlb");
    size_t n_huge = json_object_size(h);
    Io__Containerd__Cgroups__V1__HugetlbStat *huge = n_huge ? calloc(n_huge, sizeof(*huge)) : NULL;
    Io__Containerd__Cgroups__V1__HugetlbStat **huge_list =
        n_huge ? calloc(n_huge, sizeof(*huge_list)) : NULL;
    if (huge && huge_list) {
        const char *size;
        json_t *v;
        size_t i = 0;
        json_object_foreach(h, size, v) {
            io__containerd__cgroups__v1__hugetlb_stat__init(&huge[i]);
            huge[i].usage = u64(v, "usage");
            huge[i].max = u64(v, "max");
            huge[i].failcnt = u64(v, "failcnt");
            huge[i].pagesize = (char *)size;
            huge_list[i] = &huge[i];
            i++;
        }
        metrics.n_hugetlb = i;
        metrics.hugetlb = huge_list;
    }
    int ret = ttrpc_pack(&metrics.base, data, len);
    free(huge);
    free(huge_list);
    free(per_cpu);
    json_decref(stats);
    return ret;
}
