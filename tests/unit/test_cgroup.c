/* The container's cgroup without root: v1 -> v2 conversions, hierarchy detection from sample
 * mountinfo files, path rules (cgroupfs and the systemd driver's form), v1 device lines, the
 * state-file JSON. Real cgroups are test_cgroup_real.c's and test_cgroup_ops.c's.
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cgroup_internal.h"

/* ---- helpers --------------------------------------------------------------------------------- */

static char *data_path(const char *name)
{
    const char *dir = getenv("CTR_TEST_DATA");
    char *path = NULL;
    assert_true(asprintf(&path, "%s/cgroup/%s", dir ? dir : "tests/unit/data", name) > 0);
    return path;
}

static struct cgroup_hierarchy *find(struct cgroup_hierarchy *h, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(h[i].name, name) == 0)
            return &h[i];
    return NULL;
}

static void assert_contains(const char *text, const char *part)
{
    if (strstr(text, part) == NULL)
        fail_msg("`%s` does not contain `%s`", text, part);
}

static const char *message(ctr_error *err)
{
    return err ? ctr_error_message(err) : "(no error)";
}

/* ---- conversions ----------------------------------------------------------------------------- */

static void shares_to_weight(void **state)
{
    assert_int_equal(cgroup_cpu_shares_to_weight(2), 1);
    assert_int_equal(cgroup_cpu_shares_to_weight(3), 1);
    assert_int_equal(cgroup_cpu_shares_to_weight(1024), 39); /* v1 default */
    assert_int_equal(cgroup_cpu_shares_to_weight(262143), 9999);
    assert_int_equal(cgroup_cpu_shares_to_weight(262144), 10000);
    /* Out of range: clamped to 2..262144 first. */
    assert_int_equal(cgroup_cpu_shares_to_weight(1), 1);
    assert_int_equal(cgroup_cpu_shares_to_weight(1000000), 10000);
}

static void blkio_weight_to_io_weight(void **state)
{
    assert_int_equal(cgroup_blkio_weight_to_io_weight(10), 1);
    assert_int_equal(cgroup_blkio_weight_to_io_weight(11), 11);
    assert_int_equal(cgroup_blkio_weight_to_io_weight(500), 4950);
    assert_int_equal(cgroup_blkio_weight_to_io_weight(1000), 10000);
    assert_int_equal(cgroup_blkio_weight_to_io_weight(5), 1);
    assert_int_equal(cgroup_blkio_weight_to_io_weight(65535), 10000);
}

static int swap_v2(bool has_limit, int64_t limit, bool has_swap, int64_t swap, int64_t *out,
                   char **message)
{
    struct spec_memory m = {.limit = {has_limit, limit}, .swap = {has_swap, swap}};
    ctr_error *err = NULL;
    *out = 12345;
    int r = cgroup_memory_swap_to_v2(&m, out, &err);
    if (message)
        *message = err ? strdup(ctr_error_message(err)) : NULL;
    ctr_error_free(err);
    return r;
}

static void memory_swap_to_v2(void **state)
{
    int64_t out;
    char *message = NULL;
    const int64_t M = 1 << 20;
    assert_int_equal(swap_v2(true, 64 * M, true, 128 * M, &out, NULL), 1);
    assert_int_equal(out, 64 * M);
    assert_int_equal(swap_v2(true, 64 * M, true, 64 * M, &out, NULL), 1);
    assert_int_equal(out, 0); /* memory+swap == memory: no swap */
    assert_int_equal(swap_v2(true, 64 * M, true, -1, &out, NULL), 1);
    assert_int_equal(out, -1);
    /* Unlimited memory, swap left out: both unlimited. */
    assert_int_equal(swap_v2(true, -1, false, 0, &out, NULL), 1);
    assert_int_equal(out, -1);
    assert_int_equal(swap_v2(true, -1, true, 128 * M, &out, NULL), 1);
    assert_int_equal(out, 128 * M);
    /* Nothing to write. */
    assert_int_equal(swap_v2(true, 64 * M, false, 0, &out, NULL), 0);
    assert_int_equal(swap_v2(true, 64 * M, true, 0, &out, NULL), 0);
    assert_int_equal(swap_v2(false, 0, false, 0, &out, NULL), 0);
    /* Bad combinations. */
    assert_int_equal(swap_v2(false, 0, true, 128 * M, &out, &message), -1);
    assert_contains(message, "needs a memory limit");
    free(message);
    assert_int_equal(swap_v2(true, 128 * M, true, 64 * M, &out, &message), -1);
    assert_contains(message, "below the memory limit");
    free(message);
    assert_int_equal(swap_v2(true, 64 * M, true, -5, &out, &message), -1);
    free(message);
}

static void cpu_max(void **state)
{
    char buf[48];
    struct spec_cpu cpu = {0};
    assert_int_equal(cgroup_cpu_max(&cpu, buf, sizeof(buf)), 0);
    cpu.quota = (opt_int64){true, -1};
    assert_int_equal(cgroup_cpu_max(&cpu, buf, sizeof(buf)), 1);
    assert_string_equal(buf, "max");
    cpu.period = (opt_uint64){true, 100000};
    cgroup_cpu_max(&cpu, buf, sizeof(buf));
    assert_string_equal(buf, "max 100000");
    cpu.quota = (opt_int64){true, 50000};
    cgroup_cpu_max(&cpu, buf, sizeof(buf));
    assert_string_equal(buf, "50000 100000");
    cpu.period.set = false;
    cgroup_cpu_max(&cpu, buf, sizeof(buf));
    assert_string_equal(buf, "50000");
    cpu.quota = (opt_int64){true, 0}; /* 0 is unset, by runc's convention */
    assert_int_equal(cgroup_cpu_max(&cpu, buf, sizeof(buf)), 0);
}

static void limits_and_lines(void **state)
{
    char buf[160];
    cgroup_format_limit(-1, buf);
    assert_string_equal(buf, "max");
    cgroup_format_limit(0, buf);
    assert_string_equal(buf, "0");
    cgroup_format_limit(INT64_MAX, buf);
    assert_string_equal(buf, "9223372036854775807");

    struct spec_rdma_limit rdma = {.device = "mlx5_1", .hca_handles = {true, 3}};
    assert_int_equal(cgroup_rdma_line(&rdma, buf, sizeof(buf), NULL), 0);
    assert_string_equal(buf, "mlx5_1 hca_handle=3 hca_object=max");
    rdma.device = "mlx5_1 hca_handle=0";
    assert_int_equal(cgroup_rdma_line(&rdma, buf, sizeof(buf), NULL), -1);

    assert_true(cgroup_valid_page_size("2MB"));
    assert_true(cgroup_valid_page_size("1GB"));
    assert_true(cgroup_valid_page_size("64KB"));
    assert_false(cgroup_valid_page_size("MB"));
    assert_false(cgroup_valid_page_size("2M"));
    assert_false(cgroup_valid_page_size("2MB/../x"));
    assert_false(cgroup_valid_page_size(NULL));
}

/* ---- detection ------------------------------------------------------------------------------- */

static void parse(const char *file, enum cgroup_layout *layout, struct cgroup_hierarchy **h,
                  size_t *n)
{
    char *path = data_path(file);
    ctr_error *err = NULL;
    if (cgroup_parse_mountinfo(path, layout, h, n, &err) < 0)
        fail_msg("%s", ctr_error_message(err));
    free(path);
}

static void mountinfo_hybrid(void **state)
{
    enum cgroup_layout layout;
    struct cgroup_hierarchy *h;
    size_t n;
    parse("hybrid.mountinfo", &layout, &h, &n);
    assert_int_equal(layout, CGROUP_LAYOUT_HYBRID);
    assert_int_equal(n, 10); /* 8 controllers, name=systemd, unified */
    struct cgroup_hierarchy *memory = find(h, n, "memory");
    assert_non_null(memory);
    assert_string_equal(memory->mount_point, "/sys/fs/cgroup/memory");
    assert_string_equal(memory->controllers, "memory");
    assert_false(memory->v2);
    assert_string_equal(find(h, n, "systemd")->controllers, "name=systemd");
    assert_string_equal(find(h, n, "cpuacct")->controllers, "cpuacct");
    struct cgroup_hierarchy *unified = find(h, n, "unified");
    assert_non_null(unified);
    assert_true(unified->v2);
    assert_null(unified->controllers);
    assert_string_equal(unified->mount_point, "/sys/fs/cgroup/unified");
    cgroup_hierarchies_free(h, n);
}

static void mountinfo_v2(void **state)
{
    enum cgroup_layout layout;
    struct cgroup_hierarchy *h;
    size_t n;
    parse("v2.mountinfo", &layout, &h, &n);
    assert_int_equal(layout, CGROUP_LAYOUT_V2);
    assert_int_equal(n, 1); /* the bind mount of a subtree elsewhere is the same hierarchy */
    assert_true(h[0].v2);
    assert_string_equal(h[0].mount_point, "/sys/fs/cgroup");
    assert_string_equal(h[0].name, "");
    cgroup_hierarchies_free(h, n);
}

static void mountinfo_v1(void **state)
{
    enum cgroup_layout layout;
    struct cgroup_hierarchy *h;
    size_t n;
    parse("v1.mountinfo", &layout, &h, &n);
    assert_int_equal(layout, CGROUP_LAYOUT_V1);
    assert_int_equal(n, 11);
    for (size_t i = 0; i < n; i++)
        assert_false(h[i].v2);
    assert_string_equal(find(h, n, "cpu,cpuacct")->controllers, "cpu,cpuacct");
    assert_string_equal(find(h, n, "net_cls,net_prio")->controllers, "net_cls,net_prio");
    /* xattr and release_agent= are options, not controllers; nor is clone_children. */
    assert_string_equal(find(h, n, "systemd")->controllers, "name=systemd");
    assert_string_equal(find(h, n, "cpuset")->controllers, "cpuset");
    /* memory is mounted twice: once, at the mount of its whole tree. */
    struct cgroup_hierarchy *memory = find(h, n, "memory");
    assert_non_null(memory);
    assert_string_equal(memory->mount_point, "/sys/fs/cgroup/memory");
    assert_null(find(h, n, "memory-again"));
    cgroup_hierarchies_free(h, n);
}

/* What the pure-v2 test below sees: cgroup2 mounted over the hybrid host's /sys/fs/cgroup. */
static void mountinfo_v2_over_hybrid(void **state)
{
    enum cgroup_layout layout;
    struct cgroup_hierarchy *h;
    size_t n;
    parse("v2-over-hybrid.mountinfo", &layout, &h, &n);
    assert_int_equal(layout, CGROUP_LAYOUT_V2);
    assert_int_equal(n, 1);
    assert_string_equal(h[0].mount_point, "/sys/fs/cgroup");
    cgroup_hierarchies_free(h, n);
}

static void mountinfo_missing(void **state)
{
    enum cgroup_layout layout;
    struct cgroup_hierarchy *h;
    size_t n;
    ctr_error *err = NULL;
    assert_int_equal(cgroup_parse_mountinfo("/nonexistent/mountinfo", &layout, &h, &n, &err), -1);
    assert_contains(ctr_error_message(err), "/nonexistent/mountinfo");
    ctr_error_free(err);
}

/* ---- paths ----------------------------------------------------------------------------------- */

static void assert_path(const char *cgroups_path, const char *id, const char *expected)
{
    char *out = NULL;
    ctr_error *err = NULL;
    if (cgroup_resolve_path(cgroups_path, id, &out, &err) < 0)
        fail_msg("%s: %s", cgroups_path ? cgroups_path : "(absent)", ctr_error_message(err));
    assert_string_equal(out, expected);
    free(out);
}

static void assert_path_error(const char *cgroups_path, const char *id, const char *part)
{
    char *out = NULL;
    ctr_error *err = NULL;
    assert_int_equal(cgroup_resolve_path(cgroups_path, id, &out, &err), -1);
    assert_null(out);
    assert_int_equal(ctr_error_code(err), EINVAL);
    assert_contains(ctr_error_message(err), part);
    ctr_error_free(err);
}

static void path_rules(void **state)
{
    assert_path(NULL, "web", "/ctr/web");
    assert_path("", "web", "/ctr/web");
    assert_path("/kubepods/pod1/c1", "web", "/kubepods/pod1/c1");
    assert_path("//a//b/./c/", "web", "/a/b/c");
    assert_path("mine", "web", "/ctr/mine");
    assert_path("group/mine", "web", "/ctr/group/mine");
    assert_path("/with:colon", "web", "/with:colon"); /* absolute: a path, whatever its colons */

    assert_path_error("/a/../b", "web", "`..`");
    assert_path_error("../escape", "web", "`..`");
    assert_path_error("system.slice:docker:abc", "web", "systemd");
    assert_path_error("/", "web", "root cgroup");
    assert_path_error("/./", "web", "root cgroup");
    assert_path_error(NULL, "a/b", "container id");
    assert_path_error(NULL, "..", "container id");
}

/* ---- device rules ---------------------------------------------------------------------------- */

static int lines_of(struct spec_device_rule rule, char lines[2][48])
{
    return cgroup_v1_device_lines(&rule, lines, NULL);
}

static void device_rules(void **state)
{
    char l[2][48];
    assert_int_equal(lines_of((struct spec_device_rule){true, 'c', {true, 1}, {true, 3}, "rwm"}, l),
                     1);
    assert_string_equal(l[0], "c 1:3 rwm");
    assert_int_equal(lines_of((struct spec_device_rule){false, 'b', {true, 8}, {false, 0}, "r"}, l),
                     1);
    assert_string_equal(l[0], "b 8:* r");
    assert_int_equal(lines_of((struct spec_device_rule){true, 'c', {true, -1}, {true, -1}, "m"}, l),
                     1);
    assert_string_equal(l[0], "c *:* m");
    /* Absent type and access: every device, every access. */
    assert_int_equal(lines_of((struct spec_device_rule){.allow = false}, l), 1);
    assert_string_equal(l[0], "a *:* rwm");
    /* "a" with less than everything: the kernel would read it as everything. */
    assert_int_equal(
        lines_of((struct spec_device_rule){true, 'a', {false, 0}, {false, 0}, "rw"}, l), 2);
    assert_string_equal(l[0], "c *:* rw");
    assert_string_equal(l[1], "b *:* rw");
    assert_int_equal(
        lines_of((struct spec_device_rule){true, 'a', {true, 10}, {true, 200}, "rwm"}, l), 2);
    assert_string_equal(l[0], "c 10:200 rwm");
    assert_string_equal(l[1], "b 10:200 rwm");

    ctr_error *err = NULL;
    struct spec_device_rule bad = {true, 'c', {true, 1}, {true, 3}, "rwx"};
    assert_int_equal(cgroup_v1_device_lines(&bad, l, &err), -1);
    assert_contains(ctr_error_message(err), "rwx");
    bad = (struct spec_device_rule){true, 'p', {true, 1}, {true, 3}, "rwm"};
    assert_int_equal(cgroup_v1_device_lines(&bad, l, &err), -1);
    assert_contains(ctr_error_message(err), "device type `p`");
    ctr_error_free(err);
}

/* ---- the systemd driver's paths ---------------------------------------------------------------- */

static void assert_systemd(const char *given, const char *id, const char *expected)
{
    char *out = NULL;
    ctr_error *err = NULL;
    if (cgroup_resolve_systemd_path(given, id, &out, &err) < 0)
        fail_msg("%s: %s", given ? given : "(absent)", message(err));
    assert_string_equal(out, expected);
    free(out);
}

static void assert_systemd_error(const char *given, const char *part)
{
    char *out = NULL;
    ctr_error *err = NULL;
    assert_int_equal(cgroup_resolve_systemd_path(given, "web", &out, &err), -1);
    assert_null(out);
    if (strstr(message(err), part) == NULL)
        fail_msg("`%s` does not contain `%s`", message(err), part);
    ctr_error_free(err);
}

static void systemd_paths(void **state)
{
    assert_systemd("system.slice:docker:abc", "web", "/system.slice/docker-abc.scope");
    assert_systemd("a-b-c.slice:p:n", "web", "/a.slice/a-b.slice/a-b-c.slice/p-n.scope");
    assert_systemd(":p:n", "web", "/system.slice/p-n.scope");       /* runc's default slice */
    assert_systemd("-.slice:p:n", "web", "/p-n.scope");             /* the root slice */
    assert_systemd("x.slice::n", "web", "/x.slice/n.scope");        /* no prefix */
    assert_systemd("x.slice:p:sub.slice", "web", "/x.slice/sub.slice"); /* a slice as the unit */
    assert_systemd(NULL, "web", "/system.slice/ctr-web.scope");
    assert_systemd("", "web", "/system.slice/ctr-web.scope");

    assert_systemd_error("/ctr/web", "slice:prefix:name");
    assert_systemd_error("a:b", "slice:prefix:name");
    assert_systemd_error("notaslice:p:n", "not a slice name");
    assert_systemd_error("a--b.slice:p:n", "invalid slice name");
    assert_systemd_error("-a.slice:p:n", "invalid slice name");
    assert_systemd_error("a-.slice:p:n", "invalid slice name");
    assert_systemd_error("x.slice:p:", "name part");
    assert_systemd_error("x.slice:p:..", "name part");
}

/* ---- state JSON -------------------------------------------------------------------------------- */

static void json_round_trip(void **state)
{
    struct cgroup_hierarchy h[2] = {
        {.mount_point = "/sys/fs/cgroup/memory", .name = "memory", .controllers = "memory",
         .dir = "/sys/fs/cgroup/memory/ctr/web", .created_levels = 2},
        {.mount_point = "/sys/fs/cgroup/unified", .name = "unified", .v2 = true,
         .dir = "/sys/fs/cgroup/unified/ctr/web"}};
    struct cgroup cg = {.layout = CGROUP_LAYOUT_HYBRID, .path = "/ctr/web", .hierarchies = h,
                        .count = 2, .v2_dir_fd = -1};
    json_t *json = cgroup_to_json(&cg);
    assert_non_null(json);
    struct cgroup *back = NULL;
    ctr_error *err = NULL;
    if (cgroup_from_json(json, &back, &err) < 0)
        fail_msg("%s", message(err));
    assert_int_equal(back->layout, CGROUP_LAYOUT_HYBRID);
    assert_string_equal(back->path, "/ctr/web");
    assert_int_equal(back->count, 2);
    assert_int_equal(back->v2_dir_fd, -1);
    for (size_t i = 0; i < 2; i++) {
        assert_string_equal(back->hierarchies[i].mount_point, h[i].mount_point);
        assert_string_equal(back->hierarchies[i].name, h[i].name);
        assert_string_equal(back->hierarchies[i].dir, h[i].dir);
        assert_int_equal(back->hierarchies[i].v2, h[i].v2);
        assert_int_equal(back->hierarchies[i].created_levels, h[i].created_levels);
    }
    assert_string_equal(back->hierarchies[0].controllers, "memory");
    assert_null(back->hierarchies[1].controllers);
    cgroup_free(back);

    /* A state file that would point destroy anywhere else is refused. */
    json_t *entry = json_array_get(json_object_get(json, "hierarchies"), 0);
    json_object_set_new(entry, "dir", json_string("/sys/fs/cgroup/memory"));
    assert_int_equal(cgroup_from_json(json, &back, &err), -1);
    assert_non_null(strstr(message(err), "cgroup.hierarchies[0].dir"));
    json_object_set_new(entry, "dir", json_string("/sys/fs/cgroup/memory/ctr/web"));
    json_object_set_new(json, "path", json_string("/ctr/../etc"));
    assert_int_equal(cgroup_from_json(json, &back, &err), -1);
    assert_non_null(strstr(message(err), "cgroup.path"));
    json_object_set_new(json, "path", json_string("/ctr/web"));
    json_object_set_new(json, "layout", json_string("v3"));
    assert_int_equal(cgroup_from_json(json, &back, &err), -1);
    assert_non_null(strstr(message(err), "cgroup.layout"));
    assert_int_equal(cgroup_from_json(json_null(), &back, &err), -1);
    ctr_error_free(err);
    json_decref(json);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(shares_to_weight),
        cmocka_unit_test(blkio_weight_to_io_weight),
        cmocka_unit_test(memory_swap_to_v2),
        cmocka_unit_test(cpu_max),
        cmocka_unit_test(limits_and_lines),
        cmocka_unit_test(mountinfo_hybrid),
        cmocka_unit_test(mountinfo_v2),
        cmocka_unit_test(mountinfo_v1),
        cmocka_unit_test(mountinfo_v2_over_hybrid),
        cmocka_unit_test(mountinfo_missing),
        cmocka_unit_test(path_rules),
        cmocka_unit_test(systemd_paths),
        cmocka_unit_test(device_rules),
        cmocka_unit_test(json_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
