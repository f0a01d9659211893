/* Shared between the files of the cgroup module:
 *   cgroup_layout.c   detection (v1/v2/hybrid) and the container's path (cgroupfs, systemd form)
 *   cgroup.c          control files, which hierarchy serves what, the resources both versions
 *                     write alike (hugetlb, rdma), create / destroy
 *   cgroup_join.c     how a new process gets in: by itself, by clone3, or moved by pid
 *   cgroup_v1.c, cgroup_v2.c   the resources, written the way each version wants them
 *   cgroup_convert.c  which controller each resource needs, and the v1 -> v2 arithmetic
 *   cgroup_devices.c  device rules: the default list, v1 devices.allow/deny
 *   cgroup_bpf.c      device rules as a cgroup v2 eBPF program, loaded and attached
 *   cgroup_update.c   update of a running container, with an undo journal
 *   cgroup_ops.c      processes, signals, freezer, OOM events
 *   cgroup_stats.c    counters in runc's `events --stats` shape
 *   cgroup_state.c    the cgroup as JSON for the state directory
 * Unit tests include it to reach the pure functions.
 */
#ifndef LIBCTR_CGROUP_INTERNAL_H
#define LIBCTR_CGROUP_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "cgroup.h"

#define CGROUP_FS_ROOT "/sys/fs/cgroup"
/* Where a container's cgroup goes when linux.cgroupsPath is relative or absent. */
#define CGROUP_DEFAULT_PARENT "/ctr"
/* Longest wait for a cgroup to empty after SIGKILL before giving up on removing it. */
#define CGROUP_DESTROY_TIMEOUT_MS 5000
/* Longest wait for the kernel to report a cgroup frozen or thawed. */
#define CGROUP_FREEZE_TIMEOUT_MS 10000

/* ---- detection and paths (cgroup.c) ---------------------------------------------------------- */

/* Reads a mountinfo file (normally /proc/self/mountinfo) and returns the layout and one entry per
 * visible hierarchy (dir and created fields left empty). */
int cgroup_parse_mountinfo(const char *mountinfo, enum cgroup_layout *layout,
                           struct cgroup_hierarchy **hierarchies, size_t *count, ctr_error **err);
void cgroup_hierarchies_free(struct cgroup_hierarchy *hierarchies, size_t count);

/* linux.cgroupsPath (NULL when absent) -> the normalised path below each hierarchy's root. */
int cgroup_resolve_path(const char *cgroups_path, const char *id, char **out, ctr_error **err);
/* The systemd driver's "slice:prefix:name" (NULL: "system.slice:ctr:<id>") -> the path systemd
 * gives that unit: "a-b.slice:p:n" -> /a.slice/a-b.slice/p-n.scope. */
int cgroup_resolve_systemd_path(const char *cgroups_path, const char *id, char **out,
                                ctr_error **err);

/* ---- control files (cgroup.c) ---------------------------------------------------------------- */

/* Writes `value` to dir/file in one write(2). `field` (the JSON path that asked for it, or NULL)
 * prefixes the message; a missing file is reported as unsupported by this kernel or host. */
int cgroup_write(const char *dir, const char *file, const char *value, const char *field,
                 ctr_error **err);
int cgroup_read(const char *dir, const char *file, char **out, ctr_error **err);
bool cgroup_has_file(const char *dir, const char *file);
/* A file holding one number; "max" reads as UINT64_MAX. */
int cgroup_read_u64(const char *dir, const char *file, uint64_t *value, ctr_error **err);
/* The number on the line "<key> <number>" of a flat keyed file (memory.stat, cpu.stat,
 * memory.events...): cgroup_parse_keyed returns -1 when there is no such line. */
int cgroup_parse_keyed(const char *text, const char *key, uint64_t *value);
int cgroup_read_keyed(const char *dir, const char *file, const char *key, uint64_t *value,
                      ctr_error **err);
/* The line of `text` that starts with `key` and a blank, or NULL. */
const char *cgroup_find_line(const char *text, const char *key);
/* Whether `word` is one of the space/comma/newline separated words of `list`. */
bool cgroup_list_has(const char *list, const char *word);
/* Calls `fn` with the path of each cgroup right below `dir` (none when `dir` is gone), up to the
 * first failure; `what` begins the out-of-memory message ("remove cgroup"). */
int cgroup_each_child(const char *dir,
                      int (*fn)(const char *sub, const void *data, ctr_error **err),
                      const void *data, const char *what, ctr_error **err);
/* Calls `visit` with each process of `dir` and of every cgroup below it (the container may make
 * its own), each with the cgroup that lists it; a cgroup removed meanwhile counts as empty. */
int cgroup_walk_procs(const char *dir,
                      int (*visit)(const char *cgroup_dir, pid_t pid, void *data, ctr_error **err),
                      void *data, const char *what, ctr_error **err);

/* ---- controllers ----------------------------------------------------------------------------- */

struct cgroup_journal; /* undo journal of an update, below */

/* The groups of linux.resources, each served by one controller. */
enum cgroup_controller {
    CGROUP_CTRL_DEVICES,
    CGROUP_CTRL_MEMORY,
    CGROUP_CTRL_PIDS,
    CGROUP_CTRL_CPU,
    CGROUP_CTRL_CPUSET,
    CGROUP_CTRL_BLKIO,
    CGROUP_CTRL_HUGETLB,
    CGROUP_CTRL_NET_CLS,
    CGROUP_CTRL_NET_PRIO,
    CGROUP_CTRL_RDMA,
    CGROUP_CTRL_COUNT
};

/* The first field of `res` that needs controller `c` (as a JSON path, for messages), or NULL. */
const char *cgroup_resource_needs(const struct spec_resources *res, enum cgroup_controller c);

/* Which hierarchy serves each controller, decided before anything is written (cgroup.c). */
struct cgroup_plan {
    struct cgroup_hierarchy *target[CGROUP_CTRL_COUNT]; /* NULL: nothing to write */
    struct cgroup_hierarchy *v2;                        /* the v2 tree, if any */
    char *available;                                    /* its root's cgroup.controllers */
    char *enable[32];                                   /* v2 controllers the resources need */
    size_t enable_count;
};
int cgroup_plan_resources(const struct cgroup *cg, const struct spec_resources *res,
                          struct cgroup_plan *plan, ctr_error **err);
void cgroup_plan_free(struct cgroup_plan *plan);
/* The v1 hierarchy that has `controller`, or NULL. */
struct cgroup_hierarchy *cgroup_find_v1(const struct cgroup *cg, const char *controller);
/* The v2 tree's hierarchy, or NULL (pure v1). */
struct cgroup_hierarchy *cgroup_find_v2(const struct cgroup *cg);
/* Writes the resources of controller `c` into hierarchy `h` (v1 files, v2 files, or the v2
 * device filter), recording the replaced values in `journal` (NULL: no undo). */
int cgroup_apply(struct cgroup_journal *journal, const struct cgroup_hierarchy *h,
                 enum cgroup_controller c, const struct spec_resources *res, ctr_error **err);
/* linux.resources.rdma into rdma.max: the controller has the same file and syntax on v1 and v2.
 * Each device's line is journalled, so an update that fails later puts the old one back. */
int cgroup_apply_rdma(struct cgroup_journal *journal, const char *dir,
                      const struct spec_resources *res, ctr_error **err);
/* linux.resources.hugepageLimits into hugetlb.<size>.<limit> and, where the kernel has it (5.7+),
 * hugetlb.<size>.rsvd.<limit>: `limit` is "limit_in_bytes" on v1, "max" on v2. */
int cgroup_apply_hugetlb(struct cgroup_journal *journal, const char *dir,
                         const struct spec_resources *res, const char *limit, ctr_error **err);
/* linux.resources.unified is applied last and wins over the typed fields, as in runc and crun:
 * whether it sets `file`, so that the typed value is skipped and every file written once. */
static inline bool cgroup_unified_sets(const struct spec_resources *res, const char *file)
{
    for (size_t i = 0; i < res->unified_count; i++)
        if (strcmp(res->unified[i].key, file) == 0)
            return true;
    return false;
}

/* ---- undo journal (cgroup_update.c) ---------------------------------------------------------- */

/* The journal (struct cgroup_journal) holds the values an update replaced, oldest first, so that
 * a failed update can write them back in reverse order. NULL wherever nothing is to be undone
 * (create: a failed create removes the cgroup instead). */
/* Room for a JSON path naming the resource in messages ("linux.resources.rdma[3]"). */
#define FIELD_MAX 96
/* cgroup_write(), after recording the file's current value in `journal` (when not NULL). */
int cgroup_set(struct cgroup_journal *journal, const char *dir, const char *file,
               const char *value, const char *field, ctr_error **err);
/* The same for a file of one line per key (a device "8:0", an interface, an RDMA device): only
 * the line of `key` is recorded, and `reset` is written back where there was none. */
int cgroup_set_keyed(struct cgroup_journal *journal, const char *dir, const char *file,
                     const char *key, const char *value, const char *reset, const char *field,
                     ctr_error **err);

/* Records the whole v1 device list of `dir` (devices.list), restored as deny-all + allows. */
int cgroup_journal_devices(struct cgroup_journal *journal, const char *dir, ctr_error **err);

/* ---- v1 backend (cgroup_v1.c) ---------------------------------------------------------------- */

/* Writes the resources of controller `c` into the container's directory `dir` of its v1 hierarchy
 * (devices excepted: cgroup_v1_devices). */
int cgroup_v1_apply(struct cgroup_journal *journal, const char *dir, enum cgroup_controller c,
                    const struct spec_resources *res, ctr_error **err);
/* Copies cpuset.cpus/mems from parent to child down `path` wherever a level has none. */
int cgroup_v1_cpuset_fill(const char *mount_point, const char *path, ctr_error **err);

/* ---- device rules (cgroup_devices.c) --------------------------------------------------------- */

/* The config's device rules followed by the devices every container may use whatever its config
 * says (runc does the same): what both the v1 lists and the v2 filter enforce. Checked (type a,
 * b or c; access of r, w, m), errors naming linux.resources.devices[i]. *rules is malloc'd. */
int cgroup_device_rules(const struct spec_resources *res, struct spec_device_rule **rules,
                        size_t *count, ctr_error **err);
/* One OCI device rule as devices.allow/deny lines ("c 1:3 rwm"); returns how many (1 or 2). */
int cgroup_v1_device_lines(const struct spec_device_rule *rule, char lines[2][48], ctr_error **err);
/* v1 devices.deny "a", then the rules in order, then the defaults. */
int cgroup_v1_devices(struct cgroup_journal *journal, const char *dir,
                      const struct spec_resources *res, ctr_error **err);

/* ---- v2 device filter (cgroup_bpf.c) --------------------------------------------------------- */

struct bpf_insn;
/* Device rules (in order, the last match wins, default deny; a wildcard matches anything) as a
 * BPF_PROG_TYPE_CGROUP_DEVICE program; *insns is malloc'd. */
int cgroup_bpf_device_program(const struct spec_device_rule *rules, size_t count,
                              struct bpf_insn **insns, size_t *len, ctr_error **err);
/* Loads the filter for `res` (its rules, then the defaults) and attaches it to the v2 cgroup
 * `dir` with BPF_F_ALLOW_MULTI, then detaches the filters that were there before (update). */
int cgroup_bpf_apply_devices(const char *dir, const struct spec_resources *res, ctr_error **err);

/* Emptying and removing, the v1 way (also v2's fallback where cgroup.kill is missing):
 * SIGKILL every process of `dir` and its sub-cgroups until none is left or `deadline`. */
int cgroup_kill_all(const char *dir, const struct timespec *deadline, ctr_error **err);
/* Removes the sub-cgroups of h->dir (made by the container inside its own, deepest first), then
 * the levels of h->dir we created, leaf first; a parent we made that another cgroup has moved into
 * since stays. rmdir is retried with a backoff while the kernel still counts exiting tasks
 * (EBUSY), except when `deadline` is NULL. */
int cgroup_remove_created(struct cgroup_hierarchy *h, const struct timespec *deadline,
                          ctr_error **err);
/* Sleeps *ms milliseconds and doubles it, up to 64 ms. */
void cgroup_backoff(unsigned *ms);

/* ---- v2 backend (cgroup_v2.c) ---------------------------------------------------------------- */

/* Enables `names` in cgroup.subtree_control of every ancestor of `path` (root included), and
 * then at each level what else `available` (NULL: nothing) lists, where it can, so that stats, OOM
 * events and later updates find their files, as runc and crun do: a controller of `available` a
 * level refuses is left off. */
int cgroup_v2_enable(const char *mount_point, const char *path, const char *const *names,
                     size_t count, const char *available, ctr_error **err);
int cgroup_v2_apply(struct cgroup_journal *journal, const char *dir, enum cgroup_controller c,
                    const struct spec_resources *res, ctr_error **err);
/* linux.resources.unified: each key is a file of `dir`. */
int cgroup_v2_apply_unified(struct cgroup_journal *journal, const char *dir,
                            const struct spec_resources *res, ctr_error **err);
/* Waits (inotify on cgroup.events, no spinning) until the line `key` of `dir`/cgroup.events reads
 * `value` ("populated" 0, "frozen" 1) or `deadline`; ENOENT (the cgroup is gone) counts as done
 * when `gone_ok`. */
int cgroup_v2_wait_event(const char *dir, const char *key, char value, bool gone_ok,
                         const struct timespec *deadline, ctr_error **err);
/* Waits (inotify on cgroup.events, no spinning) until `dir` has no process or `deadline`. */
int cgroup_v2_wait_empty(const char *dir, const struct timespec *deadline, ctr_error **err);

/* ---- conversions (cgroup_convert.c) ---------------------------------------------------------- */

/* The fields that runc's convention, followed by the tools that generate configs, treats as unset
 * when 0 (a 0 there would mean "no CPU at all", which the kernel refuses anyway). */
bool cgroup_cpu_shares_set(const struct spec_cpu *cpu);
bool cgroup_cpu_quota_set(const struct spec_cpu *cpu);
bool cgroup_cpu_period_set(const struct spec_cpu *cpu);

/* cpu.shares (2..262144, clamped) -> cpu.weight (1..10000). */
uint64_t cgroup_cpu_shares_to_weight(uint64_t shares);
/* blkio.weight (10..1000, clamped) -> io.weight (1..10000). */
uint64_t cgroup_blkio_weight_to_io_weight(uint64_t weight);
/* linux.resources.memory.swap (memory+swap) -> memory.swap.max (swap alone; -1 = max).
 * Returns 1 with *swap_max to write, 0 when nothing is to be written, -1 on a bad combination. */
int cgroup_memory_swap_to_v2(const struct spec_memory *memory, int64_t *swap_max, ctr_error **err);
/* cpu.max from quota and period ("50000 100000", "max", "max 100000"); 0 when neither is set. */
int cgroup_cpu_max(const struct spec_cpu *cpu, char *buf, size_t len);
/* A limit as the kernel wants it: negative -> "max" (v2 and pids), else the number. */
void cgroup_format_limit(int64_t value, char buf[static 24]);
/* A hugepageLimits pageSize fit for a file name: "2MB", "1GB", "64KB". */
bool cgroup_valid_page_size(const char *size);
/* rdma.max line of one linux.resources.rdma entry: "mlx4_0 hca_handle=2 hca_object=max". */
int cgroup_rdma_line(const struct spec_rdma_limit *rdma, char *buf, size_t len, ctr_error **err);

static inline void cgroup_freep(struct cgroup **cg)
{
    cgroup_free(*cg);
}

static inline void cgroup_deadline_in(struct timespec *deadline, int ms)
{
    clock_gettime(CLOCK_MONOTONIC, deadline);
    deadline->tv_sec += ms / 1000;
    deadline->tv_nsec += (long)(ms % 1000) * 1000000;
    if (deadline->tv_nsec >= 1000000000) {
        deadline->tv_sec++;
        deadline->tv_nsec -= 1000000000;
    }
}

static inline int64_t cgroup_ms_left(const struct timespec *deadline)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)(deadline->tv_sec - now.tv_sec) * 1000 +
           (deadline->tv_nsec - now.tv_nsec) / 1000000;
}

#endif
