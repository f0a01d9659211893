/* The container's cgroup, across every hierarchy of the host (cgroup v1, v2 or hybrid).
 *
 * The parent creates it and applies linux.resources before the init exists, then moves the init
 * into it before the init goes on (so the init's cgroup namespace, if any, is rooted there).
 * Destroying it kills what is left inside and removes only the directories it created.
 */
#ifndef LIBCTR_CGROUP_H
#define LIBCTR_CGROUP_H

#include <stdbool.h>
#include <stdint.h>
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

/* How the caller wants the cgroup made; all-zero is what cgroup_create() does. */
struct cgroup_options {
    /* `--systemd-cgroup`: linux.cgroupsPath is the systemd driver's "slice:prefix:name" (absent:
     * "system.slice:ctr:<id>") and the cgroup goes where systemd puts that scope
     * (/system.slice/prefix-name.scope). Refused where systemd is not PID 1; where it is, the
     * cgroup is made through the cgroup filesystem like any other: systemd is not asked for a
     * transient unit over D-Bus (libctr has no D-Bus client). */
    bool systemd;
};
int cgroup_create_with(const struct ctr_spec *spec, const char *id,
                       const struct cgroup_options *options, struct cgroup **out, ctr_error **err);

/* ---- a process joins (cgroup_join.c: why there are two ways) ---- */

/* Moves `pid` into the container's cgroup in every hierarchy, or only in the v2 tree. */
int cgroup_enter(const struct cgroup *cgroup, pid_t pid, ctr_error **err);
int cgroup_enter_v2(const struct cgroup *cgroup, pid_t pid, ctr_error **err);

/* A new process moving itself into the v1 hierarchies: the parent opens their `tasks` files
 * before the fork; the child, while it has one thread, calls cgroup_self_join(), which writes and
 * closes them; the parent closes its copies after the fork. */
struct cgroup_self_join {
    const struct cgroup *cgroup;
    int *tasks_fds; /* one per hierarchy: its `tasks` open for writing, or -1 (the v2 tree) */
};
int cgroup_self_join_open(const struct cgroup *cgroup, struct cgroup_self_join *join,
                          ctr_error **err);
int cgroup_self_join(struct cgroup_self_join *join, ctr_error **err);
void cgroup_self_join_close(struct cgroup_self_join *join);

/* Kills every process left in the cgroup, removes the directories cgroup_create() made and frees
 * the object (always, even when it returns an error naming what it could not remove). */
int cgroup_destroy(struct cgroup *cgroup, ctr_error **err);

/* Frees the object without touching the host (for a child that inherited a copy). */
void cgroup_free(struct cgroup *cgroup);

/* ---- operations on a running container's cgroup (lifecycle commands, issue 3/4) ------------- */

/* For the state directory: everything a later process needs to find, operate on and remove the
 * cgroup (layout, path, each hierarchy's dir and how many levels we created). */
json_t *cgroup_to_json(const struct cgroup *cgroup);
int cgroup_from_json(json_t *json, struct cgroup **out, ctr_error **err);

/* Every process in the container's cgroup (including sub-cgroups), sorted, malloc'd. */
int cgroup_pids(const struct cgroup *cgroup, pid_t **pids, size_t *count, ctr_error **err);

/* Sends `sig` to every process in the cgroup (`kill --all`): SIGKILL through cgroup.kill where
 * there is one (v2, 5.14+), other signals to the listed processes with the cgroup frozen meanwhile
 * so no fork escapes the list (then thawed again unless it was paused). A paused container sent
 * SIGKILL is thawed, or its v1-frozen processes could not die. */
int cgroup_signal_all(const struct cgroup *cgroup, int sig, ctr_error **err);

/* Freezes (pause) or thaws (resume) the cgroup and waits until the kernel reports it done:
 * freezer.state on v1, cgroup.freeze + cgroup.events "frozen" on v2. */
int cgroup_freeze(const struct cgroup *cgroup, bool frozen, ctr_error **err);
int cgroup_is_frozen(const struct cgroup *cgroup, bool *frozen, ctr_error **err);

/* Applies new resources to a running container: only the fields `resources` sets (device rules
 * only when it lists some, replacing the old ones). On failure the limits already changed are put
 * back and the error names the one that failed. memory.checkBeforeUpdate refuses a memory limit
 * below the current usage. */
int cgroup_update(const struct cgroup *cgroup, const struct spec_resources *resources,
                  ctr_error **err);

/* Counters in runc's `events --stats` shape ({"cpu":...,"memory":...,"pids":...,"blkio":...,
 * "hugetlb":...}), a new reference. */
int cgroup_stats(const struct cgroup *cgroup, json_t **stats, ctr_error **err);

/* OOM events (`events`): an fd (O_CLOEXEC, O_NONBLOCK) that turns readable when the container's
 * memory cgroup may have had one: an inotify watch on memory.events (v2), an eventfd registered
 * on memory.oom_control through cgroup.event_control (v1; it also fires when the cgroup is
 * removed). When it is readable, read it dry (any buffer of at least 4096 bytes), then compare
 * cgroup_oom_count() with the count seen before: the watch says "look", the count says what. */
int cgroup_oom_watch(const struct cgroup *cgroup, int *fd, ctr_error **err);
/* How many processes the OOM killer killed in the container's cgroup so far (`oom_kill` of
 * memory.events on v2, of memory.oom_control on v1). */
int cgroup_oom_count(const struct cgroup *cgroup, uint64_t *count, ctr_error **err);

#endif
