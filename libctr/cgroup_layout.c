/* Where the container's cgroup lives: which cgroup hierarchies this host has (v1, v2 or hybrid,
 * read from mountinfo through libmount) and the container's path within each of them
 * (linux.cgroupsPath absolute, relative, or the systemd driver's slice:prefix:name form).
 */
#include "cgroup_internal.h"

#include <errno.h>
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
                         "systemd cgroup driver (--systemd-cgroup)",
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


/* ---- the systemd driver's form --------------------------------------------------------------- */

/* systemd's slice naming: "a-b-c.slice" lives at /a.slice/a-b.slice/a-b-c.slice, "-.slice" is the
 * root; a dash may not start or end the name, nor come twice in a row (systemd refuses those). */
static int expand_slice(const char *slice, const char *whole, char **out, ctr_error **err)
{
    size_t len = strlen(slice), suffix = strlen(".slice");
    if (len <= suffix || strcmp(slice + len - suffix, ".slice") != 0 || strchr(slice, '/'))
        return error_set(err, EINVAL, "linux.cgroupsPath `%s`: `%s` is not a slice name (x.slice)",
                         whole, slice);
    if (strcmp(slice, "-.slice") == 0)
        return (*out = strdup("")) ? 0 : error_set(err, ENOMEM, "linux.cgroupsPath");
    size_t stem = len - suffix;
    if (slice[0] == '-' || slice[stem - 1] == '-' || strstr(slice, "--"))
        return error_set(err, EINVAL, "linux.cgroupsPath `%s`: invalid slice name `%s`", whole,
                         slice);
    /* One "/<prefix>.slice" per dash-separated prefix, the whole name last. */
    _cleanup_free_ char *path = calloc(1, (stem + suffix + 1) * (stem + 1) + 1);
    if (path == NULL)
        return error_set(err, ENOMEM, "linux.cgroupsPath");
    for (size_t i = 0; i <= stem; i++) {
        if (i < stem && slice[i] != '-')
            continue;
        size_t used = strlen(path);
        sprintf(path + used, "/%.*s.slice", (int)i, slice);
    }
    *out = steal_pointer(&path);
    return 0;
}

int cgroup_resolve_systemd_path(const char *cgroups_path, const char *id, char **out,
                                ctr_error **err)
{
    const char *given = cgroups_path && cgroups_path[0] ? cgroups_path : NULL;
    _cleanup_free_ char *copy = NULL;
    if (given == NULL) {
        if (id == NULL || id[0] == '\0' || strpbrk(id, "/:"))
            return error_set(err, EINVAL, "container id `%s` cannot name a systemd scope",
                             id ? id : "");
        if (asprintf(&copy, "system.slice:ctr:%s", id) < 0)
            return error_set(err, ENOMEM, "linux.cgroupsPath");
    } else if (!is_systemd_form(given)) {
        return error_set(err, EINVAL,
                         "linux.cgroupsPath `%s`: the systemd cgroup driver expects "
                         "\"slice:prefix:name\"",
                         given);
    } else if ((copy = strdup(given)) == NULL) {
        return error_set(err, ENOMEM, "linux.cgroupsPath");
    }
    const char *whole = given ? given : copy;
    char *slice = copy, *prefix = strchr(slice, ':') + 1, *name = strchr(prefix, ':') + 1;
    prefix[-1] = name[-1] = '\0';
    if (name[0] == '\0' || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return error_set(err, EINVAL, "linux.cgroupsPath `%s`: the name part is empty or invalid",
                         whole);
    _cleanup_free_ char *parent = NULL;
    if (expand_slice(slice[0] ? slice : "system.slice", whole, &parent, err) < 0)
        return -1;
    /* As runc: a name that is itself a slice is the unit; otherwise a scope "prefix-name". */
    size_t nlen = strlen(name);
    bool is_slice = nlen > 6 && strcmp(name + nlen - 6, ".slice") == 0;
    int n = is_slice    ? asprintf(out, "%s/%s", parent, name)
            : prefix[0] ? asprintf(out, "%s/%s-%s.scope", parent, prefix, name)
                        : asprintf(out, "%s/%s.scope", parent, name);
    if (n < 0) {
        *out = NULL;
        return error_set(err, ENOMEM, "linux.cgroupsPath");
    }
    return 0;
}
