/* Process set-up: seccomp filters, capabilities and process attributes (security.h).
 * Whatever changes the process runs in a forked child, which reports through its exit status and
 * a message on a pipe; the parent asserts. Tests that need root or a capability this machine lacks
 * skip with the reason. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cap-ng.h>
#include <linux/capability.h>
#include <linux/ioprio.h>
#include <linux/mempolicy.h>
#include <seccomp.h>

#include <cmocka.h>

#include "procfs.h"
#include "security.h"

enum { MSG_SIZE = 2048 };

#define STRINGS(...)                                                                               \
    ((struct string_list){(char *[]){__VA_ARGS__, NULL}, ARRAY_SIZE(((char *[]){__VA_ARGS__}))})
#define BIT(cap) (UINT64_C(1) << (cap))

/* ---- running things in a child ------------------------------------------------------------ */

struct child {
    int status;
    char msg[MSG_SIZE];
};

/* Returns the child's exit status; may leave an error or values for the parent in `msg`. */
typedef int (*child_fn)(const void *arg, char *msg);

static struct child run_in_child(child_fn fn, const void *arg)
{
    struct child result = {0};
    int fds[2];
    assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        char msg[MSG_SIZE] = "";
        int rc = fn(arg, msg);
        (void)write_all(fds[1], msg, strlen(msg));
        _exit(rc);
    }
    close(fds[1]);
    size_t used = 0;
    ssize_t n;
    while ((n = read(fds[0], result.msg + used, sizeof(result.msg) - 1 - used)) > 0)
        used += (size_t)n;
    close(fds[0]);
    assert_int_equal(waitpid(pid, &result.status, 0), pid);
    return result;
}

static void assert_child_ok(const struct child *c)
{
    if (!WIFEXITED(c->status) || WEXITSTATUS(c->status) != 0)
        fail_msg("child failed (status 0x%x): %s", c->status, c->msg);
}

/* The child failed with exactly this message. */
static void assert_child_error(const struct child *c, const char *expected)
{
    if (!WIFEXITED(c->status) || WEXITSTATUS(c->status) != 1)
        fail_msg("child did not fail as expected (status 0x%x): %s", c->status, c->msg);
    assert_string_equal(c->msg, expected);
}

/* In a child: report an error from the code under test. */
static int report(ctr_error *err, char *msg)
{
    snprintf(msg, MSG_SIZE, "%s", ctr_error_message(err));
    ctr_error_free(err);
    return 1;
}

static int complain(char *msg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int complain(char *msg, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, MSG_SIZE, fmt, ap);
    va_end(ap);
    return 2;
}

/* Checks and frees *err, leaving it ready for the next call. */
static void assert_error(ctr_error **err, const char *expected)
{
    assert_non_null(*err);
    assert_string_equal(ctr_error_message(*err), expected);
    ctr_error_free(*err);
    *err = NULL;
}

/* The capability sets of this process from /proc/self/status. */
struct status_caps {
    uint64_t inh, prm, eff, bnd, amb;
};

static int read_status_caps(struct status_caps *caps)
{
    FILE *f = fopen("/proc/self/status", "re");
    if (f == NULL)
        return -1;
    static const char *const keys[] = {"CapInh:", "CapPrm:", "CapEff:", "CapBnd:", "CapAmb:"};
    uint64_t *fields[] = {&caps->inh, &caps->prm, &caps->eff, &caps->bnd, &caps->amb};
    char line[256];
    int found = 0;
    while (fgets(line, sizeof(line), f)) {
        for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
            if (strncmp(line, keys[i], 7) == 0) {
                *fields[i] = strtoull(line + 7, NULL, 16);
                found++;
            }
        }
    }
    fclose(f);
    return found == 5 ? 0 : -1;
}

static bool have_effective(unsigned cap)
{
    struct status_caps caps;
    return read_status_caps(&caps) == 0 && (caps.eff & BIT(cap));
}

/* valgrind 3.19 emulates neither seccomp(2) (libseccomp then finds no kernel support for
 * KILL_PROCESS, NOTIFY or the filter flags) nor changes of RLIMIT_NOFILE. Under it, tests that
 * need them run again in a native copy of this program (valgrind --trace-children=no leaves
 * exec'd children alone) and pass if that copy passes. */
static char self_path[PATH_MAX];
static bool native_copy; /* this process is that copy */

static bool under_valgrind(void)
{
    const char *preload = getenv("LD_PRELOAD");
    return !native_copy && preload && strstr(preload, "vgpreload");
}

static bool ran_natively(const char *test)
{
    if (!under_valgrind())
        return false;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        execl(self_path, self_path, "--native-copy", test, (char *)NULL);
        _exit(127);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("%s failed when run natively (status 0x%x)", test, status);
    return true;
}

/* ---- seccomp ------------------------------------------------------------------------------ */

struct seccomp_case {
    const struct spec_seccomp *filter;
    bool no_listener_wanted; /* pass NULL for the listener fd, as an init without an agent does */
    int (*check)(int listener, char *msg);
};

static int expect_errno(long rc, int want, const char *what, char *msg)
{
    if (rc == -1 && errno == want)
        return 0;
    return complain(msg, "%s: returned %ld (errno %d), expected errno %d", what, rc, errno, want);
}

static int expect_success(long rc, const char *what, char *msg)
{
    if (rc >= 0)
        return 0;
    return complain(msg, "%s: failed with errno %d", what, errno);
}

static int child_load_seccomp(const void *arg, char *msg)
{
    const struct seccomp_case *c = arg;
    /* A process killed by seccomp must not leave a core file behind. */
    struct rlimit no_core = {0, 0};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0 ||
        setrlimit(RLIMIT_CORE, &no_core) < 0)
        return complain(msg, "prepare: errno %d", errno);
    ctr_error *err = NULL;
    int listener = -2;
    if (seccomp_apply_spec(c->filter, c->no_listener_wanted ? NULL : &listener, &err) < 0)
        return report(err, msg);
    return c->check(listener, msg);
}

static void run_seccomp(const struct spec_seccomp *filter, int (*check)(int, char *))
{
    struct seccomp_case c = {filter, false, check};
    struct child result = run_in_child(child_load_seccomp, &c);
    assert_child_ok(&result);
}

/* The filter in libseccomp's text form, built without loading it. */
static char *export_pfc(const struct spec_seccomp *filter, ctr_error **err)
{
    int fd = memfd_create("pfc", MFD_CLOEXEC);
    assert_true(fd >= 0);
    char *text = NULL;
    if (seccomp_export_spec(filter, fd, err) == 0) {
        off_t size = lseek(fd, 0, SEEK_END);
        text = calloc(1, (size_t)size + 1);
        assert_int_equal(pread(fd, text, (size_t)size, 0), size);
    }
    close(fd);
    return text;
}

static int check_errno_rules(int listener, char *msg)
{
    char buf[PATH_MAX];
    if (listener != -1)
        return complain(msg, "listener %d without SCMP_ACT_NOTIFY", listener);
    return expect_errno(syscall(SYS_getcwd, buf, sizeof(buf)), 42, "getcwd", msg) ||
           expect_errno(syscall(SYS_mkdir, "/nonexistent/ctr", 0700), EPERM, "mkdir", msg) ||
           expect_errno(syscall(SYS_mkdirat, AT_FDCWD, "/nonexistent/ctr", 0700), EPERM, "mkdirat",
                        msg) ||
           expect_success(syscall(SYS_getpid), "getpid", msg) ||
           expect_errno(syscall(SYS_rmdir, "/nonexistent/ctr"), ENOENT, "rmdir", msg);
}

static void seccomp_errno_rules_return_their_errno(void **state)
{
    struct spec_seccomp_rule rules[] = {
        {.names = STRINGS("getcwd"), .action = SCMP_ACT_ERRNO(42)},
        {.names = STRINGS("mkdir", "mkdirat"), .action = SCMP_ACT_ERRNO(EPERM)},
    };
    uint32_t arches[] = {SCMP_ARCH_X86_64, SCMP_ARCH_X86, SCMP_ARCH_X32};
    struct spec_seccomp filter = {.default_action = SCMP_ACT_ALLOW,
                                  .architectures = arches,
                                  .architectures_count =
                                      seccomp_arch_native() == SCMP_ARCH_X86_64 ? 3 : 0,
                                  .syscalls = rules,
                                  .syscalls_count = ARRAY_SIZE(rules)};
    run_seccomp(&filter, check_errno_rules);
}

static int check_personality_arg(int listener, char *msg)
{
    return expect_errno(syscall(SYS_personality, 0xffffffffUL), EPERM, "personality(0xffffffff)",
                        msg) ||
           expect_success(syscall(SYS_personality, PER_LINUX), "personality(PER_LINUX)", msg);
}

static void seccomp_argument_condition_selects_calls(void **state)
{
    struct spec_seccomp_arg args[] = {{.index = 0, .value = 0xffffffff, .op = SCMP_CMP_EQ}};
    struct spec_seccomp_rule rules[] = {{.names = STRINGS("personality"),
                                         .action = SCMP_ACT_ERRNO(EPERM),
                                         .args = args,
                                         .args_count = 1}};
    struct spec_seccomp filter = {
        .default_action = SCMP_ACT_ALLOW, .syscalls = rules, .syscalls_count = 1};
    run_seccomp(&filter, check_personality_arg);
}

static int check_same_index_or(int listener, char *msg)
{
    return expect_errno(syscall(SYS_personality, 0x0008UL), EPERM, "personality(8)", msg) ||
           expect_errno(syscall(SYS_personality, 0x20000UL), EPERM, "personality(0x20000)", msg) ||
           expect_success(syscall(SYS_personality, PER_LINUX), "personality(PER_LINUX)", msg);
}

static void seccomp_conditions_on_one_argument_are_alternatives(void **state)
{
    struct spec_seccomp_arg args[] = {{.index = 0, .value = 0x0008, .op = SCMP_CMP_EQ},
                                      {.index = 0, .value = 0x20000, .op = SCMP_CMP_EQ}};
    struct spec_seccomp_rule rules[] = {{.names = STRINGS("personality"),
                                         .action = SCMP_ACT_ERRNO(EPERM),
                                         .args = args,
                                         .args_count = 2}};
    struct spec_seccomp filter = {
        .default_action = SCMP_ACT_ALLOW, .syscalls = rules, .syscalls_count = 1};
    run_seccomp(&filter, check_same_index_or);
}

static int check_or_and(int listener, char *msg)
{
    return expect_errno(syscall(SYS_getpriority, PRIO_PROCESS, 0), 42, "getpriority(PROCESS, 0)",
                        msg) ||
           expect_errno(syscall(SYS_getpriority, PRIO_PGRP, 0), 42, "getpriority(PGRP, 0)", msg) ||
           expect_success(syscall(SYS_getpriority, PRIO_PROCESS, getpid()),
                          "getpriority(PROCESS, pid)", msg) ||
           expect_success(syscall(SYS_getpriority, PRIO_USER, 0), "getpriority(USER, 0)", msg);
}

/* (arg0 == PROCESS || arg0 == PGRP) && arg1 == 0 */
static void seccomp_conditions_on_different_arguments_all_hold(void **state)
{
    struct spec_seccomp_arg args[] = {{.index = 0, .value = PRIO_PROCESS, .op = SCMP_CMP_EQ},
                                      {.index = 1, .value = 0, .op = SCMP_CMP_EQ},
                                      {.index = 0, .value = PRIO_PGRP, .op = SCMP_CMP_EQ}};
    struct spec_seccomp_rule rules[] = {{.names = STRINGS("getpriority"),
                                         .action = SCMP_ACT_ERRNO(42),
                                         .args = args,
                                         .args_count = 3}};
    struct spec_seccomp filter = {
        .default_action = SCMP_ACT_ALLOW, .syscalls = rules, .syscalls_count = 1};
    run_seccomp(&filter, check_or_and);
}

static int check_masked_eq(int listener, char *msg)
{
    return expect_errno(syscall(SYS_umask, 0777), 42, "umask(0777)", msg) ||
           expect_errno(syscall(SYS_umask, 0700), 42, "umask(0700)", msg) ||
           expect_success(syscall(SYS_umask, 0600), "umask(0600)", msg) ||
           expect_success(syscall(SYS_umask, 022), "umask(022)", msg);
}

/* value is the mask and valueTwo the value: (mode & 0700) == 0700 */
static void seccomp_masked_eq_uses_value_as_mask(void **state)
{
    struct spec_seccomp_arg args[] = {
        {.index = 0, .value = 0700, .value_two = 0700, .op = SCMP_CMP_MASKED_EQ}};
    struct spec_seccomp_rule rules[] = {
        {.names = STRINGS("umask"), .action = SCMP_ACT_ERRNO(42), .args = args, .args_count = 1}};
    struct spec_seccomp filter = {
        .default_action = SCMP_ACT_ALLOW, .syscalls = rules, .syscalls_count = 1};
    run_seccomp(&filter, check_masked_eq);
}

static int check_getcwd_42(int listener, char *msg)
{
    char buf[PATH_MAX];
    return expect_errno(syscall(SYS_getcwd, buf, sizeof(buf)), 42, "getcwd", msg);
}

static void seccomp_unknown_syscall_names_are_skipped(void **state)
{
    struct spec_seccomp_rule rules[] = {
        {.names = STRINGS("ctr_no_such_syscall", "getcwd"), .action = SCMP_ACT_ERRNO(42)},
        {.names = STRINGS("ctr_another_unknown"), .action = SCMP_ACT_KILL_PROCESS},
    };
    struct spec_seccomp filter = {
        .default_action = SCMP_ACT_ALLOW, .syscalls = rules, .syscalls_count = 2};
    run_seccomp(&filter, check_getcwd_42);

    ctr_error *err = NULL;
    char *pfc = export_pfc(&filter, &err);
    assert_non_null(pfc);
    assert_non_null(strstr(pfc, "\"getcwd\""));
    assert_null(strstr(pfc, "KILL_PROCESS"));
    free(pfc);
}

static void seccomp_rules_repeating_the_default_action_are_skipped(void **state)
{
    struct spec_seccomp_rule rules[] = {
        {.names = STRINGS("getcwd"), .action = SCMP_ACT_ALLOW},
        {.names = STRINGS("mkdir"), .action = SCMP_ACT_ERRNO(EPERM)},
    };
    struct spec_seccomp filter = {
        .default_action = SCMP_ACT_ALLOW, .syscalls = rules, .syscalls_count = 2};
    ctr_error *err = NULL;
    char *pfc = export_pfc(&filter, &err);
    assert_non_null(pfc);
    assert_null(strstr(pfc, "\"getcwd\""));
    assert_non_null(strstr(pfc, "\"mkdir\""));
    free(pfc);
}

static int check_killed(int listener, char *msg)
{
    char buf[PATH_MAX];
    syscall(SYS_getcwd, buf, sizeof(buf));
    return complain(msg, "getcwd returned instead of killing the process");
}

static void seccomp_kill_process_kills_with_sigsys(void **state)
{
    if (ran_natively(__func__))
        return;
    struct spec_seccomp_rule rules[] = {
        {.names = STRINGS("getcwd"), .action = SCMP_ACT_KILL_PROCESS}};
    struct spec_seccomp filter = {
        .default_action = SCMP_ACT_ALLOW, .syscalls = rules, .syscalls_count = 1};
    struct seccomp_case c = {&filter, false, check_killed};
    struct child result = run_in_child(child_load_seccomp, &c);
    if (!WIFSIGNALED(result.status))
        fail_msg("child was not killed (status 0x%x): %s", result.status, result.msg);
    assert_int_equal(WTERMSIG(result.status), SIGSYS);
}

static int check_allow_list(int listener, char *msg)
{
    char buf[PATH_MAX];
    return expect_errno(syscall(SYS_getcwd, buf, sizeof(buf)), EOPNOTSUPP, "getcwd", msg) ||
           expect_errno(syscall(SYS_mkdir, "/nonexistent/ctr", 0700), EOPNOTSUPP, "mkdir", msg) ||
           expect_success(syscall(SYS_getpid), "getpid", msg);
}

static void seccomp_default_errno_with_an_allow_list(void **state)
{
    /* What the child (and valgrind around it, when the tests run under it) needs after the load. */
    struct spec_seccomp_rule rules[] = {{
        .names =
            STRINGS("read", "write", "close", "exit", "exit_group", "getpid", "gettid", "tgkill",
                    "kill", "rt_sigprocmask", "rt_sigaction", "rt_sigreturn", "sigaltstack", "mmap",
                    "munmap", "mprotect", "mremap", "madvise", "brk", "futex", "sched_yield",
                    "nanosleep", "clock_gettime", "fstat", "newfstatat", "statx", "openat", "open",
                    "readlink", "readlinkat", "lseek", "pread64", "getrlimit", "prlimit64",
                    "getppid", "uname", "fcntl", "dup", "dup2", "pipe2"),
        .action = SCMP_ACT_ALLOW,
    }};
    struct spec_seccomp filter = {
        .default_action = SCMP_ACT_ERRNO(EOPNOTSUPP), .syscalls = rules, .syscalls_count = 1};
    run_seccomp(&filter, check_allow_list);
}

static int check_listener(int listener, char *msg)
{
    if (listener < 0)
        return complain(msg, "no listener fd (%d)", listener);
    char link[64], target[128] = "";
    snprintf(link, sizeof(link), "/proc/self/fd/%d", listener);
    if (readlink(link, target, sizeof(target) - 1) < 0 || strstr(target, "seccomp") == NULL)
        return complain(msg, "fd %d is `%s`, not a seccomp listener", listener, target);
    if (!(fcntl(listener, F_GETFD) & FD_CLOEXEC))
        return complain(msg, "listener fd %d is not close-on-exec", listener);
    /* Without a listener, notified calls fail with ENOSYS: the rule is in the filter. */
    close(listener);
    char buf[PATH_MAX];
    return expect_errno(syscall(SYS_getcwd, buf, sizeof(buf)), ENOSYS, "getcwd", msg);
}

static void seccomp_notify_returns_a_listener_fd(void **state)
{
    if (ran_natively(__func__))
        return;
    struct spec_seccomp_rule rules[] = {{.names = STRINGS("getcwd"), .action = SCMP_ACT_NOTIFY}};
    struct spec_seccomp filter = {.default_action = SCMP_ACT_ALLOW,
                                  .syscalls = rules,
                                  .syscalls_count = 1,
                                  .uses_notify = true};
    run_seccomp(&filter, check_listener);
}

static int check_notify_without_listener(int listener, char *msg)
{
    char buf[PATH_MAX];
    return expect_errno(syscall(SYS_getcwd, buf, sizeof(buf)), ENOSYS, "getcwd", msg);
}

static void seccomp_notify_listener_is_closed_when_not_wanted(void **state)
{
    if (ran_natively(__func__))
        return;
    struct spec_seccomp_rule rules[] = {{.names = STRINGS("getcwd"), .action = SCMP_ACT_NOTIFY}};
    struct spec_seccomp filter = {.default_action = SCMP_ACT_ALLOW,
                                  .syscalls = rules,
                                  .syscalls_count = 1,
                                  .uses_notify = true};
    struct seccomp_case c = {&filter, true, check_notify_without_listener};
    struct child result = run_in_child(child_load_seccomp, &c);
    assert_child_ok(&result);
}

static int check_flags(int listener, char *msg)
{
    char buf[PATH_MAX];
    if (listener < 0)
        return complain(msg, "no listener fd with TSYNC (%d)", listener);
    close(listener);
    return expect_errno(syscall(SYS_getcwd, buf, sizeof(buf)), 42, "getcwd", msg);
}

static void seccomp_tsync_log_and_spec_allow_flags_are_accepted(void **state)
{
    if (ran_natively(__func__))
        return;
    struct spec_seccomp_rule rules[] = {
        {.names = STRINGS("getcwd"), .action = SCMP_ACT_ERRNO(42)},
        {.names = STRINGS("mkdir"), .action = SCMP_ACT_NOTIFY},
    };
    struct spec_seccomp filter = {.default_action = SCMP_ACT_ALLOW,
                                  .flag_log = true,
                                  .flag_spec_allow = true,
                                  .flag_tsync = true,
                                  .syscalls = rules,
                                  .syscalls_count = 2,
                                  .uses_notify = true};
    run_seccomp(&filter, check_flags);
}

static void seccomp_wait_killable_recv_needs_libseccomp_2_6(void **state)
{
#if SCMP_VER_MAJOR > 2 || (SCMP_VER_MAJOR == 2 && SCMP_VER_MINOR >= 6)
    skip();
#else
    struct spec_seccomp filter = {.default_action = SCMP_ACT_ALLOW,
                                  .flag_wait_killable_recv = true};
    ctr_error *err = NULL;
    assert_null(export_pfc(&filter, &err));
    char expected[256];
    snprintf(expected, sizeof(expected),
             "linux.seccomp.flags: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV is not supported by "
             "libseccomp %d.%d.%d (it needs 2.6 or newer): Operation not supported",
             SCMP_VER_MAJOR, SCMP_VER_MINOR, SCMP_VER_MICRO);
    assert_error(&err, expected);
#endif
}

static void seccomp_errors_name_the_rule(void **state)
{
    ctr_error *err = NULL;
    struct spec_seccomp_arg bad_op[] = {{.index = 0, .value = 1, .op = 99}};
    struct spec_seccomp_arg bad_index[] = {{.index = 0, .value = 1, .op = SCMP_CMP_EQ},
                                           {.index = 6, .value = 1, .op = SCMP_CMP_EQ}};
    struct spec_seccomp_rule rules[] = {
        {.names = STRINGS("getcwd"), .action = SCMP_ACT_ERRNO(42)},
        {.names = STRINGS("ctr_unknown", "personality"),
         .action = SCMP_ACT_ERRNO(1),
         .args = bad_op,
         .args_count = 1},
    };
    struct spec_seccomp filter = {
        .default_action = SCMP_ACT_ALLOW, .syscalls = rules, .syscalls_count = 2};
    assert_null(export_pfc(&filter, &err));
    assert_error(&err, "linux.seccomp.syscalls[1] (\"personality\"): add rule: Invalid argument");

    rules[1].args = bad_index;
    rules[1].args_count = 2;
    assert_null(export_pfc(&filter, &err));
    assert_error(&err,
                 "linux.seccomp.syscalls[1].args[1].index: 6 is not an argument number (0-5): "
                 "Invalid argument");

    uint32_t arches[] = {0x1234};
    struct spec_seccomp bad_arch = {
        .default_action = SCMP_ACT_ALLOW, .architectures = arches, .architectures_count = 1};
    assert_null(export_pfc(&bad_arch, &err));
    assert_error(&err, "linux.seccomp.architectures[0]: add architecture 0x1234: Invalid argument");

    struct spec_seccomp bad_default = {.default_action = 0x12345678};
    assert_null(export_pfc(&bad_default, &err));
    assert_error(&err, "linux.seccomp.defaultAction: create the filter with action 0x12345678: "
                       "Invalid argument");
}

/* ---- capabilities ------------------------------------------------------------------------- */

static void cap_name(unsigned cap, char buf[48])
{
    snprintf(buf, 48, "CAP_%s", capng_capability_to_name(cap));
    for (char *p = buf; *p; p++)
        *p = (char)toupper((unsigned char)*p);
}

static void caps_within_the_bounding_set_are_grantable(void **state)
{
    struct status_caps now;
    assert_int_equal(read_status_caps(&now), 0);
    struct spec_capabilities caps = {.bounding = now.bnd,
                                     .effective = now.bnd,
                                     .permitted = now.bnd,
                                     .inheritable = now.bnd & BIT(CAP_CHOWN),
                                     .ambient = now.bnd & BIT(CAP_CHOWN),
                                     .has_bounding = true,
                                     .has_effective = true,
                                     .has_permitted = true,
                                     .has_inheritable = true,
                                     .has_ambient = true};
    ctr_error *err = NULL;
    assert_int_equal(caps_check_grantable(&caps, &err), 0);
    assert_null(err);
}

static void caps_outside_the_bounding_set_are_refused_by_name(void **state)
{
    struct status_caps now;
    assert_int_equal(read_status_caps(&now), 0);
    int missing = -1;
    for (unsigned cap = 0; cap <= CAP_LAST_CAP && missing < 0; cap++)
        if (!(now.bnd & BIT(cap)) && capng_capability_to_name(cap))
            missing = (int)cap;
    if (missing < 0) {
        print_message("SKIP: every capability is in this process's bounding set\n");
        skip();
    }
    char name[48], expected[256];
    cap_name((unsigned)missing, name);

    /* With a capability that is in the bounding set too, when there is one. */
    uint64_t present = now.bnd & -now.bnd;
    struct spec_capabilities caps = {.bounding = present,
                                     .has_bounding = true,
                                     .permitted = present | BIT(missing),
                                     .has_permitted = true};
    ctr_error *err = NULL;
    assert_int_equal(caps_check_grantable(&caps, &err), -1);
    snprintf(
        expected, sizeof(expected),
        "process.capabilities.permitted: %s is not in the runtime's bounding set, so it cannot "
        "be granted",
        name);
    assert_error(&err, expected);

    caps.bounding |= BIT(missing);
    caps.effective = BIT(missing);
    caps.has_effective = true;
    assert_int_equal(caps_check_grantable(&caps, &err), -1);
    snprintf(expected, sizeof(expected),
             "process.capabilities.bounding: %s is not in the runtime's bounding set, so it cannot "
             "be granted",
             name);
    assert_error(&err, expected);

    /* A capability this kernel does not know cannot be granted either. */
    struct spec_capabilities unknown = {.ambient = BIT(63), .has_ambient = true};
    assert_int_equal(caps_check_grantable(&unknown, &err), -1);
    assert_error(&err,
                 "process.capabilities.ambient: capability 63 is not in the runtime's bounding "
                 "set, so it cannot be granted");
}

struct caps_case {
    struct spec_capabilities caps;
    bool switch_user;         /* to 1000:1000 between keep and apply, as the init does */
    uint64_t pre_inheritable; /* raised before, to show it does not survive */
};

static int child_apply_caps(const void *arg, char *msg)
{
    const struct caps_case *c = arg;
    ctr_error *err = NULL;
    for (unsigned cap = 0; cap < 64; cap++) {
        if (!(c->pre_inheritable & BIT(cap)))
            continue;
        if (capng_get_caps_process() != 0 || capng_update(CAPNG_ADD, CAPNG_INHERITABLE, cap) != 0 ||
            capng_apply(CAPNG_SELECT_CAPS) != 0)
            return complain(msg, "raise inheritable %u: errno %d", cap, errno);
    }
    if (c->switch_user) {
        gid_t gids[] = {1000};
        struct spec_user user = {
            .uid = 1000, .gid = 1000, .additional_gids = gids, .additional_gids_count = 1};
        if (caps_keep_across_setuid(&err) < 0 || process_set_user(&user, true, &err) < 0)
            return report(err, msg);
    }
    if (caps_apply(&c->caps, &err) < 0)
        return report(err, msg);
    struct status_caps now;
    if (read_status_caps(&now) < 0)
        return complain(msg, "read /proc/self/status");
    snprintf(msg, MSG_SIZE,
             "inh %016llx prm %016llx eff %016llx bnd %016llx amb %016llx uid %u keep %d",
             (unsigned long long)now.inh, (unsigned long long)now.prm, (unsigned long long)now.eff,
             (unsigned long long)now.bnd, (unsigned long long)now.amb, (unsigned)geteuid(),
             prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0));
    return 0;
}

static void skip_unless_root_with_caps(void)
{
    if (geteuid() != 0 || !have_effective(CAP_SETPCAP) || !have_effective(CAP_SETUID) ||
        !have_effective(CAP_SETGID)) {
        print_message("SKIP: needs root with CAP_SETPCAP, CAP_SETUID and CAP_SETGID\n");
        skip();
    }
}

static void expect_caps(const struct caps_case *c, unsigned uid)
{
    struct child result = run_in_child(child_apply_caps, c);
    assert_child_ok(&result);
    char expected[MSG_SIZE];
    const struct spec_capabilities *k = &c->caps;
    snprintf(expected, sizeof(expected),
             "inh %016llx prm %016llx eff %016llx bnd %016llx amb %016llx uid %u keep 0",
             (unsigned long long)k->inheritable, (unsigned long long)k->permitted,
             (unsigned long long)k->effective, (unsigned long long)k->bounding,
             (unsigned long long)k->ambient, uid);
    assert_string_equal(result.msg, expected);
}

static const struct spec_capabilities small_set = {
    .bounding = BIT(CAP_CHOWN) | BIT(CAP_KILL) | BIT(CAP_NET_BIND_SERVICE),
    .effective = BIT(CAP_CHOWN) | BIT(CAP_KILL),
    .permitted = BIT(CAP_CHOWN) | BIT(CAP_KILL) | BIT(CAP_NET_BIND_SERVICE),
    .inheritable = BIT(CAP_NET_BIND_SERVICE),
    .ambient = BIT(CAP_NET_BIND_SERVICE),
    .has_bounding = true,
    .has_effective = true,
    .has_permitted = true,
    .has_inheritable = true,
    .has_ambient = true};

static void caps_apply_leaves_exactly_the_configured_sets(void **state)
{
    skip_unless_root_with_caps();
    struct caps_case c = {.caps = small_set, .pre_inheritable = BIT(CAP_SYS_ADMIN)};
    expect_caps(&c, 0);
}

static void caps_apply_after_switching_to_a_user(void **state)
{
    skip_unless_root_with_caps();
    struct caps_case c = {.caps = small_set, .switch_user = true};
    expect_caps(&c, 1000);
}

/* CVE-2022-29162: inheritable capabilities the config did not list must not survive. */
static void caps_apply_absent_sets_are_empty(void **state)
{
    skip_unless_root_with_caps();
    struct caps_case c = {.caps = {.bounding = BIT(CAP_KILL),
                                   .permitted = BIT(CAP_KILL),
                                   .has_bounding = true,
                                   .has_permitted = true},
                          .pre_inheritable = BIT(CAP_SYS_ADMIN) | BIT(CAP_KILL)};
    expect_caps(&c, 0);
}

static void caps_apply_refuses_what_the_kernel_would(void **state)
{
    skip_unless_root_with_caps();
    struct caps_case ambient = {.caps = small_set};
    ambient.caps.ambient = BIT(CAP_KILL); /* permitted but not inheritable */
    struct child result = run_in_child(child_apply_caps, &ambient);
    assert_child_error(&result, "process.capabilities.ambient: CAP_KILL must also be in the "
                                "permitted and the inheritable sets for the kernel to make it "
                                "ambient: Invalid argument");

    struct caps_case effective = {.caps = small_set};
    effective.caps.effective = BIT(CAP_NET_RAW);
    result = run_in_child(child_apply_caps, &effective);
    assert_child_error(&result,
                       "process.capabilities.effective: CAP_NET_RAW is not in the permitted "
                       "set, and the kernel only lets a process use the capabilities it "
                       "holds in permitted: Invalid argument");

    struct caps_case inheritable = {.caps = small_set};
    inheritable.caps.inheritable = BIT(CAP_NET_BIND_SERVICE) | BIT(CAP_SYS_ADMIN);
    result = run_in_child(child_apply_caps, &inheritable);
    assert_child_error(&result, "process.capabilities.inheritable: CAP_SYS_ADMIN is not in the "
                                "bounding set, and the kernel only adds inheritable capabilities "
                                "that are in it: Invalid argument");
}

/* ---- the executable ----------------------------------------------------------------------- */

static char tmp[64];

static void make_file(const char *rel, mode_t mode)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", tmp, rel);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "#!/bin/sh\n", 10), 10);
    close(fd);
    assert_int_equal(chmod(path, mode), 0);
}

static int make_tree(void **state)
{
    snprintf(tmp, sizeof(tmp), "/tmp/ctr-test-security-XXXXXX");
    if (mkdtemp(tmp) == NULL)
        return -1;
    char path[256];
    for (const char *const *d = (const char *const[]){"bin1", "bin2", "bin1/adir", NULL}; *d; d++) {
        snprintf(path, sizeof(path), "%s/%s", tmp, *d);
        if (mkdir(path, 0755) < 0)
            return -1;
    }
    make_file("bin2/prog", 0755);
    make_file("bin1/prog2", 0644);
    make_file("bin2/prog2", 0755);
    make_file("bin1/noexec", 0644);
    return 0;
}

static int remove_tree(void **state)
{
    char path[256];
    for (const char *const *f =
             (const char *const[]){"bin2/prog", "bin1/prog2", "bin2/prog2", "bin1/noexec", NULL};
         *f; f++) {
        snprintf(path, sizeof(path), "%s/%s", tmp, *f);
        unlink(path);
    }
    for (const char *const *d = (const char *const[]){"bin1/adir", "bin1", "bin2", NULL}; *d; d++) {
        snprintf(path, sizeof(path), "%s/%s", tmp, *d);
        rmdir(path);
    }
    return rmdir(tmp);
}

/* Looks args[0] up with the given PATH= entry (NULL: no PATH in env). */
static int find(const char *name, const char *path_env, char **found, ctr_error **err)
{
    char env0[512];
    snprintf(env0, sizeof(env0), "PATH=%s", path_env ? path_env : "");
    struct spec_process process = {.args = STRINGS((char *)name), .env = STRINGS("HOME=/", env0)};
    if (path_env == NULL)
        process.env.count = 1;
    return process_find_executable(&process, found, err);
}

static void executable_is_found_on_the_container_path(void **state)
{
    char path_env[256], expected[256];
    snprintf(path_env, sizeof(path_env), "%s/bin1:%s/bin2", tmp, tmp);
    char *found = NULL;
    ctr_error *err = NULL;
    assert_int_equal(find("prog", path_env, &found, &err), 0);
    snprintf(expected, sizeof(expected), "%s/bin2/prog", tmp);
    assert_string_equal(found, expected);
    free(found);

    /* Not executable in bin1: execvp goes on to bin2. */
    assert_int_equal(find("prog2", path_env, &found, &err), 0);
    snprintf(expected, sizeof(expected), "%s/bin2/prog2", tmp);
    assert_string_equal(found, expected);
    free(found);

    /* The last PATH= wins. */
    char last[256];
    snprintf(last, sizeof(last), "PATH=%s/bin2", tmp);
    struct spec_process process = {.args = STRINGS("prog"),
                                   .env = STRINGS("PATH=/nonexistent", last)};
    assert_int_equal(process_find_executable(&process, &found, &err), 0);
    snprintf(expected, sizeof(expected), "%s/bin2/prog", tmp);
    assert_string_equal(found, expected);
    free(found);
}

static void executable_default_path_is_used_without_path_in_env(void **state)
{
    char *found = NULL;
    ctr_error *err = NULL;
    assert_int_equal(find("sh", NULL, &found, &err), 0);
    /* The first directory of the default PATH that has it. */
    const char *dirs[] = {"/usr/local/sbin", "/usr/local/bin", "/usr/sbin",
                          "/usr/bin",        "/sbin",          "/bin"};
    char expected[64] = "";
    for (size_t i = 0; i < ARRAY_SIZE(dirs) && !expected[0]; i++) {
        snprintf(expected, sizeof(expected), "%s/sh", dirs[i]);
        if (access(expected, X_OK) != 0)
            expected[0] = '\0';
    }
    assert_string_equal(found, expected);
    free(found);

    assert_int_equal(find("prog", NULL, &found, &err), -1);
    assert_error(&err, "exec: \"prog\": executable file not found in $PATH");
}

static void executable_paths_with_a_slash_are_used_as_they_are(void **state)
{
    char path[256], expected[512];
    char *found = NULL;
    ctr_error *err = NULL;
    snprintf(path, sizeof(path), "%s/bin2/prog", tmp);
    assert_int_equal(find(path, "/nonexistent", &found, &err), 0);
    assert_string_equal(found, path);
    free(found);

    snprintf(path, sizeof(path), "%s/bin2/missing", tmp);
    assert_int_equal(find(path, NULL, &found, &err), -1);
    assert_int_equal(ctr_error_code(err), ENOENT);
    snprintf(expected, sizeof(expected), "exec: \"%s\": No such file or directory", path);
    assert_error(&err, expected);

    snprintf(path, sizeof(path), "%s/bin1/noexec", tmp);
    assert_int_equal(find(path, NULL, &found, &err), -1);
    snprintf(expected, sizeof(expected), "exec: \"%s\": is not executable: Permission denied",
             path);
    assert_error(&err, expected);

    snprintf(path, sizeof(path), "%s/bin1", tmp);
    assert_int_equal(find(path, NULL, &found, &err), -1);
    snprintf(expected, sizeof(expected),
             "exec: \"%s\": is a directory, not an executable file: Permission denied", path);
    assert_error(&err, expected);
}

static void executable_errors_say_what_was_found(void **state)
{
    char path_env[256], expected[512];
    snprintf(path_env, sizeof(path_env), "%s/bin1:%s/bin2", tmp, tmp);
    char *found = NULL;
    ctr_error *err = NULL;

    assert_int_equal(find("missing", path_env, &found, &err), -1);
    assert_int_equal(ctr_error_code(err), ENOENT);
    assert_error(&err, "exec: \"missing\": executable file not found in $PATH");

    assert_int_equal(find("noexec", path_env, &found, &err), -1);
    assert_int_equal(ctr_error_code(err), EACCES);
    snprintf(expected, sizeof(expected),
             "exec: \"noexec\": `%s/bin1/noexec` is not executable: Permission denied", tmp);
    assert_error(&err, expected);

    assert_int_equal(find("adir", path_env, &found, &err), -1);
    snprintf(expected, sizeof(expected),
             "exec: \"adir\": `%s/bin1/adir` is a directory, not an executable file: Permission "
             "denied",
             tmp);
    assert_error(&err, expected);

    struct spec_process none = {0};
    assert_int_equal(process_find_executable(&none, &found, &err), -1);
    assert_error(&err, "process.args: empty, so there is nothing to execute: Invalid argument");

    assert_int_equal(find("", NULL, &found, &err), -1);
    assert_error(&err, "process.args[0]: empty, so there is nothing to execute: Invalid argument");
}

/* ---- rlimits, oom_score_adj, scheduler, io priority, personality -------------------------- */

static int child_rlimits(const void *arg, char *msg)
{
    const struct spec_process *process = arg;
    ctr_error *err = NULL;
    if (process_set_rlimits(process, &err) < 0)
        return report(err, msg);
    struct rlimit nofile, core;
    getrlimit(RLIMIT_NOFILE, &nofile);
    getrlimit(RLIMIT_CORE, &core);
    snprintf(msg, MSG_SIZE, "nofile %llu/%llu core %llu/%llu", (unsigned long long)nofile.rlim_cur,
             (unsigned long long)nofile.rlim_max, (unsigned long long)core.rlim_cur,
             (unsigned long long)core.rlim_max);
    return 0;
}

static void rlimits_are_applied(void **state)
{
    if (ran_natively(__func__))
        return;
    struct spec_rlimit limits[] = {{RLIMIT_NOFILE, 100, 200}, {RLIMIT_CORE, 0, 0}};
    struct spec_process process = {.rlimits = limits, .rlimits_count = 2};
    struct child result = run_in_child(child_rlimits, &process);
    assert_child_ok(&result);
    assert_string_equal(result.msg, "nofile 100/200 core 0/0");

    struct spec_rlimit reversed[] = {{RLIMIT_NOFILE, 300, 200}};
    struct spec_process bad = {.rlimits = reversed, .rlimits_count = 1};
    result = run_in_child(child_rlimits, &bad);
    assert_child_error(&result, "process.rlimits[0] (RLIMIT_NOFILE 300/200): Invalid argument");
}

static void rlimits_raising_the_hard_limit_names_the_capability(void **state)
{
    if (ran_natively(__func__))
        return;
    struct rlimit now;
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &now), 0);
    if (have_effective(CAP_SYS_RESOURCE) || now.rlim_max >= 1024 * 1024) {
        print_message("SKIP: this process may raise RLIMIT_NOFILE's hard limit\n");
        skip();
    }
    struct spec_rlimit limits[] = {{RLIMIT_NOFILE, now.rlim_max + 1000, now.rlim_max + 1000}};
    struct spec_process process = {.rlimits = limits, .rlimits_count = 1};
    struct child result = run_in_child(child_rlimits, &process);
    char expected[256];
    snprintf(
        expected, sizeof(expected),
        "process.rlimits[0] (RLIMIT_NOFILE %llu/%llu): Operation not permitted: the hard limit "
        "is %llu and cannot be raised without CAP_SYS_RESOURCE",
        (unsigned long long)now.rlim_max + 1000, (unsigned long long)now.rlim_max + 1000,
        (unsigned long long)now.rlim_max);
    assert_child_error(&result, expected);
}

static int child_oom(const void *arg, char *msg)
{
    ctr_error *err = NULL;
    int procfd = procfs_open_root(&err);
    if (procfd < 0 || process_set_oom_score_adj(procfd, arg, &err) < 0)
        return report(err, msg);
    close(procfd);
    char buf[32] = "";
    int fd = open("/proc/self/oom_score_adj", O_RDONLY | O_CLOEXEC);
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    snprintf(msg, MSG_SIZE, "%.*s", n > 0 ? (int)n - 1 : 0, buf);
    return 0;
}

static void oom_score_adj_is_written(void **state)
{
    struct spec_process process = {.oom_score_adj = {true, 500}};
    struct child result = run_in_child(child_oom, &process);
    assert_child_ok(&result);
    assert_string_equal(result.msg, "500");
}

static void oom_score_adj_lowering_names_the_capability(void **state)
{
    struct spec_process process = {.oom_score_adj = {true, -1000}};
    struct child result = run_in_child(child_oom, &process);
    if (WIFEXITED(result.status) && WEXITSTATUS(result.status) == 0) {
        print_message("SKIP: this process may lower oom_score_adj to -1000\n");
        skip();
    }
    char current[32] = "";
    int fd = open("/proc/self/oom_score_adj", O_RDONLY | O_CLOEXEC);
    ssize_t n = read(fd, current, sizeof(current) - 1);
    close(fd);
    char expected[256];
    snprintf(
        expected, sizeof(expected),
        "process.oomScoreAdj: lowering oom_score_adj from %.*s to -1000 needs CAP_SYS_RESOURCE: "
        "Permission denied",
        n > 0 ? (int)n - 1 : 0, current);
    assert_child_error(&result, expected);
}

static int child_scheduler(const void *arg, char *msg)
{
    ctr_error *err = NULL;
    if (process_set_scheduler(arg, &err) < 0)
        return report(err, msg);
    errno = 0;
    int nice_value = getpriority(PRIO_PROCESS, 0);
    snprintf(msg, MSG_SIZE, "policy %d nice %d", sched_getscheduler(0), nice_value);
    return 0;
}

static void scheduler_is_set_with_sched_setattr(void **state)
{
    struct spec_process process = {.scheduler = {.set = true, .policy = SCHED_BATCH, .nice = 5}};
    struct child result = run_in_child(child_scheduler, &process);
    assert_child_ok(&result);
    char expected[64];
    snprintf(expected, sizeof(expected), "policy %d nice 5", SCHED_BATCH);
    assert_string_equal(result.msg, expected);

    struct spec_process fifo = {.scheduler = {.set = true, .policy = SCHED_FIFO, .priority = 0}};
    result = run_in_child(child_scheduler, &fifo);
    assert_child_error(&result,
                       "process.scheduler (SCHED_FIFO, nice 0, priority 0, flags 0x0, "
                       "runtime 0, deadline 0, period 0): sched_setattr: Invalid argument");
}

static int child_io_priority(const void *arg, char *msg)
{
    ctr_error *err = NULL;
    if (process_set_io_priority(arg, &err) < 0)
        return report(err, msg);
    snprintf(msg, MSG_SIZE, "%ld", syscall(SYS_ioprio_get, IOPRIO_WHO_PROCESS, 0));
    return 0;
}

static void io_priority_is_set(void **state)
{
    struct spec_process process = {.io_priority = {true, IOPRIO_CLASS_BE, 7}};
    struct child result = run_in_child(child_io_priority, &process);
    assert_child_ok(&result);
    char expected[32];
    snprintf(expected, sizeof(expected), "%lu",
             (unsigned long)IOPRIO_PRIO_VALUE(IOPRIO_CLASS_BE, 7));
    assert_string_equal(result.msg, expected);

    struct spec_process bad = {.io_priority = {true, 7, 0}};
    result = run_in_child(child_io_priority, &bad);
    assert_child_error(&result, "process.ioPriority (IOPRIO_CLASS_?, priority 0): ioprio_set: "
                                "Invalid argument");
}

static int child_personality(const void *arg, char *msg)
{
    ctr_error *err = NULL;
    if (process_set_personality(arg, &err) < 0)
        return report(err, msg);
    snprintf(msg, MSG_SIZE, "0x%x", personality(0xffffffff) & PER_MASK);
    return 0;
}

static void personality_is_set(void **state)
{
    struct spec_linux linux_ = {.personality = {true, PER_LINUX32}};
    struct child result = run_in_child(child_personality, &linux_);
    assert_child_ok(&result);
    assert_string_equal(result.msg, "0x8");
}

/* ---- lists: memory policy and cpu affinity ----------------------------------------------- */

static int child_memory_policy(const void *arg, char *msg)
{
    ctr_error *err = NULL;
    if (process_set_memory_policy(arg, &err) < 0) {
        if (ctr_error_code(err) == ENOSYS) {
            ctr_error_free(err);
            return 77;
        }
        return report(err, msg);
    }
    int mode = -1;
    unsigned long mask[16] = {0};
    if (syscall(SYS_get_mempolicy, &mode, mask, sizeof(mask) * CHAR_BIT, NULL, 0) < 0)
        return complain(msg, "get_mempolicy: errno %d", errno);
    snprintf(msg, MSG_SIZE, "mode %d mask %lx",
             mode & ~(MPOL_F_STATIC_NODES | MPOL_F_RELATIVE_NODES), mask[0]);
    return 0;
}

static void memory_policy_binds_to_the_nodes(void **state)
{
    struct spec_linux linux_ = {.memory_policy = {.set = true, .mode = MPOL_BIND, .nodes = "0"}};
    struct child result = run_in_child(child_memory_policy, &linux_);
    if (WIFEXITED(result.status) && WEXITSTATUS(result.status) == 77) {
        print_message("SKIP: the kernel has no NUMA memory policies\n");
        skip();
    }
    assert_child_ok(&result);
    char expected[64];
    snprintf(expected, sizeof(expected), "mode %d mask 1", MPOL_BIND);
    assert_string_equal(result.msg, expected);

    struct spec_linux missing = {
        .memory_policy = {.set = true, .mode = MPOL_BIND, .nodes = "1000"}};
    result = run_in_child(child_memory_policy, &missing);
    assert_child_error(&result, "linux.memoryPolicy (MPOL_BIND, flags 0x0, nodes \"1000\"): "
                                "set_mempolicy: Invalid argument");

    ctr_error *err = NULL;
    struct spec_linux bad = {.memory_policy = {.set = true, .mode = MPOL_BIND, .nodes = "0-"}};
    assert_int_equal(process_set_memory_policy(&bad, &err), -1);
    assert_error(&err, "linux.memoryPolicy.nodes: invalid node list \"0-\" at offset 2: expected a "
                       "number below 65536: Invalid argument");
}

static void cpu_lists_with_bad_syntax_are_refused(void **state)
{
    static const struct {
        const char *list, *message;
    } cases[] = {
        {"", "f: the cpu list is empty: Invalid argument"},
        {"1-",
         "f: invalid cpu list \"1-\" at offset 2: expected a number below 65536: Invalid argument"},
        {"a",
         "f: invalid cpu list \"a\" at offset 0: expected a number below 65536: Invalid argument"},
        {"3-1", "f: invalid cpu list \"3-1\": range 3-1 is reversed: Invalid argument"},
        {"1,,2", "f: invalid cpu list \"1,,2\" at offset 2: expected a number below 65536: Invalid "
                 "argument"},
        {"1,",
         "f: invalid cpu list \"1,\" at offset 2: expected a number below 65536: Invalid argument"},
        {"1 2", "f: invalid cpu list \"1 2\" at offset 1: expected ',' or '-': Invalid argument"},
        {"0-99999999",
         "f: invalid cpu list \"0-99999999\" at offset 6: expected a number below 65536: "
         "Invalid argument"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        ctr_error *err = NULL;
        assert_int_equal(process_set_cpu_affinity(cases[i].list, "f", &err), -1);
        assert_error(&err, cases[i].message);
    }
    assert_int_equal(process_set_cpu_affinity(NULL, "f", NULL), 0);
}

static int child_affinity(const void *arg, char *msg)
{
    ctr_error *err = NULL;
    if (process_set_cpu_affinity(arg, "process.execCPUAffinity.initial", &err) < 0)
        return report(err, msg);
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof(set), &set) < 0)
        return complain(msg, "sched_getaffinity: errno %d", errno);
    for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
        if (CPU_ISSET(cpu, &set))
            snprintf(msg + strlen(msg), MSG_SIZE - strlen(msg), "%s%d", msg[0] ? "," : "", cpu);
    return 0;
}

static void cpu_affinity_is_set_from_the_list(void **state)
{
    struct child result = run_in_child(child_affinity, "0");
    assert_child_ok(&result);
    assert_string_equal(result.msg, "0");

    /* Beyond a static cpu_set_t: offline cpus are ignored as long as one is usable. */
    result = run_in_child(child_affinity, "0,2000-2001");
    assert_child_ok(&result);
    assert_string_equal(result.msg, "0");

    result = run_in_child(child_affinity, "2000");
    assert_child_error(&result,
                       "process.execCPUAffinity.initial (\"2000\"): sched_setaffinity (none "
                       "of these cpus is online and allowed to this process): Invalid "
                       "argument");
}

/* ---- umask, cwd, user --------------------------------------------------------------------- */

static int child_umask_cwd(const void *arg, char *msg)
{
    ctr_error *err = NULL;
    if (process_set_umask_and_cwd(arg, &err) < 0)
        return report(err, msg);
    char cwd[PATH_MAX];
    mode_t mask = umask(0);
    snprintf(msg, MSG_SIZE, "%04o %s", (unsigned)mask, getcwd(cwd, sizeof(cwd)));
    return 0;
}

static void umask_and_cwd_are_set(void **state)
{
    struct spec_process process = {.user = {.umask = {true, 027}}, .cwd = tmp};
    struct child result = run_in_child(child_umask_cwd, &process);
    assert_child_ok(&result);
    char expected[128];
    snprintf(expected, sizeof(expected), "0027 %s", tmp);
    assert_string_equal(result.msg, expected);

    struct spec_process defaults = {.cwd = "/"};
    result = run_in_child(child_umask_cwd, &defaults);
    assert_child_ok(&result);
    assert_string_equal(result.msg, "0022 /");

    struct spec_process missing = {.cwd = "/nonexistent/ctr-test"};
    result = run_in_child(child_umask_cwd, &missing);
    assert_child_error(&result, "process.cwd: chdir to `/nonexistent/ctr-test`: No such file or "
                                "directory");

    struct spec_process bad_mask = {.user = {.umask = {true, 01000}}, .cwd = "/"};
    result = run_in_child(child_umask_cwd, &bad_mask);
    assert_child_error(&result,
                       "process.user.umask: 01000 is not a permission mask: Invalid argument");
}

struct user_case {
    struct spec_user user;
    bool allow_setgroups;
};

static int child_set_user(const void *arg, char *msg)
{
    const struct user_case *c = arg;
    ctr_error *err = NULL;
    if (process_set_user(&c->user, c->allow_setgroups, &err) < 0)
        return report(err, msg);
    uid_t r, e, s;
    gid_t gr, ge, gs, groups[8];
    getresuid(&r, &e, &s);
    getresgid(&gr, &ge, &gs);
    int n = getgroups(8, groups);
    snprintf(msg, MSG_SIZE, "uid %u %u %u gid %u %u %u groups", r, e, s, gr, ge, gs);
    for (int i = 0; i < n; i++)
        snprintf(msg + strlen(msg), MSG_SIZE - strlen(msg), " %u", groups[i]);
    return 0;
}

static void user_and_groups_are_set(void **state)
{
    if (geteuid() != 0 || !have_effective(CAP_SETUID) || !have_effective(CAP_SETGID)) {
        print_message("SKIP: needs root with CAP_SETUID and CAP_SETGID\n");
        skip();
    }
    gid_t gids[] = {1001, 1002};
    struct user_case c = {
        {.uid = 1000, .gid = 1000, .additional_gids = gids, .additional_gids_count = 2}, true};
    struct child result = run_in_child(child_set_user, &c);
    assert_child_ok(&result);
    assert_string_equal(result.msg, "uid 1000 1000 1000 gid 1000 1000 1000 groups 1001 1002");

    /* No additional gids: the runtime's own supplementary groups are dropped. */
    struct user_case plain = {{.uid = 1000, .gid = 1000}, true};
    result = run_in_child(child_set_user, &plain);
    assert_child_ok(&result);
    assert_string_equal(result.msg, "uid 1000 1000 1000 gid 1000 1000 1000 groups");

    struct user_case denied = {c.user, false};
    result = run_in_child(child_set_user, &denied);
    assert_child_error(&result, "process.user.additionalGids: cannot set [1001 1002]: setgroups is "
                                "denied in this user namespace (its setgroups file says \"deny\"): "
                                "Operation not permitted");
}

int main(int argc, char **argv)
{
    ssize_t n = readlink("/proc/self/exe", self_path, sizeof(self_path) - 1);
    if (n > 0)
        self_path[n] = '\0';
    if (argc == 3 && strcmp(argv[1], "--native-copy") == 0) {
        native_copy = true;
        cmocka_set_test_filter(argv[2]);
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(seccomp_errno_rules_return_their_errno),
        cmocka_unit_test(seccomp_argument_condition_selects_calls),
        cmocka_unit_test(seccomp_conditions_on_one_argument_are_alternatives),
        cmocka_unit_test(seccomp_conditions_on_different_arguments_all_hold),
        cmocka_unit_test(seccomp_masked_eq_uses_value_as_mask),
        cmocka_unit_test(seccomp_unknown_syscall_names_are_skipped),
        cmocka_unit_test(seccomp_rules_repeating_the_default_action_are_skipped),
        cmocka_unit_test(seccomp_kill_process_kills_with_sigsys),
        cmocka_unit_test(seccomp_default_errno_with_an_allow_list),
        cmocka_unit_test(seccomp_notify_returns_a_listener_fd),
        cmocka_unit_test(seccomp_notify_listener_is_closed_when_not_wanted),
        cmocka_unit_test(seccomp_tsync_log_and_spec_allow_flags_are_accepted),
        cmocka_unit_test(seccomp_wait_killable_recv_needs_libseccomp_2_6),
        cmocka_unit_test(seccomp_errors_name_the_rule),
        cmocka_unit_test(caps_within_the_bounding_set_are_grantable),
        cmocka_unit_test(caps_outside_the_bounding_set_are_refused_by_name),
        cmocka_unit_test(caps_apply_leaves_exactly_the_configured_sets),
        cmocka_unit_test(caps_apply_after_switching_to_a_user),
        cmocka_unit_test(caps_apply_absent_sets_are_empty),
        cmocka_unit_test(caps_apply_refuses_what_the_kernel_would),
        cmocka_unit_test(executable_is_found_on_the_container_path),
        cmocka_unit_test(executable_default_path_is_used_without_path_in_env),
        cmocka_unit_test(executable_paths_with_a_slash_are_used_as_they_are),
        cmocka_unit_test(executable_errors_say_what_was_found),
        cmocka_unit_test(rlimits_are_applied),
        cmocka_unit_test(rlimits_raising_the_hard_limit_names_the_capability),
        cmocka_unit_test(oom_score_adj_is_written),
        cmocka_unit_test(oom_score_adj_lowering_names_the_capability),
        cmocka_unit_test(scheduler_is_set_with_sched_setattr),
        cmocka_unit_test(io_priority_is_set),
        cmocka_unit_test(personality_is_set),
        cmocka_unit_test(memory_policy_binds_to_the_nodes),
        cmocka_unit_test(cpu_lists_with_bad_syntax_are_refused),
        cmocka_unit_test(cpu_affinity_is_set_from_the_list),
        cmocka_unit_test(umask_and_cwd_are_set),
        cmocka_unit_test(user_and_groups_are_set),
    };
    return cmocka_run_group_tests(tests, make_tree, remove_tree);
}
