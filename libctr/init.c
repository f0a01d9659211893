/* The container init: runs in the child created by spawn.c and ends in execve of process.args.
 * Every step that fails is reported to the parent over the sync socket (sync.h) before exiting,
 * so the caller learns what failed on which object. The same code runs an exec'd process, which
 * joins the running container instead of building one. */
#include "init.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <linux/keyctl.h>
#include <linux/netlink.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "exec.h"
#include "hooks.h"
#include "lsm.h"
#include "mount.h"
#include "namespaces.h"
#include "paths.h"
#include "procfs.h"
#include "rootfs.h"
#include "security.h"
#include "sync.h"
#include "terminal.h"
#include "util.h"

_Noreturn static void fail(int sync_fd, ctr_error *err)
{
    sync_send_error(sync_fd, err);
    _exit(1);
}

/* The caller may have blocked or ignored signals (ctr-run blocks the ones it forwards); the
 * container process must start with the default dispositions and an empty mask. */
static void reset_signals(void)
{
    struct sigaction dfl = {.sa_handler = SIG_DFL};
    for (int sig = 1; sig < NSIG; sig++)
        if (sig != SIGKILL && sig != SIGSTOP)
            sigaction(sig, &dfl, NULL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

/* Whether our user namespace maps id 0, read from self/uid_map or gid_map: the config's maps for
 * a namespace we created, whatever its creator wrote for one joined by path. */
static bool namespace_maps_root(int procfd, const char *map_file)
{
    _cleanup_free_ char *text = NULL;
    if (procfs_read(procfd, map_file, &text, NULL) < 0)
        return false;
    for (char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        unsigned long inside, outside, count;
        if (sscanf(line, "%lu %lu %lu", &inside, &outside, &count) == 3 && inside == 0 && count > 0)
            return true;
    }
    return false;
}

/* ---- namespaces and cgroup ------------------------------------------------------------------- */

/* Joins namespaces by fd and creates the rest with unshare, for the general (fork) path. A pid
 * namespace only applies to children, so this may fork once more: the parent then gets the new
 * init's pid and this process exits. Returns in the process that goes on as the init. */
static int enter_namespaces(struct init_args *args, ctr_error **err)
{
    const struct spawn_request *request = args->request;
    const struct spec_linux *linux_ = &request->spec->linux_;
    bool pid_ns_joined = args->ns_fds[NS_PID] >= 0;
    if (namespaces_join(args->ns_fds, args->ns_paths, err) < 0)
        return -1;
    int flags = request->mode == SPAWN_EXEC ? 0 : namespaces_new_flags(linux_);
    if (flags && unshare(flags) < 0)
        return error_set(err, errno, "create namespaces (unshare 0x%x)", flags);
    if (flags & CLONE_NEWUSER) {
        if (sync_send(args->sync_fd, SYNC_USERNS_CREATED, 0, err) < 0 ||
            sync_expect(args->sync_fd, SYNC_USERNS_MAPPED, NULL, err) < 0)
            return -1;
    }
    bool pid_ns_for_children = (flags & CLONE_NEWPID) || pid_ns_joined;
    if (!pid_ns_for_children)
        return 0;
    /* Two processes now share the sync socket. The parent must read SYNC_INIT_PID before
     * anything the new init sends (it runs hooks on the init's pid, and ends the handshake at
     * SYNC_INIT_CREATED), so the init waits on this pipe until this process has sent it and
     * exited: the write end closes only then. */
    int sent[2];
    if (pipe2(sent, O_CLOEXEC) < 0)
        return error_set(err, errno, "pipe for the pid namespace fork");
    /* CLONE_PARENT: the init becomes the caller's child, so the caller can wait for it. */
    struct clone_args clone = {.flags = CLONE_PARENT};
    pid_t pid = (pid_t)syscall(SYS_clone3, &clone, sizeof(clone));
    if (pid < 0) {
        close(sent[0]);
        close(sent[1]);
        return error_set(err, errno, "fork into the pid namespace");
    }
    if (pid > 0) {
        ctr_error *send_err = NULL;
        int ret = sync_send(args->sync_fd, SYNC_INIT_PID, pid, &send_err);
        ctr_error_free(send_err);
        _exit(ret < 0 ? 1 : 0);
    }
    close(sent[1]);
    char byte;
    ssize_t n;
    do
        n = read(sent[0], &byte, 1);
    while (n < 0 && errno == EINTR);
    close(sent[0]);
    return 0;
}

/* Waits (once) until the parent moved this process into its cgroup. */
static int await_cgroup(struct init_args *args, ctr_error **err)
{
    if (args->cgroup_joined)
        return 0;
    if (sync_expect(args->sync_fd, SYNC_CGROUP_JOINED, NULL, err) < 0)
        return -1;
    args->cgroup_joined = true;
    return 0;
}

/* ...then creates the cgroup namespace, which is rooted at the cgroup its creator is in. */
static int join_cgroup(void *opaque, ctr_error **err)
{
    struct init_args *args = opaque;
    if (args->cgroupns_done)
        return 0;
    if (await_cgroup(args, err) < 0 ||
        namespaces_unshare_cgroup(&args->request->spec->linux_, err) < 0)
        return -1;
    args->cgroupns_done = true;
    return 0;
}

/* linux.netDevices: the parent moves them in (netdev.h) once this process is in the container's
 * network namespace, which it hands over with an rtnetlink socket made in it. */
static int receive_net_devices(struct init_args *args, ctr_error **err)
{
    if (args->request->spec->linux_.net_devices_count == 0)
        return 0;
    /* The parent's SYNC_CGROUP_JOINED comes before any reply to us: take it first. */
    if (await_cgroup(args, err) < 0)
        return -1;
    _cleanup_close_ int netns =
        procfs_open_namespace(args->proc_fd, "self/ns/net", CLONE_NEWNET, err);
    if (netns < 0)
        return error_wrap(err, "linux.netDevices");
    _cleanup_close_ int rtnl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (rtnl < 0)
        return error_set(err, errno, "linux.netDevices: rtnetlink socket");
    int fds[] = {netns, rtnl};
    if (sync_send_fds(args->sync_fd, SYNC_NET_DEVICES, 0, fds, 2, err) < 0)
        return -1;
    /* The parent's error, if it fails, is its own: it kills us. */
    return sync_expect(args->sync_fd, SYNC_NET_DEVICES_MOVED, NULL, err);
}

/* Idmapped binds in a container with a user namespace: inside it the kernel refuses to idmap the
 * host's filesystems, so the parent prepares each tree on the user namespace sent to it and sends
 * it back detached (mount.h, mount_prepare_idmapped()). trees[i] gets mounts[i]'s, or -1. */
static int receive_idmapped_trees(struct init_args *args, int *trees, ctr_error **err)
{
    const struct ctr_spec *spec = args->request->spec;
    bool any = false;
    for (size_t i = 0; i < spec->mounts_count; i++) {
        trees[i] = -1;
        any = any || mount_is_idmapped_bind(&spec->mounts[i]);
    }
    if (!any || !spec->linux_.namespaces[NS_USER].present)
        return 0;
    if (await_cgroup(args, err) < 0)
        return -1;
    _cleanup_close_ int userns =
        procfs_open_namespace(args->proc_fd, "self/ns/user", CLONE_NEWUSER, err);
    if (userns < 0)
        return error_wrap(err, "idmapped mounts");
    if (sync_send_fds(args->sync_fd, SYNC_IDMAP_MOUNTS, 0, &userns, 1, err) < 0)
        return -1;
    for (;;) {
        struct sync_msg msg;
        int fd = -1;
        size_t count = 0;
        if (sync_receive_fds(args->sync_fd, &msg, &fd, 1, &count, err) < 0)
            return -1;
        if (msg.type == SYNC_IDMAP_DONE && count == 0)
            return 0;
        size_t i = (size_t)msg.value;
        if (msg.type != SYNC_IDMAP_TREE || count != 1 || msg.value < 0 ||
            i >= spec->mounts_count || trees[i] >= 0) {
            if (count)
                close(fd);
            return error_set(err, EPROTO, "idmapped mounts: unexpected `%s` from the parent",
                             msg.type ? sync_type_name(msg.type) : "end of stream");
        }
        trees[i] = fd;
    }
}

static int become_namespace_root(int procfd, ctr_error **err)
{
    /* Files the runtime creates in the user namespace are owned by its root, and the set-up below
     * runs with that identity (as runc's init does), if the maps give the container a root; else
     * our ids are unmapped there and creating a file fails with EOVERFLOW. */
    if (!namespace_maps_root(procfd, "self/uid_map") ||
        !namespace_maps_root(procfd, "self/gid_map"))
        return 0;
    if (setresgid(0, 0, 0) < 0)
        return error_set(err, errno, "setresgid(0) in the user namespace");
    if (setresuid(0, 0, 0) < 0)
        return error_set(err, errno, "setresuid(0) in the user namespace");
    return 0;
}

static int apply_sysctls(int procfd, const struct spec_linux *linux_, ctr_error **err)
{
    /* Through the runtime's procfs (CVE-2025-52881: a mount over /proc/sys/... must not redirect
     * the write): sys/ resolves to the namespaces of the writer, which are the container's. */
    for (size_t i = 0; i < linux_->sysctl_count; i++) {
        const struct spec_sysctl *s = &linux_->sysctl[i];
        char path[512];
        int n = snprintf(path, sizeof(path), "sys/%s", s->key);
        if (n < 0 || (size_t)n >= sizeof(path))
            return error_set(err, ENAMETOOLONG, "linux.sysctl[\"%s\"]", s->key);
        for (char *p = path + strlen("sys/"); *p; p++)
            if (*p == '.')
                *p = '/';
        if (procfs_write(procfd, path, s->value, strlen(s->value), err) < 0)
            return error_wrap(err, "linux.sysctl[\"%s\"]", s->key);
    }
    return 0;
}

/* Like runc, each container gets a session keyring of its own, so keys are not shared with the
 * host's session. Kernels without keyrings (ENOSYS) just have none. */
static int join_session_keyring(const char *id, ctr_error **err)
{
    char name[128];
    snprintf(name, sizeof(name), "_ses.%s", id);
    if (syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, name, 0, 0, 0) < 0 && errno != ENOSYS)
        return error_set(err, errno, "join a session keyring of the container's own");
    return 0;
}

/* ---- terminal -------------------------------------------------------------------------------- */

/* Sends the master to the console socket, or to the parent (which keeps it for its caller). */
static int hand_over_master(struct init_args *args, int master, ctr_error **err)
{
    const struct spawn_request *request = args->request;
    int ret;
    if (request->console_socket >= 0) {
        ret = terminal_send_fd(request->console_socket, master, err);
        close(request->console_socket);
    } else {
        ret = sync_send_fds(args->sync_fd, SYNC_CONSOLE, 0, &master, 1, err);
    }
    close(master);
    return ret;
}

static int open_console(struct init_args *args, int ptmx, ctr_error **err)
{
    int master = -1;
    if (terminal_open_master(args->proc_fd, ptmx, &master, err) < 0)
        return -1;
    if (terminal_open_slave(master, &args->console_slave, err) < 0 ||
        terminal_set_size(master, &args->request->spec->process, err) < 0) {
        close(master);
        return -1;
    }
    return hand_over_master(args, master, err);
}

/* rootfs callback: the pty comes from the container's devpts, mounted by now. */
static int console_after_mounts(void *opaque, int rootfd, int *console_fd, ctr_error **err)
{
    struct init_args *args = opaque;
    if (!args->request->spec->process.terminal)
        return 0;
    _cleanup_close_ int ptmx = paths_open(&sys_real, rootfd, "/dev/pts/ptmx", err);
    if (ptmx < 0)
        return error_wrap(err, "process.terminal needs a devpts mount at /dev/pts");
    if (open_console(args, ptmx, err) < 0)
        return error_wrap(err, "process.terminal");
    *console_fd = args->console_slave;
    return 0;
}

/* ---- hooks ----------------------------------------------------------------------------------- */

static bool has_create_hooks(const struct spec_hooks *hooks)
{
    return hooks->prestart.count || hooks->create_runtime.count || hooks->create_container.count ||
           hooks->start_container.count;
}

static int run_hooks_here(struct init_args *args, const struct spec_hook_list *list,
                          const char *name, const char *status, ctr_error **err)
{
    const struct spawn_request *request = args->request;
    if (list->count == 0)
        return 0;
    _cleanup_free_ char *text =
        hooks_state_text(request->spec, request->id, status, args->host_pid, request->bundle);
    if (text == NULL)
        return error_set(err, ENOMEM, "state for the %s hooks", name);
    return hooks_run(list, name, text, err);
}

/* rootfs callback, before pivot_root: the parent runs prestart and createRuntime hooks in the
 * runtime's namespaces, then createContainer hooks run here, in the container's. */
static int hooks_before_pivot(void *opaque, ctr_error **err)
{
    struct init_args *args = opaque;
    const struct spec_hooks *hooks = &args->request->spec->hooks;
    if (!has_create_hooks(hooks))
        return 0;
    int64_t pid = 0;
    /* The parent's SYNC_CGROUP_JOINED comes before any reply to us; the hooks also see the
     * container in its cgroup. */
    if (join_cgroup(args, err) < 0 || sync_send(args->sync_fd, SYNC_CREATE_HOOKS, 0, err) < 0 ||
        sync_expect(args->sync_fd, SYNC_HOOKS_DONE, &pid, err) < 0)
        return -1;
    args->host_pid = (pid_t)pid;
    return run_hooks_here(args, &hooks->create_container, "createContainer", "creating", err);
}

/* ---- the process ----------------------------------------------------------------------------- */

static int setup_stdio(const int stdio[3], ctr_error **err)
{
    for (int i = 0; i < 3; i++)
        if (stdio[i] >= 0 && stdio[i] != i && dup2(stdio[i], i) < 0)
            return error_set(err, errno, "dup2 fd %d onto %d", stdio[i], i);
    return 0;
}

/* Read through the runtime's procfs: a joined container's /proc could say anything. */
static bool setgroups_allowed(int procfd)
{
    _cleanup_free_ char *text = NULL;
    return procfs_read(procfd, "self/setgroups", &text, NULL) < 0 ||
           strncmp(text, "deny", 4) != 0;
}

/* Identity, capabilities and seccomp, in the order that lets each step still have the privilege
 * it needs. Without no_new_privs, loading a filter needs CAP_SYS_ADMIN, so it happens before the
 * capabilities are dropped (as runc does), and *listener gets its SCMP_ACT_NOTIFY listener, if
 * any; with it, the filter is loaded later. */
static int drop_privileges(int procfd, const struct ctr_spec *spec, int *listener,
                           ctr_error **err)
{
    const struct spec_process *process = &spec->process;
    bool allow_setgroups = setgroups_allowed(procfd);
    if (spec->linux_.has_seccomp && !process->no_new_privileges &&
        seccomp_apply_spec(&spec->linux_.seccomp, listener, err) < 0)
        return -1;
    if (caps_keep_across_setuid(err) < 0)
        return -1;
    if (process_set_user(&process->user, allow_setgroups, err) < 0)
        return -1;
    /* No `capabilities` object: the process keeps the runtime's, as runc does. */
    if (process->has_capabilities && caps_apply(&process->capabilities, err) < 0)
        return -1;
    if (process->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return error_set(err, errno, "process.noNewPrivileges: prctl");
    return 0;
}

/* CVE-2024-21626: no fd of the runtime may survive into the container; everything above stdio is
 * closed on exec, but the caller's fds 3..3+preserve_fds-1 (never one of ours). */
static int close_runtime_fds(const struct init_args *args, ctr_error **err)
{
    const struct spawn_request *request = args->request;
    if (syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
        return error_set(err, errno, "close_range: mark the runtime's fds close-on-exec");
    for (unsigned i = 0; i < request->preserve_fds; i++) {
        int fd = 3 + (int)i;
        if (fd == args->sync_fd || fd == request->listen_fd || fd == args->console_slave ||
            fd == args->trampoline_fd)
            continue;
        if (fcntl(fd, F_SETFD, 0) < 0 && errno != EBADF)
            return error_set(err, errno, "keep fd %d open (preserve-fds)", fd);
    }
    return 0;
}

/* SCMP_ACT_NOTIFY: the filter is loaded before the exec barrier, as runc does, so its listener can
 * reach the seccomp agent (through the runtime: SYNC_SECCOMP_LISTENER) before the container's
 * first notifying syscall; without no_new_privs drop_privileges() loaded it, with it this does.
 * The syscalls the init makes from here to the execve go through the filter too. */
static int hand_over_listener(struct init_args *args, int listener, ctr_error **err)
{
    const struct ctr_spec *spec = args->request->spec;
    if (listener < 0 && spec->process.no_new_privileges && spec->linux_.has_seccomp &&
        spec->linux_.seccomp.uses_notify &&
        seccomp_apply_spec(&spec->linux_.seccomp, &listener, err) < 0)
        return -1;
    if (listener < 0)
        return 0;
    int ret = sync_send_fds(args->sync_fd, SYNC_SECCOMP_LISTENER, 0, &listener, 1, err);
    close(listener);
    return ret;
}

/* Everything of `process` that both a new container's init and an exec'd process apply. */
static int setup_process(struct init_args *args, char **executable, ctr_error **err)
{
    const struct ctr_spec *spec = args->request->spec;
    const struct spec_process *process = &spec->process;
    if (args->console_slave >= 0) {
        if (terminal_become_controlling(args->console_slave, err) < 0)
            return -1;
    } else if (setup_stdio(args->request->stdio, err) < 0) {
        return -1;
    }
    if (process_set_rlimits(process, err) < 0 || process_set_personality(&spec->linux_, err) < 0 ||
        process_set_scheduler(process, err) < 0 || process_set_io_priority(process, err) < 0 ||
        process_set_memory_policy(&spec->linux_, err) < 0)
        return -1;
    if (process_set_umask_and_cwd(process, err) < 0)
        return -1;
    /* Before seccomp and the privilege drop, either of which may forbid making it. */
    if (exec_trampoline_create(&args->trampoline_fd, err) < 0)
        return -1;
    /* CVE-2019-16884: through the runtime's procfs, whatever the container mounted at /proc. */
    if (lsm_set_exec_label(args->proc_fd, process, err) < 0)
        return -1;
    int listener = -1;
    if (drop_privileges(args->proc_fd, spec, &listener, err) < 0 ||
        hand_over_listener(args, listener, err) < 0)
        return -1;
    /* CVE-2024-21626: the last use of the runtime's /proc; nothing of the host's goes further. */
    close(args->proc_fd);
    args->proc_fd = -1;
    /* Looked up with the final credentials, so "permission denied" is the container user's. */
    if (process_find_executable(process, executable, err) < 0)
        return -1;
    return close_runtime_fds(args, err);
}

/* The exec barrier: SYNC_PARENT_START from the creator, or, once it detached, from a `start`
 * that connects to the listening socket (that connection then carries any later error). */
static int wait_for_start(struct init_args *args, ctr_error **err)
{
    struct sync_msg msg;
    if (sync_receive(args->sync_fd, &msg, err) < 0)
        return -1;
    if (msg.type == SYNC_PARENT_START)
        return 0;
    if (msg.type != SYNC_PARENT_DETACH || args->request->listen_fd < 0)
        return error_set(err, EPROTO, "expected `%s`, got `%s`", sync_type_name(SYNC_PARENT_START),
                         msg.type ? sync_type_name(msg.type) : "end of stream");
    close(args->sync_fd);
    for (;;) {
        int conn = accept4(args->request->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (conn < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            /* Nobody is left to tell: the error goes nowhere, the init exits. */
            _exit(1);
        }
        args->sync_fd = conn;
        if (sync_receive(conn, &msg, NULL) == 0 && msg.type == SYNC_PARENT_START)
            break;
        close(conn);
    }
    close(args->request->listen_fd);
    return 0;
}

/* With no_new_privs the filter is loaded as late as possible: by the exec trampoline, right
 * before the final execve (exec.h), from the BPF program written here. (One with SCMP_ACT_NOTIFY
 * was loaded before the barrier: hand_over_listener().) */
static int prepare_late_seccomp(struct init_args *args, const struct spec_seccomp *seccomp,
                                ctr_error **err)
{
    int fd = memfd_create("ctr-seccomp", MFD_CLOEXEC);
    if (fd < 0)
        return error_set(err, errno, "linux.seccomp: memfd for the filter");
    if (seccomp_export_bpf_spec(seccomp, fd, &args->filter_flags, err) < 0) {
        close(fd);
        return -1;
    }
    if (lseek(fd, 0, SEEK_SET) < 0) {
        int saved = errno;
        close(fd);
        return error_set(err, saved, "linux.seccomp: rewind the filter's memfd");
    }
    args->filter_fd = fd;
    return 0;
}

static int finish_and_exec_prepare(struct init_args *args, ctr_error **err)
{
    const struct ctr_spec *spec = args->request->spec;
    const struct spec_process *process = &spec->process;
    if (sync_send(args->sync_fd, SYNC_INIT_CREATED, 0, err) < 0 || wait_for_start(args, err) < 0)
        return -1;
    if (args->request->mode == SPAWN_CREATE &&
        run_hooks_here(args, &spec->hooks.start_container, "startContainer", "created", err) < 0)
        return -1;
    if (spec->linux_.has_seccomp && process->no_new_privileges &&
        !spec->linux_.seccomp.uses_notify &&
        prepare_late_seccomp(args, &spec->linux_.seccomp, err) < 0)
        return -1;
    if (process->exec_cpu_affinity.final &&
        process_set_cpu_affinity(process->exec_cpu_affinity.final, "process.execCPUAffinity.final",
                                 err) < 0)
        return -1;
    return 0;
}

/* ---- the two sequences ----------------------------------------------------------------------- */

static int setup_create(struct init_args *args, char **executable, ctr_error **err)
{
    const struct spawn_request *request = args->request;
    const struct ctr_spec *spec = request->spec;
    const struct spec_linux *linux_ = &spec->linux_;
    const struct spec_process *process = &spec->process;

    if (sync_expect(args->sync_fd, SYNC_PARENT_READY, NULL, err) < 0)
        return -1;
    /* The general path may fork the init below: the cgroup is joined before. */
    if (!args->namespaces_created && (await_cgroup(args, err) < 0 || enter_namespaces(args, err) < 0))
        return -1;
    bool in_user_ns = linux_->namespaces[NS_USER].present;
    if (in_user_ns && become_namespace_root(args->proc_fd, err) < 0)
        return -1;
    /* Before the sysctls: net.ipv4.conf.<device>.* may name a device moved in. */
    _cleanup_free_ int *idmapped_trees = calloc(spec->mounts_count + 1, sizeof(int));
    if (idmapped_trees == NULL)
        return error_set(err, ENOMEM, "mounts");
    if (receive_net_devices(args, err) < 0 || receive_idmapped_trees(args, idmapped_trees, err) < 0)
        return -1;
    if (process->exec_cpu_affinity.initial &&
        process_set_cpu_affinity(process->exec_cpu_affinity.initial,
                                 "process.execCPUAffinity.initial", err) < 0)
        return -1;
    if (namespaces_unshare_time(args->proc_fd, linux_, err) < 0 ||
        namespaces_set_uts(spec, err) < 0)
        return -1;
    if (apply_sysctls(args->proc_fd, linux_, err) < 0 ||
        process_set_oom_score_adj(args->proc_fd, process, err) < 0)
        return -1;
    if (!request->no_new_keyring && join_session_keyring(request->id, err) < 0)
        return -1;

    struct rootfs_context rootfs = {
        .sys = &sys_real,
        .spec = spec,
        .bundle = request->bundle,
        .rootfs = request->rootfs,
        .cgroup = request->cgroup,
        .in_user_ns = in_user_ns,
        .new_cgroup_ns = linux_->namespaces[NS_CGROUP].present,
        .new_net_ns = linux_->namespaces[NS_NETWORK].present,
        .console_fd = -1,
        .idmapped_trees = idmapped_trees,
        .no_pivot = request->no_pivot,
        .procfd = args->proc_fd,
        .before_cgroup_mount = join_cgroup,
        .after_mounts = console_after_mounts,
        .before_pivot = hooks_before_pivot,
        .opaque = args,
    };
    int rc = rootfs_prepare(&rootfs, err);
    /* CVE-2024-21626: no host fd may survive into the container; these are trees of host paths
     * (O_CLOEXEC as well). */
    for (size_t i = 0; i < spec->mounts_count; i++)
        if (idmapped_trees[i] >= 0)
            close(idmapped_trees[i]);
    if (rc < 0 || join_cgroup(args, err) < 0)
        return -1;
    if (setup_process(args, executable, err) < 0)
        return -1;
    return finish_and_exec_prepare(args, err);
}

static int setup_exec(struct init_args *args, char **executable, ctr_error **err)
{
    const struct spec_process *process = &args->request->spec->process;
    if (sync_expect(args->sync_fd, SYNC_PARENT_READY, NULL, err) < 0 ||
        await_cgroup(args, err) < 0 || enter_namespaces(args, err) < 0)
        return -1;
    /* Joined the container's mounts: its /proc is whatever it mounted there, so this goes through
     * the runtime's procfs (CVE-2019-16884 class). */
    if (process_set_oom_score_adj(args->proc_fd, process, err) < 0)
        return -1;
    if (process->terminal) {
        /* Joining the mount namespace put us at the container's root: its devpts is here. */
        _cleanup_close_ int ptmx = open("/dev/pts/ptmx", O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (ptmx < 0)
            return error_set(err, errno, "process.terminal: open the container's /dev/pts/ptmx");
        if (open_console(args, ptmx, err) < 0)
            return error_wrap(err, "process.terminal");
    }
    if (setup_process(args, executable, err) < 0)
        return -1;
    return finish_and_exec_prepare(args, err);
}

/* process.env, plus what the caller added (LISTEN_FDS for socket activation...). */
static char **process_env(const struct spec_process *process, const char *const *extra)
{
    static char *empty[] = {NULL};
    if (extra == NULL || extra[0] == NULL)
        return process->env.items ? process->env.items : empty;
    size_t n = process->env.count, m = 0;
    while (extra[m])
        m++;
    char **env = calloc(n + m + 1, sizeof(*env));
    if (env == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++)
        env[i] = process->env.items[i];
    for (size_t i = 0; i < m; i++)
        env[n + i] = (char *)extra[i];
    return env;
}

_Noreturn void init_main(struct init_args *args)
{
    reset_signals();
    /* CVE-2016-9962: until execve, this process holds the runtime's memory and fds; nothing in
     * the container may ptrace it or open its /proc files. execve makes it dumpable again. */
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    args->console_slave = -1;
    args->trampoline_fd = -1;
    args->filter_fd = -1;
    ctr_error *err = NULL;
    /* First, while this process has one thread and before it may fork the real init: whatever
     * it does from here is accounted to the container. */
    if (args->self_join && cgroup_self_join(args->self_join, &err) < 0)
        fail(args->sync_fd, err);
    char *executable = NULL;
    int ret = args->request->mode == SPAWN_EXEC ? setup_exec(args, &executable, &err)
                                                : setup_create(args, &executable, &err);
    if (ret < 0)
        fail(args->sync_fd, err);
    const struct spec_process *process = &args->request->spec->process;
    char **env = process_env(process, args->request->extra_env);
    if (env == NULL) {
        error_set(&err, ENOMEM, "process.env");
        fail(args->sync_fd, err);
    }
    exec_through_trampoline(args->trampoline_fd, args->sync_fd, args->filter_fd,
                            args->filter_flags, executable, process->args.items, env);
    error_set(&err, errno, "exec `%s` through the exec trampoline", executable);
    fail(args->sync_fd, err);
}
