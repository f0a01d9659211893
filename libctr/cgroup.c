/* The container's cgroup across every hierarchy of the host: which hierarchy serves each group of
 * linux.resources, and the create / destroy sequence. Where the hierarchies are and the
 * container's path in them is cgroup_layout.c's business; what is written into the control files
 * is cgroup_v1.c's and cgroup_v2.c's, but for the resources both write alike (here); how a
 * process gets in is cgroup_join.c's.
 */
#include "cgroup_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* ---- control files --------------------------------------------------------------------------- */

int cgroup_write(const char *dir, const char *file, const char *value, const char *field,
                 ctr_error **err)
{
    const char *sep = field ? ": " : "";
    field = field ? field : "";
    _cleanup_free_ char *path = NULL;
    if (asprintf(&path, "%s/%s", dir, file) < 0)
        return error_set(err, ENOMEM, "%s%swrite %s", field, sep, file);
    _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
    /* A resource's file missing means the kernel or host lacks the feature: say so. */
    if (fd < 0 && errno == ENOENT && sep[0] != '\0')
        return error_set(err, ENOENT, "%s%snot supported by this kernel or host: open %s", field,
                         sep, path);
    if (fd < 0)
        return error_set(err, errno, "%s%sopen %s", field, sep, path);
    /* Control files take one value per write(2): no buffering, no partial writes. */
    size_t len = strlen(value);
    ssize_t w;
    do
        w = write(fd, value, len);
    while (w < 0 && errno == EINTR);
    if (w < 0)
        return error_set(err, errno, "%s%swrite \"%s\" to %s", field, sep, value, path);
    if ((size_t)w != len)
        return error_set(err, EIO, "%s%sshort write of \"%s\" to %s", field, sep, value, path);
    return 0;
}

int cgroup_read(const char *dir, const char *file, char **out, ctr_error **err)
{
    _cleanup_free_ char *path = NULL;
    if (asprintf(&path, "%s/%s", dir, file) < 0)
        return error_set(err, ENOMEM, "read %s", file);
    return read_file_at(AT_FDCWD, path, out, NULL, err);
}

int cgroup_read_u64(const char *dir, const char *file, uint64_t *value, ctr_error **err)
{
    _cleanup_free_ char *text = NULL;
    if (cgroup_read(dir, file, &text, err) < 0)
        return -1;
    char *end = NULL;
    errno = 0;
    /* "max" (v2's no limit) reads as the largest value, as runc reports it. */
    if (strncmp(text, "max", 3) == 0) {
        *value = UINT64_MAX;
        return 0;
    }
    *value = strtoull(text, &end, 10);
    if (end == text || errno != 0)
        return error_set(err, EINVAL, "%s/%s: expected a number, got `%.32s`", dir, file, text);
    return 0;
}

const char *cgroup_find_line(const char *text, const char *key)
{
    size_t n = strlen(key);
    for (const char *line = text; line != NULL;) {
        if (strncmp(line, key, n) == 0 && line[n] == ' ')
            return line;
        line = strchr(line, '\n');
        line = line ? line + 1 : NULL;
    }
    return NULL;
}

int cgroup_parse_keyed(const char *text, const char *key, uint64_t *value)
{
    const char *line = cgroup_find_line(text, key);
    if (line == NULL)
        return -1;
    const char *number = line + strlen(key) + 1;
    char *end = NULL;
    *value = strtoull(number, &end, 10);
    return end == number ? -1 : 0;
}

int cgroup_read_keyed(const char *dir, const char *file, const char *key, uint64_t *value,
                      ctr_error **err)
{
    _cleanup_free_ char *text = NULL;
    if (cgroup_read(dir, file, &text, err) < 0)
        return -1;
    if (cgroup_parse_keyed(text, key, value) < 0)
        return error_set(err, ENOENT, "%s/%s has no `%s` line", dir, file, key);
    return 0;
}

bool cgroup_has_file(const char *dir, const char *file)
{
    _cleanup_free_ char *path = NULL;
    return asprintf(&path, "%s/%s", dir, file) >= 0 && access(path, F_OK) == 0;
}

bool cgroup_list_has(const char *list, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = list; p && *p;) {
        p += strspn(p, " ,\t\n");
        size_t len = strcspn(p, " ,\t\n");
        if (len == n && strncmp(p, word, n) == 0)
            return true;
        p += len;
    }
    return false;
}

int cgroup_each_child(const char *dir,
                      int (*fn)(const char *sub, const void *data, ctr_error **err),
                      const void *data, const char *what, ctr_error **err)
{
    _cleanup_closedir_ DIR *d = opendir(dir);
    for (struct dirent *de; d && (de = readdir(d)) != NULL;) {
        if (de->d_type != DT_DIR || strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        _cleanup_free_ char *sub = NULL;
        if (asprintf(&sub, "%s/%s", dir, de->d_name) < 0)
            return error_set(err, ENOMEM, "%s %s", what, dir);
        if (fn(sub, data, err) < 0)
            return -1;
    }
    return 0;
}

struct procs_walk {
    int (*visit)(const char *cgroup_dir, pid_t pid, void *data, ctr_error **err);
    void *data;
    const char *what;
};

static int walk_procs(const char *dir, const void *walk, ctr_error **err)
{
    const struct procs_walk *w = walk;
    _cleanup_free_ char *procs = NULL;
    ctr_error *e = NULL;
    if (cgroup_read(dir, "cgroup.procs", &procs, &e) < 0) {
        if (ctr_error_code(e) == ENOENT) { /* removed while we walked */
            ctr_error_free(e);
            return 0;
        }
        return error_pass(err, e);
    }
    for (char *p = procs, *end; *p; p = end) {
        long pid = strtol(p, &end, 10);
        if (end == p)
            break;
        if (w->visit(dir, (pid_t)pid, w->data, err) < 0)
            return -1;
    }
    return cgroup_each_child(dir, walk_procs, walk, w->what, err);
}

int cgroup_walk_procs(const char *dir,
                      int (*visit)(const char *cgroup_dir, pid_t pid, void *data, ctr_error **err),
                      void *data, const char *what, ctr_error **err)
{
    struct procs_walk walk = {visit, data, what};
    return walk_procs(dir, &walk, err);
}

/* ---- which hierarchy serves which resource --------------------------------------------------- */

static const struct {
    const char *v1, *v2; /* v2 NULL: cgroup v2 has no such controller */
} controller_names[CGROUP_CTRL_COUNT] = {
    [CGROUP_CTRL_DEVICES] = {"devices", NULL},      [CGROUP_CTRL_MEMORY] = {"memory", "memory"},
    [CGROUP_CTRL_PIDS] = {"pids", "pids"},          [CGROUP_CTRL_CPU] = {"cpu", "cpu"},
    [CGROUP_CTRL_CPUSET] = {"cpuset", "cpuset"},    [CGROUP_CTRL_BLKIO] = {"blkio", "io"},
    [CGROUP_CTRL_HUGETLB] = {"hugetlb", "hugetlb"}, [CGROUP_CTRL_NET_CLS] = {"net_cls", NULL},
    [CGROUP_CTRL_NET_PRIO] = {"net_prio", NULL},    [CGROUP_CTRL_RDMA] = {"rdma", "rdma"},
};

void cgroup_plan_free(struct cgroup_plan *plan)
{
    free(plan->available);
    for (size_t i = 0; i < plan->enable_count; i++)
        free(plan->enable[i]);
}

struct cgroup_hierarchy *cgroup_find_v1(const struct cgroup *cg, const char *controller)
{
    for (size_t i = 0; i < cg->count; i++)
        if (!cg->hierarchies[i].v2 && cgroup_list_has(cg->hierarchies[i].controllers, controller))
            return &cg->hierarchies[i];
    return NULL;
}

struct cgroup_hierarchy *cgroup_find_v2(const struct cgroup *cg)
{
    for (size_t i = 0; i < cg->count; i++)
        if (cg->hierarchies[i].v2)
            return &cg->hierarchies[i];
    return NULL;
}

static int plan_enable(struct cgroup_plan *plan, const char *name, size_t len, ctr_error **err)
{
    for (size_t i = 0; i < plan->enable_count; i++)
        if (strlen(plan->enable[i]) == len && strncmp(plan->enable[i], name, len) == 0)
            return 0;
    if (plan->enable_count == ARRAY_SIZE(plan->enable))
        return error_set(err, E2BIG, "linux.resources: too many cgroup v2 controllers");
    if ((plan->enable[plan->enable_count] = strndup(name, len)) == NULL)
        return error_set(err, ENOMEM, "linux.resources");
    plan->enable_count++;
    return 0;
}

static int unavailable(const struct cgroup *cg, const struct cgroup_plan *plan, const char *field,
                       enum cgroup_controller c, ctr_error **err)
{
    const char *v1 = controller_names[c].v1, *v2 = controller_names[c].v2;
    if (cg->layout == CGROUP_LAYOUT_V2 && v2 == NULL)
        return error_set(err, EOPNOTSUPP, "%s: cgroup v2 has no `%s` controller (cgroup v1 only)",
                         field, v1);
    if (cg->layout == CGROUP_LAYOUT_V2)
        return error_set(err, EOPNOTSUPP,
                         "%s: the cgroup v2 controller `%s` is not available in %s "
                         "(cgroup.controllers: %s)",
                         field, v2, plan->v2->mount_point, plan->available);
    if (plan->v2 != NULL && v2 != NULL)
        return error_set(err, EOPNOTSUPP,
                         "%s: no cgroup v1 hierarchy has the `%s` controller, and the cgroup v2 "
                         "tree at %s does not offer `%s` (cgroup.controllers: %s)",
                         field, v1, plan->v2->mount_point, v2, plan->available);
    return error_set(err, EOPNOTSUPP,
                     "%s: the `%s` controller is not available: no cgroup hierarchy has it mounted",
                     field, v1);
}

/* unified keys are file names of the v2 cgroup; the part before the first dot is the controller
 * that must be enabled for the file to exist ("cgroup." files are always there). */
static int plan_unified(struct cgroup_plan *plan, const struct spec_resources *res, ctr_error **err)
{
    if (res->unified_count > 0 && plan->v2 == NULL)
        return error_set(err, EOPNOTSUPP,
                         "linux.resources.unified: needs cgroup v2, and this host has only v1");
    for (size_t i = 0; i < res->unified_count; i++) {
        const char *key = res->unified[i].key;
        /* A path separator (or a dot-only name) could reach a file outside the cgroup. */
        if (key == NULL || strchr(key, '/') || strchr(key, '.') == NULL || key[0] == '.')
            return error_set(err, EINVAL, "linux.resources.unified[\"%s\"]: not a cgroup file name",
                             key ? key : "");
        size_t len = strcspn(key, ".");
        if (len == 6 && strncmp(key, "cgroup", 6) == 0)
            continue;
        _cleanup_free_ char *controller = strndup(key, len);
        if (controller == NULL)
            return error_set(err, ENOMEM, "linux.resources.unified");
        if (!cgroup_list_has(plan->available, controller))
            return error_set(err, EOPNOTSUPP,
                             "linux.resources.unified[\"%s\"]: the cgroup v2 controller `%s` is "
                             "not available in %s (cgroup.controllers: %s)",
                             key, controller, plan->v2->mount_point, plan->available);
        if (plan_enable(plan, key, len, err) < 0)
            return -1;
    }
    return 0;
}

/* Decides, before anything is created, which hierarchy serves each resource, so that a resource
 * no hierarchy can serve fails the create cleanly. On hybrid hosts a controller missing from v1
 * may be served by the v2 tree (hugetlb on the machine this was written on). */
int cgroup_plan_resources(const struct cgroup *cg, const struct spec_resources *res,
                          struct cgroup_plan *plan, ctr_error **err)
{
    plan->v2 = cgroup_find_v2(cg);
    if (plan->v2 != NULL &&
        cgroup_read(plan->v2->mount_point, "cgroup.controllers", &plan->available, err) < 0)
        return -1;
    if (plan->available != NULL)
        plan->available[strcspn(plan->available, "\n")] = '\0';

    for (int c = 0; c < CGROUP_CTRL_COUNT; c++) {
        const char *field = cgroup_resource_needs(res, c);
        struct cgroup_hierarchy *v1 = cgroup_find_v1(cg, controller_names[c].v1);
        if (c == CGROUP_CTRL_DEVICES) {
            /* The allow-list (with the devices every container gets) is enforced even when the
             * config lists no rule: by v1's devices controller where there is one, else by an
             * eBPF filter on the v2 cgroup, which needs no controller. */
            if (v1 != NULL)
                plan->target[c] = v1;
            else if (plan->v2 != NULL)
                plan->target[c] = plan->v2;
            else if (field != NULL)
                return unavailable(cg, plan, field, c, err);
            continue;
        }
        if (field == NULL)
            continue;
        const char *v2name = controller_names[c].v2;
        if (v1 != NULL) {
            plan->target[c] = v1;
        } else if (plan->v2 && v2name && cgroup_list_has(plan->available, v2name)) {
            plan->target[c] = plan->v2;
            if (plan_enable(plan, v2name, strlen(v2name), err) < 0)
                return -1;
        } else {
            return unavailable(cg, plan, field, c, err);
        }
    }
    return plan_unified(plan, res, err);
}

/* ---- creating and removing the directories --------------------------------------------------- */

static size_t path_depth(const char *path)
{
    size_t n = 0;
    for (const char *p = path; *p; p++)
        n += *p == '/';
    return n;
}

/* mkdir -p of h->dir, recording in h->created_levels how many trailing levels are ours. */
static int make_dirs(struct cgroup_hierarchy *h, const char *path, ctr_error **err)
{
    size_t depth = path_depth(path), base = strlen(h->mount_point);
    /* A concurrent destroy may remove a parent we found (ENOENT on the child): start over. */
    for (int attempt = 0;; attempt++) {
        ssize_t first_created = -1;
        size_t level = 0;
        for (const char *p = h->dir + base; *p; level++) {
            const char *next = strchr(p + 1, '/');
            _cleanup_free_ char *dir =
                strndup(h->dir, next ? (size_t)(next - h->dir) : strlen(h->dir));
            if (dir == NULL)
                return error_set(err, ENOMEM, "mkdir %s", h->dir);
            if (mkdir(dir, 0755) == 0) {
                if (first_created < 0)
                    first_created = (ssize_t)level;
                h->created_levels = (unsigned)(depth - (size_t)first_created);
            } else if (errno == ENOENT && level > 0 && first_created < 0 && attempt < 3) {
                break;
            } else if (errno != EEXIST || first_created >= 0) {
                /* EEXIST below a level we just made means someone raced us for this path. */
                return error_set(err, errno, "mkdir %s", dir);
            }
            p = next ? next : p + strlen(p);
        }
        if (level == depth)
            break;
    }
    if (h->created_levels > 0)
        return 0;
    /* An existing cgroup is taken only when empty: otherwise destroy would kill strangers. */
    _cleanup_free_ char *procs = NULL;
    if (cgroup_read(h->dir, "cgroup.procs", &procs, err) < 0)
        return -1;
    if (procs[0] != '\0')
        return error_set(err, EBUSY, "cgroup %s already exists and has processes", h->dir);
    return 0;
}

/* ---- the public calls ------------------------------------------------------------------------ */

void cgroup_free(struct cgroup *cgroup)
{
    if (cgroup == NULL)
        return;
    if (cgroup->v2_dir_fd >= 0)
        close(cgroup->v2_dir_fd);
    cgroup_hierarchies_free(cgroup->hierarchies, cgroup->count);
    free(cgroup->path);
    free(cgroup);
}

int cgroup_apply(struct cgroup_journal *journal, const struct cgroup_hierarchy *h,
                 enum cgroup_controller c, const struct spec_resources *res, ctr_error **err)
{
    if (h->v2)
        return cgroup_v2_apply(journal, h->dir, c, res, err);
    return cgroup_v1_apply(journal, h->dir, c, res, err);
}

int cgroup_apply_rdma(struct cgroup_journal *journal, const char *dir,
                      const struct spec_resources *res, ctr_error **err)
{
    char field[FIELD_MAX], line[160], reset[160];
    for (size_t i = 0; i < res->rdma_count; i++) {
        snprintf(field, sizeof(field), "linux.resources.rdma[%zu]", i);
        snprintf(reset, sizeof(reset), "%s hca_handle=max hca_object=max", res->rdma[i].device);
        if (cgroup_rdma_line(&res->rdma[i], line, sizeof(line), err) < 0 ||
            cgroup_set_keyed(journal, dir, "rdma.max", res->rdma[i].device, line, reset, field,
                             err) < 0)
            return -1;
    }
    return 0;
}

int cgroup_apply_hugetlb(struct cgroup_journal *journal, const char *dir,
                         const struct spec_resources *res, const char *limit, ctr_error **err)
{
    char field[FIELD_MAX], file[64], text[24];
    for (size_t i = 0; i < res->hugepage_limits_count; i++) {
        const struct spec_hugepage_limit *l = &res->hugepage_limits[i];
        snprintf(field, sizeof(field), "linux.resources.hugepageLimits[%zu]", i);
        if (!cgroup_valid_page_size(l->page_size))
            return error_set(err, EINVAL, "%s: invalid pageSize `%s`", field,
                             l->page_size ? l->page_size : "");
        snprintf(file, sizeof(file), "hugetlb.%s.%s", l->page_size, limit);
        snprintf(text, sizeof(text), "%" PRIu64, l->limit);
        if (!cgroup_unified_sets(res, file) &&
            cgroup_set(journal, dir, file, text, field, err) < 0)
            return -1;
        /* Since 5.7 reservations (mmap without faulting the pages in yet) have a limit of their
         * own: without the same value there, a process could reserve past the limit and be
         * killed by SIGBUS at fault time instead of failing mmap. */
        snprintf(file, sizeof(file), "hugetlb.%s.rsvd.%s", l->page_size, limit);
        if (cgroup_has_file(dir, file) && !cgroup_unified_sets(res, file) &&
            cgroup_set(journal, dir, file, text, field, err) < 0)
            return -1;
    }
    return 0;
}

static int setup(struct cgroup *cg, const struct spec_resources *res, ctr_error **err)
{
    _cleanup_(cgroup_plan_free) struct cgroup_plan plan = {0};
    if (cgroup_plan_resources(cg, res, &plan, err) < 0)
        return -1;
    for (size_t i = 0; i < cg->count; i++)
        if (make_dirs(&cg->hierarchies[i], cg->path, err) < 0)
            return -1;
    /* A new v1 cpuset cgroup has no CPU and no memory node: nothing could join it (ENOSPC). */
    struct cgroup_hierarchy *cpuset = cgroup_find_v1(cg, "cpuset");
    if (cpuset && cgroup_v1_cpuset_fill(cpuset->mount_point, cg->path, err) < 0)
        return -1;
    if (plan.v2 != NULL &&
        cgroup_v2_enable(plan.v2->mount_point, cg->path, (const char *const *)plan.enable,
                         plan.enable_count, plan.available, err) < 0)
        return -1;
    for (int c = 0; c < CGROUP_CTRL_COUNT; c++)
        if (plan.target[c] && cgroup_apply(NULL, plan.target[c], c, res, err) < 0)
            return -1;
    if (res->unified_count > 0 && cgroup_v2_apply_unified(NULL, plan.v2->dir, res, err) < 0)
        return -1;
    /* For clone3's CLONE_INTO_CGROUP (cgroup_join.c), on a hybrid host's v2 tree as well. */
    if (plan.v2 != NULL) {
        cg->v2_dir_fd = open(plan.v2->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (cg->v2_dir_fd < 0)
            return error_set(err, errno, "open %s", plan.v2->dir);
    }
    return 0;
}

/* What sd_booted() checks: systemd creates /run/systemd/system when it runs as PID 1. */
static int check_systemd_is_init(const char *cgroups_path, ctr_error **err)
{
    struct stat st;
    if (stat("/run/systemd/system", &st) == 0 && S_ISDIR(st.st_mode))
        return 0;
    _cleanup_free_ char *comm = NULL;
    if (read_file_at(AT_FDCWD, "/proc/1/comm", &comm, NULL, NULL) == 0)
        comm[strcspn(comm, "\n")] = '\0';
    const char *what = cgroups_path && *cgroups_path ? cgroups_path : "(absent)";
    return error_set(err, EOPNOTSUPP,
                     "linux.cgroupsPath %s: the systemd cgroup driver (--systemd-cgroup) needs "
                     "systemd as PID 1, and PID 1 here is `%s` (no /run/systemd/system); use the "
                     "cgroupfs driver (a path such as /ctr/NAME)",
                     what, comm ? comm : "?");
}

int cgroup_create(const struct ctr_spec *spec, const char *id, struct cgroup **out, ctr_error **err)
{
    return cgroup_create_with(spec, id, NULL, out, err);
}

int cgroup_create_with(const struct ctr_spec *spec, const char *id,
                       const struct cgroup_options *options, struct cgroup **out, ctr_error **err)
{
    bool systemd = options != NULL && options->systemd;
    static const struct spec_resources no_resources;
    const struct spec_resources *res = &no_resources;
    const char *cgroups_path = NULL;
    if (spec != NULL && spec->has_linux) {
        cgroups_path = spec->linux_.cgroups_path;
        if (spec->linux_.has_resources)
            res = &spec->linux_.resources;
    }

    _cleanup_(cgroup_freep) struct cgroup *cg = calloc(1, sizeof(*cg));
    if (cg == NULL)
        return error_set(err, ENOMEM, "create cgroup");
    cg->v2_dir_fd = -1;
    /* With systemd as PID 1 the cgroup goes where systemd puts the scope, made through the
     * cgroup filesystem like every other: systemd is not asked over D-Bus for a transient unit
     * (libctr has no D-Bus client), so it sees a delegated subtree it did not make. */
    if (systemd ? cgroup_resolve_systemd_path(cgroups_path, id, &cg->path, err) < 0 ||
                      check_systemd_is_init(cgroups_path, err) < 0
                : cgroup_resolve_path(cgroups_path, id, &cg->path, err) < 0)
        return -1;
    if (cgroup_parse_mountinfo("/proc/self/mountinfo", &cg->layout, &cg->hierarchies, &cg->count,
                               err) < 0)
        return -1;
    for (size_t i = 0; i < cg->count; i++)
        if (asprintf(&cg->hierarchies[i].dir, "%s%s", cg->hierarchies[i].mount_point, cg->path) < 0)
            return error_set(err, ENOMEM, "create cgroup %s", cg->path);

    if (setup(cg, res, err) < 0) {
        /* Nothing has joined yet: only the directories we made go, at once. */
        for (size_t i = 0; i < cg->count; i++)
            cgroup_remove_created(&cg->hierarchies[i], NULL, NULL);
        return error_wrap(err, "cgroup %s", cg->path);
    }
    *out = steal_pointer(&cg);
    return 0;
}

/* Keeps the first failure in *err and drops the later ones: destroy goes on regardless. */
static void keep_first(int *ret, ctr_error **err, ctr_error *e)
{
    if (*ret == 0)
        error_pass(err, e);
    else
        ctr_error_free(e);
    *ret = -1;
}

int cgroup_destroy(struct cgroup *cgroup, ctr_error **err)
{
    _cleanup_(cgroup_freep) struct cgroup *cg = cgroup;
    if (cg == NULL)
        return 0;
    struct timespec deadline;
    cgroup_deadline_in(&deadline, CGROUP_DESTROY_TIMEOUT_MS);
    int ret = 0;
    ctr_error *e = NULL;

    /* A frozen v1 task does not die before it is thawed: a paused container is thawed first
     * (v2's cgroup.kill kills frozen tasks too, but thawing costs nothing there). */
    for (size_t i = 0; i < cg->count; i++) {
        struct cgroup_hierarchy *h = &cg->hierarchies[i];
        /* Best effort: a kernel without cgroup.freeze (before 5.2) has nothing frozen. */
        if (!h->v2 && cgroup_list_has(h->controllers, "freezer"))
            cgroup_write(h->dir, "freezer.state", "THAWED", NULL, NULL);
        else if (h->v2)
            cgroup_write(h->dir, "cgroup.freeze", "0", NULL, NULL);
    }
    /* v2 (and the v2 tree of a hybrid host) kills the whole subtree in one write, race-free
     * against forks; the v1 loop below then finds nothing left. No cgroup.kill (before 5.14, or
     * the cgroup is gone): that loop does it. */
    for (size_t i = 0; i < cg->count; i++) {
        struct cgroup_hierarchy *h = &cg->hierarchies[i];
        if (!h->v2)
            continue;
        if (cgroup_write(h->dir, "cgroup.kill", "1", NULL, &e) < 0) {
            if (ctr_error_code(e) == ENOENT)
                ctr_error_free(steal_pointer(&e));
            else
                keep_first(&ret, err, steal_pointer(&e));
        } else if (cgroup_v2_wait_empty(h->dir, &deadline, &e) < 0) {
            keep_first(&ret, err, steal_pointer(&e));
        }
    }
    for (size_t i = 0; i < cg->count; i++)
        if (cgroup_kill_all(cg->hierarchies[i].dir, &deadline, &e) < 0)
            keep_first(&ret, err, steal_pointer(&e));
    for (size_t i = 0; i < cg->count; i++)
        if (cgroup_remove_created(&cg->hierarchies[i], &deadline, &e) < 0)
            keep_first(&ret, err, steal_pointer(&e));
    if (ret < 0)
        error_wrap(err, "destroy cgroup %s", cg->path);
    return ret;
}
