/* Helpers of the unit tests on real cgroups (test_cgroup_real.c, test_cgroup_ops.c): control
 * files, a bare spec, the host's v1 hierarchies, the pure-v2 child, the leftover check. Include
 * after cmocka.h and cgroup_internal.h. Every real cgroup of a run is named
 * /ctr-unittest-<pid>...; cgtest_assert_no_leftovers() checks that none is left. */
#ifndef CGROUP_TEST_UTIL_H
#define CGROUP_TEST_UTIL_H

#include <glob.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* A control file without its trailing newline; NULL when it cannot be read. */
static inline char *slurp(const char *dir, const char *file)
{
    char *data = NULL;
    if (cgroup_read(dir, file, &data, NULL) < 0)
        return NULL;
    data[strcspn(data, "\n")] = '\0';
    return data;
}

/* Whether dir/file holds `expected`; says what it holds when not. */
static inline bool file_is(const char *dir, const char *file, const char *expected)
{
    char *value = slurp(dir, file);
    bool same = value && strcmp(value, expected) == 0;
    if (!same)
        fprintf(stderr, "%s/%s is `%s`, expected `%s`\n", dir, file, value ? value : "?",
                expected);
    free(value);
    return same;
}

/* A spec with only linux.cgroupsPath and an empty linux.resources. */
static inline struct ctr_spec *new_spec(const char *cgroups_path)
{
    struct ctr_spec *spec = calloc(1, sizeof(*spec));
    if (spec == NULL)
        abort();
    spec->has_linux = true;
    spec->linux_.cgroups_path = (char *)cgroups_path;
    spec->linux_.has_resources = true;
    return spec;
}

/* Whether this host has a v1 hierarchy with `controller`. */
static inline bool has_v1(const char *controller)
{
    enum cgroup_layout layout;
    struct cgroup_hierarchy *h;
    size_t n;
    if (cgroup_parse_mountinfo("/proc/self/mountinfo", &layout, &h, &n, NULL) < 0)
        return false;
    bool found = false;
    for (size_t i = 0; i < n; i++)
        found |= !h[i].v2 && cgroup_list_has(h[i].controllers, controller);
    cgroup_hierarchies_free(h, n);
    return found;
}

/* Runs this test program again as `PROGRAM --v2-child PATH` (its main() handles that in a pure
 * cgroup2 mount of its own) and asserts that it exited 0. */
static inline void run_v2_child(const char *path)
{
    char self[4096];
    ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
    assert_true(len > 0);
    self[len] = '\0';
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        execl(self, self, "--v2-child", path, (char *)NULL);
        _exit(127);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

/* Nothing named after this run is left in any hierarchy. */
static inline void assert_no_leftovers(void)
{
    char pattern[96];
    glob_t g;
    snprintf(pattern, sizeof(pattern), "/sys/fs/cgroup/*/ctr-unittest-%d*", (int)getpid());
    int r = glob(pattern, 0, NULL, &g);
    if (r == 0)
        fail_msg("left behind: %s (and %zu more)", g.gl_pathv[0], g.gl_pathc - 1);
    assert_int_equal(r, GLOB_NOMATCH);
    snprintf(pattern, sizeof(pattern), "/sys/fs/cgroup/ctr-unittest-%d*", (int)getpid());
    assert_int_equal(glob(pattern, 0, NULL, &g), GLOB_NOMATCH);
}

#endif
