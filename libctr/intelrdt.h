/* linux.intelRdt (config-linux.md "IntelRdt"): the container's init in a group of the resctrl
 * filesystem, with the cache and memory bandwidth schemata the config gives and, when asked, a
 * monitoring group of its own. Applied by the runtime once the init exists and waits at the exec
 * barrier (the process it execs, and everything it forks, inherit the group); an exec'd process
 * is put in the same groups. What `delete` must undo is kept in state.json ("intelRdt").
 */
#ifndef LIBCTR_INTELRDT_H
#define LIBCTR_INTELRDT_H

#include <stdbool.h>
#include <sys/types.h>

#include <jansson.h>

#include "error.h"
#include "spec.h"

#define INTELRDT_ROOT "/sys/fs/resctrl"

/* The groups a container is in. */
struct intelrdt {
    char *root;         /* where resctrl is mounted: INTELRDT_ROOT (a test may use another) */
    char *clos;         /* the CTRL_MON group: "/" (the root group, the default CLOS) or a name */
    bool remove_clos;   /* created for this container (no closID was given): removed at delete */
    char *mon;          /* the MON group mon_groups/<mon> (the container id), or NULL */
};

/* Before anything is created: "If no mounted resctrl pseudo-filesystem is available in the
 * runtime mount namespace, the runtime MUST generate an error". */
int intelrdt_check(const struct spec_intel_rdt *rdt, ctr_error **err);

/* Creates or joins the container's CLOS group under `root`, writes its schemata (or, for a group
 * that already exists, checks l3CacheSchema/memBwSchema against it), puts `pid` in it and in a
 * new MON group when enableMonitoring. On failure, what it created is removed. */
int intelrdt_apply(const char *root, const struct spec_intel_rdt *rdt, const char *id, pid_t pid,
                   struct intelrdt **out, ctr_error **err);

/* Puts `pid` (an exec'd process) in the container's groups. */
int intelrdt_join(const struct intelrdt *groups, pid_t pid, ctr_error **err);

/* At delete: removes the MON group, and the CLOS group if it was created for the container (the
 * spec keeps a group named by closID). Frees `groups`, also on failure. */
int intelrdt_destroy(struct intelrdt *groups, ctr_error **err);

void intelrdt_free(struct intelrdt *groups);

/* state.json's "intelRdt": {"closID": "...", "removeGroup": bool, "monGroup": "..." | null}. */
json_t *intelrdt_to_json(const struct intelrdt *groups);
int intelrdt_from_json(json_t *json, struct intelrdt **out, ctr_error **err);

#endif
