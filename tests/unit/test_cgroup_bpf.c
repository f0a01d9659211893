/* The cgroup v2 device filter: device rules -> eBPF program. Cgroup device programs cannot be run
 * with BPF_PROG_TEST_RUN (the kernel has no test_run for them), so the generated instructions run
 * in a small evaluator here, which knows only the instructions the generator may emit and fails
 * on anything else, and their verdicts are compared with the spec's semantics written out
 * plainly (rules in order, the last match wins, default deny, each access bit on its own). As
 * root, every program is also given to the kernel's verifier, and one is attached to a real
 * cgroup to see a denied device refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "cgroup_internal.h"

/* ---- the evaluator ----------------------------------------------------------------------------- */

enum { ACC_M = BPF_DEVCG_ACC_MKNOD, ACC_R = BPF_DEVCG_ACC_READ, ACC_W = BPF_DEVCG_ACC_WRITE };

/* Runs `insns` on one request; fails the test on an instruction outside the generator's set, a
 * jump out of the program or backwards, or a read outside the context. */
static int run(const struct bpf_insn *insns, size_t len, char type, uint32_t major, uint32_t minor,
               int access)
{
    struct bpf_cgroup_dev_ctx ctx = {
        .access_type = ((uint32_t)access << 16) |
                       (type == 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK),
        .major = major,
        .minor = minor};
    uint64_t r[11] = {0};
    for (size_t pc = 0; pc < len;) {
        const struct bpf_insn *i = &insns[pc];
        uint64_t imm = (uint64_t)(int64_t)i->imm; /* immediates are sign-extended */
        size_t next = pc + 1, target = pc + 1 + (size_t)(ptrdiff_t)i->off;
        if (i->dst_reg > 10 || i->src_reg > 10)
            fail_msg("insn %zu: bad register", pc);
        switch (i->code) {
        case BPF_LDX | BPF_MEM | BPF_W:
            if (i->src_reg != 1 || i->imm != 0 || i->off < 0 || i->off > 8 || i->off % 4)
                fail_msg("insn %zu: load outside the context", pc);
            memcpy(&r[i->dst_reg], (char *)&ctx + i->off, 4);
            r[i->dst_reg] &= 0xffffffffu;
            break;
        case BPF_ALU | BPF_MOV | BPF_K:
            r[i->dst_reg] = (uint32_t)i->imm;
            break;
        case BPF_ALU | BPF_MOV | BPF_X:
            r[i->dst_reg] = (uint32_t)r[i->src_reg];
            break;
        case BPF_ALU | BPF_RSH | BPF_K:
            r[i->dst_reg] = (uint32_t)r[i->dst_reg] >> i->imm;
            break;
        case BPF_ALU | BPF_AND | BPF_K:
            r[i->dst_reg] = (uint32_t)(r[i->dst_reg] & (uint32_t)i->imm);
            break;
        case BPF_JMP | BPF_JNE | BPF_K:
            next = r[i->dst_reg] != imm ? target : next;
            break;
        case BPF_JMP | BPF_JNE | BPF_X:
            next = r[i->dst_reg] != r[i->src_reg] ? target : next;
            break;
        case BPF_JMP | BPF_JSET | BPF_K:
            next = (r[i->dst_reg] & imm) ? target : next;
            break;
        case BPF_JMP | BPF_JA:
            next = target;
            break;
        case BPF_JMP | BPF_EXIT:
            return (int)r[0];
        default:
            fail_msg("insn %zu: unexpected opcode 0x%02x", pc, i->code);
        }
        if (next <= pc || next > len)
            fail_msg("insn %zu: jump to %zu (program of %zu)", pc, next, len);
        pc = next;
    }
    fail_msg("fell off the end of the program");
    return -1;
}

/* ---- the spec, written out plainly ------------------------------------------------------------ */

static bool rule_matches(const struct spec_device_rule *r, char type, uint32_t major,
                         uint32_t minor, char access)
{
    char rt = r->type ? r->type : 'a';
    const char *acc = r->access[0] ? r->access : "rwm";
    return (rt == 'a' || rt == type) && (!r->major.set || r->major.value < 0 ||
                                         (uint32_t)r->major.value == major) &&
           (!r->minor.set || r->minor.value < 0 || (uint32_t)r->minor.value == minor) &&
           strchr(acc, access) != NULL;
}

static int reference(const struct spec_device_rule *rules, size_t n, char type, uint32_t major,
                     uint32_t minor, int access)
{
    static const struct {
        int bit;
        char name;
    } bits[] = {{ACC_M, 'm'}, {ACC_R, 'r'}, {ACC_W, 'w'}};
    for (size_t b = 0; b < ARRAY_SIZE(bits); b++) {
        if (!(access & bits[b].bit))
            continue;
        bool allowed = false; /* default deny */
        for (size_t i = 0; i < n; i++) /* in order: the last match wins */
            if (rule_matches(&rules[i], type, major, minor, bits[b].name))
                allowed = rules[i].allow;
        if (!allowed)
            return 0;
    }
    return 1;
}

/* ---- helpers ----------------------------------------------------------------------------------- */

#define RULE(allow_, type_, ma, mi, acc)                                                           \
    ((struct spec_device_rule){.allow = allow_, .type = type_, .major = {(ma) >= 0, (ma)},       \
                               .minor = {(mi) >= 0, (mi)}, .access = acc})
#define ANY (-1)

struct built {
    struct spec_device_rule *rules; /* config rules + defaults */
    size_t count;
    struct bpf_insn *insns;
    size_t len;
};

static struct built build(const struct spec_device_rule *config, size_t n)
{
    struct spec_resources res = {.devices = (struct spec_device_rule *)config, .devices_count = n};
    struct built b = {0};
    ctr_error *err = NULL;
    if (cgroup_device_rules(&res, &b.rules, &b.count, &err) < 0 ||
        cgroup_bpf_device_program(b.rules, b.count, &b.insns, &b.len, &err) < 0)
        fail_msg("%s", ctr_error_message(err));
    return b;
}

static void built_free(struct built *b)
{
    free(b->rules);
    free(b->insns);
}

static bool can_bpf(void)
{
    return geteuid() == 0;
}

/* Hands the program to the kernel's verifier (root only): a program the evaluator likes but the
 * kernel refuses is no use. */
static void assert_verifies(const struct built *b)
{
    if (!can_bpf())
        return;
    static char log[65536];
    union bpf_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
    attr.insns = (uint64_t)(uintptr_t)b->insns;
    attr.insn_cnt = (uint32_t)b->len;
    attr.license = (uint64_t)(uintptr_t) "Apache-2.0";
    attr.log_level = 1;
    attr.log_buf = (uint64_t)(uintptr_t)log;
    attr.log_size = sizeof(log);
    log[0] = '\0';
    int fd = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof(attr));
    if (fd < 0)
        fail_msg("verifier refused the program: %s\n%s", strerror(errno), log);
    close(fd);
}

/* Checks `expected` verdicts, then the reference on every device of `devices` with every access
 * mask (1..7). */
struct expect {
    char type;
    uint32_t major, minor;
    int access, allowed;
};

static void check(const struct spec_device_rule *config, size_t n, const struct expect *expected,
                  size_t nexpected)
{
    struct built b = build(config, n);
    for (size_t i = 0; i < nexpected; i++) {
        const struct expect *e = &expected[i];
        int got = run(b.insns, b.len, e->type, e->major, e->minor, e->access);
        if (got != e->allowed)
            fail_msg("%c %u:%u access %d: program says %d, expected %d", e->type, e->major,
                     e->minor, e->access, got, e->allowed);
        assert_int_equal(reference(b.rules, b.count, e->type, e->major, e->minor, e->access),
                         e->allowed);
    }
    static const uint32_t numbers[] = {0, 1, 3, 5, 7, 8, 10, 136, 200, 0x7fffffff, 0xfffffffe};
    for (int t = 0; t < 2; t++)
        for (size_t ma = 0; ma < ARRAY_SIZE(numbers); ma++)
            for (size_t mi = 0; mi < ARRAY_SIZE(numbers); mi++)
                for (int access = 1; access <= 7; access++) {
                    char type = t ? 'c' : 'b';
                    int want = reference(b.rules, b.count, type, numbers[ma], numbers[mi], access);
                    int got = run(b.insns, b.len, type, numbers[ma], numbers[mi], access);
                    if (got != want)
                        fail_msg("%c %u:%u access %d: program %d, spec %d", type, numbers[ma],
                                 numbers[mi], access, got, want);
                }
    assert_verifies(&b);
    built_free(&b);
}

/* ---- translation ------------------------------------------------------------------------------- */

static void defaults_only(void **state)
{
    struct spec_device_rule config[] = {RULE(false, 'a', ANY, ANY, "rwm")};
    const struct expect e[] = {
        {'c', 1, 3, ACC_R | ACC_W, 1},  /* /dev/null */
        {'c', 1, 9, ACC_R, 1},          /* /dev/urandom */
        {'c', 136, 4, ACC_R | ACC_W, 1}, /* /dev/pts/4 */
        {'c', 5, 2, ACC_W, 1},          /* /dev/ptmx */
        {'c', 1, 1, ACC_R, 0},          /* /dev/mem: no rule */
        {'c', 1, 11, ACC_W, 0},         /* /dev/kmsg */
        {'b', 8, 0, ACC_R, 0},          /* a disk */
        {'b', 8, 0, ACC_M, 1},          /* mknod of anything */
        {'c', 10, 200, ACC_M, 1},
        {'c', 10, 200, ACC_M | ACC_R, 0}, /* mknod yes, read no: all bits must pass */
    };
    check(config, ARRAY_SIZE(config), e, ARRAY_SIZE(e));
    /* No rule at all: the defaults on a default-deny base. */
    check(NULL, 0, e, ARRAY_SIZE(e));
}

static void last_match_wins(void **state)
{
    struct spec_device_rule allow_then_deny[] = {RULE(false, 'a', ANY, ANY, "rwm"),
                                                 RULE(true, 'c', 10, 200, "rwm"),
                                                 RULE(false, 'c', 10, 200, "w")};
    const struct expect e1[] = {{'c', 10, 200, ACC_R, 1},
                                {'c', 10, 200, ACC_W, 0},
                                {'c', 10, 200, ACC_R | ACC_W, 0},
                                {'c', 10, 200, ACC_M, 1}};
    check(allow_then_deny, ARRAY_SIZE(allow_then_deny), e1, ARRAY_SIZE(e1));

    struct spec_device_rule deny_then_allow[] = {RULE(false, 'a', ANY, ANY, "rwm"),
                                                 RULE(false, 'c', 10, 200, "w"),
                                                 RULE(true, 'c', 10, 200, "rwm")};
    const struct expect e2[] = {{'c', 10, 200, ACC_W, 1}, {'c', 10, 200, ACC_R | ACC_W, 1}};
    check(deny_then_allow, ARRAY_SIZE(deny_then_allow), e2, ARRAY_SIZE(e2));

    /* Two partial allows make a whole, as v1's merged entry does. */
    struct spec_device_rule split[] = {RULE(true, 'c', 4, 1, "r"), RULE(true, 'c', 4, 1, "w")};
    const struct expect e3[] = {{'c', 4, 1, ACC_R | ACC_W, 1}, {'c', 4, 1, ACC_R | ACC_M, 1},
                                {'c', 4, 2, ACC_R, 0}};
    check(split, ARRAY_SIZE(split), e3, ARRAY_SIZE(e3));
}

static void wildcards(void **state)
{
    /* An allow-all with a hole punched in it: the hole holds (v1 cannot express this one). */
    struct spec_device_rule hole[] = {RULE(true, 'c', ANY, ANY, "rwm"),
                                      RULE(false, 'c', 1, 1, "rwm")};
    const struct expect e1[] = {{'c', 1, 1, ACC_R, 0}, {'c', 1, 2, ACC_R | ACC_W, 1},
                                {'c', 200, 7, ACC_W, 1}, {'b', 8, 0, ACC_R, 0}};
    check(hole, ARRAY_SIZE(hole), e1, ARRAY_SIZE(e1));

    /* Type "a" with a major: both char and block devices of that major. */
    struct spec_device_rule by_major[] = {RULE(false, 'a', ANY, ANY, "rwm"),
                                          RULE(true, 'a', 10, ANY, "r")};
    const struct expect e2[] = {{'c', 10, 5, ACC_R, 1}, {'b', 10, 5, ACC_R, 1},
                                {'c', 10, 5, ACC_W, 0}, {'c', 11, 0, ACC_R, 0}};
    check(by_major, ARRAY_SIZE(by_major), e2, ARRAY_SIZE(e2));

    /* A minor wildcard with a fixed major, and the reverse. */
    struct spec_device_rule minors[] = {RULE(true, 'b', 8, ANY, "rw"), RULE(true, 'b', ANY, 3, "m"),
                                        RULE(false, 'b', 8, 16, "w")};
    const struct expect e3[] = {{'b', 8, 0, ACC_R | ACC_W, 1}, {'b', 8, 16, ACC_W, 0},
                                {'b', 8, 16, ACC_R, 1}, {'b', 9, 3, ACC_M, 1}, {'b', 9, 3, ACC_R, 0}};
    check(minors, ARRAY_SIZE(minors), e3, ARRAY_SIZE(e3));

    /* Privileged: everything allowed (the defaults add nothing). */
    struct spec_device_rule all[] = {RULE(true, 'a', ANY, ANY, "rwm")};
    const struct expect e4[] = {{'b', 8, 0, ACC_R | ACC_W | ACC_M, 1}, {'c', 1, 1, ACC_R, 1}};
    check(all, ARRAY_SIZE(all), e4, ARRAY_SIZE(e4));

    /* An absent type and access mean "a" and "rwm". */
    struct spec_device_rule bare[] = {{.allow = true}, {.allow = false, .type = 'c'}};
    const struct expect e5[] = {{'b', 1, 1, ACC_R, 1}, {'c', 1, 1, ACC_R, 0},
                                {'c', 1, 3, ACC_R, 1}};
    check(bare, ARRAY_SIZE(bare), e5, ARRAY_SIZE(e5));
}

/* Device numbers past INT32_MAX: an immediate would be sign-extended and never match. */
static void large_numbers(void **state)
{
    struct spec_device_rule big[] = {RULE(true, 'c', 0xfffffffeLL, 0x7fffffffLL, "rw")};
    const struct expect e[] = {{'c', 0xfffffffe, 0x7fffffff, ACC_R, 1},
                               {'c', 0xfffffffe, 0x7ffffffe, ACC_R, 0},
                               {'c', 0x7ffffffe, 0x7fffffff, ACC_R, 0}};
    check(big, ARRAY_SIZE(big), e, ARRAY_SIZE(e));
}

/* Random rule lists, compared with the spec on every device and access above. */
static void random_rules(void **state)
{
    unsigned seed = 20240611;
    static const int64_t numbers[] = {ANY, 0, 1, 3, 8, 10, 136, 200};
    static const char *const accesses[] = {"r", "w", "m", "rw", "rm", "wm", "rwm"};
    for (int round = 0; round < 200; round++) {
        struct spec_device_rule rules[12];
        size_t n = (size_t)(rand_r(&seed) % 12);
        for (size_t i = 0; i < n; i++) {
            rules[i] = RULE(rand_r(&seed) % 2, "abc"[rand_r(&seed) % 3],
                            numbers[rand_r(&seed) % ARRAY_SIZE(numbers)],
                            numbers[rand_r(&seed) % ARRAY_SIZE(numbers)], "");
            strcpy(rules[i].access, accesses[rand_r(&seed) % ARRAY_SIZE(accesses)]);
        }
        check(rules, n, NULL, 0);
    }
}

static void errors(void **state)
{
    ctr_error *err = NULL;
    struct spec_device_rule bad[] = {RULE(true, 'c', 1, 3, "rwm"), RULE(true, 'p', 1, 3, "rwm")};
    struct spec_resources res = {.devices = bad, .devices_count = 2};
    struct spec_device_rule *rules = NULL;
    size_t count = 0;
    assert_int_equal(cgroup_device_rules(&res, &rules, &count, &err), -1);
    assert_non_null(strstr(ctr_error_message(err), "linux.resources.devices[1]"));
    assert_non_null(strstr(ctr_error_message(err), "`p`"));

    /* Far more rules than jump offsets can span: refused, not truncated. */
    size_t many = 20000;
    struct spec_device_rule *lots = calloc(many, sizeof(*lots));
    assert_non_null(lots);
    for (size_t i = 0; i < many; i++)
        lots[i] = RULE(i % 2, 'c', (int64_t)i, 1, "rwm");
    struct bpf_insn *insns = NULL;
    size_t len = 0;
    assert_int_equal(cgroup_bpf_device_program(lots, many, &insns, &len, &err), -1);
    assert_int_equal(ctr_error_code(err), E2BIG);
    assert_non_null(strstr(ctr_error_message(err), "20000 rules"));
    free(lots);
    ctr_error_free(err);
}

/* ---- the real thing ---------------------------------------------------------------------------- */

/* A v2 cgroup of this host: the v2 tree of a hybrid host, or the v2 root. */
static const char *v2_root(void)
{
    static const char *const candidates[] = {"/sys/fs/cgroup/unified", "/sys/fs/cgroup"};
    for (size_t i = 0; i < ARRAY_SIZE(candidates); i++)
        if (cgroup_has_file(candidates[i], "cgroup.subtree_control"))
            return candidates[i];
    return NULL;
}

/* In a child moved into `dir`: whether opening `path` works (0) or the errno. */
static int open_in(const char *dir, const char *path, int flags)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char self[16];
        snprintf(self, sizeof(self), "%d", (int)getpid());
        if (cgroup_write(dir, "cgroup.procs", self, NULL, NULL) < 0)
            _exit(100);
        int fd = open(path, flags | O_CLOEXEC | O_NONBLOCK);
        _exit(fd >= 0 ? 0 : errno);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_not_equal(WEXITSTATUS(status), 100);
    return WEXITSTATUS(status);
}

static uint32_t attached(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    assert_true(fd >= 0);
    uint32_t ids[8];
    union bpf_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.query.target_fd = (uint32_t)fd;
    attr.query.attach_type = BPF_CGROUP_DEVICE;
    attr.query.prog_ids = (uint64_t)(uintptr_t)ids;
    attr.query.prog_cnt = 8;
    assert_int_equal(syscall(SYS_bpf, BPF_PROG_QUERY, &attr, sizeof(attr)), 0);
    close(fd);
    return attr.query.prog_cnt;
}

static void real_filter(void **state)
{
    const char *root = v2_root();
    struct stat st;
    if (!can_bpf() || root == NULL || stat("/dev/kmsg", &st) < 0) {
        fprintf(stderr, "SKIP real eBPF device filter: needs root, a cgroup2 tree, /dev/kmsg\n");
        skip();
    }
    char dir[128];
    snprintf(dir, sizeof(dir), "%s/ctr-unittest-%d-bpf", root, (int)getpid());
    assert_int_equal(mkdir(dir, 0755), 0);
    assert_int_equal(open_in(dir, "/dev/kmsg", O_RDONLY), 0); /* no filter yet */

    struct spec_device_rule deny_all[] = {RULE(false, 'a', ANY, ANY, "rwm")};
    struct spec_resources res = {.devices = deny_all, .devices_count = 1};
    ctr_error *err = NULL;
    if (cgroup_bpf_apply_devices(dir, &res, &err) < 0)
        fail_msg("%s", ctr_error_message(err));
    assert_int_equal(attached(dir), 1);
    assert_int_equal(open_in(dir, "/dev/kmsg", O_RDONLY), EPERM);
    assert_int_equal(open_in(dir, "/dev/null", O_RDWR), 0); /* a default device */

    /* Replaced: the new list alone is attached, and it decides. */
    struct spec_device_rule kmsg_read[] = {RULE(false, 'a', ANY, ANY, "rwm"),
                                           RULE(true, 'c', 1, 11, "r")};
    res = (struct spec_resources){.devices = kmsg_read, .devices_count = 2};
    if (cgroup_bpf_apply_devices(dir, &res, &err) < 0)
        fail_msg("%s", ctr_error_message(err));
    assert_int_equal(attached(dir), 1);
    assert_int_equal(open_in(dir, "/dev/kmsg", O_RDONLY), 0);
    assert_int_equal(open_in(dir, "/dev/kmsg", O_WRONLY), EPERM);
    assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults_only), cmocka_unit_test(last_match_wins),
        cmocka_unit_test(wildcards),     cmocka_unit_test(large_numbers),
        cmocka_unit_test(random_rules),  cmocka_unit_test(errors),
        cmocka_unit_test(real_filter),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
