/* The procfs handle (CVE-2019-16884, CVE-2025-52881 class): files are opened below a verified
 * procfs root, and a mount over a file or over a directory on the way is refused, with openat2 and
 * with the walk by hand used where openat2 answers ENOSYS. The mount tests need a mount namespace
 * of their own (root, or a user namespace): they skip where neither can be had. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <seccomp.h>

#include "procfs.h"
#include "util.h"

/* The message (or "") of a child's failure, for the parent's assertion. */
enum { MSG_SIZE = 512 };

static void assert_error(ctr_error **err, int code, const char *expected)
{
    assert_non_null(*err);
    assert_int_equal(ctr_error_code(*err), code);
    assert_string_equal(ctr_error_message(*err), expected);
    ctr_error_free(*err);
    *err = NULL;
}

static void root_is_a_procfs_and_own_files_read(void **state)
{
    ctr_error *err = NULL;
    int root = procfs_open_root(&err);
    assert_true(root >= 0);
    char *text = NULL;
    assert_int_equal(procfs_read(root, "self/status", &text, &err), 0);
    assert_non_null(strstr(text, "Name:"));
    free(text);
    close(root);
}

static void paths_leaving_the_root_are_refused(void **state)
{
    ctr_error *err = NULL;
    int root = procfs_open_root(&err);
    assert_true(root >= 0);
    assert_int_equal(procfs_open(root, "../etc/passwd", O_RDONLY, &err), -1);
    assert_int_equal(ctr_error_code(err), EXDEV);
    ctr_error_free(err);
    err = NULL;
    /* A magic link, which could lead anywhere: the process's root. */
    assert_int_equal(procfs_open(root, "self/root/etc/passwd", O_RDONLY, &err), -1);
    assert_int_equal(ctr_error_code(err), ELOOP);
    ctr_error_free(err);
    close(root);
}

static void namespace_files_are_checked(void **state)
{
    ctr_error *err = NULL;
    int root = procfs_open_root(&err);
    assert_true(root >= 0);
    int net = procfs_open_namespace(root, "self/ns/net", CLONE_NEWNET, &err);
    assert_true(net >= 0);
    close(net);
    assert_int_equal(procfs_open_namespace(root, "self/ns/net", CLONE_NEWUSER, &err), -1);
    assert_error(&err, EINVAL,
                 "`/proc/self/ns/net` is not the expected namespace: Invalid argument");
    assert_int_equal(procfs_open_namespace(root, "self/status", CLONE_NEWNET, &err), -1);
    assert_error(&err, EINVAL,
                 "`/proc/self/status` is not the expected namespace: Invalid argument");
    close(root);
}

/* ---- in a mount namespace of a child's own ------------------------------------------------- */

/* Enters a private mount namespace: as root, or else as root of a new user namespace. */
static bool private_mounts(void)
{
    if (unshare(CLONE_NEWNS) < 0 && unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0)
        return false;
    return mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0;
}

/* Makes openat2 answer ENOSYS, as an older kernel or an outer container's profile does. */
static bool without_openat2(void)
{
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
    bool ok = ctx && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
              seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(openat2), 0) == 0 &&
              seccomp_load(ctx) == 0;
    if (ctx)
        seccomp_release(ctx);
    return ok;
}

enum { CHILD_SKIP = 77 };

/* Runs `fn` in a child with private mounts; its message comes back in msg. Returns false (the
 * test skips) when no mount namespace could be had. */
static bool in_child(int (*fn)(char *msg, bool by_hand), bool by_hand, char msg[MSG_SIZE])
{
    int fds[2];
    assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        char text[MSG_SIZE] = "";
        int rc = !private_mounts()                ? CHILD_SKIP
                 : by_hand && !without_openat2() ? 2
                                                 : fn(text, by_hand);
        (void)write_all(fds[1], text, strlen(text));
        _exit(rc);
    }
    close(fds[1]);
    ssize_t n = read(fds[0], msg, MSG_SIZE - 1);
    msg[n > 0 ? n : 0] = '\0';
    close(fds[0]);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    if (WEXITSTATUS(status) == CHILD_SKIP)
        return false;
    if (WEXITSTATUS(status) != 0)
        fail_msg("child failed (%d): %s", WEXITSTATUS(status), msg);
    return true;
}

/* A bind over self/oom_score_adj and a tmpfs over sys/ (CVE-2025-52881's moves): writes and
 * reads through the handle are refused, where a path would reach the decoys. */
static int child_refuses_covered_files(char *msg, bool by_hand)
{
    ctr_error *err = NULL;
    int root = procfs_open_root(&err);
    char decoy[] = "/tmp/ctr-procfs-XXXXXX";
    int fd = mkstemp(decoy);
    if (root < 0 || fd < 0)
        return snprintf(msg, MSG_SIZE, "set-up failed"), 2;
    close(fd);
    int bound = mount(decoy, "/proc/self/oom_score_adj", NULL, MS_BIND, NULL);
    unlink(decoy);
    if (bound < 0 || mount("tmpfs", "/proc/sys", "tmpfs", 0, "size=64k") < 0)
        return snprintf(msg, MSG_SIZE, "mount the decoys: %s", strerror(errno)), 2;

    if (procfs_write(root, "self/oom_score_adj", "5", 1, &err) == 0)
        return snprintf(msg, MSG_SIZE, "the write went through a mount"), 1;
    if (ctr_error_code(err) != EXDEV)
        return snprintf(msg, MSG_SIZE, "%s", ctr_error_message(err)), 1;
    if (strcmp(ctr_error_message(err),
               "open `/proc/self/oom_score_adj`: a mount covers it or a directory on the way "
               "(refused: CVE-2025-52881): Invalid cross-device link") != 0)
        return snprintf(msg, MSG_SIZE, "%s", ctr_error_message(err)), 1;
    ctr_error_free(err);
    err = NULL;
    char *text = NULL;
    if (procfs_read(root, "sys/kernel/ostype", &text, &err) == 0)
        return snprintf(msg, MSG_SIZE, "the read went through a mount: %s", text), 1;
    if (ctr_error_code(err) != EXDEV)
        return snprintf(msg, MSG_SIZE, "%s", ctr_error_message(err)), 1;
    ctr_error_free(err);
    /* What is not covered still opens. */
    if (procfs_read(root, "self/status", &text, &err) < 0)
        return snprintf(msg, MSG_SIZE, "%s", ctr_error_message(err)), 1;
    free(text);
    return 0;
}

static void mounts_over_files_are_refused(void **state)
{
    char msg[MSG_SIZE];
    if (!in_child(child_refuses_covered_files, false, msg))
        skip();
}

static void mounts_over_files_are_refused_without_openat2(void **state)
{
    char msg[MSG_SIZE];
    if (!in_child(child_refuses_covered_files, true, msg))
        skip();
}

/* A /proc that is not procfs, or not its root, is not taken as the handle. */
static int child_refuses_fake_roots(char *msg, bool by_hand)
{
    ctr_error *err = NULL;
    if (mount("/proc/sys", "/proc", NULL, MS_BIND, NULL) < 0)
        return snprintf(msg, MSG_SIZE, "bind /proc/sys: %s", strerror(errno)), 2;
    if (procfs_open_root(&err) >= 0 || !strstr(ctr_error_message(err), "not the root of a procfs"))
        return snprintf(msg, MSG_SIZE, "a procfs subdirectory was taken as the root"), 1;
    ctr_error_free(err);
    err = NULL;
    if (mount("tmpfs", "/proc", "tmpfs", 0, "size=64k") < 0)
        return snprintf(msg, MSG_SIZE, "tmpfs on /proc: %s", strerror(errno)), 2;
    if (procfs_open_root(&err) >= 0 ||
        strcmp(ctr_error_message(err), "/proc is not a procfs, so the runtime cannot write to it "
                                       "safely: No such device") != 0)
        return snprintf(msg, MSG_SIZE, "a tmpfs was taken as procfs"), 1;
    ctr_error_free(err);
    return 0;
}

static void a_fake_proc_is_not_a_root(void **state)
{
    char msg[MSG_SIZE];
    if (!in_child(child_refuses_fake_roots, false, msg))
        skip();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(root_is_a_procfs_and_own_files_read),
        cmocka_unit_test(paths_leaving_the_root_are_refused),
        cmocka_unit_test(namespace_files_are_checked),
        cmocka_unit_test(mounts_over_files_are_refused),
        cmocka_unit_test(mounts_over_files_are_refused_without_openat2),
        cmocka_unit_test(a_fake_proc_is_not_a_root),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
