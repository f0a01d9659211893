/* The process attributes of `process` and `linux` applied to the calling process: rlimits,
 * oom_score_adj, scheduler, I/O priority, personality, memory policy, CPU affinity, user and
 * groups, umask and working directory, and the lookup of the executable.
 *
 * Each error names the config field and the value that could not be applied, and where the usual
 * cause is a missing capability, says which.
 */
#include "security.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/ioprio.h>
#include <linux/sched.h> /* SCHED_DEADLINE */
#include <linux/mempolicy.h>

#include "id_list.h"
#include "procfs.h"

/* ---- rlimits ------------------------------------------------------------------------------- */

static const char *rlimit_name(int resource)
{
    static const char *const names[] = {
        [RLIMIT_CPU] = "RLIMIT_CPU",           [RLIMIT_FSIZE] = "RLIMIT_FSIZE",
        [RLIMIT_DATA] = "RLIMIT_DATA",         [RLIMIT_STACK] = "RLIMIT_STACK",
        [RLIMIT_CORE] = "RLIMIT_CORE",         [RLIMIT_RSS] = "RLIMIT_RSS",
        [RLIMIT_NPROC] = "RLIMIT_NPROC",       [RLIMIT_NOFILE] = "RLIMIT_NOFILE",
        [RLIMIT_MEMLOCK] = "RLIMIT_MEMLOCK",   [RLIMIT_AS] = "RLIMIT_AS",
        [RLIMIT_LOCKS] = "RLIMIT_LOCKS",       [RLIMIT_SIGPENDING] = "RLIMIT_SIGPENDING",
        [RLIMIT_MSGQUEUE] = "RLIMIT_MSGQUEUE", [RLIMIT_NICE] = "RLIMIT_NICE",
        [RLIMIT_RTPRIO] = "RLIMIT_RTPRIO",     [RLIMIT_RTTIME] = "RLIMIT_RTTIME",
    };
    if (resource >= 0 && (size_t)resource < ARRAY_SIZE(names) && names[resource])
        return names[resource];
    return "RLIMIT_?";
}

static const char *rlimit_value(uint64_t value, char buf[static 24])
{
    if (value == RLIM_INFINITY)
        return "unlimited";
    snprintf(buf, 24, "%" PRIu64, value);
    return buf;
}

int process_set_rlimits(const struct spec_process *process, ctr_error **err)
{
    for (size_t i = 0; i < process->rlimits_count; i++) {
        const struct spec_rlimit *r = &process->rlimits[i];
        struct rlimit limit = {.rlim_cur = r->soft, .rlim_max = r->hard};
        if (setrlimit(r->resource, &limit) == 0)
            continue;
        int saved = errno;
        char soft[24], hard[24], current[24];
        struct rlimit now;
        if (saved == EPERM && getrlimit(r->resource, &now) == 0 && r->hard > now.rlim_max) {
            _cleanup_free_ char *message = NULL;
            if (asprintf(&message,
                         "process.rlimits[%zu] (%s %s/%s): %s: the hard limit is %s and cannot be "
                         "raised without CAP_SYS_RESOURCE",
                         i, rlimit_name(r->resource), rlimit_value(r->soft, soft),
                         rlimit_value(r->hard, hard), strerrordesc_np(saved),
                         rlimit_value(now.rlim_max, current)) < 0)
                return error_set(err, ENOMEM, "process.rlimits[%zu]", i);
            return error_from_message(err, saved, message);
        }
        return error_set(err, saved, "process.rlimits[%zu] (%s %s/%s)", i, rlimit_name(r->resource),
                         rlimit_value(r->soft, soft), rlimit_value(r->hard, hard));
    }
    return 0;
}

/* ---- oom_score_adj ------------------------------------------------------------------------- */

static const char OOM_SCORE_ADJ[] = "self/oom_score_adj";

int process_set_oom_score_adj(int procfd, const struct spec_process *process, ctr_error **err)
{
    if (!process->oom_score_adj.set)
        return 0;
    int64_t value = process->oom_score_adj.value;
    char buf[32];
    int len = snprintf(buf, sizeof(buf), "%" PRId64, value);
    /* CVE-2019-16884 class: through the runtime's procfs, not a /proc the container mounted. */
    _cleanup_close_ int fd = procfs_open(procfd, OOM_SCORE_ADJ, O_WRONLY, err);
    if (fd < 0)
        return error_wrap(err, "process.oomScoreAdj");
    ssize_t written = write(fd, buf, (size_t)len);
    if (written == len)
        return 0;
    int saved = written < 0 ? errno : EIO;
    /* Going below the lowest value a privileged process has set needs CAP_SYS_RESOURCE. The
     * refused write left the value as it was: read it for the message only (a failed read leaves
     * it out). */
    _cleanup_free_ char *current = NULL;
    if ((saved == EACCES || saved == EPERM) &&
        procfs_read(procfd, OOM_SCORE_ADJ, &current, NULL) == 0)
        current[strcspn(current, "\n")] = '\0';
    if (current && current[0] && value < strtoll(current, NULL, 10))
        return error_set(err, saved,
                         "process.oomScoreAdj: lowering oom_score_adj from %s to %s needs "
                         "CAP_SYS_RESOURCE",
                         current, buf);
    return error_set(err, saved, "process.oomScoreAdj: write `%s` to `/proc/%s`", buf,
                     OOM_SCORE_ADJ);
}

/* ---- scheduler ----------------------------------------------------------------------------- */

/* sched_setattr(2)'s argument (SCHED_ATTR_SIZE_VER1). Our own copy: glibc >= 2.41 declares
 * struct sched_attr in <sched.h> and older ones do not, so neither header can be relied on. */
struct ctr_sched_attr {
    uint32_t size;
    uint32_t sched_policy;
    uint64_t sched_flags;
    int32_t sched_nice;
    uint32_t sched_priority;
    uint64_t sched_runtime, sched_deadline, sched_period;
    uint32_t sched_util_min, sched_util_max;
};

static const char *sched_policy_name(int policy)
{
    switch (policy) {
    case SCHED_OTHER: return "SCHED_OTHER";
    case SCHED_FIFO: return "SCHED_FIFO";
    case SCHED_RR: return "SCHED_RR";
    case SCHED_BATCH: return "SCHED_BATCH";
    case SCHED_IDLE: return "SCHED_IDLE";
    case SCHED_DEADLINE: return "SCHED_DEADLINE";
    default: return "SCHED_?";
    }
}

int process_set_scheduler(const struct spec_process *process, ctr_error **err)
{
    const struct spec_scheduler *s = &process->scheduler;
    if (!s->set)
        return 0;
    struct ctr_sched_attr attr = {
        .size = sizeof(attr),
        .sched_policy = (uint32_t)s->policy,
        .sched_flags = s->flags,
        .sched_nice = s->nice,
        .sched_priority = (uint32_t)s->priority,
        .sched_runtime = s->runtime,
        .sched_deadline = s->deadline,
        .sched_period = s->period,
    };
    if (syscall(SYS_sched_setattr, 0, &attr, 0) == 0)
        return 0;
    int saved = errno;
    return error_set(
        err, saved,
        "process.scheduler (%s, nice %" PRId32 ", priority %" PRId32 ", flags 0x%" PRIx64
        ", runtime %" PRIu64 ", deadline %" PRIu64 ", period %" PRIu64 "): sched_setattr%s",
        sched_policy_name(s->policy), s->nice, s->priority, s->flags, s->runtime, s->deadline,
        s->period,
        saved == EPERM ? " (real-time policies and lower nice values need CAP_SYS_NICE)" : "");
}

/* ---- I/O priority -------------------------------------------------------------------------- */

int process_set_io_priority(const struct spec_process *process, ctr_error **err)
{
    const struct spec_io_priority *io = &process->io_priority;
    if (!io->set)
        return 0;
    static const char *const classes[] = {"IOPRIO_CLASS_NONE", "IOPRIO_CLASS_RT", "IOPRIO_CLASS_BE",
                                          "IOPRIO_CLASS_IDLE"};
    const char *class = io->class >= 0 && (size_t)io->class < ARRAY_SIZE(classes)
                            ? classes[io->class]
                            : "IOPRIO_CLASS_?";
    if (syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0,
                IOPRIO_PRIO_VALUE(io->class, io->priority)) == 0)
        return 0;
    return error_set(err, errno, "process.ioPriority (%s, priority %d): ioprio_set", class,
                     io->priority);
}

/* ---- personality --------------------------------------------------------------------------- */

int process_set_personality(const struct spec_linux *linux_, ctr_error **err)
{
    if (!linux_->personality.set)
        return 0;
    unsigned long domain = linux_->personality.domain;
    if (personality(domain) >= 0)
        return 0;
    const char *name = domain == PER_LINUX ? "LINUX" : domain == PER_LINUX32 ? "LINUX32" : "?";
    return error_set(err, errno, "linux.personality (%s, 0x%lx)", name, domain);
}

/* ---- cpu and node lists -------------------------------------------------------------------- */

struct id_bitmap {
    unsigned long *bits;
    size_t nbits; /* the highest id + 1 */
};

static void cleanup_id_bitmap(struct id_bitmap *map)
{
    free(map->bits);
}

#define LONG_BITS (sizeof(unsigned long) * CHAR_BIT)

/* id_list_walk()'s callbacks: the first pass sizes the bitmap, the second sets its bits. */
static void size_bitmap(unsigned long lo, unsigned long hi, void *data)
{
    struct id_bitmap *map = data;
    (void)lo;
    if (hi + 1 > map->nbits)
        map->nbits = hi + 1;
}

static void set_bits(unsigned long lo, unsigned long hi, void *data)
{
    struct id_bitmap *map = data;
    for (unsigned long id = lo; id <= hi; id++)
        map->bits[id / LONG_BITS] |= 1UL << (id % LONG_BITS);
}

static int parse_id_list(const char *list, struct id_bitmap *map, const char *field,
                         const char *what, ctr_error **err)
{
    map->bits = NULL;
    map->nbits = 0;
    struct id_list_fault fault;
    if (id_list_walk(list, size_bitmap, map, &fault) < 0) {
        switch (fault.kind) {
        case ID_LIST_EMPTY:
            return error_set(err, EINVAL, "%s: the %s list is empty", field, what);
        case ID_LIST_REVERSED:
            return error_set(err, EINVAL, "%s: invalid %s list \"%s\": range %lu-%lu is reversed",
                             field, what, list, fault.lo, fault.hi);
        case ID_LIST_SEPARATOR:
            return error_set(err, EINVAL,
                             "%s: invalid %s list \"%s\" at offset %zu: expected ',' or '-'", field,
                             what, list, fault.offset);
        default:
            return error_set(err, EINVAL,
                             "%s: invalid %s list \"%s\" at offset %zu: expected a number below %d",
                             field, what, list, fault.offset, ID_LIST_MAX);
        }
    }
    map->bits = calloc((map->nbits + LONG_BITS - 1) / LONG_BITS, sizeof(unsigned long));
    if (map->bits == NULL)
        return error_set(err, ENOMEM, "%s: parse the %s list", field, what);
    id_list_walk(list, set_bits, map, &fault);
    return 0;
}

/* ---- memory policy ------------------------------------------------------------------------- */

static const char *mempolicy_mode_name(int mode)
{
    static const char *const names[] = {"MPOL_DEFAULT",
                                        "MPOL_PREFERRED",
                                        "MPOL_BIND",
                                        "MPOL_INTERLEAVE",
                                        "MPOL_LOCAL",
                                        "MPOL_PREFERRED_MANY",
                                        "MPOL_WEIGHTED_INTERLEAVE"};
    return mode >= 0 && (size_t)mode < ARRAY_SIZE(names) ? names[mode] : "MPOL_?";
}

int process_set_memory_policy(const struct spec_linux *linux_, ctr_error **err)
{
    const struct spec_memory_policy *policy = &linux_->memory_policy;
    if (!policy->set)
        return 0;
    _cleanup_(cleanup_id_bitmap) struct id_bitmap nodes = {NULL, 0};
    /* MPOL_DEFAULT and MPOL_LOCAL take no nodes. */
    if (policy->nodes && policy->nodes[0] &&
        parse_id_list(policy->nodes, &nodes, "linux.memoryPolicy.nodes", "node", err) < 0)
        return -1;
    /* maxnode counts one more than the bits the kernel reads: it decrements it first, as
     * libnuma's callers know. */
    size_t words = (nodes.nbits + LONG_BITS - 1) / LONG_BITS;
    unsigned long maxnode = nodes.bits ? words * LONG_BITS + 1 : 0;
    if (syscall(SYS_set_mempolicy, policy->mode | (int)policy->flags, nodes.bits, maxnode) == 0)
        return 0;
    return error_set(err, errno, "linux.memoryPolicy (%s, flags 0x%x, nodes \"%s\"): set_mempolicy",
                     mempolicy_mode_name(policy->mode), policy->flags,
                     policy->nodes ? policy->nodes : "");
}

/* ---- cpu affinity -------------------------------------------------------------------------- */

static void cleanup_cpu_setp(cpu_set_t **set)
{
    if (*set)
        CPU_FREE(*set);
}

int process_set_cpu_affinity(const char *cpus, const char *field, ctr_error **err)
{
    if (cpus == NULL)
        return 0;
    _cleanup_(cleanup_id_bitmap) struct id_bitmap map = {NULL, 0};
    if (parse_id_list(cpus, &map, field, "cpu", err) < 0)
        return -1;
    /* CPU_ALLOC: the list may name cpus beyond the 1024 of a static cpu_set_t. */
    _cleanup_(cleanup_cpu_setp) cpu_set_t *set = CPU_ALLOC(map.nbits);
    if (set == NULL)
        return error_set(err, ENOMEM, "%s: allocate a cpu set", field);
    size_t size = CPU_ALLOC_SIZE(map.nbits);
    CPU_ZERO_S(size, set);
    for (size_t cpu = 0; cpu < map.nbits; cpu++)
        if (map.bits[cpu / LONG_BITS] & (1UL << (cpu % LONG_BITS)))
            CPU_SET_S(cpu, size, set);
    if (sched_setaffinity(0, size, set) == 0)
        return 0;
    int saved = errno;
    return error_set(err, saved, "%s (\"%s\"): sched_setaffinity%s", field, cpus,
                     saved == EINVAL ? " (none of these cpus is online and allowed to this process)"
                                     : "");
}

/* ---- user and groups ----------------------------------------------------------------------- */

/* "1000 1001 1002" (the first few), for messages. */
static const char *gid_list(const gid_t *gids, size_t count, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < count && used < size; i++) {
        int n = snprintf(buf + used, size - used, "%s%u", i ? " " : "", (unsigned)gids[i]);
        if (n < 0 || (size_t)n >= size - used) {
            snprintf(buf + used, size - used, " ...");
            break;
        }
        used += (size_t)n;
    }
    return buf;
}

int process_set_user(const struct spec_user *user, bool allow_setgroups, ctr_error **err)
{
    char gids[128];
    if (allow_setgroups) {
        /* Always, even with no additional gids: the runtime's own supplementary groups must not
         * leak into the container. */
        if (setgroups(user->additional_gids_count, user->additional_gids) < 0)
            return error_set(
                err, errno, "process.user.additionalGids: setgroups [%s]",
                gid_list(user->additional_gids, user->additional_gids_count, gids, sizeof(gids)));
    } else if (user->additional_gids_count > 0) {
        return error_set(
            err, EPERM,
            "process.user.additionalGids: cannot set [%s]: setgroups is denied in "
            "this user namespace (its setgroups file says \"deny\")",
            gid_list(user->additional_gids, user->additional_gids_count, gids, sizeof(gids)));
    }
    /* EINVAL from the set*id calls means the id has no mapping in the user namespace. */
    if (setresgid(user->gid, user->gid, user->gid) < 0) {
        int saved = errno;
        return error_set(err, saved, "process.user.gid: setresgid(%u)%s", (unsigned)user->gid,
                         saved == EINVAL ? " (the gid is not mapped in the user namespace)" : "");
    }
    if (setresuid(user->uid, user->uid, user->uid) < 0) {
        int saved = errno;
        return error_set(err, saved, "process.user.uid: setresuid(%u)%s", (unsigned)user->uid,
                         saved == EINVAL ? " (the uid is not mapped in the user namespace)" : "");
    }
    return 0;
}

/* ---- umask and cwd ------------------------------------------------------------------------- */

int process_set_umask_and_cwd(const struct spec_process *process, ctr_error **err)
{
    const opt_uint64 *mask = &process->user.umask;
    if (mask->set && mask->value > 0777)
        return error_set(err, EINVAL, "process.user.umask: %#" PRIo64 " is not a permission mask",
                         mask->value);
    umask(mask->set ? (mode_t)mask->value : 0022);
    /* The spec requires cwd; staying wherever the runtime happened to be is never right. */
    if (process->cwd == NULL)
        return error_set(err, EINVAL, "process.cwd: missing");
    if (chdir(process->cwd) < 0)
        return error_set(err, errno, "process.cwd: chdir to `%s`", process->cwd);
    /* CVE-2024-21626: the runtime's own fds (its state directory, its procfs handle...) are still
     * open here, so a cwd of /proc/self/fd/N would leave the process in the host's filesystem.
     * The kernel knows: a cwd outside the process's root has no path from it ("(unreachable)",
     * which getcwd() reports as ENOENT). */
    _cleanup_free_ char *where = getcwd(NULL, 0);
    if (where == NULL && errno != ENOENT)
        return error_set(err, errno, "process.cwd `%s`: getcwd", process->cwd);
    if (where == NULL || where[0] != '/')
        return error_set(err, EPERM, "process.cwd `%s`: outside the container's root filesystem "
                         "(refused: CVE-2024-21626)", process->cwd);
    return 0;
}

/* ---- the executable ------------------------------------------------------------------------ */

static const char DEFAULT_PATH[] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/* The last PATH= wins, as it does for runc (its init sets the variables in order). */
static const char *env_path(const struct string_list *env)
{
    const char *path = NULL;
    for (size_t i = 0; i < env->count; i++)
        if (strncmp(env->items[i], "PATH=", 5) == 0)
            path = env->items[i] + 5;
    return path ? path : DEFAULT_PATH;
}

/* 0 when `path` is a regular file this process may execute; else an errno for execve's view of
 * it (ENOENT/ENOTDIR: not there; EACCES: there but not executable) and a reason for messages. */
static int check_executable(const char *path, const char **reason)
{
    struct stat st;
    *reason = "";
    if (stat(path, &st) < 0)
        return errno;
    if (S_ISDIR(st.st_mode)) {
        *reason = "is a directory, not an executable file";
        return EACCES;
    }
    if (!S_ISREG(st.st_mode)) {
        *reason = "is not a regular file";
        return EACCES;
    }
    /* AT_EACCESS: with the effective ids, as execve checks; this also catches noexec mounts. */
    if (faccessat(AT_FDCWD, path, X_OK, AT_EACCESS) < 0) {
        *reason = "is not executable";
        return errno;
    }
    return 0;
}

int process_find_executable(const struct spec_process *process, char **path, ctr_error **err)
{
    *path = NULL;
    if (process->args.count == 0)
        return error_set(err, EINVAL, "process.args: empty, so there is nothing to execute");
    if (process->args.items[0][0] == '\0')
        return error_set(err, EINVAL, "process.args[0]: empty, so there is nothing to execute");
    const char *name = process->args.items[0];
    const char *reason;

    /* A name with a slash is a path (relative to cwd when not absolute), as for execvp. */
    if (strchr(name, '/')) {
        int rc = check_executable(name, &reason);
        if (rc != 0)
            return error_set(err, rc, "exec: \"%s\"%s%s", name, reason[0] ? ": " : "", reason);
        *path = strdup(name);
        return *path ? 0 : error_set(err, ENOMEM, "exec: \"%s\"", name);
    }

    /* The first candidate that exists but cannot be executed, reported when nothing better is
     * found (as execvp reports EACCES). */
    _cleanup_free_ char *unusable = NULL;
    const char *unusable_reason = "";
    int unusable_errno = 0;
    const char *dirs = env_path(&process->env);
    for (const char *dir = dirs;;) {
        size_t len = strcspn(dir, ":");
        _cleanup_free_ char *candidate = NULL;
        /* An empty element is the current directory (POSIX). */
        if (asprintf(&candidate, "%.*s/%s", (int)(len ? len : 1), len ? dir : ".", name) < 0)
            return error_set(err, ENOMEM, "exec: \"%s\"", name);
        int rc = check_executable(candidate, &reason);
        if (rc == 0) {
            *path = steal_pointer(&candidate);
            return 0;
        }
        if (rc != ENOENT && rc != ENOTDIR && unusable == NULL) {
            unusable = steal_pointer(&candidate);
            unusable_reason = reason;
            unusable_errno = rc;
        }
        if (dir[len] == '\0')
            break;
        dir += len + 1;
    }
    if (unusable)
        return error_set(err, unusable_errno, "exec: \"%s\": `%s`%s%s", name, unusable,
                         unusable_reason[0] ? " " : "", unusable_reason);
    /* runc's wording, which container managers recognise (podman maps it to exit code 127). */
    _cleanup_free_ char *message = NULL;
    if (asprintf(&message, "exec: \"%s\": executable file not found in $PATH", name) < 0)
        return error_set(err, ENOMEM, "exec: \"%s\"", name);
    return error_from_message(err, ENOENT, message);
}
