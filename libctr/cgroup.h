/* The container's cgroup, across every hierarchy of the host (cgroup v1, v2 or hybrid).
 *
 * The parent creates it and applies linux.resources before the init exists, then moves the init
 * into it before the init goes on (so the init's cgroup namespace, if any, is rooted there).
 * Destroying it kills what is left inside and removes only the directories it created.
 */
#ifndef LIBCTR_CGROUP_H
#define LIBCTR_CGROUP_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"
#include "spec.h"

enum cgroup_layout {
    CGROUP_LAYOUT_V1,     /* only v1 hierarchies */
    CGROUP_LAYOUT_V2,     /* /sys/fs/cgroup is cgroup2 */
    CGROUP_LAYOUT_HYBRID, /* v1 hierarchies plus a cgroup2 tree (/sys/fs/cgroup/unified); the
                           * container joins both, and a controller v1 lacks may come from v2 */
};

/* One mounted hierarchy, and the container's directory in it. */
struct cgroup_hierarchy {
    char *mount_point;   /* host path of the hierarchy's root: /sys/fs/cgroup/memory */
    char *name;          /* mount_point relative to the cgroup tmpfs: "memory", "unified", "" (v2) */
    char *controllers;   /* v1 super options naming it: "cpu,cpuacct", "name=systemd"; NULL for v2 */
    bool v2;
    char *dir;           /* host path of the container's cgroup in it */
    bool created;        /* we made `dir` (and so may remove it) */
    unsigned created_levels; /* how many levels of `dir`, from the leaf up, we made (mkdir -p):
                              * only those are removed */
};

struct cgroup {
    enum cgroup_layout layout;
    char *path;          /* the container's cgroup path, absolute within each hierarchy: /ctr/ID */
    struct cgroup_hierarchy *hierarchies;
    size_t count;
    int v2_dir_fd;       /* O_PATH|O_DIRECTORY fd of the v2 dir, for clone3's CLONE_INTO_CGROUP; -1 */
};

/* Detects the layout, creates the container's cgroup in every hierarchy (cgroupsPath, or
 * /ctr/<id> when absent) and applies the resources. On failure removes what it created. */
int cgroup_create(const struct ctr_spec *spec, const char *id, struct cgroup **out, ctr_error **err);

/* Moves `pid` into the container's cgroup in every hierarchy. */
int cgroup_enter(const struct cgroup *cgroup, pid_t pid, ctr_error **err);

/* Kills every process left in the cgroup, removes the directories cgroup_create() made and frees
 * the object (always, even when it returns an error naming what it could not remove). */
int cgroup_destroy(struct cgroup *cgroup, ctr_error **err);

/* Frees the object without touching the host (for a child that inherited a copy). */
void cgroup_free(struct cgroup *cgroup);

#endif
