/* paths.c against a real directory tree full of hostile symlinks (openat2 needs no privilege):
 * nothing may ever be resolved or created outside the root. Every test runs twice: with openat2,
 * and with a syscall table whose openat2 fails with ENOSYS, as on kernels before 5.6, so that the
 * resolver paths.c falls back to is held to the same cases. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "paths.h"
#include "util.h"

/* tmp/root is the container's root; tmp/outside stands for the host next to it. */
struct tree {
    const struct sys_ops *sys;
    char tmp[64];
    char root[96];
    int rootfd;
};

static void at(const struct tree *t, const char *rel, char *out, size_t size)
{
    snprintf(out, size, "%s/%s", t->root, rel);
}

static void must_symlink(const struct tree *t, const char *target, const char *rel)
{
    char path[256];
    at(t, rel, path, sizeof(path));
    assert_int_equal(symlink(target, path), 0);
}

static int no_openat2(int dirfd, const char *path, struct open_how *how, size_t size)
{
    errno = ENOSYS;
    return -1;
}

static struct sys_ops sys_without_openat2;

static int setup(const struct sys_ops *sys, void **state)
{
    struct tree *t = calloc(1, sizeof(*t));
    assert_non_null(t);
    t->sys = sys;
    strcpy(t->tmp, "/tmp/test_paths.XXXXXX");
    assert_non_null(mkdtemp(t->tmp));
    snprintf(t->root, sizeof(t->root), "%s/root", t->tmp);
    assert_int_equal(mkdir(t->root, 0755), 0);
    char path[256];
    snprintf(path, sizeof(path), "%s/outside", t->tmp);
    assert_int_equal(mkdir(path, 0755), 0);
    at(t, "target", path, sizeof(path));
    assert_int_equal(mkdir(path, 0755), 0);
    at(t, "file", path, sizeof(path));
    int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
    assert_true(fd >= 0);
    close(fd);

    must_symlink(t, "/etc", "etc_link");                  /* absolute: the host's /etc? */
    must_symlink(t, "../../..", "up");                    /* climbs above the root */
    must_symlink(t, "chain2", "chain1");                  /* a chain ending inside */
    must_symlink(t, "chain3", "chain2");
    must_symlink(t, "/target", "chain3");
    must_symlink(t, "loop2", "loop1");                    /* a loop */
    must_symlink(t, "loop1", "loop2");
    must_symlink(t, "/proc/self/root", "procself");       /* the host's root via procfs */
    must_symlink(t, "/created/by/link", "dangling");      /* dangling, absolute */
    must_symlink(t, "../../outside/new", "escape");       /* dangling, climbing out */
    must_symlink(t, "/etc/hosts", "hosts_link");          /* dangling to a file path */

    t->rootfd = open(t->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    assert_true(t->rootfd >= 0);
    *state = t;
    return 0;
}

static int setup_openat2(void **state)
{
    return setup(&sys_real, state);
}

static int setup_by_hand(void **state)
{
    sys_without_openat2 = sys_real;
    sys_without_openat2.openat2 = no_openat2;
    return setup(&sys_without_openat2, state);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

static int teardown(void **state)
{
    struct tree *t = *state;
    close(t->rootfd);
    nftw(t->tmp, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(t);
    return 0;
}

/* The fd is the inode at root-relative `rel`. */
static void assert_fd_is(const struct tree *t, int fd, const char *rel)
{
    char path[256];
    at(t, rel, path, sizeof(path));
    struct stat a, b;
    assert_int_equal(fstat(fd, &a), 0);
    assert_int_equal(lstat(path, &b), 0);
    assert_int_equal(a.st_dev, b.st_dev);
    assert_int_equal(a.st_ino, b.st_ino);
}

static bool exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

static void test_absolute_symlink_stays_inside(void **state)
{
    struct tree *t = *state;
    ctr_error *err = NULL;
    /* etc_link -> /etc is the root's /etc, which does not exist: never the host's. */
    assert_int_equal(paths_open(t->sys, t->rootfd, "/etc_link/passwd", &err), -1);
    assert_int_equal(ctr_error_code(err), ENOENT);
    assert_non_null(strstr(ctr_error_message(err), "`/etc_link/passwd`"));
    ctr_error_free(err);
    err = NULL;

    int fd = paths_create(t->sys, t->rootfd, "/etc_link/libctr-test", PATHS_DIR, 0755, &err);
    assert_true(fd >= 0);
    assert_fd_is(t, fd, "etc/libctr-test");
    assert_false(exists("/etc/libctr-test"));
    close(fd);
}

static void test_dotdot_symlink_is_clamped(void **state)
{
    struct tree *t = *state;
    ctr_error *err = NULL;
    int fd = paths_create(t->sys, t->rootfd, "up/up/x", PATHS_DIR, 0755, &err);
    assert_true(fd >= 0);
    assert_fd_is(t, fd, "x");
    close(fd);
    char path[256];
    snprintf(path, sizeof(path), "%s/x", t->tmp);
    assert_false(exists(path));

    fd = paths_create(t->sys, t->rootfd, "/../../../y", PATHS_DIR, 0755, &err);
    assert_true(fd >= 0);
    assert_fd_is(t, fd, "y");
    close(fd);
    snprintf(path, sizeof(path), "%s/y", t->tmp);
    assert_false(exists(path));
}

static void test_chain_is_followed_inside(void **state)
{
    struct tree *t = *state;
    ctr_error *err = NULL;
    int fd = paths_create(t->sys, t->rootfd, "/chain1/sub", PATHS_DIR, 0755, &err);
    assert_true(fd >= 0);
    assert_fd_is(t, fd, "target/sub");
    close(fd);
    fd = paths_open(t->sys, t->rootfd, "chain1", &err);
    assert_true(fd >= 0);
    assert_fd_is(t, fd, "target");
    close(fd);
}

static void test_loop_fails_naming_the_path(void **state)
{
    struct tree *t = *state;
    ctr_error *err = NULL;
    assert_int_equal(paths_create(t->sys, t->rootfd, "/loop1/x", PATHS_DIR, 0755, &err), -1);
    assert_int_equal(ctr_error_code(err), ELOOP);
    assert_non_null(strstr(ctr_error_message(err), "`/loop1/x`"));
    ctr_error_free(err);
}

static void test_proc_symlink_is_not_the_hosts(void **state)
{
    struct tree *t = *state;
    ctr_error *err = NULL;
    /* Inside the root, /proc/self/root is just a path under the root's (empty) /proc. */
    int fd = paths_create(t->sys, t->rootfd, "/procself/etc", PATHS_DIR, 0755, &err);
    assert_true(fd >= 0);
    assert_fd_is(t, fd, "proc/self/root/etc");
    close(fd);
}

static void test_magic_links_are_refused(void **state)
{
    struct tree *t = *state;
    /* With a real procfs inside the root, /proc/self/root is a magic link to the host's root. */
    int rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    assert_true(rootfd >= 0);
    ctr_error *err = NULL;
    assert_int_equal(paths_open(t->sys, rootfd, "/proc/self/root/etc", &err), -1);
    assert_int_equal(ctr_error_code(err), ELOOP);
    ctr_error_free(err);
    err = NULL;
    assert_int_equal(paths_create(t->sys, rootfd, "/proc/self/cwd/libctr-test", PATHS_DIR,
                                  0755, &err),
                     -1);
    assert_int_equal(ctr_error_code(err), ELOOP);
    ctr_error_free(err);
    close(rootfd);
}

static void test_dangling_symlinks_create_inside(void **state)
{
    struct tree *t = *state;
    ctr_error *err = NULL;
    int fd = paths_create(t->sys, t->rootfd, "/dangling", PATHS_DIR, 0755, &err);
    assert_true(fd >= 0);
    assert_fd_is(t, fd, "created/by/link");
    close(fd);

    fd = paths_create(t->sys, t->rootfd, "/escape", PATHS_FILE, 0600, &err);
    assert_true(fd >= 0);
    assert_fd_is(t, fd, "outside/new");
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    close(fd);
    char path[256];
    snprintf(path, sizeof(path), "%s/outside/new", t->tmp);
    assert_false(exists(path));

    fd = paths_create(t->sys, t->rootfd, "/hosts_link", PATHS_FILE, 0644, &err);
    assert_true(fd >= 0);
    assert_fd_is(t, fd, "etc/hosts");
    close(fd);
}

static void test_missing_components_are_created(void **state)
{
    struct tree *t = *state;
    ctr_error *err = NULL;
    int fd = paths_create(t->sys, t->rootfd, "a//b/./c/", PATHS_DIR, 0755, &err);
    assert_true(fd >= 0);
    assert_fd_is(t, fd, "a/b/c");
    close(fd);
    fd = paths_create(t->sys, t->rootfd, "/a/b/file", PATHS_FILE, 0644, &err);
    assert_true(fd >= 0);
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    close(fd);
    /* Existing: returned as it is. */
    fd = paths_create(t->sys, t->rootfd, "/a/b/file", PATHS_DIR, 0755, &err);
    assert_true(fd >= 0);
    assert_fd_is(t, fd, "a/b/file");
    close(fd);
    /* The empty path and "/" are the root. */
    fd = paths_create(t->sys, t->rootfd, "/", PATHS_DIR, 0755, &err);
    assert_true(fd >= 0);
    assert_fd_is(t, fd, ".");
    close(fd);
}

static void test_file_in_the_way_fails_naming_the_path(void **state)
{
    struct tree *t = *state;
    ctr_error *err = NULL;
    assert_int_equal(paths_create(t->sys, t->rootfd, "/file/sub", PATHS_DIR, 0755, &err), -1);
    assert_int_equal(ctr_error_code(err), ENOTDIR);
    assert_non_null(strstr(ctr_error_message(err), "`/file/sub`"));
    ctr_error_free(err);
}

static void test_optional_open(void **state)
{
    struct tree *t = *state;
    ctr_error *err = NULL;
    int fd = 42;
    assert_int_equal(paths_open_optional(t->sys, t->rootfd, "/no/such", &fd, &err), 0);
    assert_int_equal(fd, -1);
    assert_null(err);
    assert_int_equal(paths_open_optional(t->sys, t->rootfd, "/loop1", &fd, &err), -1);
    assert_int_equal(ctr_error_code(err), ELOOP);
    ctr_error_free(err);
    assert_int_equal(paths_open_optional(t->sys, t->rootfd, "/file", &fd, NULL), 0);
    assert_fd_is(t, fd, "file");
    close(fd);
}

static void test_parent(void **state)
{
    struct tree *t = *state;
    ctr_error *err = NULL;
    char *name = NULL;
    int fd = paths_create_parent(t->sys, t->rootfd, "/dev/null", &name, &err);
    assert_true(fd >= 0);
    assert_string_equal(name, "null");
    assert_fd_is(t, fd, "dev");
    close(fd);
    free(name);
    /* The last component itself is never followed: etc_link is returned as a name in the root. */
    fd = paths_create_parent(t->sys, t->rootfd, "etc_link", &name, &err);
    assert_true(fd >= 0);
    assert_string_equal(name, "etc_link");
    assert_fd_is(t, fd, ".");
    close(fd);
    free(name);
    /* A parent through a symlink is resolved inside. */
    fd = paths_create_parent(t->sys, t->rootfd, "/up/dev/zero", &name, &err);
    assert_true(fd >= 0);
    assert_fd_is(t, fd, "dev");
    close(fd);
    free(name);

    assert_int_equal(paths_create_parent(t->sys, t->rootfd, "/", &name, &err), -1);
    assert_int_equal(ctr_error_code(err), EINVAL);
    ctr_error_free(err);
    err = NULL;
    assert_int_equal(paths_create_parent(t->sys, t->rootfd, "/dev/..", &name, &err), -1);
    assert_int_equal(ctr_error_code(err), EINVAL);
    ctr_error_free(err);
}

static void test_open_child(void **state)
{
    struct tree *t = *state;
    ctr_error *err = NULL;
    int fd = paths_open_child(t->rootfd, "file", 0, &err);
    assert_true(fd >= 0);
    close(fd);
    /* A symlink is opened as itself, never followed. */
    fd = paths_open_child(t->rootfd, "etc_link", 0, &err);
    assert_true(fd >= 0);
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    close(fd);
    assert_int_equal(paths_open_child(t->rootfd, "a/b", 0, &err), -1);
    assert_int_equal(ctr_error_code(err), EINVAL);
    ctr_error_free(err);
}

static void test_clean(void **state)
{
    (void)state;
    static const char *cases[][2] = {
        {"/dev/pts", "/dev/pts"}, {"dev//pts/", "/dev/pts"}, {"/a/./b/../c", "/a/c"},
        {"/../..", "/"},         {"", "/"},                 {"/a/b/../../..", "/"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *c = paths_clean(cases[i][0]);
        assert_string_equal(c, cases[i][1]);
        free(c);
    }
    assert_true(paths_equal("/dev/", "dev"));
    assert_false(paths_equal("/dev", "/dev/pts"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_absolute_symlink_stays_inside),
        cmocka_unit_test(test_dotdot_symlink_is_clamped),
        cmocka_unit_test(test_chain_is_followed_inside),
        cmocka_unit_test(test_loop_fails_naming_the_path),
        cmocka_unit_test(test_proc_symlink_is_not_the_hosts),
        cmocka_unit_test(test_magic_links_are_refused),
        cmocka_unit_test(test_dangling_symlinks_create_inside),
        cmocka_unit_test(test_missing_components_are_created),
        cmocka_unit_test(test_file_in_the_way_fails_naming_the_path),
        cmocka_unit_test(test_optional_open),
        cmocka_unit_test(test_parent),
        cmocka_unit_test(test_open_child),
        cmocka_unit_test(test_clean),
    };
    int failed = cmocka_run_group_tests_name("openat2", tests, setup_openat2, teardown);
    return failed + cmocka_run_group_tests_name("by hand", tests, setup_by_hand, teardown);
}
