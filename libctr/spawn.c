#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hooks.h"
#include "init.h"
#include "mount.h"
#include "namespaces.h"
#include "netdev.h"
#include "procfs.h"
#include "security.h"
#include "sync.h"
#include "util.h"

static pid_t sys_clone3(struct clone_args *args)
{
    return (pid_t)syscall(SYS_clone3, args, sizeof(*args));
}

static int sys_pidfd_open(pid_t pid)
{
    return (int)syscall(SYS_pidfd_open, pid, 0);
}

/* A raw clone3 skips glibc's fork handlers, so in a process with other threads the child could
 * inherit a malloc lock held by one of them and deadlock. Only a single-threaded caller (ctr-run,
 * the shim) gets the fast path; an embedding daemon with threads goes through glibc's fork(). */
static bool caller_is_single_threaded(int procfd)
{
    _cleanup_free_ char *buf = NULL;
    if (procfs_read(procfd, "self/stat", &buf, NULL) < 0)
        return false;
    /* proc(5): field 20 is num_threads; the command name (field 2) may contain spaces, so count
     * from the last ')'. */
    char *p = strrchr(buf, ')');
    for (int field = 2; p && field < 20; field++)
        p = strchr(p + 1, ' ');
    return p && strtol(p + 1, NULL, 10) == 1;
}

static void reap(pid_t pid)
{
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
}

void spawn_abort(struct spawned_init *init)
{
    if (init->pid > 0) {
        kill(init->pid, SIGKILL);
        reap(init->pid);
        init->pid = -1;
    }
    int *fds[] = {&init->pidfd, &init->sync_fd, &init->console_fd};
    for (size_t i = 0; i < ARRAY_SIZE(fds); i++) {
        if (*fds[i] >= 0)
            close(*fds[i]);
        *fds[i] = -1;
    }
}

/* The init closed the handshake without a word: it died. Say how (an OOM kill during set-up, under
 * a tiny memory limit, is the usual SIGKILL), without reaping it: spawn_abort does. `request`
 * (may be NULL) only adds a hint. */
static int init_died(const struct spawned_init *init, const struct spawn_request *request,
                     ctr_error **err)
{
    siginfo_t info = {0};
    while (waitid(P_PIDFD, (id_t)init->pidfd, &info, WEXITED | WNOWAIT) < 0)
        if (errno != EINTR)
            return error_set(err, EPIPE, "the container init exited during its set-up");
    if (info.si_code == CLD_EXITED)
        return error_set(err, 0, "the container init exited with status %d during its set-up",
                         info.si_status);
    bool memory_limit = request && request->spec->linux_.has_resources &&
                        request->spec->linux_.resources.memory.limit.set;
    return error_set(err, 0, "the container init was killed by signal %d (SIG%s) during its "
                     "set-up%s", info.si_status, sigabbrev_np(info.si_status) ?: "?",
                     info.si_status == SIGKILL && memory_limit
                         ? " (by the OOM killer? linux.resources.memory.limit may be too low)"
                         : "");
}

/* When a step fails because the init already exited (a send gets EPIPE, moving it into its
 * cgroup gets ESRCH), the error to report is what the init sent before exiting (SYNC_INIT_ERROR,
 * naming what failed) if it is waiting on the socket, or else how it died. */
static void explain_init_failure(const struct spawned_init *init,
                                 const struct spawn_request *request, ctr_error **err)
{
    struct pollfd pfd = {.fd = init->sync_fd, .events = POLLIN};
    if (init->sync_fd >= 0 && poll(&pfd, 1, 0) > 0 && (pfd.revents & POLLIN)) {
        struct sync_msg msg;
        ctr_error *init_error = NULL;
        if (sync_receive(init->sync_fd, &msg, &init_error) < 0 && init_error &&
            msg.type == SYNC_INIT_ERROR) {
            error_pass(err, init_error);
            return;
        }
        ctr_error_free(init_error);
    }
    siginfo_t info = {0};
    if (init->pidfd >= 0 &&
        waitid(P_PIDFD, (id_t)init->pidfd, &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
        info.si_pid != 0)
        init_died(init, request, err);
}

static int send_to_init(const struct spawned_init *init, const struct spawn_request *request,
                        enum sync_type type, int64_t value, ctr_error **err)
{
    if (sync_send(init->sync_fd, type, value, err) == 0)
        return 0;
    explain_init_failure(init, request, err);
    return -1;
}

static int send_to_init_fds(const struct spawned_init *init, const struct spawn_request *request,
                            enum sync_type type, int64_t value, const int *fds, size_t count,
                            ctr_error **err)
{
    if (sync_send_fds(init->sync_fd, type, value, fds, count, err) == 0)
        return 0;
    explain_init_failure(init, request, err);
    return -1;
}

/* prestart (deprecated, but still run: podman and docker use it for networking) and createRuntime
 * hooks, in the runtime's namespaces; their failure fails the create (runtime.md "Lifecycle"). */
static int run_create_runtime_hooks(const struct spawn_request *request, pid_t pid, ctr_error **err)
{
    const struct spec_hooks *hooks = &request->spec->hooks;
    _cleanup_free_ char *text =
        hooks_state_text(request->spec, request->id, "creating", pid, request->bundle);
    if (text == NULL)
        return error_set(err, ENOMEM, "state for the hooks");
    if (hooks_run(&hooks->prestart, "prestart", text, err) < 0 ||
        hooks_run(&hooks->create_runtime, "createRuntime", text, err) < 0)
        return -1;
    return 0;
}

/* SYNC_IDMAP_MOUNTS: each idmapped bind's detached tree, made here on the init's user namespace
 * `userns` (or the mount's own mappings), sent back to be attached (mount.h). */
static int send_idmapped_trees(const struct spawn_request *request,
                               const struct spawned_init *init, int userns, int procfd,
                               ctr_error **err)
{
    const struct ctr_spec *spec = request->spec;
    for (size_t i = 0; i < spec->mounts_count; i++) {
        if (!mount_is_idmapped_bind(&spec->mounts[i]))
            continue;
        _cleanup_close_ int tree = mount_prepare_idmapped(&sys_real, &spec->mounts[i], i,
                                                          request->bundle, userns, procfd, err);
        if (tree < 0 ||
            send_to_init_fds(init, request, SYNC_IDMAP_TREE, (int64_t)i, &tree, 1, err) < 0)
            return -1;
    }
    return send_to_init(init, request, SYNC_IDMAP_DONE, 0, err);
}

/* SYNC_SECCOMP_LISTENER: the listener goes to the seccomp agent with the container process state,
 * whose `pid` is the process the filter is on, and whose `state` is the container's. */
static int send_listener_to_agent(const struct spawn_request *request,
                                  const struct spawned_init *init, int listener, ctr_error **err)
{
    const struct ctr_spec *spec = request->spec;
    pid_t container_pid = request->mode == SPAWN_EXEC ? request->target_pid : init->pid;
    json_t *state = hooks_state_document(spec, request->id, request->status, container_pid,
                                         request->bundle);
    if (state == NULL)
        return error_set(err, ENOMEM, "linux.seccomp: the container process state");
    int rc = seccomp_send_listener(&spec->linux_.seccomp, spec->oci_version, init->pid, state,
                                   listener, err);
    json_decref(state);
    return rc;
}

/* The stages where the init hands over fds (sync.h); the fds are closed here, but the console's,
 * which the container keeps for its caller. */
static int serve_with_fds(const struct spawn_request *request, struct spawned_init *init,
                          int procfd, const struct sync_msg *msg, int *fds, size_t count,
                          ctr_error **err)
{
    int rc;
    if (msg->type == SYNC_CONSOLE && count == 1 && init->console_fd < 0) {
        init->console_fd = fds[0];
        return 0;
    }
    if (msg->type == SYNC_NET_DEVICES && count == 2)
        rc = netdev_move_all(&request->spec->linux_, fds[0], fds[1], err) < 0
                 ? -1
                 : send_to_init(init, request, SYNC_NET_DEVICES_MOVED, 0, err);
    else if (msg->type == SYNC_IDMAP_MOUNTS && count == 1)
        rc = send_idmapped_trees(request, init, fds[0], procfd, err);
    else if (msg->type == SYNC_SECCOMP_LISTENER && count == 1)
        rc = send_listener_to_agent(request, init, fds[0], err);
    else
        rc = error_set(err, EPROTO, "`%s` from the container init with %zu fd(s)",
                       sync_type_name(msg->type), count);
    for (size_t i = 0; i < count; i++)
        close(fds[i]);
    return rc;
}

/* Parent side of the handshake, from PARENT_READY until the init waits at the barrier. */
static int drive_handshake(const struct spawn_request *request, struct spawned_init *init,
                           int procfd, ctr_error **err)
{
    for (;;) {
        struct sync_msg msg;
        int fds[SYNC_FDS_MAX];
        size_t count = 0;
        if (sync_receive_fds(init->sync_fd, &msg, fds, SYNC_FDS_MAX, &count, err) < 0)
            return -1;
        if (count || msg.type == SYNC_CONSOLE || msg.type == SYNC_NET_DEVICES ||
            msg.type == SYNC_IDMAP_MOUNTS || msg.type == SYNC_SECCOMP_LISTENER) {
            if (serve_with_fds(request, init, procfd, &msg, fds, count, err) < 0)
                return -1;
            continue;
        }
        switch (msg.type) {
        case 0:
            return init_died(init, request, err);
        case SYNC_USERNS_CREATED:
            if (namespaces_write_id_maps(procfd, init->pid, &request->spec->linux_, err) < 0)
                return -1;
            if (send_to_init(init, request, SYNC_USERNS_MAPPED, 0, err) < 0)
                return -1;
            break;
        case SYNC_INIT_PID: {
            /* The process we forked only joined/created the pid namespace; its child (made a
             * child of ours with CLONE_PARENT) is the init. Reap the intermediate one. */
            reap(init->pid);
            close(init->pidfd);
            init->pid = (pid_t)msg.value;
            init->pidfd = sys_pidfd_open(init->pid);
            if (init->pidfd < 0)
                return error_set(err, errno, "pidfd_open of the container init %d", init->pid);
            break;
        }
        case SYNC_CREATE_HOOKS:
            if (run_create_runtime_hooks(request, init->pid, err) < 0)
                return -1;
            if (send_to_init(init, request, SYNC_HOOKS_DONE, init->pid, err) < 0)
                return -1;
            break;
        case SYNC_INIT_CREATED:
            return 0;
        default:
            return error_set(err, EPROTO, "unexpected `%s` from the container init",
                             sync_type_name(msg.type));
        }
    }
}

/* The namespaces the init joins instead of creating: the config's paths, opened by the caller
 * (create: copied, the caller closes them), or every namespace of the running container (exec:
 * opened here, closed by spawn_init). */
static int open_joined_namespaces(const struct spawn_request *request, int procfd,
                                  int fds[NS_TYPE_COUNT], char paths[NS_TYPE_COUNT][48],
                                  const char *path_of[NS_TYPE_COUNT], ctr_error **err)
{
    const struct spec_linux *linux_ = &request->spec->linux_;
    if (request->mode == SPAWN_EXEC) {
        if (namespaces_open_of_process(procfd, linux_, request->target_pid, fds, paths, err) < 0)
            return -1;
        for (int t = 0; t < NS_TYPE_COUNT; t++)
            path_of[t] = paths[t];
        return 0;
    }
    for (int t = 0; t < NS_TYPE_COUNT; t++) {
        path_of[t] = linux_->namespaces[t].path;
        fds[t] = request->ns_fds ? request->ns_fds[t] : -1;
    }
    return 0;
}

int spawn_init(const struct spawn_request *request, struct spawned_init *init, ctr_error **err)
{
    const struct spec_linux *linux_ = &request->spec->linux_;
    /* Taken before the init exists, which inherits it: the runtime's own /proc, which no mount of
     * the container can cover (procfs.h; CVE-2019-16884, CVE-2025-52881). */
    _cleanup_close_ int procfd = procfs_open_root(err);
    if (procfd < 0)
        return -1;
    int ns_fds[NS_TYPE_COUNT];
    char ns_paths[NS_TYPE_COUNT][48];
    const char *ns_path_of[NS_TYPE_COUNT];
    if (open_joined_namespaces(request, procfd, ns_fds, ns_paths, ns_path_of, err) < 0)
        return -1;
    /* The child gets its copy of them either way; ours are closed here only if we opened them. */
    bool own_ns_fds = request->mode == SPAWN_EXEC;

    /* The init moves itself into the v1 hierarchies (cgroup_join.c). */
    struct cgroup_self_join self_join = {0};
    if (request->cgroup && cgroup_self_join_open(request->cgroup, &self_join, err) < 0) {
        if (own_ns_fds)
            namespaces_close_fds(ns_fds);
        return -1;
    }
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
        int saved = errno;
        cgroup_self_join_close(&self_join);
        if (own_ns_fds)
            namespaces_close_fds(ns_fds);
        return error_set(err, saved, "socketpair for the container init");
    }
    *init = (struct spawned_init){.pid = -1, .pidfd = -1, .sync_fd = sv[0], .console_fd = -1};

    bool exec = request->mode == SPAWN_EXEC;
    int new_flags = exec ? 0 : namespaces_new_flags(linux_);
    bool fast = !exec && !namespaces_any_joined(linux_) && caller_is_single_threaded(procfd);
    bool into_cgroup = false;
    pid_t pid;
    if (fast) {
        struct clone_args args = {
            .flags = (uint64_t)new_flags | CLONE_PIDFD,
            .pidfd = (uint64_t)(uintptr_t)&init->pidfd,
            .exit_signal = SIGCHLD,
        };
        /* The init is born in its cgroup's v2 tree (pure v2 or hybrid): no move by pid, and no
         * window where it runs in ours (cgroup_join.c). */
        if (request->cgroup && request->cgroup->v2_dir_fd >= 0) {
            args.flags |= CLONE_INTO_CGROUP;
            args.cgroup = (uint64_t)request->cgroup->v2_dir_fd;
            into_cgroup = true;
        }
        pid = sys_clone3(&args);
    } else {
        pid = fork();
    }
    if (pid < 0) {
        int saved = errno;
        cgroup_self_join_close(&self_join);
        if (own_ns_fds)
            namespaces_close_fds(ns_fds);
        close(sv[0]);
        close(sv[1]);
        return error_set(err, saved, "%s the container init", fast ? "clone3" : "fork");
    }
    if (pid == 0) {
        close(sv[0]);
        struct init_args args = {
            .request = request,
            .sync_fd = sv[1],
            .namespaces_created = fast,
            .ns_fds = ns_fds,
            .ns_paths = ns_path_of,
            .proc_fd = procfd,
            .self_join = request->cgroup ? &self_join : NULL,
        };
        init_main(&args);
    }

    cgroup_self_join_close(&self_join);
    close(sv[1]);
    if (own_ns_fds)
        namespaces_close_fds(ns_fds);
    init->pid = pid;
    if (!fast && (init->pidfd = sys_pidfd_open(pid)) < 0) {
        error_set(err, errno, "pidfd_open of the container init %d", pid);
        goto fail;
    }
    if (fast && (new_flags & CLONE_NEWUSER) &&
        namespaces_write_id_maps(procfd, pid, linux_, err) < 0)
        goto fail;
    /* The init joined the v1 hierarchies itself; the v2 tree is left where clone3 did not place
     * it. That move by pid may wait for an RCU grace period (cgroup_join.c): on the fast path the
     * init sets up its mounts meanwhile and waits for SYNC_CGROUP_JOINED only where it needs the
     * cgroup. The general path may fork the init from this child, so the child must be in the
     * cgroup before it goes on. */
    bool join_first = !fast;
    if (join_first && request->cgroup && cgroup_enter_v2(request->cgroup, pid, err) < 0) {
        explain_init_failure(init, request, err);
        goto fail;
    }
    if (send_to_init(init, request, SYNC_PARENT_READY, 0, err) < 0)
        goto fail;
    if (!join_first && request->cgroup && !into_cgroup &&
        cgroup_enter_v2(request->cgroup, pid, err) < 0) {
        explain_init_failure(init, request, err);
        goto fail;
    }
    if (send_to_init(init, request, SYNC_CGROUP_JOINED, 0, err) < 0)
        goto fail;
    if (drive_handshake(request, init, procfd, err) < 0)
        goto fail;
    return 0;

fail:
    spawn_abort(init);
    return -1;
}

int spawn_start(struct spawned_init *init, ctr_error **err)
{
    if (send_to_init(init, NULL, SYNC_PARENT_START, 0, err) < 0)
        return -1;
    /* The socket is O_CLOEXEC in the init: end of stream means execve succeeded. */
    struct sync_msg msg;
    int ret = sync_receive(init->sync_fd, &msg, err);
    close(init->sync_fd);
    init->sync_fd = -1;
    if (ret < 0)
        return -1;
    if (msg.type != 0)
        return error_set(err, EPROTO, "unexpected `%s` from the container init after start",
                         sync_type_name(msg.type));
    return 0;
}

int spawn_detach(struct spawned_init *init, ctr_error **err)
{
    int ret = sync_send(init->sync_fd, SYNC_PARENT_DETACH, 0, err);
    close(init->sync_fd);
    init->sync_fd = -1;
    return ret;
}
