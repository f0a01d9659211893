/* The container lifecycle (runtime.md "Lifecycle"): context, create (everything up to the exec
 * barrier), load, start, status and state, delete. The operations on an existing container are in
 * container_ops.c. */
#include "container.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "hooks.h"
#include "intelrdt.h"
#include "namespaces.h"
#include "lsm.h"
#include "netdev.h"
#include "security.h"
#include "state.h"
#include "sync.h"
#include "terminal.h"
#include "util.h"

/* ---- context ----------------------------------------------------------------------------------- */

CTR_API int ctr_context_new(const struct ctr_context_options *options, ctr_context **out,
                            ctr_error **err)
{
    struct ctr_context_options opts = {0};
    if (options) {
        if (options->size < sizeof(options->size))
            return error_set(err, EINVAL, "ctr_context_options: bad size %zu", options->size);
        memcpy(&opts, options, options->size < sizeof(opts) ? options->size : sizeof(opts));
    }
    ctr_context *ctx = calloc(1, sizeof(*ctx));
    if (ctx == NULL)
        return error_set(err, ENOMEM, "context");
    ctx->root_fd = -1;
    ctx->warn = opts.warn;
    ctx->warn_data = opts.warn_data;
    if (opts.state_root) {
        ctx->state_root = strdup(opts.state_root);
        if (ctx->state_root == NULL || state_root_open(opts.state_root, &ctx->root_fd, err) < 0) {
            ctr_context_free(ctx);
            return -1;
        }
    }
    *out = ctx;
    return 0;
}

CTR_API void ctr_context_free(ctr_context *ctx)
{
    if (ctx == NULL)
        return;
    if (ctx->root_fd >= 0)
        close(ctx->root_fd);
    free(ctx->state_root);
    free(ctx);
}

CTR_API const char *ctr_status_name(enum ctr_status status)
{
    switch (status) {
    case CTR_STATUS_CREATING: return "creating";
    case CTR_STATUS_CREATED: return "created";
    case CTR_STATUS_RUNNING: return "running";
    case CTR_STATUS_PAUSED: return "paused";
    case CTR_STATUS_STOPPED: return "stopped";
    }
    return "unknown";
}

/* ---- the handle ---------------------------------------------------------------------------------- */

void container_warn(ctr_container *c, const char *message)
{
    if (c->ctx->warn)
        c->ctx->warn(c->ctx->warn_data, message);
}

int container_lock(ctr_container *c, bool exclusive, ctr_error **err)
{
    return c->state_fd < 0 ? 0 : state_dir_lock(c->state_fd, c->id, exclusive, err);
}

void container_unlock(ctr_container *c)
{
    if (c->state_fd >= 0)
        flock(c->state_fd, LOCK_UN);
}

void container_free(ctr_container *c)
{
    if (c == NULL)
        return;
    int fds[] = {c->init.pidfd, c->init.sync_fd, c->init.console_fd, c->state_fd};
    for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
        if (fds[i] >= 0)
            close(fds[i]);
    cgroup_free(c->cgroup);
    intelrdt_free(c->rdt);
    if (c->own_spec)
        ctr_spec_free(c->spec);
    free(c->config_text);
    free(c->rootfs);
    free(c->bundle);
    free(c->created);
    free(c->id);
    free(c);
}

static ctr_container *container_new(ctr_context *ctx, const char *id)
{
    ctr_container *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    c->ctx = ctx;
    c->init = (struct spawned_init){.pid = -1, .pidfd = -1, .sync_fd = -1, .console_fd = -1};
    c->state_fd = -1;
    c->id = strdup(id);
    if (c->id == NULL) {
        free(c);
        return NULL;
    }
    return c;
}

int container_status(ctr_container *c, enum ctr_status *status, ctr_error **err)
{
    bool alive = !c->reaped && c->init.pid > 0 && c->start_time != 0 &&
                 process_start_time(c->init.pid) == c->start_time;
    if (!alive) {
        *status = CTR_STATUS_STOPPED;
        return 0;
    }
    if (!c->started) {
        *status = CTR_STATUS_CREATED;
        return 0;
    }
    bool frozen = false;
    if (c->cgroup && cgroup_is_frozen(c->cgroup, &frozen, err) < 0)
        return -1;
    *status = frozen ? CTR_STATUS_PAUSED : CTR_STATUS_RUNNING;
    return 0;
}

char *container_state_text(ctr_container *c, const char *status)
{
    bool stopped = strcmp(status, "stopped") == 0;
    json_t *state = hooks_state_document(c->spec, c->id, status, stopped ? 0 : c->init.pid,
                                         c->bundle);
    if (state == NULL)
        return NULL;
    if (stopped)
        json_object_set_new(state, "pid", json_integer(0));
    json_object_set_new(state, "rootfs", json_string(c->rootfs));
    json_object_set_new(state, "created", json_string(c->created));
    json_object_set_new(state, "owner", json_string(""));
    char *text = json_dumps(state, JSON_COMPACT);
    json_decref(state);
    return text;
}

/* state.json: the spec's fields plus what later commands need to find the container again,
 * and the config as it was at create (runtime.md: later changes to the bundle must not affect
 * the container). One file, replaced atomically: a reader never sees half of it. */
int container_save(ctr_container *c, ctr_error **err)
{
    if (c->state_fd < 0)
        return 0;
    json_t *cgroup = c->cgroup ? cgroup_to_json(c->cgroup) : json_null();
    json_t *state = json_pack("{s:s, s:s, s:I, s:I, s:s, s:s, s:s, s:b, s:o, s:s}", "ociVersion",
                              c->spec->oci_version, "id", c->id, "pid", (json_int_t)c->init.pid,
                              "pidStartTime", (json_int_t)c->start_time, "bundle", c->bundle,
                              "rootfs", c->rootfs, "created", c->created, "started", c->started,
                              "cgroup", cgroup ? cgroup : json_null(), "config", c->config_text);
    if (state == NULL)
        return error_set(err, ENOMEM, "state of container `%s`", c->id);
    /* Optional keys, added after the fixed ones: what delete must undo of linux.intelRdt. */
    if (c->rdt)
        json_object_set_new(state, "intelRdt", intelrdt_to_json(c->rdt));
    int ret = state_write(c->state_fd, c->id, state, err);
    json_decref(state);
    return ret;
}

/* ---- create ------------------------------------------------------------------------------------ */

/* runc's rule for ids: they name directories and cgroups, so no '/' and no "..". */
static int check_id(const char *id, ctr_error **err)
{
    if (id == NULL || *id == '\0')
        return error_set(err, EINVAL, "container id: must not be empty");
    if (strlen(id) > 1024)
        return error_set(err, EINVAL, "container id: longer than 1024 characters");
    if (strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
        return error_set(err, EINVAL, "container id `%s`: invalid", id);
    for (const char *p = id; *p; p++)
        if (!(('a' <= *p && *p <= 'z') || ('A' <= *p && *p <= 'Z') || ('0' <= *p && *p <= '9') ||
              *p == '_' || *p == '-' || *p == '.' || *p == '+'))
            return error_set(err, EINVAL,
                             "container id `%s`: only letters, digits and _ - . + are allowed", id);
    return 0;
}

static int resolve_rootfs(const char *bundle, const struct ctr_spec *spec, char **rootfs,
                          ctr_error **err)
{
    _cleanup_free_ char *joined = NULL;
    const char *path = spec->root_path;
    if (path[0] != '/') {
        if (asprintf(&joined, "%s/%s", bundle, path) < 0)
            return error_set(err, ENOMEM, "root.path");
        path = joined;
    }
    char *resolved = realpath(path, NULL);
    if (resolved == NULL)
        return error_set(err, errno, "root.path `%s`", path);
    struct stat st;
    if (stat(resolved, &st) < 0 || !S_ISDIR(st.st_mode)) {
        free(resolved);
        return error_set(err, ENOTDIR, "root.path `%s`", path);
    }
    *rootfs = resolved;
    return 0;
}

/* What the runtime (not the config's syntax) decides cannot run here: checked before anything
 * is created on the host. */
static int check_runnable(const struct ctr_spec *spec, ctr_error **err)
{
    if (!spec->has_process)
        return error_set(err, EINVAL, "process: required to create a container");
    const struct spec_namespace *mnt = &spec->linux_.namespaces[NS_MOUNT];
    if (!mnt->present || mnt->path)
        return error_set(err, EINVAL,
                         "linux.namespaces: a new mount namespace is required to set up the rootfs");
    if (spec->process.has_capabilities &&
        caps_check_grantable(&spec->process.capabilities, err) < 0)
        return -1;
    /* A label that cannot be honoured must fail, not be ignored. */
    if (lsm_check_process(&spec->process, "", err) < 0 ||
        lsm_check_mount_label(&spec->linux_, err) < 0)
        return -1;
    /* config-linux.md: moving each network device must be possible; resctrl must be there. */
    if (netdev_check(&spec->linux_, err) < 0 || intelrdt_check(&spec->linux_.intel_rdt, err) < 0)
        return -1;
    return 0;
}

static char *now_rfc3339(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char date[32];
    strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
    char *out = NULL;
    if (asprintf(&out, "%s.%09ldZ", date, ts.tv_nsec) < 0)
        return NULL;
    return out;
}

/* The socket a later `start` connects to, bound in the state directory. Bound through
 * /proc/self/fd so a long --root cannot overflow sun_path. */
static int listen_for_start(int state_fd, const char *id, int *fd, ctr_error **err)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    snprintf(addr.sun_path, sizeof(addr.sun_path), "/proc/self/fd/%d/init.sock", state_fd);
    *fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (*fd < 0 || bind(*fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(*fd, 4) < 0) {
        int saved = errno;
        if (*fd >= 0)
            close(*fd);
        *fd = -1;
        return error_set(err, saved, "container `%s`: listen on init.sock", id);
    }
    return 0;
}

/* Loads config.json from the bundle, keeping its text for state.json when recorded. */
static int load_config(ctr_container *c, const struct ctr_create_options *opts, ctr_error **err)
{
    size_t len = 0;
    if (opts->spec) {
        c->spec = (ctr_spec *)opts->spec;
        if (c->state_fd >= 0 && (c->config_text = json_dumps(c->spec->json, JSON_COMPACT)) == NULL)
            return error_set(err, ENOMEM, "config");
        return 0;
    }
    _cleanup_free_ char *config = NULL;
    if (asprintf(&config, "%s/config.json", c->bundle) < 0)
        return error_set(err, ENOMEM, "config.json");
    if (read_file_at(AT_FDCWD, config, &c->config_text, &len, err) < 0 ||
        ctr_spec_load_data(c->config_text, len, config, &c->spec, err) < 0)
        return -1;
    c->own_spec = true;
    return 0;
}

/* Whether linux.resources asks for a limit. Device rules do not count: every manager sends them,
 * and a caller that disables cgroups takes on their enforcement (see ctr_create_options). */
static bool resources_requested(const struct ctr_spec *spec)
{
    const struct spec_resources *r = &spec->linux_.resources;
    return r->has_memory || r->has_cpu || r->has_block_io || r->has_pids || r->has_network ||
           r->hugepage_limits_count || r->rdma_count || r->unified_count;
}

static void run_poststop_hooks(ctr_container *c)
{
    if (c->spec == NULL || c->spec->hooks.poststop.count == 0)
        return;
    _cleanup_free_ char *state = container_state_text(c, "stopped");
    if (state)
        hooks_run_warning(&c->spec->hooks.poststop, "poststop", state, c->ctx->warn,
                          c->ctx->warn_data);
}

static void close_namespace_fds(int (*fds)[NS_TYPE_COUNT])
{
    namespaces_close_fds(*fds);
}

static int create(ctr_container *c, const struct ctr_create_options *opts, ctr_error **err)
{
    ctr_context *ctx = c->ctx;
    c->bundle = realpath(opts->bundle ? opts->bundle : ".", NULL);
    if (c->bundle == NULL)
        return error_set(err, errno, "bundle `%s`", opts->bundle ? opts->bundle : ".");
    if (ctx->root_fd >= 0 && state_dir_create(ctx->root_fd, c->id, &c->state_fd, err) < 0)
        return -1;
    c->created = now_rfc3339();
    if (load_config(c, opts, err) < 0)
        return -1;
    /* What the runtime refuses in the config names the file too, as parse errors do. The
     * namespaces to join are opened (and checked) here, once, before anything is created. */
    _cleanup_(close_namespace_fds) int ns_fds[NS_TYPE_COUNT] = {-1, -1, -1, -1, -1, -1, -1, -1};
    if (resolve_rootfs(c->bundle, c->spec, &c->rootfs, err) < 0 ||
        namespaces_open_paths(&c->spec->linux_, ns_fds, err) < 0 ||
        check_runnable(c->spec, err) < 0)
        return opts->spec ? -1 : error_wrap(err, "%s/config.json", c->bundle);

    if (opts->no_cgroup && c->spec->linux_.has_resources && resources_requested(c->spec))
        return error_invalid(err, "linux.resources: limits cannot be applied with cgroups "
                                 "disabled");

    _cleanup_close_ int listen_fd = -1, console_socket = -1;
    if (c->state_fd >= 0 && listen_for_start(c->state_fd, c->id, &listen_fd, err) < 0)
        return -1;
    if (c->spec->process.terminal && opts->console_socket &&
        terminal_connect(opts->console_socket, &console_socket, err) < 0)
        return -1;
    struct cgroup_options cgroup_opts = {.systemd = opts->systemd_cgroup};
    if (!opts->no_cgroup && cgroup_create_with(c->spec, c->id, &cgroup_opts, &c->cgroup, err) < 0)
        return -1;
    struct spawn_request request = {
        .mode = SPAWN_CREATE,
        .spec = c->spec,
        .ns_fds = ns_fds,
        .id = c->id,
        .bundle = c->bundle,
        .rootfs = c->rootfs,
        .cgroup = c->cgroup,
        .stdio = {opts->stdio[0], opts->stdio[1], opts->stdio[2]},
        .console_socket = console_socket,
        .listen_fd = listen_fd,
        .preserve_fds = opts->preserve_fds,
        .no_new_keyring = opts->no_new_keyring,
        .no_pivot = opts->no_pivot,
        .extra_env = opts->extra_env,
        .status = "creating",
    };
    if (spawn_init(&request, &c->init, err) < 0) {
        /* runtime.md: a failed create hook stops the container and the lifecycle goes on with
         * its destruction and the poststop hooks. */
        run_poststop_hooks(c);
        return -1;
    }
    c->is_child = true;
    c->start_time = process_start_time(c->init.pid);
    /* The init waits at the exec barrier: what it execs and forks inherits its resctrl group. */
    if (c->spec->linux_.intel_rdt.set &&
        intelrdt_apply(INTELRDT_ROOT, &c->spec->linux_.intel_rdt, c->id, c->init.pid, &c->rdt,
                       err) < 0)
        return -1;
    if (container_save(c, err) < 0)
        return -1;
    container_unlock(c);
    return 0;
}

CTR_API int ctr_container_create(ctr_context *ctx, const char *id,
                                 const struct ctr_create_options *options, ctr_container **out,
                                 ctr_error **err)
{
    struct ctr_create_options opts = {.stdio = {-1, -1, -1}};
    if (options) {
        if (options->size < sizeof(options->size))
            return error_set(err, EINVAL, "ctr_create_options: bad size %zu", options->size);
        memcpy(&opts, options, options->size < sizeof(opts) ? options->size : sizeof(opts));
    }
    if (check_id(id, err) < 0)
        return -1;
    ctr_container *c = container_new(ctx, id);
    if (c == NULL)
        return error_set(err, ENOMEM, "container `%s`", id);
    if (create(c, &opts, err) < 0) {
        /* Undo in reverse: the init (killed by spawn_init already on its failures), the cgroup,
         * the state. Nothing of the container is left. */
        spawn_abort(&c->init);
        if (c->cgroup)
            cgroup_destroy(steal_pointer(&c->cgroup), NULL);
        if (c->rdt)
            intelrdt_destroy(steal_pointer(&c->rdt), NULL);
        /* state_fd is set only once the directory was made here: "already exists" never gets
         * that far, and any other error, EEXIST included (a name taken, a group there), is ours
         * to undo. */
        if (c->state_fd >= 0)
            state_dir_remove(ctx->root_fd, id, NULL);
        error_wrap(err, "create container `%s`", id);
        container_free(c);
        return -1;
    }
    *out = c;
    return 0;
}

/* ---- load ---------------------------------------------------------------------------------------- */

static int load_from_state(ctr_container *c, json_t *state, ctr_error **err)
{
    json_int_t pid = 0, start_time = 0;
    const char *bundle = NULL, *rootfs = NULL, *created = NULL, *config = NULL;
    int started = 0;
    json_t *cgroup = NULL;
    if (json_unpack(state, "{s:I, s:I, s:s, s:s, s:s, s:b, s:o, s:s}", "pid", &pid,
                    "pidStartTime", &start_time, "bundle", &bundle, "rootfs", &rootfs, "created",
                    &created, "started", &started, "cgroup", &cgroup, "config", &config) < 0)
        return error_set(err, EINVAL, "container `%s`: state.json is incomplete", c->id);
    c->config_text = strdup(config);
    if (c->config_text == NULL)
        return error_set(err, ENOMEM, "container `%s`", c->id);
    if (ctr_spec_load_data(c->config_text, strlen(c->config_text), "config.json", &c->spec,
                           err) < 0)
        return error_wrap(err, "container `%s`: its config", c->id);
    c->own_spec = true;
    c->init.pid = (pid_t)pid;
    c->start_time = (unsigned long long)start_time;
    c->started = started;
    c->bundle = strdup(bundle);
    c->rootfs = strdup(rootfs);
    c->created = strdup(created);
    if (!c->bundle || !c->rootfs || !c->created)
        return error_set(err, ENOMEM, "container `%s`", c->id);
    if (!json_is_null(cgroup) && cgroup_from_json(cgroup, &c->cgroup, err) < 0)
        return error_wrap(err, "container `%s`: state.json", c->id);
    json_t *rdt = json_object_get(state, "intelRdt");
    if (rdt && intelrdt_from_json(rdt, &c->rdt, err) < 0)
        return error_wrap(err, "container `%s`", c->id);
    /* A pidfd only for the init we recorded: if the pid was reused since, it names another
     * process and the start times differ. */
    if (process_start_time(c->init.pid) == c->start_time) {
        c->init.pidfd = (int)syscall(SYS_pidfd_open, c->init.pid, 0);
        if (c->init.pidfd >= 0 && process_start_time(c->init.pid) != c->start_time) {
            close(c->init.pidfd);
            c->init.pidfd = -1;
        }
    }
    return 0;
}

CTR_API int ctr_container_load(ctr_context *ctx, const char *id, ctr_container **out,
                               ctr_error **err)
{
    if (ctx->root_fd < 0)
        return error_set(err, EINVAL, "container `%s`: the context has no state root", id);
    if (check_id(id, err) < 0)
        return -1;
    ctr_container *c = container_new(ctx, id);
    if (c == NULL)
        return error_set(err, ENOMEM, "container `%s`", id);
    json_t *state = NULL;
    int ret = -1;
    if (state_dir_open(ctx->root_fd, id, false, &c->state_fd, err) < 0)
        goto out;
    if (state_read(c->state_fd, id, &state, err) < 0 || load_from_state(c, state, err) < 0)
        goto out;
    ret = 0;
out:
    json_decref(state);
    if (c->state_fd >= 0)
        container_unlock(c);
    if (ret < 0) {
        container_free(c);
        return -1;
    }
    *out = c;
    return 0;
}

CTR_API void ctr_container_release(ctr_container *c)
{
    if (c == NULL)
        return;
    /* A created init we still hold waits for a `start` from anyone from now on. */
    if (c->init.sync_fd >= 0 && !c->started) {
        ctr_error *err = NULL;
        spawn_detach(&c->init, &err);
        ctr_error_free(err);
    }
    container_free(c);
}

/* ---- start --------------------------------------------------------------------------------------- */

/* A `start` from another process: connect to the init's socket in the state directory. */
static int start_through_socket(ctr_container *c, ctr_error **err)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    snprintf(addr.sun_path, sizeof(addr.sun_path), "/proc/self/fd/%d/init.sock", c->state_fd);
    _cleanup_close_ int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
        return error_set(err, errno, "connect to the init of container `%s`", c->id);
    if (sync_send(fd, SYNC_PARENT_START, 0, err) < 0)
        return -1;
    struct sync_msg msg;
    if (sync_receive(fd, &msg, err) < 0)
        return -1;
    if (msg.type != 0)
        return error_set(err, EPROTO, "unexpected `%s` from the container init after start",
                         sync_type_name(msg.type));
    return 0;
}

CTR_API int ctr_container_start(ctr_container *c, ctr_error **err)
{
    if (container_lock(c, true, err) < 0)
        return error_wrap(err, "start container `%s`", c->id);
    enum ctr_status status;
    int ret = container_status(c, &status, err);
    if (ret == 0 && status != CTR_STATUS_CREATED)
        ret = error_set(err, EBUSY, "the container is %s, not created", ctr_status_name(status));
    if (ret == 0)
        ret = c->init.sync_fd >= 0 ? spawn_start(&c->init, err) : start_through_socket(c, err);
    if (ret == 0) {
        c->started = true;
        if (c->state_fd >= 0)
            unlinkat(c->state_fd, "init.sock", 0);
        ret = container_save(c, err);
    }
    container_unlock(c);
    if (ret < 0)
        return error_wrap(err, "start container `%s`", c->id);
    if (c->spec->hooks.poststart.count) {
        _cleanup_free_ char *state = container_state_text(c, "running");
        if (state)
            hooks_run_warning(&c->spec->hooks.poststart, "poststart", state, c->ctx->warn,
                              c->ctx->warn_data);
    }
    return 0;
}

/* ---- delete -------------------------------------------------------------------------------------- */

/* SIGKILL and wait: reaping when the init is our child, else until its pidfd says it exited. */
static int kill_and_wait(ctr_container *c, ctr_error **err)
{
    if (c->init.pidfd < 0 || c->reaped)
        return 0;
    if (c->cgroup)
        cgroup_freeze(c->cgroup, false, NULL); /* a frozen init would never see SIGKILL */
    syscall(SYS_pidfd_send_signal, c->init.pidfd, SIGKILL, NULL, 0);
    if (c->is_child)
        return ctr_container_wait(c, NULL, err);
    /* Not our child (its parent, e.g. a shim, reaps it): the pidfd becomes readable on exit. */
    struct pollfd pfd = {.fd = c->init.pidfd, .events = POLLIN};
    int n;
    do
        n = poll(&pfd, 1, 10000);
    while (n < 0 && errno == EINTR);
    if (n <= 0)
        return error_set(err, n < 0 ? errno : ETIMEDOUT,
                         "container `%s`: the init did not exit after SIGKILL", c->id);
    return 0;
}

CTR_API int ctr_container_delete(ctr_container *c, int force, ctr_error **err)
{
    if (c == NULL)
        return 0;
    int ret = container_lock(c, true, err);
    enum ctr_status status = CTR_STATUS_STOPPED;
    if (ret == 0)
        ret = container_status(c, &status, err);
    /* runtime.md: deleting a container whose process runs is an error; a created one (its
     * process never ran) is deleted, as runc does. */
    if (ret == 0 && !force && (status == CTR_STATUS_RUNNING || status == CTR_STATUS_PAUSED))
        ret = error_set(err, EBUSY, "the container is %s (use force to kill it first)",
                        ctr_status_name(status));
    if (ret == 0 && status != CTR_STATUS_STOPPED)
        ret = kill_and_wait(c, err);
    else if (ret == 0 && c->is_child && !c->reaped)
        ret = ctr_container_wait(c, NULL, err);
    if (ret == 0 && c->cgroup)
        ret = cgroup_destroy(steal_pointer(&c->cgroup), err);
    if (ret == 0 && c->rdt)
        ret = intelrdt_destroy(steal_pointer(&c->rdt), err);
    if (ret == 0 && c->state_fd >= 0)
        ret = state_dir_remove(c->ctx->root_fd, c->id, err);
    if (ret == 0)
        run_poststop_hooks(c);
    if (ret < 0)
        error_wrap(err, "delete container `%s`", c->id);
    container_free(c);
    return ret;
}

CTR_API int ctr_container_destroy(ctr_container *c, ctr_error **err)
{
    return ctr_container_delete(c, 1, err);
}

/* ---- accessors and state ----------------------------------------------------------------------- */

CTR_API const char *ctr_container_id(const ctr_container *c)
{
    return c->id;
}

CTR_API const char *ctr_container_bundle(const ctr_container *c)
{
    return c->bundle;
}

CTR_API pid_t ctr_container_pid(const ctr_container *c)
{
    return c->init.pid;
}

CTR_API int ctr_container_pidfd(const ctr_container *c)
{
    return c->init.pidfd;
}

CTR_API int ctr_container_console_fd(const ctr_container *c)
{
    return c->init.console_fd;
}

CTR_API int ctr_container_status(ctr_container *c, enum ctr_status *status, ctr_error **err)
{
    if (container_lock(c, false, err) < 0)
        return -1;
    int ret = container_status(c, status, err);
    container_unlock(c);
    return ret;
}

CTR_API int ctr_container_process_json(ctr_container *c, char **json, ctr_error **err)
{
    json_t *process = json_object_get(c->spec->json, "process");
    *json = process ? json_dumps(process, JSON_COMPACT) : NULL;
    if (*json == NULL)
        return error_set(err, process ? ENOMEM : ENOENT, "container `%s`: its config has no process",
                         c->id);
    return 0;
}

CTR_API int ctr_container_state_json(ctr_container *c, char **json, ctr_error **err)
{
    enum ctr_status status;
    if (ctr_container_status(c, &status, err) < 0)
        return error_wrap(err, "state of container `%s`", c->id);
    *json = container_state_text(c, ctr_status_name(status));
    if (*json == NULL)
        return error_set(err, ENOMEM, "state of container `%s`", c->id);
    return 0;
}
