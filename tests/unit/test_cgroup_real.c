/* Creating and destroying the container's cgroup, as root: real cgroups on this host (v1 or
 * hybrid) with every resource it offers, nested paths, the errors for what it lacks, and a pure
 * cgroup2 mount in a private mount namespace. Every real cgroup is named /ctr-unittest-<pid>...
 * and removed; the last test checks that none is left behind.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/sched.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "cgroup_internal.h"
#include "cgroup_test_util.h"

/* ---- helpers --------------------------------------------------------------------------------- */

static void assert_file(const char *dir, const char *file, const char *expected)
{
    char *value = slurp(dir, file);
    if (value == NULL || strcmp(value, expected) != 0)
        fail_msg("%s/%s is `%s`, expected `%s`", dir, file, value ? value : "(unreadable)",
                 expected);
    free(value);
}

static void assert_contains(const char *text, const char *part)
{
    if (strstr(text, part) == NULL)
        fail_msg("`%s` does not contain `%s`", text, part);
}

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static struct cgroup_hierarchy *cg_find(struct cgroup *cg, const char *controller)
{
    for (size_t i = 0; i < cg->count; i++)
        if (!cg->hierarchies[i].v2 && cgroup_list_has(cg->hierarchies[i].controllers, controller))
            return &cg->hierarchies[i];
    return NULL;
}

/* clone3 with CLONE_INTO_CGROUP: the child is born in the v2 cgroup of `cgroup_fd`. */
static pid_t clone_into(int cgroup_fd)
{
    struct clone_args args = {
        .flags = CLONE_INTO_CGROUP, .exit_signal = SIGCHLD, .cgroup = (uint64_t)cgroup_fd};
    return (pid_t)syscall(SYS_clone3, &args, sizeof(args));
}

/* ---- real cgroups: this host (v1 or hybrid) -------------------------------------------------- */

static bool v1_host(const char *why_needed)
{
    if (geteuid() != 0) {
        fprintf(stderr, "SKIP %s: needs root\n", why_needed);
        return false;
    }
    static const char *const needed[] = {"memory", "pids", "cpu", "cpuset", "devices"};
    bool ok = true;
    for (size_t k = 0; ok && k < ARRAY_SIZE(needed); k++)
        ok = has_v1(needed[k]);
    if (!ok)
        fprintf(stderr, "SKIP %s: needs v1 memory, pids, cpu, cpuset, devices hierarchies\n",
                why_needed);
    return ok;
}

/* No directory named `path` in any hierarchy of this host. */
static void assert_gone(const char *path)
{
    enum cgroup_layout layout;
    struct cgroup_hierarchy *h;
    size_t n;
    assert_int_equal(cgroup_parse_mountinfo("/proc/self/mountinfo", &layout, &h, &n, NULL), 0);
    for (size_t i = 0; i < n; i++) {
        char *dir = NULL;
        assert_true(asprintf(&dir, "%s%s", h[i].mount_point, path) > 0);
        if (exists(dir))
            fail_msg("%s is left behind", dir);
        free(dir);
    }
    cgroup_hierarchies_free(h, n);
}

/* A child that waits to be moved, then forks a grandchild (born inside the cgroup), reports its
 * pid, and both sleep until killed. No cmocka assertion here: the forked v2 test uses it too. */
static pid_t spawn_sleepers(int *go_fd, int *report_fd)
{
    int go[2], report[2];
    if (pipe2(go, O_CLOEXEC) < 0 || pipe2(report, O_CLOEXEC) < 0)
        return -1;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        char c;
        if (read(go[0], &c, 1) != 1)
            _exit(1);
        pid_t grandchild = fork();
        if (grandchild == 0)
            for (;;)
                pause();
        if (write(report[1], &grandchild, sizeof(grandchild)) < 0)
            _exit(1);
        for (;;)
            pause();
    }
    close(go[0]);
    close(report[1]);
    *go_fd = go[1];
    *report_fd = report[0];
    return pid;
}

/* Whether /proc/PID/cgroup has `line` (":memory:/path\n", "0::/path\n"). */
static bool in_cgroup(pid_t pid, const char *line)
{
    char dir[64];
    snprintf(dir, sizeof(dir), "/proc/%d", (int)pid);
    char *whole = NULL;
    ctr_error *err = NULL;
    if (cgroup_read(dir, "cgroup", &whole, &err) < 0) {
        ctr_error_free(err);
        return false;
    }
    bool found = strstr(whole, line) != NULL;
    free(whole);
    return found;
}

static void real_hybrid_lifecycle(void **state)
{
    if (!v1_host("real v1/hybrid cgroup"))
        skip();
    char path[64];
    snprintf(path, sizeof(path), "/ctr-unittest-%d", (int)getpid());
    struct ctr_spec *spec = new_spec(path);
    struct spec_resources *r = &spec->linux_.resources;
    r->has_memory = r->has_pids = r->has_cpu = true;
    r->memory.limit = (opt_int64){true, 64 << 20};
    r->memory.swap = (opt_int64){true, 128 << 20};
    r->pids_limit = (opt_int64){true, 50};
    r->cpu.shares = (opt_uint64){true, 512};
    r->cpu.quota = (opt_int64){true, 50000};
    r->cpu.period = (opt_uint64){true, 100000};
    r->cpu.cpus = "0";
    r->cpu.burst = (opt_uint64){true, 1000};
    r->cpu.idle = (opt_int64){true, 0};
    r->cpu.realtime_period = (opt_uint64){true, 1000000};
    r->cpu.realtime_runtime = (opt_int64){true, 10000};
    r->memory.reservation = (opt_int64){true, 32 << 20};
    r->memory.swappiness = (opt_uint64){true, 10};
    r->memory.disable_oom_killer = (opt_bool){true, true};
    r->memory.kernel_tcp = (opt_int64){true, 16 << 20};
    r->memory.use_hierarchy = (opt_bool){true, true};
    /* blkio: BFQ's weight file here (no CFQ), and a throttle on the root file system's disk. */
    r->has_block_io = true;
    r->block_io.weight = (opt_uint64){true, 500};
    struct stat root;
    assert_int_equal(stat("/", &root), 0);
    char sysdev[96], devno[32];
    snprintf(devno, sizeof(devno), "%u:%u", major(root.st_dev), minor(root.st_dev));
    snprintf(sysdev, sizeof(sysdev), "/sys/dev/block/%s/partition", devno);
    struct spec_throttle_device throttle = {major(root.st_dev), minor(root.st_dev), 1 << 20};
    bool whole_disk = !exists(sysdev); /* throttles apply to whole disks only */
    if (whole_disk) {
        r->block_io.throttle_read_bps = &throttle;
        r->block_io.throttle_read_bps_count = 1;
    }
    /* hugetlb lives in the v2 tree of this hybrid host, not in a v1 hierarchy. */
    char *v2_controllers = slurp("/sys/fs/cgroup/unified", "cgroup.controllers");
    bool hugetlb_v2 = v2_controllers && cgroup_list_has(v2_controllers, "hugetlb") &&
                      exists("/sys/kernel/mm/hugepages/hugepages-2048kB");
    free(v2_controllers);
    struct spec_hugepage_limit huge = {"2MB", 4 << 20};
    if (hugetlb_v2) {
        r->hugepage_limits = &huge;
        r->hugepage_limits_count = 1;
    }
    /* unified on a hybrid host: a file of the v2 tree. */
    struct spec_unified_entry unified = {"cgroup.max.descendants", "3"};
    r->unified = &unified;
    r->unified_count = 1;
    struct spec_device_rule rules[] = {{.allow = false, .access = "rwm"},
                                       {true, 'c', {true, 10}, {true, 229}, "rwm"}};
    r->devices = rules;
    r->devices_count = ARRAY_SIZE(rules);

    struct cgroup *cg = NULL;
    ctr_error *err = NULL;
    if (cgroup_create(spec, "unused", &cg, &err) < 0)
        fail_msg("%s", ctr_error_message(err));
    assert_string_equal(cg->path, path);
    /* Opened for clone3's CLONE_INTO_CGROUP on the hybrid host's v2 tree as well. */
    assert_true(cg->v2_dir_fd >= 0);
    for (size_t i = 0; i < cg->count; i++) {
        assert_true(exists(cg->hierarchies[i].dir));
        assert_int_equal(cg->hierarchies[i].created_levels, 1);
    }
    const char *memory = cg_find(cg, "memory")->dir, *cpu = cg_find(cg, "cpu")->dir;
    const char *cpuset = cg_find(cg, "cpuset")->dir, *devices = cg_find(cg, "devices")->dir;
    assert_file(memory, "memory.limit_in_bytes", "67108864");
    if (cgroup_has_file(memory, "memory.memsw.limit_in_bytes"))
        assert_file(memory, "memory.memsw.limit_in_bytes", "134217728");
    assert_file(cg_find(cg, "pids")->dir, "pids.max", "50");
    assert_file(cpu, "cpu.shares", "512");
    assert_file(cpu, "cpu.cfs_quota_us", "50000");
    assert_file(cpu, "cpu.cfs_period_us", "100000");
    assert_file(cpuset, "cpuset.cpus", "0");
    assert_file(cpu, "cpu.cfs_burst_us", "1000");
    assert_file(cpu, "cpu.idle", "0");
    assert_file(memory, "memory.soft_limit_in_bytes", "33554432");
    assert_file(memory, "memory.swappiness", "10");
    assert_file(memory, "memory.oom_control", "oom_kill_disable 1");
    assert_file(memory, "memory.kmem.tcp.limit_in_bytes", "16777216");
    assert_file(memory, "memory.use_hierarchy", "1");
    const char *blkio = cg_find(cg, "blkio")->dir;
    assert_file(blkio, cgroup_has_file(blkio, "blkio.weight") ? "blkio.weight" : "blkio.bfq.weight",
                "500");
    char expected[64];
    snprintf(expected, sizeof(expected), "%s %d", devno, 1 << 20);
    if (whole_disk)
        assert_file(blkio, "blkio.throttle.read_bps_device", expected);
    assert_file(cpu, "cpu.rt_period_us", "1000000");
    assert_file(cpu, "cpu.rt_runtime_us", "10000");
    char v2dir[96];
    snprintf(v2dir, sizeof(v2dir), "/sys/fs/cgroup/unified%s", path);
    assert_file(v2dir, "cgroup.max.descendants", "3");
    if (hugetlb_v2)
        assert_file(v2dir, "hugetlb.2MB.max", "4194304");
    char *parent_mems = slurp(cg_find(cg, "cpuset")->mount_point, "cpuset.mems");
    assert_file(cpuset, "cpuset.mems", parent_mems); /* copied down, or nothing could join */
    free(parent_mems);
    char *list = NULL;
    assert_int_equal(cgroup_read(devices, "devices.list", &list, NULL), 0);
    assert_contains(list, "c 10:229 rwm");
    assert_contains(list, "c 1:3 rwm"); /* a default device */
    assert_null(strstr(list, "a *:* rwm"));
    free(list);

    /* Raising both memory limits needs memsw first, lowering needs the limit first: the
     * kernel refuses either order the other way round (memory <= memory+swap at all times). */
    if (cgroup_has_file(memory, "memory.memsw.limit_in_bytes")) {
        struct spec_resources more = {
            .memory = {.limit = {true, 256 << 20}, .swap = {true, 512 << 20}}};
        if (cgroup_v1_apply(NULL, memory, CGROUP_CTRL_MEMORY, &more, &err) < 0)
            fail_msg("raise: %s", ctr_error_message(err));
        assert_file(memory, "memory.limit_in_bytes", "268435456");
        assert_file(memory, "memory.memsw.limit_in_bytes", "536870912");
        struct spec_resources less = {
            .memory = {.limit = {true, 32 << 20}, .swap = {true, 48 << 20}}};
        if (cgroup_v1_apply(NULL, memory, CGROUP_CTRL_MEMORY, &less, &err) < 0)
            fail_msg("lower: %s", ctr_error_message(err));
        assert_file(memory, "memory.limit_in_bytes", "33554432");
        assert_file(memory, "memory.memsw.limit_in_bytes", "50331648");
    }

    int go, report;
    pid_t child = spawn_sleepers(&go, &report);
    assert_true(child > 0);
    if (cgroup_enter(cg, child, &err) < 0)
        fail_msg("%s", ctr_error_message(err));
    assert_int_equal(write(go, "g", 1), 1);
    pid_t grandchild = 0;
    assert_int_equal(read(report, &grandchild, sizeof(grandchild)), sizeof(grandchild));
    char line[96];
    for (size_t i = 0; i < cg->count; i++) {
        const struct cgroup_hierarchy *h = &cg->hierarchies[i];
        snprintf(line, sizeof(line), ":%s:%s\n", h->v2 ? "" : h->controllers, path);
        if (!in_cgroup(child, line) || !in_cgroup(grandchild, line))
            fail_msg("%d or %d is not in %s", (int)child, (int)grandchild, line);
    }

    /* destroy kills both, waits, removes every directory, frees. */
    if (cgroup_destroy(cg, &err) < 0)
        fail_msg("%s", ctr_error_message(err));
    int status;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    assert_gone(path);
    close(go);
    close(report);
    free(spec);
}

/* How spawn.c puts a new process in without a move by pid (cgroup_join.c): clone3 creates it in
 * the v2 tree, and it writes itself into each v1 hierarchy through the `tasks` files its parent
 * opened; a file it cannot write is reported with the hierarchy. */
static void real_hybrid_self_join(void **state)
{
    if (!v1_host("a process joining real v1 cgroups by itself"))
        skip();
    char path[64];
    snprintf(path, sizeof(path), "/ctr-unittest-%d-self", (int)getpid());
    struct ctr_spec *spec = new_spec(path);
    struct cgroup *cg = NULL;
    ctr_error *err = NULL;
    if (cgroup_create(spec, "unused", &cg, &err) < 0)
        fail_msg("%s", ctr_error_message(err));
    struct cgroup_self_join join;
    if (cgroup_self_join_open(cg, &join, &err) < 0)
        fail_msg("%s", ctr_error_message(err));
    for (size_t i = 0; i < cg->count; i++)
        assert_true(cg->hierarchies[i].v2 ? join.tasks_fds[i] < 0 : join.tasks_fds[i] >= 0);
    int result[2];
    assert_int_equal(pipe2(result, O_CLOEXEC), 0);
    pid_t child = cg->v2_dir_fd >= 0 ? clone_into(cg->v2_dir_fd) : fork();
    if (child == 0) {
        ctr_error *e = NULL;
        char ok = cgroup_self_join(&join, &e) == 0 ? 'y' : 'n';
        if (write(result[1], &ok, 1) != 1)
            _exit(1);
        for (;;)
            pause();
    }
    assert_true(child > 0);
    cgroup_self_join_close(&join);
    assert_null(join.tasks_fds);
    char ok = 0;
    assert_int_equal(read(result[0], &ok, 1), 1);
    assert_int_equal(ok, 'y');
    char line[96];
    for (size_t i = 0; i < cg->count; i++) {
        const struct cgroup_hierarchy *h = &cg->hierarchies[i];
        snprintf(line, sizeof(line), ":%s:%s\n", h->v2 ? "" : h->controllers, path);
        if (!in_cgroup(child, line))
            fail_msg("%d is not in %s", (int)child, line);
    }
    if (cgroup_destroy(cg, &err) < 0)
        fail_msg("%s", ctr_error_message(err));
    int status;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_gone(path);

    /* A cgroup removed under the parent's open file: the write fails and names the hierarchy. */
    if (cgroup_create(spec, "unused", &cg, &err) < 0 || cgroup_self_join_open(cg, &join, &err) < 0)
        fail_msg("%s", ctr_error_message(err));
    const struct cgroup_hierarchy *memory = cg_find(cg, "memory");
    char *memory_dir = strdup(memory->dir);
    assert_int_equal(rmdir(memory_dir), 0);
    child = fork();
    if (child == 0) {
        ctr_error *e = NULL;
        int rc = cgroup_self_join(&join, &e);
        char expected[160];
        snprintf(expected, sizeof(expected), "write \"0\" to %s/tasks", memory_dir);
        _exit(rc < 0 && strstr(ctr_error_message(e), expected) != NULL &&
                      strstr(ctr_error_message(e), path) != NULL
                  ? 0
                  : 1);
    }
    cgroup_self_join_close(&join);
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    free(memory_dir);
    if (cgroup_destroy(cg, &err) < 0)
        fail_msg("%s", ctr_error_message(err));
    assert_gone(path);
    close(result[0]);
    close(result[1]);
    free(spec);
}

/* mkdir -p records how many levels it made; destroy removes only those, and leaves a parent it
 * made when another cgroup has moved in meanwhile. */
static void real_nested_paths(void **state)
{
    if (!v1_host("real nested cgroup paths"))
        skip();
    char top[64], a[80], b[80];
    snprintf(top, sizeof(top), "/ctr-unittest-%d-nest", (int)getpid());
    snprintf(a, sizeof(a), "%s/x/a", top);
    snprintf(b, sizeof(b), "%s/x/b", top);
    struct ctr_spec *sa = new_spec(a), *sb = new_spec(b);
    struct cgroup *ca = NULL, *cb = NULL;
    ctr_error *err = NULL;
    if (cgroup_create(sa, "unused", &ca, &err) < 0 || cgroup_create(sb, "unused", &cb, &err) < 0)
        fail_msg("%s", ctr_error_message(err));
    for (size_t i = 0; i < ca->count; i++) {
        assert_int_equal(ca->hierarchies[i].created_levels, 3);
        assert_int_equal(cb->hierarchies[i].created_levels, 1);
    }
    char *x = NULL;
    assert_true(asprintf(&x, "%s%s/x", ca->hierarchies[0].mount_point, top) > 0);
    if (cgroup_destroy(ca, &err) < 0) /* its parents hold b now: they stay, no error */
        fail_msg("%s", ctr_error_message(err));
    assert_true(exists(x));
    if (cgroup_destroy(cb, &err) < 0) /* b's parents are not b's to remove */
        fail_msg("%s", ctr_error_message(err));
    assert_true(exists(x));
    /* The test made nothing else: clean the rest by hand. */
    enum cgroup_layout layout;
    struct cgroup_hierarchy *h;
    size_t n;
    assert_int_equal(cgroup_parse_mountinfo("/proc/self/mountinfo", &layout, &h, &n, NULL), 0);
    for (size_t i = 0; i < n; i++) {
        char *dir = NULL;
        assert_true(asprintf(&dir, "%s%s/x", h[i].mount_point, top) > 0);
        assert_int_equal(rmdir(dir), 0);
        *strrchr(dir, '/') = '\0';
        assert_int_equal(rmdir(dir), 0);
        free(dir);
    }
    cgroup_hierarchies_free(h, n);
    assert_gone(top);
    free(x);
    free(sa);
    free(sb);
}

/* create fails with `parts` in the message and leaves no directory behind. */
static void expect_create_error(struct ctr_spec *spec, const char *path, const char *part1,
                                const char *part2)
{
    struct cgroup *cg = NULL;
    ctr_error *err = NULL;
    if (cgroup_create(spec, "unused", &cg, &err) == 0) {
        cgroup_destroy(cg, NULL);
        fail_msg("create succeeded; expected an error with `%s`", part1);
    }
    assert_null(cg);
    assert_contains(ctr_error_message(err), part1);
    if (part2)
        assert_contains(ctr_error_message(err), part2);
    ctr_error_free(err);
    assert_gone(path);
}

static void real_hybrid_errors(void **state)
{
    if (!v1_host("real cgroup errors"))
        skip();
    char path[64], file[128];
    snprintf(path, sizeof(path), "/ctr-unittest-%d-err", (int)getpid());
    struct ctr_spec *spec = new_spec(path);
    struct spec_resources *r = &spec->linux_.resources;

    /* The kernel refuses a value: the file and the value are named. */
    r->cpu.cpus = "4096";
    snprintf(file, sizeof(file), "write \"4096\" to /sys/fs/cgroup/cpuset%s/cpuset.cpus: ", path);
    expect_create_error(spec, path, "linux.resources.cpu.cpus: ", file);
    r->cpu.cpus = NULL;

    /* A file this kernel lacks: an error naming the field and the file, never a skip. */
    r->block_io.leaf_weight = (opt_uint64){true, 500};
    expect_create_error(spec, path, "linux.resources.blockIO.leafWeight", "blkio.leaf_weight");
    r->block_io.leaf_weight.set = false;

    /* The file is there but the kernel ignores writes to it. */
    r->memory.kernel = (opt_int64){true, 1 << 20};
    expect_create_error(spec, path, "linux.resources.memory.kernel",
                        "kernel memory limits were removed from the kernel");
    r->memory.kernel.set = false;

    r->cpu.shares = (opt_uint64){true, 1};
    expect_create_error(spec, path, "linux.resources.cpu.shares", "range");
    r->cpu.shares.set = false;

    /* net_cls is not mounted here. */
    r->net_class_id = (opt_uint64){true, 0x100001};
    expect_create_error(spec, path, "linux.resources.network.classID", "`net_cls`");
    r->net_class_id.set = false;

    /* rdma is not mounted here either. */
    struct spec_rdma_limit rdma = {.device = "mlx5_0", .hca_handles = {true, 2}};
    r->rdma = &rdma;
    r->rdma_count = 1;
    expect_create_error(spec, path, "linux.resources.rdma", "`rdma`");
    r->rdma_count = 0;

    /* unified on a hybrid host goes to the v2 tree, which has no memory controller here. */
    struct spec_unified_entry unified = {"memory.max", "1000000"};
    r->unified = &unified;
    r->unified_count = 1;
    expect_create_error(spec, path, "linux.resources.unified[\"memory.max\"]", "`memory`");
    unified.key = "../cgroup.procs";
    expect_create_error(spec, path, "not a cgroup file name", NULL);
    r->unified_count = 0;

    struct spec_device_rule bad = {true, 'c', {true, 1}, {true, 3}, "rwx"};
    r->devices = &bad;
    r->devices_count = 1;
    expect_create_error(spec, path, "linux.resources.devices[0]", "rwx");
    r->devices_count = 0;

    /* The systemd form is refused before anything is created. */
    spec->linux_.cgroups_path = "system.slice:ctr:unittest";
    expect_create_error(spec, path, "systemd", NULL);
    free(spec);
}

/* ---- real cgroups: a pure cgroup2 mount in a private mount namespace ------------------------- */

/* The v2 checks run in a child (its own mount namespace): this program again, exec'd with
 * --v2-child so that no cmocka state is inherited. A failed check prints why and exits 1, which
 * the parent asserts on. */
#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "v2 child, line %d: ", __LINE__);                                      \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            _exit(1);                                                                              \
        }                                                                                          \
    } while (0)

static void v2_child(const char *path)
{
    CHECK(unshare(CLONE_NEWNS) == 0, "unshare: %m");
    CHECK(mount("none", "/", "none", MS_PRIVATE | MS_REC, NULL) == 0, "make / private: %m");
    CHECK(mount("none", "/sys/fs/cgroup", "cgroup2", 0, NULL) == 0, "mount cgroup2: %m");

    struct ctr_spec *spec = new_spec(path);
    struct spec_resources *r = &spec->linux_.resources;
    struct cgroup *cg = NULL;
    ctr_error *err = NULL;
    char dir[128];
    snprintf(dir, sizeof(dir), "/sys/fs/cgroup%s", path);

    /* Not offered by this tree: a clear error naming the controller, and nothing left. */
    r->memory.limit = (opt_int64){true, 64 << 20};
    CHECK(cgroup_create(spec, "unused", &cg, &err) < 0, "memory limit accepted");
    CHECK(strstr(ctr_error_message(err), "linux.resources.memory.limit: the cgroup v2 controller "
                                         "`memory` is not available in /sys/fs/cgroup"),
          "%s", ctr_error_message(err));
    CHECK(!exists(dir), "%s left behind", dir);
    r->memory.limit.set = false;
    r->net_class_id = (opt_uint64){true, 1};
    CHECK(cgroup_create(spec, "unused", &cg, &err) < 0, "classID accepted");
    CHECK(strstr(ctr_error_message(err), "cgroup v2 has no `net_cls` controller"), "%s",
          ctr_error_message(err));
    r->net_class_id.set = false;
    ctr_error_free(err);
    err = NULL;

    /* hugetlb is offered: enabled down the path, written in the v2 file; unified too. */
    char *controllers = slurp("/sys/fs/cgroup", "cgroup.controllers");
    bool hugetlb = controllers && cgroup_list_has(controllers, "hugetlb") &&
                   exists("/sys/kernel/mm/hugepages/hugepages-2048kB");
    free(controllers);
    struct spec_hugepage_limit huge = {"2MB", 4 << 20};
    if (hugetlb) {
        r->hugepage_limits = &huge;
        r->hugepage_limits_count = 1;
    }
    struct spec_unified_entry unified = {"cgroup.max.descendants", "7"};
    r->unified = &unified;
    r->unified_count = 1;
    CHECK(cgroup_create(spec, "unused", &cg, &err) == 0, "%s", ctr_error_message(err));
    CHECK(cg->layout == CGROUP_LAYOUT_V2 && cg->count == 1 && cg->hierarchies[0].v2, "layout");
    CHECK(strcmp(cg->hierarchies[0].dir, dir) == 0, "dir %s", cg->hierarchies[0].dir);
    CHECK(cg->v2_dir_fd >= 0, "no v2_dir_fd");
    CHECK(file_is(dir, "cgroup.max.descendants", "7"), "unified not applied");
    if (hugetlb)
        CHECK(file_is(dir, "hugetlb.2MB.max", "4194304"), "hugetlb.2MB.max not applied");
    else
        fprintf(stderr, "note: no hugetlb 2MB pages offered, hugepageLimits not tried\n");

    char line[96];
    snprintf(line, sizeof(line), "0::%s\n", path);
    /* clone3 straight into the cgroup (valgrind has no clone3: ENOSYS, then not tried). */
    pid_t cloned = clone_into(cg->v2_dir_fd);
    if (cloned == 0)
        for (;;)
            pause();
    CHECK(cloned > 0 || errno == ENOSYS, "clone3: %m");
    if (cloned > 0)
        CHECK(in_cgroup(cloned, line), "the clone3 child is not in %s", path);

    int go, report;
    pid_t child = spawn_sleepers(&go, &report);
    CHECK(child > 0, "fork: %m");
    CHECK(cgroup_enter(cg, child, &err) == 0, "%s", ctr_error_message(err));
    CHECK(write(go, "g", 1) == 1, "write: %m");
    pid_t grandchild = 0;
    CHECK(read(report, &grandchild, sizeof(grandchild)) == sizeof(grandchild), "read: %m");
    CHECK(in_cgroup(child, line) && in_cgroup(grandchild, line), "not in %s", path);

    /* cgroup.kill, then cgroup.events until "populated 0", then rmdir. */
    CHECK(cgroup_destroy(cg, &err) == 0, "%s", ctr_error_message(err));
    int status;
    CHECK(waitpid(child, &status, 0) == child && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
          "child not killed");
    if (cloned > 0)
        CHECK(waitpid(cloned, &status, 0) == cloned && WIFSIGNALED(status), "clone3 child");
    CHECK(!exists(dir), "%s left behind", dir);
    close(go);
    close(report);
    free(spec);
}

static void real_pure_v2(void **state)
{
    if (geteuid() != 0) {
        fprintf(stderr, "SKIP pure cgroup v2: needs root\n");
        skip();
    }
    char path[64];
    snprintf(path, sizeof(path), "/ctr-unittest-%d-v2", (int)getpid());
    run_v2_child(path);
    assert_gone(path); /* the same v2 tree is this host's /sys/fs/cgroup/unified */
}

/* Last: nothing named after this run is left in any hierarchy. */
static void no_leftovers(void **state)
{
    assert_no_leftovers();
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--v2-child") == 0) {
        v2_child(argv[2]);
        return 0;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(real_hybrid_lifecycle),
        cmocka_unit_test(real_hybrid_self_join),
        cmocka_unit_test(real_nested_paths),
        cmocka_unit_test(real_hybrid_errors),
        cmocka_unit_test(real_pure_v2),
        cmocka_unit_test(no_leftovers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
