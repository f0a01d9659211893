/* Getting a process into the container's cgroup.
 *
 * Moving a process between cgroups by pid (a write to cgroup.procs) takes the kernel's global
 * cgroup_threadgroup_rwsem for writing, and the first writer after a quiet spell waits for an RCU
 * grace period there: 5 to 20 ms on the test machine, more than everything else a container start
 * costs. A new process is therefore placed without it where the kernel allows:
 *   - in the v2 tree, clone3 creates it there (CLONE_INTO_CGROUP with cgroup->v2_dir_fd; spawn.c's
 *     fast path): the fork path takes that rwsem for reading only;
 *   - in each v1 hierarchy, the process moves itself while it has a single thread, writing "0"
 *     (itself) to `tasks`: the kernel skips the global lock when a thread moves itself
 *     (cgroup_procs_write_start). The parent opens the files before the fork; v1 checks the
 *     write against the credentials of the opener, so this works from inside a new user
 *     namespace too (the check CVE-2021-4197 moved to open time).
 * cgroup_enter() by pid remains for what neither covers: the v2 tree on spawn.c's general path.
 */
#include "cgroup_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* cgroup.procs of each hierarchy (v2 only: just the v2 tree). */
static int enter_by_pid(const struct cgroup *cgroup, pid_t pid, bool v2_only, ctr_error **err)
{
    char value[24];
    snprintf(value, sizeof(value), "%d", (int)pid);
    for (size_t i = 0; i < cgroup->count; i++) {
        const struct cgroup_hierarchy *h = &cgroup->hierarchies[i];
        if (v2_only && !h->v2)
            continue;
        /* A task still being forked (TASK_NEW) is refused with EINVAL for a moment. */
        for (unsigned attempt = 0, ms = 1;; attempt++, cgroup_backoff(&ms)) {
            ctr_error *e = NULL;
            if (cgroup_write(h->dir, "cgroup.procs", value, NULL, &e) == 0)
                break;
            if (ctr_error_code(e) != EINVAL || attempt == 5) {
                error_pass(err, e);
                return error_wrap(err, "move process %d into cgroup %s", (int)pid, cgroup->path);
            }
            ctr_error_free(e);
        }
    }
    return 0;
}

int cgroup_enter(const struct cgroup *cgroup, pid_t pid, ctr_error **err)
{
    return enter_by_pid(cgroup, pid, false, err);
}

int cgroup_enter_v2(const struct cgroup *cgroup, pid_t pid, ctr_error **err)
{
    return enter_by_pid(cgroup, pid, true, err);
}

int cgroup_self_join_open(const struct cgroup *cgroup, struct cgroup_self_join *join,
                          ctr_error **err)
{
    *join = (struct cgroup_self_join){.cgroup = cgroup};
    join->tasks_fds = malloc(cgroup->count * sizeof(int));
    if (join->tasks_fds == NULL)
        return error_set(err, ENOMEM, "cgroup %s", cgroup->path);
    for (size_t i = 0; i < cgroup->count; i++)
        join->tasks_fds[i] = -1;
    for (size_t i = 0; i < cgroup->count; i++) {
        const struct cgroup_hierarchy *h = &cgroup->hierarchies[i];
        if (h->v2)
            continue;
        _cleanup_free_ char *path = NULL;
        if (asprintf(&path, "%s/tasks", h->dir) < 0) {
            cgroup_self_join_close(join);
            return error_set(err, ENOMEM, "cgroup %s", cgroup->path);
        }
        join->tasks_fds[i] = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
        if (join->tasks_fds[i] < 0) {
            int saved = errno;
            cgroup_self_join_close(join);
            return error_set(err, saved, "cgroup %s: open %s", cgroup->path, path);
        }
    }
    return 0;
}

int cgroup_self_join(struct cgroup_self_join *join, ctr_error **err)
{
    int ret = 0;
    for (size_t i = 0; i < join->cgroup->count && ret == 0; i++) {
        if (join->tasks_fds[i] < 0)
            continue;
        ssize_t w;
        do
            w = write(join->tasks_fds[i], "0", 1);
        while (w < 0 && errno == EINTR);
        if (w < 0)
            ret = error_set(err, errno, "move into cgroup %s: write \"0\" to %s/tasks",
                            join->cgroup->path, join->cgroup->hierarchies[i].dir);
    }
    cgroup_self_join_close(join);
    return ret;
}

void cgroup_self_join_close(struct cgroup_self_join *join)
{
    if (join->tasks_fds == NULL)
        return;
    for (size_t i = 0; i < join->cgroup->count; i++)
        if (join->tasks_fds[i] >= 0)
            close(join->tasks_fds[i]);
    free(join->tasks_fds);
    join->tasks_fds = NULL;
}
