/* The container init: runs in the child created by spawn.c and ends in execve of process.args.
 * Every step that fails is reported to the parent over the sync socket (sync.h) before exiting,
 * so the caller learns what failed on which object. */
#include "init.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "namespaces.h"
#include "rootfs.h"
#include "security.h"
#include "sync.h"
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

static bool maps_container_root(const struct spec_id_mapping *maps, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (maps[i].container_id == 0 && maps[i].size > 0)
            return true;
    return false;
}

/* Joins namespaces by path and creates the rest with unshare, for the general (fork) path. A pid
 * namespace only applies to children, so this may fork once more: the parent then gets the new
 * init's pid and this process exits. Returns in the process that goes on as the init. */
static int enter_namespaces(struct init_args *args, ctr_error **err)
{
    const struct spec_linux *linux_ = &args->request->spec->linux_;
    if (namespaces_join(linux_, args->ns_fds, err) < 0)
        return -1;
    int flags = namespaces_new_flags(linux_);
    if (flags && unshare(flags) < 0)
        return error_set(err, errno, "create namespaces (unshare 0x%x)", flags);
    if (flags & CLONE_NEWUSER) {
        if (sync_send(args->sync_fd, SYNC_USERNS_CREATED, 0, err) < 0 ||
            sync_expect(args->sync_fd, SYNC_USERNS_MAPPED, NULL, err) < 0)
            return -1;
    }
    bool pid_ns_for_children = (flags & CLONE_NEWPID) || linux_->namespaces[NS_PID].path;
    if (!pid_ns_for_children)
        return 0;
    /* CLONE_PARENT: the init becomes the caller's child, so the caller can wait for it. */
    struct clone_args clone = {.flags = CLONE_PARENT};
    pid_t pid = (pid_t)syscall(SYS_clone3, &clone, sizeof(clone));
    if (pid < 0)
        return error_set(err, errno, "fork into the pid namespace");
    if (pid > 0) {
        ctr_error *send_err = NULL;
        int ret = sync_send(args->sync_fd, SYNC_INIT_PID, pid, &send_err);
        ctr_error_free(send_err);
        _exit(ret < 0 ? 1 : 0);
    }
    return 0;
}

static int become_namespace_root(const struct spec_linux *linux_, ctr_error **err)
{
    /* Files the runtime creates in the user namespace are owned by its root, and the set-up below
     * runs with that identity (as runc's init does), if the maps give the container a root. */
    if (!maps_container_root(linux_->uid_mappings, linux_->uid_mappings_count) ||
        !maps_container_root(linux_->gid_mappings, linux_->gid_mappings_count))
        return 0;
    if (setresgid(0, 0, 0) < 0)
        return error_set(err, errno, "setresgid(0) in the user namespace");
    if (setresuid(0, 0, 0) < 0)
        return error_set(err, errno, "setresuid(0) in the user namespace");
    return 0;
}

static int apply_sysctls(const struct spec_linux *linux_, ctr_error **err)
{
    /* Written before pivot_root through the runtime's procfs: /proc/sys resolves to the
     * namespaces of the writer, which are already the container's. */
    for (size_t i = 0; i < linux_->sysctl_count; i++) {
        const struct spec_sysctl *s = &linux_->sysctl[i];
        char path[512];
        int n = snprintf(path, sizeof(path), "/proc/sys/%s", s->key);
        if (n < 0 || (size_t)n >= sizeof(path))
            return error_set(err, ENAMETOOLONG, "linux.sysctl[\"%s\"]", s->key);
        for (char *p = path + strlen("/proc/sys/"); *p; p++)
            if (*p == '.')
                *p = '/';
        if (write_file(path, s->value, strlen(s->value), err) < 0)
            return error_wrap(err, "linux.sysctl[\"%s\"]", s->key);
    }
    return 0;
}

/* Waits (once) until the parent moved this process into its cgroup, then creates the cgroup
 * namespace, which is rooted at the cgroup the creator is in. */
static int join_cgroup(void *opaque, ctr_error **err)
{
    struct init_args *args = opaque;
    if (args->cgroup_joined)
        return 0;
    if (sync_expect(args->sync_fd, SYNC_CGROUP_JOINED, NULL, err) < 0)
        return -1;
    args->cgroup_joined = true;
    return namespaces_unshare_cgroup(&args->request->spec->linux_, err);
}

static int setup_stdio(const int stdio[3], ctr_error **err)
{
    for (int i = 0; i < 3; i++)
        if (stdio[i] >= 0 && stdio[i] != i && dup2(stdio[i], i) < 0)
            return error_set(err, errno, "dup2 fd %d onto %d", stdio[i], i);
    return 0;
}

/* Identity, capabilities and seccomp, in the order that lets each step still have the privilege
 * it needs. Without no_new_privs, loading a filter needs CAP_SYS_ADMIN, so it happens before the
 * capabilities are dropped (as runc does); with it, the filter is loaded as late as possible. */
static int drop_privileges(const struct ctr_spec *spec, bool setgroups_allowed, ctr_error **err)
{
    const struct spec_process *process = &spec->process;
    if (spec->linux_.has_seccomp && !process->no_new_privileges &&
        seccomp_apply_spec(&spec->linux_.seccomp, NULL, err) < 0)
        return -1;
    if (caps_keep_across_setuid(err) < 0)
        return -1;
    if (process_set_user(&process->user, setgroups_allowed, err) < 0)
        return -1;
    /* No `capabilities` object: the process keeps the runtime's, as runc does. */
    if (process->has_capabilities && caps_apply(&process->capabilities, err) < 0)
        return -1;
    if (process->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return error_set(err, errno, "process.noNewPrivileges: prctl");
    return 0;
}

static bool setgroups_allowed(void)
{
    char buf[16] = "";
    int fd = open("/proc/self/setgroups", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return true;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    return n <= 0 || strncmp(buf, "deny", 4) != 0;
}

static int setup(struct init_args *args, char **executable, ctr_error **err)
{
    const struct spawn_request *request = args->request;
    const struct ctr_spec *spec = request->spec;
    const struct spec_linux *linux_ = &spec->linux_;
    const struct spec_process *process = &spec->process;

    if (sync_expect(args->sync_fd, SYNC_PARENT_READY, NULL, err) < 0)
        return -1;
    /* The general path may fork the init below: the cgroup is joined before. */
    if (!args->namespaces_created && (join_cgroup(args, err) < 0 || enter_namespaces(args, err) < 0))
        return -1;
    bool new_user_ns = linux_->namespaces[NS_USER].present && !linux_->namespaces[NS_USER].path;
    if (new_user_ns && become_namespace_root(linux_, err) < 0)
        return -1;
    if (process->exec_cpu_affinity.initial &&
        process_set_cpu_affinity(process->exec_cpu_affinity.initial,
                                 "process.execCPUAffinity.initial", err) < 0)
        return -1;
    if (namespaces_unshare_time(linux_, err) < 0 || namespaces_set_uts(spec, err) < 0)
        return -1;
    if (apply_sysctls(linux_, err) < 0 || process_set_oom_score_adj(process, err) < 0)
        return -1;

    const struct spec_namespace *netns = &linux_->namespaces[NS_NETWORK];
    const struct spec_namespace *cgroupns = &linux_->namespaces[NS_CGROUP];
    struct rootfs_context rootfs = {
        .sys = &sys_real,
        .spec = spec,
        .bundle = request->bundle,
        .rootfs = request->rootfs,
        .cgroup = request->cgroup,
        .new_user_ns = new_user_ns,
        .new_cgroup_ns = cgroupns->present,
        .new_net_ns = netns->present,
        .console_fd = -1,
        .before_cgroup_mount = join_cgroup,
        .opaque = args,
    };
    if (rootfs_prepare(&rootfs, err) < 0 || join_cgroup(args, err) < 0)
        return -1;

    if (setup_stdio(request->stdio, err) < 0)
        return -1;
    if (process_set_rlimits(process, err) < 0 || process_set_personality(linux_, err) < 0 ||
        process_set_scheduler(process, err) < 0 || process_set_io_priority(process, err) < 0 ||
        process_set_memory_policy(linux_, err) < 0)
        return -1;
    if (process_set_umask_and_cwd(process, err) < 0)
        return -1;
    if (drop_privileges(spec, setgroups_allowed(), err) < 0)
        return -1;
    /* Looked up with the final credentials, so "permission denied" is the container user's. */
    if (process_find_executable(process, executable, err) < 0)
        return -1;

    /* CVE-2024-21626: no fd of the runtime may survive into the container; everything above
     * stdio is closed on exec (the sync socket already is). */
    if (syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
        return error_set(err, errno, "close_range: mark the runtime's fds close-on-exec");

    if (sync_send(args->sync_fd, SYNC_INIT_CREATED, 0, err) < 0 ||
        sync_expect(args->sync_fd, SYNC_PARENT_START, NULL, err) < 0)
        return -1;

    if (spec->linux_.has_seccomp && process->no_new_privileges &&
        seccomp_apply_spec(&spec->linux_.seccomp, NULL, err) < 0)
        return -1;
    if (process->exec_cpu_affinity.final &&
        process_set_cpu_affinity(process->exec_cpu_affinity.final, "process.execCPUAffinity.final",
                                 err) < 0)
        return -1;
    return 0;
}

_Noreturn void init_main(struct init_args *args)
{
    reset_signals();
    ctr_error *err = NULL;
    char *executable = NULL;
    if (setup(args, &executable, &err) < 0)
        fail(args->sync_fd, err);
    const struct spec_process *process = &args->request->spec->process;
    execve(executable, process->args.items, process->env.items ? process->env.items : (char *[]){NULL});
    error_set(&err, errno, "exec `%s`", executable);
    fail(args->sync_fd, err);
}
