/* cgroup v2 has no devices controller: device access is decided by an eBPF program of type
 * BPF_PROG_TYPE_CGROUP_DEVICE attached to the cgroup. This file translates the device rules (the
 * config's, then the defaults: cgroup_device_rules) into such a program, loads it with the bpf(2)
 * syscall (raw instructions from <linux/bpf.h>, no libbpf) and attaches it.
 *
 * Semantics (runtime-spec "Allowed Device list", as cgroup v1 applies it): the rules are read in
 * order and the last one that matches decides; nothing matching means deny. A rule matches a
 * device when its type ('a' = any), major and minor (absent = any) match, and decides for the
 * access bits it lists. A request may ask for several bits (open(O_RDWR) asks for r and w):
 * each bit is decided on its own, and all must be allowed, so [allow r, allow w] grants rw
 * exactly as v1's merged entry would.
 */
#include "cgroup_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>

/* Jump offsets are 16-bit: the whole program must stay within reach of them. */
#define PROGRAM_MAX_INSNS 32000
/* A verifier log big enough for the message of a refused program of this size. */
#define VERIFIER_LOG_SIZE 65536
/* Filters attached to one cgroup that a replace looks at (ours is one; more means a stranger). */
#define ATTACHED_MAX 64

/* Registers of the generated program. */
enum { R0 = 0, R_CTX = 1, R_TYPE = 2, R_ACCESS = 3, R_MAJOR = 4, R_MINOR = 5, R_SCRATCH = 6 };

struct program {
    struct bpf_insn *insns;
    size_t len, cap;
    bool too_big;
};

static void emit(struct program *p, uint8_t code, uint8_t dst, uint8_t src, int16_t off,
                 int32_t imm)
{
    if (p->too_big || p->len >= PROGRAM_MAX_INSNS) {
        p->too_big = true;
        return;
    }
    p->insns[p->len++] =
        (struct bpf_insn){.code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm};
}

/* Points the jump at `from` to the instruction about to be emitted. */
static void land_here(struct program *p, size_t from)
{
    if (!p->too_big)
        p->insns[from].off = (int16_t)(p->len - from - 1);
}

/* "if reg != value goto <patched later>": returns the index of the jump to patch. A value past
 * INT32_MAX goes through a register, since immediates are sign-extended to 64 bits. */
static size_t jump_if_not(struct program *p, uint8_t reg, int64_t value)
{
    if (value <= INT32_MAX) {
        emit(p, BPF_JMP | BPF_JNE | BPF_K, reg, 0, 0, (int32_t)value);
    } else {
        emit(p, BPF_ALU | BPF_MOV | BPF_K, R_SCRATCH, 0, 0, (int32_t)(uint32_t)value);
        emit(p, BPF_JMP | BPF_JNE | BPF_X, reg, R_SCRATCH, 0, 0);
    }
    return p->len - 1;
}

static void emit_return(struct program *p, int32_t verdict)
{
    emit(p, BPF_ALU | BPF_MOV | BPF_K, R0, 0, 0, verdict);
    emit(p, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
}

static bool rule_has(const struct spec_device_rule *rule, char access)
{
    return rule->access[0] == '\0' || strchr(rule->access, access) != NULL;
}

/* The decision for one access bit: the rules from the last to the first; the first that matches
 * returns (deny) or jumps to the next bit (allow); none matching denies. A rule that matches
 * every device ends the search: the rules before it can never be reached. */
static void emit_access_bit(struct program *p, const struct spec_device_rule *rules, size_t count,
                            char access, int32_t bit, size_t *allowed)
{
    size_t nallowed = 0; /* `allowed` has room for one jump per rule */
    emit(p, BPF_JMP | BPF_JSET | BPF_K, R_ACCESS, 0, 1, bit);
    size_t not_asked = p->len;
    emit(p, BPF_JMP | BPF_JA, 0, 0, 0, 0);
    bool decided = false;
    for (size_t i = count; i-- > 0 && !decided && !p->too_big;) {
        const struct spec_device_rule *r = &rules[i];
        if (!rule_has(r, access))
            continue;
        size_t checks[3], nchecks = 0;
        char type = r->type ? r->type : 'a';
        if (type != 'a')
            checks[nchecks++] =
                jump_if_not(p, R_TYPE, type == 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK);
        if (r->major.set && r->major.value >= 0)
            checks[nchecks++] = jump_if_not(p, R_MAJOR, r->major.value);
        if (r->minor.set && r->minor.value >= 0)
            checks[nchecks++] = jump_if_not(p, R_MINOR, r->minor.value);
        decided = nchecks == 0;
        if (!r->allow) {
            emit_return(p, 0);
        } else if (!decided) {
            emit(p, BPF_JMP | BPF_JA, 0, 0, 0, 0);
            allowed[nallowed++] = p->len - 1;
        }
        /* An unconditional allow falls through to the next bit: no jump, and no code after it,
         * which the verifier would refuse as unreachable. */
        for (size_t k = 0; k < nchecks; k++)
            land_here(p, checks[k]);
    }
    if (!decided)
        emit_return(p, 0); /* default deny */
    land_here(p, not_asked);
    for (size_t k = 0; k < nallowed; k++)
        land_here(p, allowed[k]);
}

int cgroup_bpf_device_program(const struct spec_device_rule *rules, size_t count,
                              struct bpf_insn **insns, size_t *len, ctr_error **err)
{
    struct program p = {.insns = calloc(PROGRAM_MAX_INSNS, sizeof(struct bpf_insn))};
    _cleanup_free_ size_t *allowed = calloc(count + 1, sizeof(*allowed));
    if (p.insns == NULL || allowed == NULL) {
        free(p.insns);
        return error_set(err, ENOMEM, "linux.resources.devices: build the eBPF device filter");
    }
    /* ctx is struct bpf_cgroup_dev_ctx: access_type = (BPF_DEVCG_ACC_* << 16) | BPF_DEVCG_DEV_*,
     * then major and minor. 32-bit loads and moves zero-extend. */
    emit(&p, BPF_LDX | BPF_MEM | BPF_W, R_TYPE, R_CTX, 0, 0);
    emit(&p, BPF_ALU | BPF_MOV | BPF_X, R_ACCESS, R_TYPE, 0, 0);
    emit(&p, BPF_ALU | BPF_RSH | BPF_K, R_ACCESS, 0, 0, 16);
    emit(&p, BPF_ALU | BPF_AND | BPF_K, R_TYPE, 0, 0, 0xffff);
    emit(&p, BPF_LDX | BPF_MEM | BPF_W, R_MAJOR, R_CTX, 4, 0);
    emit(&p, BPF_LDX | BPF_MEM | BPF_W, R_MINOR, R_CTX, 8, 0);
    emit_access_bit(&p, rules, count, 'm', BPF_DEVCG_ACC_MKNOD, allowed);
    emit_access_bit(&p, rules, count, 'r', BPF_DEVCG_ACC_READ, allowed);
    emit_access_bit(&p, rules, count, 'w', BPF_DEVCG_ACC_WRITE, allowed);
    emit_return(&p, 1); /* every bit asked for was allowed */
    if (p.too_big) {
        free(p.insns);
        return error_set(err, E2BIG,
                         "linux.resources.devices: %zu rules do not fit in one eBPF device "
                         "filter (at most %d instructions)",
                         count, PROGRAM_MAX_INSNS);
    }
    *insns = p.insns;
    *len = p.len;
    return 0;
}

/* ---- loading and attaching ------------------------------------------------------------------- */

static int sys_bpf(int cmd, union bpf_attr *attr)
{
    return (int)syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

static int load(const struct bpf_insn *insns, size_t len, char *log, size_t log_size)
{
    union bpf_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
    attr.insns = (uint64_t)(uintptr_t)insns;
    attr.insn_cnt = (uint32_t)len;
    /* No kernel helper is called, so no GPL-only one: the project's own license will do. */
    attr.license = (uint64_t)(uintptr_t) "Apache-2.0";
    if (log != NULL) {
        attr.log_level = 1;
        attr.log_buf = (uint64_t)(uintptr_t)log;
        attr.log_size = (uint32_t)log_size;
    }
    return sys_bpf(BPF_PROG_LOAD, &attr);
}

/* Kernels since 5.11 charge BPF memory to the memory cgroup. Older ones charge RLIMIT_MEMLOCK
 * and say EPERM when it is short: then try once more with the soft limit raised as far as we
 * may, and put it back (the library changes nothing process-wide). Raising is only an attempt:
 * a host that cannot raise it (no CAP_SYS_RESOURCE) still gets the load's own error. */
static int load_raising_memlock(const struct bpf_insn *insns, size_t len)
{
    int fd = load(insns, len, NULL, 0);
    if (fd >= 0 || errno != EPERM)
        return fd;
    struct rlimit old, raised;
    if (getrlimit(RLIMIT_MEMLOCK, &old) < 0)
        return -1;
    raised.rlim_cur = raised.rlim_max = RLIM_INFINITY;
    bool changed = setrlimit(RLIMIT_MEMLOCK, &raised) == 0;
    if (!changed && old.rlim_cur < old.rlim_max) {
        raised = (struct rlimit){old.rlim_max, old.rlim_max};
        changed = setrlimit(RLIMIT_MEMLOCK, &raised) == 0;
    }
    if (!changed) {
        errno = EPERM;
        return -1;
    }
    fd = load(insns, len, NULL, 0);
    int saved = errno;
    setrlimit(RLIMIT_MEMLOCK, &old);
    errno = saved;
    return fd;
}

static int load_filter(const struct spec_resources *res, ctr_error **err)
{
    _cleanup_free_ struct spec_device_rule *rules = NULL;
    _cleanup_free_ struct bpf_insn *insns = NULL;
    size_t count = 0, len = 0;
    if (cgroup_device_rules(res, &rules, &count, err) < 0 ||
        cgroup_bpf_device_program(rules, count, &insns, &len, err) < 0)
        return -1;
    int fd = load_raising_memlock(insns, len);
    if (fd >= 0)
        return fd;
    int code = errno;
    if (code == EPERM)
        return error_set(err, code,
                         "linux.resources.devices: load the eBPF device filter (it needs "
                         "CAP_SYS_ADMIN or CAP_BPF, and kernels before 5.11 charge it to "
                         "RLIMIT_MEMLOCK, which could not be raised)");
    /* The verifier says why in its log: ask again with one, for the message. */
    _cleanup_free_ char *log = calloc(1, VERIFIER_LOG_SIZE);
    if (log != NULL) {
        int again = load(insns, len, log, VERIFIER_LOG_SIZE);
        if (again >= 0)
            return again;
        /* The reason is the last line before the closing statistics ("processed N insns"). */
        char *stats = strstr(log, "\nprocessed ");
        if (stats != NULL)
            *stats = '\0';
        char *last = log + strlen(log);
        while (last > log && last[-1] == '\n')
            *--last = '\0';
        char *line = strrchr(log, '\n');
        if (log[0] != '\0')
            return error_set(err, code,
                             "linux.resources.devices: the kernel refused the eBPF device filter "
                             "(%zu instructions; verifier: %s)",
                             len, line ? line + 1 : log);
    }
    return error_set(err, code, "linux.resources.devices: load the eBPF device filter");
}

static int detach(int cgroup_fd, int prog_fd)
{
    union bpf_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.target_fd = (uint32_t)cgroup_fd;
    attr.attach_bpf_fd = (uint32_t)prog_fd;
    attr.attach_type = BPF_CGROUP_DEVICE;
    return sys_bpf(BPF_PROG_DETACH, &attr);
}

/* The ids of the device filters attached to the cgroup itself (not inherited). */
static int query_attached(int cgroup_fd, const char *dir, uint32_t *ids, uint32_t *count,
                          ctr_error **err)
{
    union bpf_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.query.target_fd = (uint32_t)cgroup_fd;
    attr.query.attach_type = BPF_CGROUP_DEVICE;
    attr.query.prog_ids = (uint64_t)(uintptr_t)ids;
    attr.query.prog_cnt = *count;
    if (sys_bpf(BPF_PROG_QUERY, &attr) < 0) {
        /* Kernels before 4.19 cannot say; a new cgroup has none anyway. */
        if (errno == EINVAL) {
            *count = 0;
            return 0;
        }
        return error_set(err, errno, "query the eBPF device filters of %s", dir);
    }
    *count = attr.query.prog_cnt;
    return 0;
}

int cgroup_bpf_apply_devices(const char *dir, const struct spec_resources *res, ctr_error **err)
{
    _cleanup_close_ int cgroup_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (cgroup_fd < 0)
        return error_set(err, errno, "linux.resources.devices: open %s", dir);
    uint32_t old_ids[ATTACHED_MAX], old_count = ATTACHED_MAX;
    if (query_attached(cgroup_fd, dir, old_ids, &old_count, err) < 0)
        return error_wrap(err, "linux.resources.devices");
    _cleanup_close_ int prog_fd = load_filter(res, err);
    if (prog_fd < 0)
        return -1;

    /* The new filter goes in before the old ones go: with BPF_F_ALLOW_MULTI every attached
     * filter must allow, so in between a device is allowed only if both lists allow it, never
     * one that neither does. ALLOW_MULTI also lets the container attach filters of its own
     * below (a nested runtime), which can only narrow what ours allows. */
    union bpf_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.target_fd = (uint32_t)cgroup_fd;
    attr.attach_bpf_fd = (uint32_t)prog_fd;
    attr.attach_type = BPF_CGROUP_DEVICE;
    attr.attach_flags = BPF_F_ALLOW_MULTI;
    if (sys_bpf(BPF_PROG_ATTACH, &attr) < 0)
        return error_set(err, errno, "linux.resources.devices: attach the eBPF device filter to %s",
                         dir);
    for (uint32_t i = 0; i < old_count; i++) {
        memset(&attr, 0, sizeof(attr));
        attr.prog_id = old_ids[i];
        _cleanup_close_ int old_fd = sys_bpf(BPF_PROG_GET_FD_BY_ID, &attr);
        if (old_fd < 0 && errno == ENOENT)
            continue; /* detached meanwhile */
        if (old_fd < 0 || detach(cgroup_fd, old_fd) < 0) {
            int code = errno;
            /* Leave the cgroup as it was: the old filters only. */
            detach(cgroup_fd, prog_fd);
            return error_set(err, code,
                             "linux.resources.devices: detach the previous eBPF device filter "
                             "(id %u) from %s",
                             old_ids[i], dir);
        }
    }
    return 0;
}
