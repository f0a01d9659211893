/* The container's cgroup across every hierarchy of the host: which hierarchies there are (from
 * mountinfo, through libmount), where the container's directory goes, which hierarchy serves each
 * group of linux.resources, and the create / enter / destroy sequence. What is written into the
 * control files is the business of cgroup_v1.c and cgroup_v2.c.
 */
#include "cgroup_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <libmount/libmount.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* ---- detection ------------------------------------------------------------------------------- */

struct mount_row {
    int id, parent;
    dev_t devno;
    const char *target, *root, *fstype, *fs_options; /* owned by the libmount table */
};

static void cleanup_tablep(struct libmnt_table **tb)
{
    mnt_unref_table(*tb);
}

static void cleanup_iterp(struct libmnt_iter **it)
{
    mnt_free_iter(*it);
}

/* Whether `top` is `path` or a directory above it. */
static bool path_at_or_below(const char *path, const char *top)
{
    size_t n = strlen(top);
    if (strcmp(top, "/") == 0)
        return true;
    return strncmp(path, top, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

static bool in_parent_chain(const struct mount_row *rows, size_t n, size_t i, int id)
{
    int cur = rows[i].parent;
    /* Bounded by the table size, so a malformed file with a parent loop cannot hang us. */
    for (size_t steps = 0; steps <= n; steps++) {
        if (cur == id)
            return true;
        const struct mount_row *p = NULL;
        for (size_t k = 0; k < n && p == NULL; k++)
            if (rows[k].id == cur)
                p = &rows[k];
        if (p == NULL || p->parent == p->id)
            return false;
        cur = p->parent;
    }
    return false;
}

/* A mount is hidden when another one sits on its mount point or on a directory above it without
 * being one it is itself mounted on: e.g. a cgroup2 mounted over the /sys/fs/cgroup tmpfs hides
 * the v1 hierarchies (and the tmpfs) below it, yet all of them stay in mountinfo. */
static bool is_hidden(const struct mount_row *rows, size_t n, size_t i)
{
    for (size_t j = 0; j < n; j++)
        if (j != i && path_at_or_below(rows[i].target, rows[j].target) &&
            !in_parent_chain(rows, n, i, rows[j].id))
            return true;
    return false;
}

/* The v1 super options that name the hierarchy ("cpu,cpuacct", "name=systemd"), without the
 * flags that any hierarchy may carry. */
static char *v1_controllers(const char *fs_options)
{
    static const char *const flags[] = {
        "rw",  "ro",   "noprefix",       "clone_children", "xattr",
        "all", "none", "cpuset_v2_mode", "favordynmods",   "nofavordynmods"};
    _cleanup_free_ char *copy = strdup(fs_options ? fs_options : "");
    _cleanup_free_ char *out = calloc(1, strlen(fs_options ? fs_options : "") + 1);
    if (copy == NULL || out == NULL)
        return NULL;
    char *cursor = copy, *name, *value;
    size_t namesz, valuesz;
    while (mnt_optstr_next_option(&cursor, &name, &namesz, &value, &valuesz) == 0) {
        bool keep = true;
        if (value != NULL) /* release_agent=... and the like; only name= names a hierarchy */
            keep = namesz == 4 && strncmp(name, "name", 4) == 0;
        for (size_t k = 0; keep && k < ARRAY_SIZE(flags); k++)
            if (strlen(flags[k]) == namesz && strncmp(name, flags[k], namesz) == 0)
                keep = false;
        if (!keep)
            continue;
        size_t len = value ? (size_t)(value - name) + valuesz : namesz;
        if (out[0] != '\0')
            strcat(out, ",");
        strncat(out, name, len);
    }
    return out[0] ? steal_pointer(&out) : NULL;
}

static char *hierarchy_name(const char *mount_point)
{
    size_t n = strlen(CGROUP_FS_ROOT);
    if (strcmp(mount_point, CGROUP_FS_ROOT) == 0)
        return strdup("");
    if (strncmp(mount_point, CGROUP_FS_ROOT "/", n + 1) == 0)
        return strdup(mount_point + n + 1);
    const char *slash = strrchr(mount_point, '/');
    return strdup(slash ? slash + 1 : mount_point);
}

void cgroup_hierarchies_free(struct cgroup_hierarchy *hierarchies, size_t count)
{
    for (size_t i = 0; hierarchies && i < count; i++) {
        free(hierarchies[i].mount_point);
        free(hierarchies[i].name);
        free(hierarchies[i].controllers);
        free(hierarchies[i].dir);
    }
    free(hierarchies);
}

/* Of two mounts of one hierarchy, the one where tools look for it (under /sys/fs/cgroup), then
 * the one showing its whole tree (root "/"), is the one to use. */
static int mount_preference(const struct mount_row *row)
{
    return (path_at_or_below(row->target, CGROUP_FS_ROOT) ? 2 : 0) +
           (strcmp(row->root, "/") == 0 ? 1 : 0);
}

static int read_mounts(struct libmnt_table *tb, struct mount_row **rows, size_t *n, ctr_error **err)
{
    _cleanup_(cleanup_iterp) struct libmnt_iter *it = mnt_new_iter(MNT_ITER_FORWARD);
    size_t cap = (size_t)mnt_table_get_nents(tb);
    *rows = calloc(cap ? cap : 1, sizeof(**rows));
    if (it == NULL || *rows == NULL)
        return error_set(err, ENOMEM, "read mount table");
    struct libmnt_fs *fs;
    *n = 0;
    while (*n < cap && mnt_table_next_fs(tb, it, &fs) == 0) {
        struct mount_row *r = &(*rows)[(*n)++];
        r->id = mnt_fs_get_id(fs);
        r->parent = mnt_fs_get_parent_id(fs);
        r->devno = mnt_fs_get_devno(fs);
        r->target = mnt_fs_get_target(fs) ? mnt_fs_get_target(fs) : "";
        r->root = mnt_fs_get_root(fs) ? mnt_fs_get_root(fs) : "/";
        r->fstype = mnt_fs_get_fstype(fs) ? mnt_fs_get_fstype(fs) : "";
        r->fs_options = mnt_fs_get_fs_options(fs);
    }
    return 0;
}

int cgroup_parse_mountinfo(const char *mountinfo, enum cgroup_layout *layout,
                           struct cgroup_hierarchy **hierarchies, size_t *count, ctr_error **err)
{
    _cleanup_(cleanup_tablep) struct libmnt_table *tb = mnt_new_table();
    if (tb == NULL)
        return error_set(err, ENOMEM, "parse `%s`", mountinfo);
    int r = mnt_table_parse_file(tb, mountinfo);
    if (r < 0)
        return error_set(err, -r, "parse `%s`", mountinfo);
    _cleanup_free_ struct mount_row *rows = NULL;
    size_t n = 0;
    if (read_mounts(tb, &rows, &n, err) < 0)
        return -1;

    /* Visible cgroup mounts, one per hierarchy: a hierarchy mounted twice has one superblock,
     * hence one device number. */
    _cleanup_free_ size_t *picked = calloc(n ? n : 1, sizeof(*picked));
    if (picked == NULL)
        return error_set(err, ENOMEM, "parse `%s`", mountinfo);
    size_t npicked = 0, nv1 = 0, nv2 = 0;
    for (size_t i = 0; i < n; i++) {
        bool v2 = strcmp(rows[i].fstype, "cgroup2") == 0;
        if ((!v2 && strcmp(rows[i].fstype, "cgroup") != 0) || is_hidden(rows, n, i))
            continue;
        size_t k = 0;
        while (k < npicked && rows[picked[k]].devno != rows[i].devno)
            k++;
        if (k == npicked) {
            picked[npicked++] = i;
            *(v2 ? &nv2 : &nv1) += 1;
        } else if (mount_preference(&rows[i]) > mount_preference(&rows[picked[k]])) {
            picked[k] = i;
        }
    }
    ssize_t v2_at_root = -1;
    for (size_t k = 0; k < npicked; k++)
        if (strcmp(rows[picked[k]].fstype, "cgroup2") == 0 &&
            strcmp(rows[picked[k]].target, CGROUP_FS_ROOT) == 0)
            v2_at_root = (ssize_t)picked[k];

    /* /sys/fs/cgroup itself being cgroup2 makes a pure v2 host whatever else is mounted. */
    if (v2_at_root >= 0) {
        *layout = CGROUP_LAYOUT_V2;
        picked[0] = (size_t)v2_at_root;
        npicked = 1;
    } else if (nv1 > 0) {
        *layout = nv2 > 0 ? CGROUP_LAYOUT_HYBRID : CGROUP_LAYOUT_V1;
    } else if (nv2 > 0) {
        *layout = CGROUP_LAYOUT_V2;
        npicked = 1;
    } else {
        return error_set(err, ENOENT, "no cgroup filesystem is mounted (none in `%s`)", mountinfo);
    }

    struct cgroup_hierarchy *out = calloc(npicked, sizeof(*out));
    if (out == NULL)
        return error_set(err, ENOMEM, "parse `%s`", mountinfo);
    size_t used = 0;
    for (size_t k = 0; k < npicked; k++) {
        const struct mount_row *row = &rows[picked[k]];
        struct cgroup_hierarchy *h = &out[used];
        h->v2 = strcmp(row->fstype, "cgroup2") == 0;
        h->mount_point = strdup(row->target);
        h->name = hierarchy_name(row->target);
        if (!h->v2)
            h->controllers = v1_controllers(row->fs_options);
        if (h->mount_point == NULL || h->name == NULL) {
            cgroup_hierarchies_free(out, used + 1);
            return error_set(err, ENOMEM, "parse `%s`", mountinfo);
        }
        /* A v1 mount without a controller or a name is no hierarchy a process can be put in. */
        if (!h->v2 && h->controllers == NULL) {
            free(h->mount_point);
            free(h->name);
            memset(h, 0, sizeof(*h));
            continue;
        }
        used++;
    }
    *hierarchies = out;
    *count = used;
    return 0;
}

/* ---- the container's path -------------------------------------------------------------------- */

/* runc's systemd driver form, "system.slice:docker:abc": exactly two colons and no slash. */
static bool is_systemd_form(const char *path)
{
    size_t colons = 0;
    for (const char *p = path; *p; p++)
        colons += *p == ':';
    return colons == 2 && strchr(path, '/') == NULL;
}

int cgroup_resolve_path(const char *cgroups_path, const char *id, char **out, ctr_error **err)
{
    _cleanup_free_ char *joined = NULL;
    int n;
    if (cgroups_path == NULL || cgroups_path[0] == '\0') {
        if (id == NULL || id[0] == '\0' || strchr(id, '/') || strcmp(id, ".") == 0 ||
            strcmp(id, "..") == 0)
            return error_set(err, EINVAL, "container id `%s` cannot name a cgroup", id ? id : "");
        n = asprintf(&joined, CGROUP_DEFAULT_PARENT "/%s", id);
    } else if (cgroups_path[0] == '/') {
        n = asprintf(&joined, "%s", cgroups_path);
    } else if (is_systemd_form(cgroups_path)) {
        return error_set(err, EINVAL,
                         "linux.cgroupsPath `%s`: the systemd form slice:prefix:name needs the "
                         "systemd cgroup driver, which libctr does not have yet",
                         cgroups_path);
    } else {
        n = asprintf(&joined, CGROUP_DEFAULT_PARENT "/%s", cgroups_path);
    }
    if (n < 0)
        return error_set(err, ENOMEM, "linux.cgroupsPath");

    /* Normalise to "/a/b"; ".." could climb out of the hierarchy or into another's cgroup. */
    _cleanup_free_ char *norm = calloc(1, strlen(joined) + 2);
    if (norm == NULL)
        return error_set(err, ENOMEM, "linux.cgroupsPath");
    char *save = NULL;
    for (char *c = strtok_r(joined, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
        if (strcmp(c, "..") == 0)
            return error_set(err, EINVAL, "linux.cgroupsPath `%s`: `..` is not allowed",
                             cgroups_path);
        if (strcmp(c, ".") == 0)
            continue;
        strcat(norm, "/");
        strcat(norm, c);
    }
    if (norm[0] == '\0')
        return error_set(err, EINVAL,
                         "linux.cgroupsPath `%s` names the root cgroup; a container needs its own",
                         cgroups_path);
    *out = steal_pointer(&norm);
    return 0;
}

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

struct plan {
    struct cgroup_hierarchy *target[CGROUP_CTRL_COUNT]; /* NULL: nothing to write */
    struct cgroup_hierarchy *v2;                        /* the v2 tree, if any */
    char *available;                                    /* its root's cgroup.controllers */
    char *enable[32];                                   /* v2 controllers to enable */
    size_t enable_count;
};

static void plan_free(struct plan *plan)
{
    free(plan->available);
    for (size_t i = 0; i < plan->enable_count; i++)
        free(plan->enable[i]);
}

static struct cgroup_hierarchy *find_v1(struct cgroup *cg, const char *controller)
{
    for (size_t i = 0; i < cg->count; i++)
        if (!cg->hierarchies[i].v2 && cgroup_list_has(cg->hierarchies[i].controllers, controller))
            return &cg->hierarchies[i];
    return NULL;
}

static int plan_enable(struct plan *plan, const char *name, size_t len, ctr_error **err)
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

static int unavailable(const struct cgroup *cg, const struct plan *plan, const char *field,
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
static int plan_unified(struct plan *plan, const struct spec_resources *res, ctr_error **err)
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
static int plan_resources(struct cgroup *cg, const struct spec_resources *res, struct plan *plan,
                          ctr_error **err)
{
    for (size_t i = 0; i < cg->count; i++)
        if (cg->hierarchies[i].v2)
            plan->v2 = &cg->hierarchies[i];
    if (plan->v2 != NULL &&
        cgroup_read(plan->v2->mount_point, "cgroup.controllers", &plan->available, err) < 0)
        return -1;
    if (plan->available != NULL)
        plan->available[strcspn(plan->available, "\n")] = '\0';

    for (int c = 0; c < CGROUP_CTRL_COUNT; c++) {
        const char *field = cgroup_resource_needs(res, c);
        struct cgroup_hierarchy *v1 = find_v1(cg, controller_names[c].v1);
        if (c == CGROUP_CTRL_DEVICES) {
            /* On v1 the allow-list (with the devices every container gets) is enforced even
             * when the config lists no rule; on v2 the eBPF filter does it, elsewhere. */
            if (v1 != NULL)
                plan->target[c] = v1;
            else if (field != NULL && cg->layout != CGROUP_LAYOUT_V2)
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
                h->created = true;
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
    if (h->created)
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

static void cgroup_freep(struct cgroup **cg)
{
    cgroup_free(*cg);
}

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

static void deadline_in(struct timespec *deadline, int ms)
{
    clock_gettime(CLOCK_MONOTONIC, deadline);
    deadline->tv_sec += ms / 1000;
    deadline->tv_nsec += (long)(ms % 1000) * 1000000;
    if (deadline->tv_nsec >= 1000000000) {
        deadline->tv_sec++;
        deadline->tv_nsec -= 1000000000;
    }
}

static int setup(struct cgroup *cg, const struct spec_resources *res, ctr_error **err)
{
    _cleanup_(plan_free) struct plan plan = {0};
    if (plan_resources(cg, res, &plan, err) < 0)
        return -1;
    for (size_t i = 0; i < cg->count; i++)
        if (make_dirs(&cg->hierarchies[i], cg->path, err) < 0)
            return -1;
    /* A new v1 cpuset cgroup has no CPU and no memory node: nothing could join it (ENOSPC). */
    struct cgroup_hierarchy *cpuset = find_v1(cg, "cpuset");
    if (cpuset && cgroup_v1_cpuset_fill(cpuset->mount_point, cg->path, err) < 0)
        return -1;
    if (plan.enable_count > 0 &&
        cgroup_v2_enable(plan.v2->mount_point, cg->path, (const char *const *)plan.enable,
                         plan.enable_count, err) < 0)
        return -1;
    for (int c = 0; c < CGROUP_CTRL_COUNT; c++) {
        struct cgroup_hierarchy *h = plan.target[c];
        if (h && (h->v2 ? cgroup_v2_apply(h->dir, c, res, err)
                        : cgroup_v1_apply(h->dir, c, res, err)) < 0)
            return -1;
    }
    if (res->unified_count > 0 && cgroup_v2_apply_unified(plan.v2->dir, res, err) < 0)
        return -1;
    if (cg->layout == CGROUP_LAYOUT_V2) {
        cg->v2_dir_fd = open(plan.v2->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (cg->v2_dir_fd < 0)
            return error_set(err, errno, "open %s", plan.v2->dir);
    }
    return 0;
}

int cgroup_create(const struct ctr_spec *spec, const char *id, struct cgroup **out, ctr_error **err)
{
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
    if (cgroup_parse_mountinfo("/proc/self/mountinfo", &cg->layout, &cg->hierarchies, &cg->count,
                               err) < 0 ||
        cgroup_resolve_path(cgroups_path, id, &cg->path, err) < 0)
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

int cgroup_enter(const struct cgroup *cgroup, pid_t pid, ctr_error **err)
{
    char value[24];
    snprintf(value, sizeof(value), "%d", (int)pid);
    for (size_t i = 0; i < cgroup->count; i++) {
        const struct cgroup_hierarchy *h = &cgroup->hierarchies[i];
        /* A task still being forked (TASK_NEW) is refused with EINVAL for a moment. */
        for (unsigned attempt = 0, ms = 1;; attempt++, cgroup_backoff(&ms)) {
            ctr_error *e = NULL;
            if (cgroup_write(h->dir, "cgroup.procs", value, NULL, &e) == 0)
                break;
            if (ctr_error_code(e) != EINVAL || attempt == 5) {
                cgroup_pass_error(err, e);
                return error_wrap(err, "move process %d into cgroup %s", (int)pid, cgroup->path);
            }
            ctr_error_free(e);
        }
    }
    return 0;
}

/* Keeps the first failure in *err and drops the later ones: destroy goes on regardless. */
static void keep_first(int *ret, ctr_error **err, ctr_error *e)
{
    if (*ret == 0)
        cgroup_pass_error(err, e);
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
    deadline_in(&deadline, CGROUP_DESTROY_TIMEOUT_MS);
    int ret = 0;
    ctr_error *e = NULL;

    /* v2 (and the v2 tree of a hybrid host) kills the whole subtree in one write, race-free
     * against forks; the v1 loop below then finds nothing left. */
    for (size_t i = 0; i < cg->count; i++) {
        struct cgroup_hierarchy *h = &cg->hierarchies[i];
        if (!h->v2 || !cgroup_has_file(h->dir, "cgroup.kill"))
            continue;
        if (cgroup_write(h->dir, "cgroup.kill", "1", NULL, &e) < 0 ||
            cgroup_v2_wait_empty(h->dir, &deadline, &e) < 0)
            keep_first(&ret, err, steal_pointer(&e));
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
