/* The OCI resources are written in cgroup v1 terms; these turn them into what cgroup v2 takes.
 * The formulas are the ones runc and crun use, so a config means the same under every runtime.
 */
#include "cgroup_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

enum {
    CPU_SHARES_MIN = 2,      /* kernel MIN_SHARES */
    CPU_SHARES_MAX = 262144, /* kernel MAX_SHARES, 1 << 18 */
    BLKIO_WEIGHT_MIN = 10,
    BLKIO_WEIGHT_MAX = 1000,
};

bool cgroup_cpu_shares_set(const struct spec_cpu *cpu)
{
    return cpu->shares.set && cpu->shares.value != 0;
}

bool cgroup_cpu_quota_set(const struct spec_cpu *cpu)
{
    return cpu->quota.set && cpu->quota.value != 0;
}

bool cgroup_cpu_period_set(const struct spec_cpu *cpu)
{
    return cpu->period.set && cpu->period.value != 0;
}

/* Maps [2, 262144] linearly onto [1, 10000]: 2 -> 1, 1024 (v1 default) -> 39, 262144 -> 10000.
 * Out-of-range shares are clamped first, as the v1 kernel itself would clamp them. */
uint64_t cgroup_cpu_shares_to_weight(uint64_t shares)
{
    if (shares < CPU_SHARES_MIN)
        shares = CPU_SHARES_MIN;
    if (shares > CPU_SHARES_MAX)
        shares = CPU_SHARES_MAX;
    return 1 + ((shares - CPU_SHARES_MIN) * 9999) / (CPU_SHARES_MAX - CPU_SHARES_MIN);
}

/* Maps [10, 1000] linearly onto [1, 10000]: 10 -> 1, 500 -> 4950, 1000 -> 10000. */
uint64_t cgroup_blkio_weight_to_io_weight(uint64_t weight)
{
    if (weight < BLKIO_WEIGHT_MIN)
        weight = BLKIO_WEIGHT_MIN;
    if (weight > BLKIO_WEIGHT_MAX)
        weight = BLKIO_WEIGHT_MAX;
    return 1 + ((weight - BLKIO_WEIGHT_MIN) * 9999) / (BLKIO_WEIGHT_MAX - BLKIO_WEIGHT_MIN);
}

/* v1's memsw limit counts memory and swap together; v2's memory.swap.max counts swap alone. */
int cgroup_memory_swap_to_v2(const struct spec_memory *memory, int64_t *swap_max, ctr_error **err)
{
    bool has_limit = memory->limit.set && memory->limit.value != 0;
    int64_t limit = memory->limit.value;
    /* 0 is "unset" for swap in every runtime: memory+swap below memory means nothing. */
    bool has_swap = memory->swap.set && memory->swap.value != 0;
    int64_t swap = memory->swap.value;

    if (!has_swap) {
        /* Unlimited memory with swap left out means unlimited swap too, as on v1 (where the
         * memsw limit can never be below the memory limit). */
        if (has_limit && limit == -1) {
            *swap_max = -1;
            return 1;
        }
        return 0;
    }
    if (swap == -1) {
        *swap_max = -1;
        return 1;
    }
    if (swap < 0)
        return error_set(err, EINVAL, "linux.resources.memory.swap: invalid value %" PRId64, swap);
    if (!has_limit)
        return error_set(
            err, EINVAL,
            "linux.resources.memory.swap: a swap limit needs a memory limit on cgroup v2 "
            "(swap is memory+swap in the spec)");
    if (limit == -1) {
        /* Unlimited memory: all of memory+swap may be swap. */
        *swap_max = swap;
        return 1;
    }
    if (limit < 0)
        return error_set(err, EINVAL, "linux.resources.memory.limit: invalid value %" PRId64,
                         limit);
    if (swap < limit)
        return error_set(err, EINVAL,
                         "linux.resources.memory.swap: memory+swap (%" PRId64
                         ") is below the memory limit (%" PRId64 ")",
                         swap, limit);
    *swap_max = swap - limit;
    return 1;
}

/* cpu.max is "$QUOTA $PERIOD" in one file; a missing period keeps the kernel's current one. */
int cgroup_cpu_max(const struct spec_cpu *cpu, char *buf, size_t len)
{
    bool quota = cgroup_cpu_quota_set(cpu), period = cgroup_cpu_period_set(cpu);
    if (!quota && !period)
        return 0;
    char quota_text[24];
    if (quota && cpu->quota.value > 0)
        snprintf(quota_text, sizeof(quota_text), "%" PRId64, cpu->quota.value);
    else
        strcpy(quota_text, "max");
    if (period)
        snprintf(buf, len, "%s %" PRIu64, quota_text, cpu->period.value);
    else
        snprintf(buf, len, "%s", quota_text);
    return 1;
}

void cgroup_format_limit(int64_t value, char buf[static 24])
{
    if (value < 0)
        strcpy(buf, "max");
    else
        snprintf(buf, 24, "%" PRId64, value);
}

/* The device name goes into a line-oriented control file: whitespace would split the line. */
int cgroup_rdma_line(const struct spec_rdma_limit *rdma, char *buf, size_t len, ctr_error **err)
{
    if (rdma->device == NULL || rdma->device[0] == '\0' || strpbrk(rdma->device, " \t\n") != NULL)
        return error_set(err, EINVAL, "linux.resources.rdma: invalid device name `%s`",
                         rdma->device ? rdma->device : "");
    char handles[24] = "max", objects[24] = "max";
    if (rdma->hca_handles.set)
        snprintf(handles, sizeof(handles), "%" PRIu64, rdma->hca_handles.value);
    if (rdma->hca_objects.set)
        snprintf(objects, sizeof(objects), "%" PRIu64, rdma->hca_objects.value);
    int n = snprintf(buf, len, "%s hca_handle=%s hca_object=%s", rdma->device, handles, objects);
    if (n < 0 || (size_t)n >= len)
        return error_set(err, ENAMETOOLONG, "linux.resources.rdma: device name `%s` is too long",
                         rdma->device);
    return 0;
}

/* Which controller each field of linux.resources needs; the field names go into messages. */
const char *cgroup_resource_needs(const struct spec_resources *r, enum cgroup_controller c)
{
    const struct spec_memory *m = &r->memory;
    const struct spec_cpu *cpu = &r->cpu;
    const struct spec_block_io *b = &r->block_io;
#define NEED(cond, field)                                                                          \
    if (cond)                                                                                      \
        return "linux.resources." field;
    switch (c) {
    case CGROUP_CTRL_DEVICES:
        NEED(r->devices_count > 0, "devices");
        break;
    case CGROUP_CTRL_MEMORY:
        NEED(m->limit.set, "memory.limit");
        NEED(m->reservation.set, "memory.reservation");
        NEED(m->swap.set, "memory.swap");
        NEED(m->kernel.set, "memory.kernel");
        NEED(m->kernel_tcp.set, "memory.kernelTCP");
        NEED(m->swappiness.set, "memory.swappiness");
        NEED(m->disable_oom_killer.set, "memory.disableOOMKiller");
        NEED(m->use_hierarchy.set, "memory.useHierarchy");
        break;
    case CGROUP_CTRL_PIDS:
        NEED(r->pids_limit.set, "pids.limit");
        break;
    case CGROUP_CTRL_CPU:
        NEED(cgroup_cpu_shares_set(cpu), "cpu.shares");
        NEED(cgroup_cpu_quota_set(cpu), "cpu.quota");
        NEED(cgroup_cpu_period_set(cpu), "cpu.period");
        NEED(cpu->burst.set, "cpu.burst");
        NEED(cpu->realtime_runtime.set, "cpu.realtimeRuntime");
        NEED(cpu->realtime_period.set, "cpu.realtimePeriod");
        NEED(cpu->idle.set, "cpu.idle");
        break;
    case CGROUP_CTRL_CPUSET:
        NEED(cpu->cpus && cpu->cpus[0], "cpu.cpus");
        NEED(cpu->mems && cpu->mems[0], "cpu.mems");
        break;
    case CGROUP_CTRL_BLKIO:
        NEED(b->weight.set, "blockIO.weight");
        NEED(b->leaf_weight.set, "blockIO.leafWeight");
        NEED(b->weight_devices_count, "blockIO.weightDevice");
        NEED(b->throttle_read_bps_count, "blockIO.throttleReadBpsDevice");
        NEED(b->throttle_write_bps_count, "blockIO.throttleWriteBpsDevice");
        NEED(b->throttle_read_iops_count, "blockIO.throttleReadIOPSDevice");
        NEED(b->throttle_write_iops_count, "blockIO.throttleWriteIOPSDevice");
        break;
    case CGROUP_CTRL_HUGETLB:
        NEED(r->hugepage_limits_count, "hugepageLimits");
        break;
    case CGROUP_CTRL_NET_CLS:
        NEED(r->net_class_id.set, "network.classID");
        break;
    case CGROUP_CTRL_NET_PRIO:
        NEED(r->net_priorities_count, "network.priorities");
        break;
    case CGROUP_CTRL_RDMA:
        NEED(r->rdma_count, "rdma");
        break;
    case CGROUP_CTRL_COUNT:
        break;
    }
#undef NEED
    return NULL;
}

/* hugetlb file names carry the page size ("hugetlb.2MB.max"): only "<digits><K|M|G>B" may get
 * into a path. */
bool cgroup_valid_page_size(const char *size)
{
    if (size == NULL)
        return false;
    size_t digits = strspn(size, "0123456789");
    return digits > 0 && digits < 8 && strchr("KMG", size[digits]) && size[digits] != '\0' &&
           strcmp(size + digits + 1, "B") == 0;
}
