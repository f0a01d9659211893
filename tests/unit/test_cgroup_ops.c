/* Operations on a running container's cgroup, as root: processes, freezer, signals, update with
 * its undo, stats and OOM events on real cgroups of this host (v1 or hybrid) and of a pure cgroup2
 * mount in a private mount namespace; the systemd driver refused where systemd is not PID 1; a
 * cgroup reloaded from its state JSON.
 * Every real cgroup is named /ctr-unittest-<pid>-... and removed; the last test checks that.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/bpf.h>
#include <linux/magic.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "cgroup_internal.h"
#include "cgroup_test_util.h"

#define CG_ROOT "/sys/fs/cgroup"

/* A failed check prints why and fails: through cmocka in the main process, through exit(1) in
 * the forked pure-v2 child (which has no cmocka state). */
static bool in_v2_child;
static int teardown(void **state);

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "line %d: ", __LINE__);                                                \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            if (in_v2_child) {                                                                     \
                teardown(NULL);                                                                    \
                _exit(1);                                                                          \
            }                                                                                      \
            fail();                                                                                \
        }                                                                                          \
    } while (0)

static const char *message(ctr_error *err)
{
    return err ? ctr_error_message(err) : "(no error)";
}

/* ---- real cgroups: helpers --------------------------------------------------------------------- */

/* A child moved into `cg` that forks a grandchild (born inside the cgroup) which touches
 * `touch_mb` MiB (charged to the cgroup); both then sleep until signalled. */
struct family {
    pid_t child, grandchild;
};

/* What a failing real test leaves for its teardown to kill and remove (test-only state: a
 * failed check leaves the test function at once). */
static struct {
    struct cgroup *cg;
    pid_t child;
} live;

static int teardown(void **state)
{
    if (live.child > 0) {
        kill(live.child, SIGKILL);
        waitpid(live.child, NULL, 0);
    }
    cgroup_destroy(live.cg, NULL); /* thaws, kills what is left, removes */
    live.cg = NULL;
    live.child = 0;
    return 0;
}

static struct family run_family(struct cgroup *cg, int touch_mb)
{
    int go[2], report[2];
    CHECK(pipe2(go, O_CLOEXEC) == 0 && pipe2(report, O_CLOEXEC) == 0, "pipe: %m");
    struct family f = {0};
    f.child = fork();
    CHECK(f.child >= 0, "fork: %m");
    if (f.child == 0) {
        char c;
        if (read(go[0], &c, 1) != 1)
            _exit(1);
        pid_t g = fork();
        if (g == 0) {
            /* volatile: memory written and never read is otherwise optimised away */
            size_t size = (size_t)touch_mb << 20;
            volatile char *memory = size ? malloc(size) : NULL;
            for (size_t i = 0; memory && i < size; i += 4096)
                memory[i] = 1;
            pid_t self = getpid();
            if (write(report[1], &self, sizeof(self)) < 0)
                _exit(1);
            for (;;)
                pause();
        }
        for (;;)
            pause();
    }
    close(go[0]);
    close(report[1]);
    live.child = f.child;
    ctr_error *err = NULL;
    CHECK(cgroup_enter(cg, f.child, &err) == 0, "%s", message(err));
    CHECK(write(go[1], "g", 1) == 1, "write: %m");
    CHECK(read(report[0], &f.grandchild, sizeof(f.grandchild)) == sizeof(f.grandchild),
          "the grandchild did not report");
    close(go[1]);
    close(report[0]);
    return f;
}

static int reap(pid_t pid)
{
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid, "waitpid %d: %m", (int)pid);
    if (pid == live.child)
        live.child = 0;
    return WIFSIGNALED(status) ? WTERMSIG(status) : -WEXITSTATUS(status);
}

static bool v1_host(const char *what)
{
    static const char *const needed[] = {"memory", "pids", "cpu", "cpuset", "devices", "freezer"};
    bool ok = geteuid() == 0;
    for (size_t i = 0; ok && i < ARRAY_SIZE(needed); i++)
        ok = has_v1(needed[i]);
    if (!ok)
        fprintf(stderr, "SKIP %s: needs root and v1 memory, pids, cpu, cpuset, devices, freezer\n",
                what);
    return ok;
}

static const char *dir_of(struct cgroup *cg, const char *controller)
{
    const struct cgroup_hierarchy *h = cgroup_find_v1(cg, controller);
    CHECK(h != NULL, "no %s hierarchy", controller);
    return h->dir;
}

static json_t *stats_of(struct cgroup *cg)
{
    json_t *stats = NULL;
    ctr_error *err = NULL;
    CHECK(cgroup_stats(cg, &stats, &err) == 0, "%s", message(err));
    return stats;
}

static json_int_t stat_at(json_t *stats, const char *a, const char *b, const char *c)
{
    json_t *v = json_object_get(stats, a);
    if (b)
        v = json_object_get(v, b);
    if (c)
        v = json_object_get(v, c);
    CHECK(json_is_integer(v), "stats %s.%s.%s missing", a, b ? b : "", c ? c : "");
    return json_integer_value(v);
}

/* ---- real cgroups: this host (v1 or hybrid) ---------------------------------------------------- */

static void real_systemd_refused(void **state)
{
    struct stat st;
    if (geteuid() != 0 || stat("/run/systemd/system", &st) == 0) {
        fprintf(stderr, "SKIP systemd driver refusal: needs root on a host without systemd\n");
        skip();
    }
    struct ctr_spec *spec = new_spec("system.slice:ctr:unittest");
    struct cgroup_options options = {.systemd = true};
    struct cgroup *cg = NULL;
    ctr_error *err = NULL;
    assert_int_equal(cgroup_create_with(spec, "unittest", &options, &cg, &err), -1);
    assert_null(cg);
    assert_int_equal(ctr_error_code(err), EOPNOTSUPP);
    assert_non_null(strstr(message(err), "needs systemd as PID 1"));
    /* A malformed form is named before the driver is looked for. */
    spec->linux_.cgroups_path = "/ctr/x";
    assert_int_equal(cgroup_create_with(spec, "unittest", &options, &cg, &err), -1);
    assert_non_null(strstr(message(err), "slice:prefix:name"));
    ctr_error_free(err);
    free(spec);
}

static struct cgroup *create(struct ctr_spec *spec)
{
    struct cgroup *cg = NULL;
    ctr_error *err = NULL;
    CHECK(cgroup_create(spec, "unused", &cg, &err) == 0, "%s", message(err));
    live.cg = cg;
    return cg;
}

static void destroy(struct cgroup *cg)
{
    ctr_error *err = NULL;
    live.cg = NULL;
    CHECK(cgroup_destroy(cg, &err) == 0, "%s", message(err));
}

static void update_ok(struct cgroup *cg, const struct spec_resources *res)
{
    ctr_error *err = NULL;
    CHECK(cgroup_update(cg, res, &err) == 0, "update: %s", message(err));
}

/* The update fails, its message has `part` and says the earlier values were restored. */
static void update_fails(struct cgroup *cg, const struct spec_resources *res, const char *part,
                         bool restored)
{
    ctr_error *err = NULL;
    CHECK(cgroup_update(cg, res, &err) < 0, "update accepted, expected `%s`", part);
    CHECK(strstr(message(err), part), "`%s` does not contain `%s`", message(err), part);
    CHECK(!restored || strstr(message(err), "were restored"), "not restored: %s", message(err));
    ctr_error_free(err);
}

static void real_hybrid_ops(void **state)
{
    if (!v1_host("real v1/hybrid operations"))
        skip();
    char path[64];
    snprintf(path, sizeof(path), "/ctr-unittest-%d-ops", (int)getpid());
    struct ctr_spec *spec = new_spec(path);
    struct spec_resources *r = &spec->linux_.resources;
    r->memory.limit = (opt_int64){true, 64 << 20};
    r->pids_limit = (opt_int64){true, 64};
    struct cgroup *cg = create(spec);
    struct family f = run_family(cg, 4);
    ctr_error *err = NULL;
    const char *pids_dir = dir_of(cg, "pids"), *memory = dir_of(cg, "memory");

    /* ps */
    pid_t *pids = NULL;
    size_t count = 0;
    CHECK(cgroup_pids(cg, &pids, &count, &err) == 0, "%s", message(err));
    pid_t low = f.child < f.grandchild ? f.child : f.grandchild;
    pid_t high = f.child < f.grandchild ? f.grandchild : f.child;
    CHECK(count == 2 && pids[0] == low && pids[1] == high, "pids: %zu", count);
    free(pids);

    /* pause / resume */
    bool frozen = true;
    CHECK(cgroup_is_frozen(cg, &frozen, &err) == 0 && !frozen, "frozen at start");
    CHECK(cgroup_freeze(cg, true, &err) == 0, "%s", message(err));
    CHECK(file_is(dir_of(cg, "freezer"), "freezer.state", "FROZEN"), "not frozen");
    CHECK(cgroup_is_frozen(cg, &frozen, &err) == 0 && frozen, "is_frozen says thawed");
    CHECK(cgroup_freeze(cg, false, &err) == 0, "%s", message(err));
    CHECK(cgroup_is_frozen(cg, &frozen, &err) == 0 && !frozen, "is_frozen says frozen");

    /* events --stats */
    json_t *stats = stats_of(cg);
    CHECK(stat_at(stats, "pids", "current", NULL) == 2, "pids.current");
    CHECK(stat_at(stats, "pids", "limit", NULL) == 64, "pids.limit");
    CHECK(stat_at(stats, "memory", "usage", "limit") == 64 << 20, "memory limit");
    CHECK(stat_at(stats, "memory", "usage", "usage") >= 4 << 20, "memory usage");
    CHECK(json_is_object(json_object_get(json_object_get(stats, "memory"), "raw")), "raw");
    CHECK(stat_at(stats, "cpu", "usage", "total") > 0, "cpu usage");
    CHECK(json_is_array(json_object_get(json_object_get(json_object_get(stats, "cpu"), "usage"),
                                        "percpu")),
          "percpu");
    stat_at(stats, "cpu", "throttling", "periods");
    CHECK(json_is_object(json_object_get(stats, "blkio")), "blkio");
    if (cgroup_has_file("/sys/fs/cgroup/unified", "cgroup.controllers") &&
        cgroup_has_file("/sys/kernel/mm/hugepages/hugepages-2048kB", "nr_hugepages"))
        stat_at(stats, "hugetlb", "2MB", "usage");
    json_decref(stats);

    /* update: applied, refused and undone */
    struct spec_resources u = {.pids_limit = {true, 32}, .memory.limit = {true, 128 << 20}};
    update_ok(cg, &u);
    CHECK(file_is(pids_dir, "pids.max", "32"), "pids");
    CHECK(file_is(memory, "memory.limit_in_bytes", "134217728"), "memory");
    /* cpuset goes after pids and memory: both are put back when the kernel refuses the cpus. */
    u = (struct spec_resources){.pids_limit = {true, 16}, .memory.limit = {true, 96 << 20},
                                .cpu.cpus = "4096"};
    update_fails(cg, &u, "cpuset.cpus", true);
    CHECK(file_is(pids_dir, "pids.max", "32"), "pids not restored");
    CHECK(file_is(memory, "memory.limit_in_bytes", "134217728"), "memory not restored");
    /* memory.checkBeforeUpdate: no limit below what the container uses. */
    u = (struct spec_resources){
        .memory = {.limit = {true, 1 << 20}, .check_before_update = {true, true}}};
    update_fails(cg, &u, "below the current usage", false);
    CHECK(file_is(memory, "memory.limit_in_bytes", "134217728"), "memory changed");
    /* Device rules: replaced when given, restored when a later... the rules are last: a bad one
     * is refused before anything of the device list changes, the rest is put back. */
    struct spec_device_rule kmsg[] = {{.allow = false, .access = "rwm"},
                                      {true, 'c', {true, 1}, {true, 11}, "r"}};
    u = (struct spec_resources){.devices = kmsg, .devices_count = 2};
    update_ok(cg, &u);
    char *list = slurp(dir_of(cg, "devices"), "devices.list");
    CHECK(list && strstr(list, "c 1:11 r"), "devices.list: %s", list ? list : "?");
    free(list);
    struct spec_device_rule bad[] = {{true, 'p', {true, 1}, {true, 3}, "rwm"}};
    u = (struct spec_resources){.pids_limit = {true, 8}, .devices = bad, .devices_count = 1};
    update_fails(cg, &u, "linux.resources.devices[0]", true);
    CHECK(file_is(pids_dir, "pids.max", "32"), "pids not restored");

    /* kill --all */
    CHECK(cgroup_signal_all(cg, SIGTERM, &err) == 0, "%s", message(err));
    CHECK(reap(f.child) == SIGTERM, "child not terminated");
    destroy(cg);
    free(spec);
}

/* A paused container killed with SIGKILL dies: frozen v1 tasks die only once thawed. */
static void real_kill_paused(void **state)
{
    if (!v1_host("real kill of a paused container"))
        skip();
    char path[64];
    snprintf(path, sizeof(path), "/ctr-unittest-%d-paused", (int)getpid());
    struct ctr_spec *spec = new_spec(path);
    struct cgroup *cg = create(spec);
    struct family f = run_family(cg, 0);
    ctr_error *err = NULL;
    CHECK(cgroup_freeze(cg, true, &err) == 0, "%s", message(err));
    CHECK(cgroup_signal_all(cg, SIGKILL, &err) == 0, "%s", message(err));
    CHECK(reap(f.child) == SIGKILL, "child not killed");
    bool frozen = true;
    CHECK(cgroup_is_frozen(cg, &frozen, &err) == 0 && !frozen, "still frozen");
    destroy(cg);
    free(spec);
}

/* The OOM killer's work is seen through the watch fd and the count. */
static void real_oom(struct cgroup *cg)
{
    ctr_error *err = NULL;
    int fd = -1;
    uint64_t before = 99, after = 0;
    CHECK(cgroup_oom_watch(cg, &fd, &err) == 0, "%s", message(err));
    CHECK(cgroup_oom_count(cg, &before, &err) == 0 && before == 0, "oom count %" PRIu64, before);
    pid_t pid = fork();
    CHECK(pid >= 0, "fork: %m");
    if (pid == 0) {
        char self[16];
        snprintf(self, sizeof(self), "%d", (int)getpid());
        for (size_t i = 0; i < cg->count; i++)
            if (cgroup_write(cg->hierarchies[i].dir, "cgroup.procs", self, NULL, NULL) < 0)
                _exit(2);
        for (size_t mb = 0; mb < 512; mb++) { /* far past the limit, a MiB at a time */
            volatile char *p = malloc(1 << 20);
            for (size_t i = 0; p && i < 1 << 20; i += 4096)
                p[i] = 1;
        }
        _exit(3);
    }
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    CHECK(poll(&pfd, 1, 20000) == 1, "no OOM event within 20 s");
    char buf[4096];
    while (read(fd, buf, sizeof(buf)) > 0)
        ;
    CHECK(reap(pid) == SIGKILL, "the hog was not OOM-killed");
    CHECK(cgroup_oom_count(cg, &after, &err) == 0 && after >= 1, "oom_kill %" PRIu64, after);
    close(fd);
}

static void real_oom_v1(void **state)
{
    if (!v1_host("real v1 OOM events"))
        skip();
    char path[64];
    snprintf(path, sizeof(path), "/ctr-unittest-%d-oom", (int)getpid());
    struct ctr_spec *spec = new_spec(path);
    spec->linux_.resources.memory.limit = (opt_int64){true, 16 << 20};
    struct cgroup *cg = create(spec);
    real_oom(cg);
    destroy(cg);
    free(spec);
}

/* The state file's copy operates on the cgroup and removes it; the original only frees. */
static void real_destroy_from_state(void **state)
{
    if (!v1_host("real destroy from the state JSON"))
        skip();
    char path[64];
    snprintf(path, sizeof(path), "/ctr-unittest-%d-state", (int)getpid());
    struct ctr_spec *spec = new_spec(path);
    struct cgroup *cg = create(spec);
    struct family f = run_family(cg, 0);
    json_t *json = cgroup_to_json(cg);
    struct cgroup *loaded = NULL;
    ctr_error *err = NULL;
    CHECK(json && cgroup_from_json(json, &loaded, &err) == 0, "%s", message(err));
    json_decref(json);
    pid_t *pids = NULL;
    size_t count = 0;
    CHECK(cgroup_pids(loaded, &pids, &count, &err) == 0 && count == 2, "pids of the copy");
    free(pids);
    live.cg = NULL; /* the copy removes it */
    CHECK(cgroup_destroy(loaded, &err) == 0, "%s", message(err));
    CHECK(reap(f.child) == SIGKILL, "child not killed");
    for (size_t i = 0; i < cg->count; i++)
        CHECK(access(cg->hierarchies[i].dir, F_OK) < 0, "%s left", cg->hierarchies[i].dir);
    cgroup_free(cg);
    free(spec);
}

/* ---- real cgroups: a pure cgroup2 mount in a private mount namespace --------------------------- */

/* In a child moved into `cg`: whether opening `path` works (0) or the errno. */
static int open_in(struct cgroup *cg, const char *path, int flags)
{
    pid_t pid = fork();
    CHECK(pid >= 0, "fork: %m");
    if (pid == 0) {
        char self[16];
        snprintf(self, sizeof(self), "%d", (int)getpid());
        if (cgroup_write(cg->hierarchies[0].dir, "cgroup.procs", self, NULL, NULL) < 0)
            _exit(100);
        int fd = open(path, flags | O_CLOEXEC | O_NONBLOCK);
        _exit(fd >= 0 ? 0 : errno);
    }
    return -reap(pid);
}

static uint32_t filters_attached(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    uint32_t ids[8];
    union bpf_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.query.target_fd = (uint32_t)fd;
    attr.query.attach_type = BPF_CGROUP_DEVICE;
    attr.query.prog_ids = (uint64_t)(uintptr_t)ids;
    attr.query.prog_cnt = 8;
    CHECK(fd >= 0 && syscall(SYS_bpf, BPF_PROG_QUERY, &attr, sizeof(attr)) == 0, "query: %m");
    close(fd);
    return attr.query.prog_cnt;
}

static void v2_child(const char *path)
{
    in_v2_child = true;
    CHECK(unshare(CLONE_NEWNS) == 0, "unshare: %m");
    CHECK(mount("none", "/", NULL, MS_PRIVATE | MS_REC, NULL) == 0, "make / private: %m");
    /* A pure v2 host (the test VM) has it already, mounted with options of its own. */
    struct statfs fs;
    if (statfs("/sys/fs/cgroup", &fs) < 0 || fs.f_type != CGROUP2_SUPER_MAGIC)
        CHECK(mount("none", "/sys/fs/cgroup", "cgroup2", 0, NULL) == 0, "mount cgroup2: %m");
    struct ctr_spec *spec = new_spec(path);
    struct cgroup *cg = create(spec);
    const char *dir = cg->hierarchies[0].dir;
    ctr_error *err = NULL;
    CHECK(cg->layout == CGROUP_LAYOUT_V2, "layout %d", cg->layout);

    /* No devices controller on v2: the default list is an eBPF filter, attached at create. */
    CHECK(filters_attached(dir) == 1, "device filters attached: %u", filters_attached(dir));
    CHECK(open_in(cg, "/dev/kmsg", O_RDONLY) == EPERM, "/dev/kmsg opened");
    CHECK(open_in(cg, "/dev/null", O_RDWR) == 0, "/dev/null refused");

    struct family f = run_family(cg, 0);
    pid_t *pids = NULL;
    size_t count = 0;
    CHECK(cgroup_pids(cg, &pids, &count, &err) == 0 && count == 2, "pids: %zu", count);
    free(pids);

    /* cgroup.freeze, and cgroup.events says when it is done. */
    bool frozen = true;
    CHECK(cgroup_freeze(cg, true, &err) == 0, "%s", message(err));
    CHECK(file_is(dir, "cgroup.freeze", "1"), "cgroup.freeze");
    CHECK(cgroup_is_frozen(cg, &frozen, &err) == 0 && frozen, "not frozen");
    char stat[64], *text = NULL;
    snprintf(stat, sizeof(stat), "/proc/%d", (int)f.grandchild);
    CHECK(cgroup_read(stat, "stat", &text, &err) == 0, "%s", message(err));
    CHECK(strstr(text, ") S ") || strstr(text, ") D "), "frozen task state: %s", text);
    free(text);
    CHECK(cgroup_freeze(cg, false, &err) == 0, "%s", message(err));
    CHECK(cgroup_is_frozen(cg, &frozen, &err) == 0 && !frozen, "still frozen");

    /* v2's core cpu.stat gives the usage without the cpu controller. */
    json_t *stats = stats_of(cg);
    stat_at(stats, "cpu", "usage", "total");
    json_decref(stats);

    /* unified keys are updated and undone like the rest. */
    struct spec_unified_entry ok[] = {{"cgroup.max.descendants", "5"}};
    struct spec_resources u = {.unified = ok, .unified_count = 1};
    update_ok(cg, &u);
    CHECK(file_is(dir, "cgroup.max.descendants", "5"), "max.descendants");
    struct spec_unified_entry bad[] = {{"cgroup.max.descendants", "3"},
                                       {"cgroup.max.depth", "bogus"}};
    u = (struct spec_resources){.unified = bad, .unified_count = 2};
    update_fails(cg, &u, "cgroup.max.depth", true);
    CHECK(file_is(dir, "cgroup.max.descendants", "5"), "max.descendants not restored");

    /* New device rules replace the filter. */
    struct spec_device_rule kmsg[] = {{.allow = false, .access = "rwm"},
                                      {true, 'c', {true, 1}, {true, 11}, "r"}};
    u = (struct spec_resources){.devices = kmsg, .devices_count = 2};
    update_ok(cg, &u);
    CHECK(filters_attached(dir) == 1, "filters after update: %u", filters_attached(dir));
    CHECK(open_in(cg, "/dev/kmsg", O_RDONLY) == 0, "/dev/kmsg still refused");
    CHECK(open_in(cg, "/dev/kmsg", O_WRONLY) == EPERM, "/dev/kmsg opened for writing");

    /* kill --all with SIGKILL: cgroup.kill, frozen or not. */
    CHECK(cgroup_freeze(cg, true, &err) == 0, "%s", message(err));
    CHECK(cgroup_signal_all(cg, SIGKILL, &err) == 0, "%s", message(err));
    CHECK(reap(f.child) == SIGKILL, "child not killed");
    CHECK(cgroup_is_frozen(cg, &frozen, &err) == 0 && !frozen, "left frozen");
    destroy(cg);
    CHECK(access(dir, F_OK) < 0, "%s left behind", dir);
    free(spec);
}

/* A host whose /sys/fs/cgroup is cgroup2 with the memory and pids controllers (the test VM,
 * tests/vm/): the v2 paths of every operation with real controllers, OOM events through
 * inotify on memory.events included. */
static void real_v2_host(void **state)
{
    char *controllers = slurp(CG_ROOT, "cgroup.subtree_control");
    bool ok = geteuid() == 0 && controllers && cgroup_list_has(controllers, "memory") &&
              cgroup_list_has(controllers, "pids") && !has_v1("memory");
    free(controllers);
    if (!ok) {
        fprintf(stderr, "SKIP real v2 host: needs root and a cgroup2 /sys/fs/cgroup with memory "
                        "and pids enabled (the test VM has them)\n");
        skip();
    }
    char path[64];
    snprintf(path, sizeof(path), "/ctr-unittest-%d-v2host", (int)getpid());
    struct ctr_spec *spec = new_spec(path);
    struct spec_resources *r = &spec->linux_.resources;
    r->memory.limit = (opt_int64){true, 64 << 20};
    r->pids_limit = (opt_int64){true, 40};
    struct cgroup *cg = create(spec);
    const char *dir = cg->hierarchies[0].dir;
    struct family f = run_family(cg, 4);
    ctr_error *err = NULL;

    bool frozen = false;
    CHECK(cgroup_freeze(cg, true, &err) == 0, "%s", message(err));
    CHECK(cgroup_is_frozen(cg, &frozen, &err) == 0 && frozen, "not frozen");
    CHECK(cgroup_freeze(cg, false, &err) == 0, "%s", message(err));

    json_t *stats = stats_of(cg);
    CHECK(stat_at(stats, "memory", "usage", "limit") == 64 << 20, "memory limit");
    CHECK(stat_at(stats, "memory", "usage", "usage") >= 4 << 20, "memory usage");
    CHECK(stat_at(stats, "pids", "current", NULL) == 2, "pids.current");
    CHECK(stat_at(stats, "pids", "limit", NULL) == 40, "pids.limit");
    stat_at(stats, "cpu", "usage", "total");
    json_decref(stats);

    struct spec_resources u = {.pids_limit = {true, 30}, .memory.limit = {true, 96 << 20},
                               .cpu.cpus = "4096"};
    update_fails(cg, &u, "cpuset.cpus", true);
    CHECK(file_is(dir, "pids.max", "40") && file_is(dir, "memory.max", "67108864"),
          "not restored");
    u = (struct spec_resources){
        .memory = {.limit = {true, 1 << 20}, .check_before_update = {true, true}}};
    update_fails(cg, &u, "below the current usage", false);
    u = (struct spec_resources){.memory.limit = {true, 16 << 20}};
    update_ok(cg, &u);
    CHECK(file_is(dir, "memory.max", "16777216"), "memory.max");

    CHECK(cgroup_signal_all(cg, SIGKILL, &err) == 0, "%s", message(err));
    CHECK(reap(f.child) == SIGKILL, "child not killed");
    real_oom(cg);
    destroy(cg);
    free(spec);
}

static void real_pure_v2(void **state)
{
    if (geteuid() != 0) {
        fprintf(stderr, "SKIP pure cgroup v2 operations: needs root\n");
        skip();
    }
    char path[64];
    snprintf(path, sizeof(path), "/ctr-unittest-%d-v2ops", (int)getpid());
    run_v2_child(path);
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
        cmocka_unit_test(real_systemd_refused),
        cmocka_unit_test_teardown(real_hybrid_ops, teardown),
        cmocka_unit_test_teardown(real_kill_paused, teardown),
        cmocka_unit_test_teardown(real_oom_v1, teardown),
        cmocka_unit_test_teardown(real_destroy_from_state, teardown),
        cmocka_unit_test_teardown(real_v2_host, teardown),
        cmocka_unit_test(real_pure_v2),
        cmocka_unit_test(no_leftovers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
