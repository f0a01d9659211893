/* Operations on an existing container: kill, wait, pause/resume, update, pids, stats, exec, list. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "container.h"
#include "error.h"
#include "intelrdt.h"
#include "lsm.h"
#include "security.h"
#include "spawn.h"
#include "state.h"
#include "terminal.h"
#include "util.h"

/* Runs `op` under the container's lock once its status is one of `allowed` (a bit mask of
 * 1 << enum ctr_status); otherwise "the container is <status>". */
static int require_status(ctr_container *c, unsigned allowed, ctr_error **err)
{
    enum ctr_status status;
    if (container_status(c, &status, err) < 0)
        return -1;
    if (!(allowed & (1u << status)))
        return error_set(err, EBUSY, "the container is %s", ctr_status_name(status));
    return 0;
}

#define STATUS(s) (1u << CTR_STATUS_##s)

CTR_API int ctr_container_kill(ctr_container *c, int signal, int all, ctr_error **err)
{
    int ret = container_lock(c, false, err);
    /* runtime.md "Kill": signalling a container that is not running is an error; like runc we
     * also signal a created one (its init waits at the barrier) and a paused one. */
    if (ret == 0)
        ret = require_status(c, STATUS(CREATED) | STATUS(RUNNING) | STATUS(PAUSED), err);
    if (ret == 0 && all) {
        ret = c->cgroup ? cgroup_signal_all(c->cgroup, signal, err)
                        : error_set(err, EINVAL, "--all needs the container's cgroup");
        /* A stopped (frozen) task only acts on SIGKILL; for others, thaw like runc does. */
    } else if (ret == 0 && syscall(SYS_pidfd_send_signal, c->init.pidfd, signal, NULL, 0) < 0) {
        ret = error_set(err, errno, "signal %d to the init (pid %d)", signal, c->init.pid);
    }
    container_unlock(c);
    if (ret < 0)
        return error_wrap(err, "kill container `%s`", c->id);
    return 0;
}

CTR_API int ctr_container_wait(ctr_container *c, int *exit_code, ctr_error **err)
{
    if (!c->reaped) {
        if (!c->is_child)
            return error_set(err, ECHILD,
                             "wait for container `%s`: only the process that created it can", c->id);
        siginfo_t info = {0};
        while (waitid(P_PIDFD, (id_t)c->init.pidfd, &info, WEXITED) < 0)
            if (errno != EINTR)
                return error_set(err, errno, "wait for container `%s`", c->id);
        c->reaped = true;
        c->exit_code = info.si_code == CLD_EXITED ? info.si_status : 128 + info.si_status;
    }
    if (exit_code)
        *exit_code = c->exit_code;
    return 0;
}

static int freeze(ctr_container *c, bool frozen, ctr_error **err)
{
    int ret = container_lock(c, true, err);
    if (ret == 0)
        ret = require_status(c, frozen ? STATUS(RUNNING) : STATUS(PAUSED), err);
    if (ret == 0)
        ret = c->cgroup ? cgroup_freeze(c->cgroup, frozen, err)
                        : error_set(err, EINVAL, "the container has no cgroup to freeze");
    container_unlock(c);
    if (ret < 0)
        return error_wrap(err, "%s container `%s`", frozen ? "pause" : "resume", c->id);
    return 0;
}

CTR_API int ctr_container_pause(ctr_container *c, ctr_error **err)
{
    return freeze(c, true, err);
}

CTR_API int ctr_container_resume(ctr_container *c, ctr_error **err)
{
    return freeze(c, false, err);
}

CTR_API int ctr_container_update(ctr_container *c, const char *json, size_t len, ctr_error **err)
{
    json_error_t jerr;
    json_t *resources = json_loadb(json, len, 0, &jerr);
    if (resources == NULL)
        return error_invalid(err, "update container `%s`: resources: line %d, column %d: %s", c->id,
                         jerr.line, jerr.column, jerr.text);
    /* A scratch spec gives the parser an arena that lives only as long as this update. */
    struct ctr_spec scratch = {.arena = arena_new()};
    struct spec_resources parsed;
    int ret = scratch.arena ? 0 : error_set(err, ENOMEM, "resources");
    if (ret == 0)
        ret = spec_parse_resources(&scratch, resources, "resources", &parsed, err);
    if (ret == 0)
        ret = container_lock(c, true, err);
    if (ret == 0) {
        ret = require_status(c, STATUS(CREATED) | STATUS(RUNNING) | STATUS(PAUSED), err);
        if (ret == 0)
            ret = c->cgroup ? cgroup_update(c->cgroup, &parsed, err)
                            : error_set(err, EINVAL, "the container has no cgroup");
        container_unlock(c);
    }
    arena_free(scratch.arena);
    json_decref(resources);
    if (ret < 0)
        return error_wrap(err, "update container `%s`", c->id);
    return 0;
}

CTR_API int ctr_container_pids(ctr_container *c, pid_t **pids, size_t *count, ctr_error **err)
{
    int ret = container_lock(c, false, err);
    if (ret == 0) {
        if (c->cgroup) {
            ret = cgroup_pids(c->cgroup, pids, count, err);
        } else {
            /* No cgroup: the init is all we know of. */
            enum ctr_status status;
            ret = container_status(c, &status, err);
            *count = ret == 0 && status != CTR_STATUS_STOPPED ? 1 : 0;
            *pids = ret == 0 ? malloc(sizeof(pid_t)) : NULL;
            if (ret == 0 && *pids)
                (*pids)[0] = c->init.pid;
        }
    }
    container_unlock(c);
    if (ret < 0)
        return error_wrap(err, "processes of container `%s`", c->id);
    return 0;
}

CTR_API int ctr_container_oom_fd(ctr_container *c, int *fd, ctr_error **err)
{
    if (c->cgroup == NULL)
        return error_set(err, EINVAL, "OOM events of container `%s`: it has no cgroup", c->id);
    if (cgroup_oom_watch(c->cgroup, fd, err) < 0)
        return error_wrap(err, "OOM events of container `%s`", c->id);
    return 0;
}

CTR_API int ctr_container_oom_count(ctr_container *c, uint64_t *count, ctr_error **err)
{
    if (c->cgroup == NULL)
        return error_set(err, EINVAL, "OOM count of container `%s`: it has no cgroup", c->id);
    if (cgroup_oom_count(c->cgroup, count, err) < 0)
        return error_wrap(err, "OOM count of container `%s`", c->id);
    return 0;
}

CTR_API int ctr_container_stats_json(ctr_container *c, char **json, ctr_error **err)
{
    json_t *stats = NULL;
    int ret = container_lock(c, false, err);
    if (ret == 0)
        ret = c->cgroup ? cgroup_stats(c->cgroup, &stats, err)
                        : error_set(err, EINVAL, "the container has no cgroup");
    container_unlock(c);
    if (ret < 0)
        return error_wrap(err, "stats of container `%s`", c->id);
    *json = json_dumps(stats, JSON_COMPACT);
    json_decref(stats);
    if (*json == NULL)
        return error_set(err, ENOMEM, "stats of container `%s`", c->id);
    return 0;
}

/* The exec'd process: the container's configuration with `process` replaced. */
static int exec_spec(ctr_container *c, const struct ctr_exec_options *opts, struct ctr_spec *spec,
                     json_t **json, ctr_error **err)
{
    json_error_t jerr;
    *json = json_loadb(opts->process_json, opts->process_json_len, 0, &jerr);
    if (*json == NULL)
        return error_invalid(err, "process.json: line %d, column %d: %s", jerr.line, jerr.column,
                         jerr.text);
    *spec = *c->spec;
    spec->arena = arena_new();
    if (spec->arena == NULL)
        return error_set(err, ENOMEM, "process.json");
    if (spec_parse_process(spec, *json, "process", &spec->process, err) < 0)
        return error_wrap(err, "process.json");
    spec->has_process = true;
    /* Issue 5, capabilities: an exec'd process gets its own configured sets, never the runtime's
     * (all of them): without `capabilities` in process.json, the container's, as runc does. */
    if (!spec->process.has_capabilities && c->spec->process.has_capabilities) {
        spec->process.capabilities = c->spec->process.capabilities;
        spec->process.has_capabilities = true;
    }
    if (spec->process.has_capabilities &&
        caps_check_grantable(&spec->process.capabilities, err) < 0)
        return error_wrap(err, "process.json");
    return lsm_check_process(&spec->process, "process.json: ", err);
}

CTR_API int ctr_container_exec(ctr_container *c, const struct ctr_exec_options *options,
                               pid_t *pid, int *pidfd, int *console_fd, ctr_error **err)
{
    struct ctr_exec_options opts = {.stdio = {-1, -1, -1}};
    if (options == NULL || options->size < sizeof(options->size))
        return error_set(err, EINVAL, "exec in container `%s`: no options", c->id);
    memcpy(&opts, options, options->size < sizeof(opts) ? options->size : sizeof(opts));

    struct ctr_spec spec = {0};
    json_t *json = NULL;
    _cleanup_close_ int console_socket = -1;
    struct spawned_init process = {.pid = -1, .pidfd = -1, .sync_fd = -1, .console_fd = -1};
    int ret = exec_spec(c, &opts, &spec, &json, err);
    if (ret == 0 && spec.process.terminal && opts.console_socket)
        ret = terminal_connect(opts.console_socket, &console_socket, err);
    if (ret == 0)
        ret = container_lock(c, false, err);
    if (ret == 0) {
        ret = require_status(c, STATUS(CREATED) | STATUS(RUNNING), err);
        struct spawn_request request = {
            .mode = SPAWN_EXEC,
            .spec = &spec,
            .id = c->id,
            .bundle = c->bundle,
            .rootfs = c->rootfs,
            .cgroup = c->cgroup,
            .target_pid = c->init.pid,
            .stdio = {opts.stdio[0], opts.stdio[1], opts.stdio[2]},
            .console_socket = console_socket,
            .listen_fd = -1,
            .preserve_fds = opts.preserve_fds,
            .no_new_keyring = true,
            /* require_status() left these two. */
            .status = c->started ? "running" : "created",
        };
        if (ret == 0)
            ret = spawn_init(&request, &process, err);
        /* linux.intelRdt: the exec'd process joins the container's resctrl groups, as its init's
         * children would, before it runs. */
        if (ret == 0 && c->rdt && (ret = intelrdt_join(c->rdt, process.pid, err)) < 0)
            spawn_abort(&process);
        container_unlock(c);
        if (ret == 0 && (ret = spawn_start(&process, err)) < 0)
            spawn_abort(&process);
    }
    arena_free(spec.arena);
    json_decref(json);
    if (ret < 0)
        return error_wrap(err, "exec in container `%s`", c->id);
    *pid = process.pid;
    if (pidfd)
        *pidfd = process.pidfd;
    else
        close(process.pidfd);
    if (console_fd)
        *console_fd = process.console_fd;
    else if (process.console_fd >= 0)
        close(process.console_fd);
    return 0;
}

CTR_API int ctr_container_list(ctr_context *ctx, char ***ids, size_t *count, ctr_error **err)
{
    if (ctx->root_fd < 0)
        return error_set(err, EINVAL, "list containers: the context has no state root");
    return state_list(ctx->root_fd, ids, count, err);
}

CTR_API void ctr_strv_free(char **strv)
{
    for (size_t i = 0; strv && strv[i]; i++)
        free(strv[i]);
    free(strv);
}
