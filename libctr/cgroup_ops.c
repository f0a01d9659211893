/* What the lifecycle commands do to a running container's cgroup: list its processes (`ps`),
 * signal them all (`kill --all`), freeze and thaw them (`pause`, `resume`), and watch for the
 * OOM killer (`events`).
 */
#include "cgroup_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>

/* ---- processes ------------------------------------------------------------------------------- */

/* The hierarchy whose cgroup.procs lists the container: the v2 tree on a v2 host; on v1 and hybrid
 * hosts the freezer's (what `pause` freezes is then what `ps` lists), else the first one. */
static const struct cgroup_hierarchy *procs_hierarchy(const struct cgroup *cg)
{
    if (cg->layout == CGROUP_LAYOUT_V2 && cg->count > 0)
        return &cg->hierarchies[0];
    const struct cgroup_hierarchy *freezer = cgroup_find_v1(cg, "freezer");
    if (freezer != NULL)
        return freezer;
    return cg->count > 0 ? &cg->hierarchies[0] : NULL;
}

struct pid_list {
    pid_t *pids;
    size_t count, cap;
};

static int add_pid(const char *cgroup_dir, pid_t pid, void *data, ctr_error **err)
{
    struct pid_list *list = data;
    if (list->count == list->cap) {
        size_t cap = list->cap ? list->cap * 2 : 64;
        pid_t *grown = realloc(list->pids, cap * sizeof(*grown));
        if (grown == NULL)
            return error_set(err, ENOMEM, "list the processes of %s", cgroup_dir);
        list->pids = grown;
        list->cap = cap;
    }
    list->pids[list->count++] = pid;
    return 0;
}

static int compare_pids(const void *a, const void *b)
{
    pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
    return (x > y) - (x < y);
}

int cgroup_pids(const struct cgroup *cgroup, pid_t **pids, size_t *count, ctr_error **err)
{
    const struct cgroup_hierarchy *h = procs_hierarchy(cgroup);
    struct pid_list list = {0};
    if (h == NULL)
        return error_set(err, ENOENT, "cgroup %s has no hierarchy", cgroup->path);
    if (cgroup_walk_procs(h->dir, add_pid, &list, "list the processes of", err) < 0) {
        free(list.pids);
        return error_wrap(err, "list the processes of cgroup %s", cgroup->path);
    }
    qsort(list.pids, list.count, sizeof(*list.pids), compare_pids);
    size_t unique = 0; /* a process moved between two reads shows twice */
    for (size_t i = 0; i < list.count; i++)
        if (unique == 0 || list.pids[unique - 1] != list.pids[i])
            list.pids[unique++] = list.pids[i];
    *pids = list.pids;
    *count = unique;
    return 0;
}

/* ---- freezer --------------------------------------------------------------------------------- */

/* v1's freezer hierarchy where there is one (hybrid hosts too), else the v2 tree's cgroup.freeze,
 * which needs no controller (Linux 5.2+). */
static const struct cgroup_hierarchy *freezer_of(const struct cgroup *cg, ctr_error **err)
{
    const struct cgroup_hierarchy *h = cgroup_find_v1(cg, "freezer");
    if (h == NULL)
        h = cgroup_find_v2(cg);
    if (h == NULL || (h->v2 && !cgroup_has_file(h->dir, "cgroup.freeze"))) {
        error_set(err, EOPNOTSUPP,
                  "cgroup %s: no freezer (no v1 freezer hierarchy, no cgroup.freeze in cgroup v2)",
                  cg->path);
        return NULL;
    }
    return h;
}

static int v1_state(const char *dir, char **state, ctr_error **err)
{
    if (cgroup_read(dir, "freezer.state", state, err) < 0)
        return -1;
    (*state)[strcspn(*state, "\n")] = '\0';
    return 0;
}

/* v1 has no notification: the state is read back, with a backoff, until it says so. Writing
 * FROZEN again retries the tasks that did not stop yet; now and then a short thaw lets a task
 * that cannot freeze where it is (the parent of a vfork) move on first, as runc does. */
static int v1_freeze(const char *dir, bool frozen, ctr_error **err)
{
    const char *want = frozen ? "FROZEN" : "THAWED";
    struct timespec deadline;
    cgroup_deadline_in(&deadline, CGROUP_FREEZE_TIMEOUT_MS);
    for (unsigned attempt = 0, ms = 1;; attempt++, cgroup_backoff(&ms)) {
        if (frozen && attempt > 0 && attempt % 25 == 0 &&
            cgroup_write(dir, "freezer.state", "THAWED", NULL, err) < 0)
            return -1;
        _cleanup_free_ char *state = NULL;
        if (cgroup_write(dir, "freezer.state", want, NULL, err) < 0 ||
            v1_state(dir, &state, err) < 0)
            return -1;
        if (strcmp(state, want) == 0)
            return 0;
        if (cgroup_ms_left(&deadline) <= 0) {
            if (frozen) /* half frozen is the worst of both: undo */
                cgroup_write(dir, "freezer.state", "THAWED", NULL, NULL);
            return error_set(err, ETIMEDOUT, "%s/freezer.state still reads %s after %d ms", dir,
                             state, CGROUP_FREEZE_TIMEOUT_MS);
        }
    }
}

/* v2 reports the end of freezing in cgroup.events ("frozen 1"), watched with inotify. */
static int v2_freeze(const char *dir, bool frozen, ctr_error **err)
{
    struct timespec deadline;
    cgroup_deadline_in(&deadline, CGROUP_FREEZE_TIMEOUT_MS);
    if (cgroup_write(dir, "cgroup.freeze", frozen ? "1" : "0", NULL, err) < 0)
        return -1;
    if (cgroup_v2_wait_event(dir, "frozen", frozen ? '1' : '0', false, &deadline, err) == 0)
        return 0;
    if (frozen)
        cgroup_write(dir, "cgroup.freeze", "0", NULL, NULL);
    return -1;
}

/* cgroup_freeze() and cgroup_is_frozen() on the freezer `h` that freezer_of() found. */
static int freeze_with(const struct cgroup *cg, const struct cgroup_hierarchy *h, bool frozen,
                       ctr_error **err)
{
    if ((h->v2 ? v2_freeze(h->dir, frozen, err) : v1_freeze(h->dir, frozen, err)) < 0)
        return error_wrap(err, "%s cgroup %s", frozen ? "freeze" : "thaw", cg->path);
    return 0;
}

static int is_frozen_with(const struct cgroup_hierarchy *h, bool *frozen, ctr_error **err)
{
    _cleanup_free_ char *state = NULL;
    if (!h->v2) {
        if (v1_state(h->dir, &state, err) < 0)
            return -1;
        *frozen = strcmp(state, "FROZEN") == 0;
        return 0;
    }
    uint64_t value = 0;
    if (cgroup_read_keyed(h->dir, "cgroup.events", "frozen", &value, err) < 0)
        return -1;
    *frozen = value == 1;
    return 0;
}

int cgroup_freeze(const struct cgroup *cgroup, bool frozen, ctr_error **err)
{
    const struct cgroup_hierarchy *h = freezer_of(cgroup, err);
    return h ? freeze_with(cgroup, h, frozen, err) : -1;
}

int cgroup_is_frozen(const struct cgroup *cgroup, bool *frozen, ctr_error **err)
{
    const struct cgroup_hierarchy *h = freezer_of(cgroup, err);
    return h ? is_frozen_with(h, frozen, err) : -1;
}

/* ---- signals --------------------------------------------------------------------------------- */

static int signal_listed(const struct cgroup *cg, int sig, ctr_error **err)
{
    _cleanup_free_ pid_t *pids = NULL;
    size_t count = 0;
    if (cgroup_pids(cg, &pids, &count, err) < 0)
        return -1;
    for (size_t i = 0; i < count; i++)
        if (kill(pids[i], sig) < 0 && errno != ESRCH)
            return error_set(err, errno, "send signal %d to process %d of cgroup %s", sig,
                             (int)pids[i], cg->path);
    return 0;
}

int cgroup_signal_all(const struct cgroup *cgroup, int sig, ctr_error **err)
{
    const struct cgroup_hierarchy *v2 = cgroup_find_v2(cgroup);
    const struct cgroup_hierarchy *freezer = freezer_of(cgroup, NULL);
    bool frozen = false;
    if (freezer != NULL && is_frozen_with(freezer, &frozen, NULL) < 0)
        freezer = NULL;
    /* SIGKILL on v2 (and the v2 tree of a hybrid host, which holds every process too): one
     * write kills the whole subtree, forks racing it included. */
    if (sig == SIGKILL && v2 != NULL && cgroup_has_file(v2->dir, "cgroup.kill")) {
        if (cgroup_write(v2->dir, "cgroup.kill", "1", NULL, err) < 0)
            return error_wrap(err, "kill the processes of cgroup %s", cgroup->path);
    } else {
        /* Frozen, no process can fork a child past the list. A freezer that fails to freeze
         * is no reason not to signal: only a fork racing the list would escape. */
        bool froze = freezer && !frozen && freeze_with(cgroup, freezer, true, NULL) == 0;
        int r = signal_listed(cgroup, sig, err);
        if (froze && sig != SIGKILL && freeze_with(cgroup, freezer, false, r < 0 ? NULL : err) < 0)
            r = -1;
        if (r < 0)
            return -1;
        frozen = frozen || froze;
    }
    /* A frozen v1 task dies of SIGKILL only once thawed: a paused container killed is thawed. */
    if (sig == SIGKILL && freezer && frozen)
        return freeze_with(cgroup, freezer, false, err);
    return 0;
}

/* ---- OOM events ------------------------------------------------------------------------------ */

static const struct cgroup_hierarchy *memory_of(const struct cgroup *cg, ctr_error **err)
{
    const struct cgroup_hierarchy *h = cgroup_find_v1(cg, "memory");
    if (h == NULL && (h = cgroup_find_v2(cg)) != NULL && !cgroup_has_file(h->dir, "memory.events"))
        h = NULL;
    if (h == NULL)
        error_set(err, EOPNOTSUPP, "cgroup %s: no memory controller (no v1 memory hierarchy, no "
                  "memory.events in cgroup v2)", cg->path);
    return h;
}

int cgroup_oom_watch(const struct cgroup *cgroup, int *fd, ctr_error **err)
{
    const struct cgroup_hierarchy *h = memory_of(cgroup, err);
    if (h == NULL)
        return -1;
    _cleanup_free_ char *path = NULL;
    if (asprintf(&path, "%s/%s", h->dir, h->v2 ? "memory.events" : "memory.oom_control") < 0)
        return error_set(err, ENOMEM, "watch for OOM in cgroup %s", cgroup->path);
    if (h->v2) {
        _cleanup_close_ int ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
        if (ifd < 0 || inotify_add_watch(ifd, path, IN_MODIFY) < 0)
            return error_set(err, errno, "watch %s", path);
        *fd = steal_fd(&ifd);
        return 0;
    }
    /* v1: "<eventfd> <fd of memory.oom_control>" into cgroup.event_control. The kernel keeps the
     * eventfd, not the file, so the file is closed at once. */
    _cleanup_close_ int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (efd < 0)
        return error_set(err, errno, "eventfd for %s", path);
    _cleanup_close_ int control = open(path, O_RDONLY | O_CLOEXEC);
    if (control < 0)
        return error_set(err, errno, "open %s", path);
    char line[32];
    snprintf(line, sizeof(line), "%d %d", efd, control);
    if (cgroup_write(h->dir, "cgroup.event_control", line, NULL, err) < 0)
        return error_wrap(err, "register for OOM events of cgroup %s", cgroup->path);
    *fd = steal_fd(&efd);
    return 0;
}

int cgroup_oom_count(const struct cgroup *cgroup, uint64_t *count, ctr_error **err)
{
    const struct cgroup_hierarchy *h = memory_of(cgroup, err);
    if (h == NULL)
        return -1;
    /* v1's memory.oom_control has oom_kill since Linux 4.13. */
    if (cgroup_read_keyed(h->dir, h->v2 ? "memory.events" : "memory.oom_control", "oom_kill",
                          count, err) < 0)
        return error_wrap(err, "OOM kills of cgroup %s", cgroup->path);
    return 0;
}
