#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "init.h"
#include "namespaces.h"
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
static bool caller_is_single_threaded(void)
{
    char buf[1024];
    _cleanup_close_ int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    if (n <= 0)
        return false;
    buf[n] = '\0';
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
    if (init->pidfd >= 0)
        close(init->pidfd);
    if (init->sync_fd >= 0)
        close(init->sync_fd);
    init->pidfd = init->sync_fd = -1;
}

/* Parent side of the handshake, from PARENT_READY until the init waits at the barrier. */
static int drive_handshake(const struct spawn_request *request, struct spawned_init *init,
                           pid_t *intermediate, ctr_error **err)
{
    for (;;) {
        struct sync_msg msg;
        if (sync_receive(init->sync_fd, &msg, err) < 0)
            return -1;
        switch (msg.type) {
        case 0:
            return error_set(err, EPIPE, "the container init exited during its set-up");
        case SYNC_USERNS_CREATED:
            if (namespaces_write_id_maps(init->pid, &request->spec->linux_, err) < 0)
                return -1;
            if (sync_send(init->sync_fd, SYNC_USERNS_MAPPED, 0, err) < 0)
                return -1;
            break;
        case SYNC_INIT_PID: {
            /* The process we forked only joined/created the pid namespace; its child (made a
             * child of ours with CLONE_PARENT) is the init. Reap the intermediate one. */
            int status = 0;
            while (waitpid(init->pid, &status, 0) < 0 && errno == EINTR)
                ;
            *intermediate = -1;
            close(init->pidfd);
            init->pid = (pid_t)msg.value;
            init->pidfd = sys_pidfd_open(init->pid);
            if (init->pidfd < 0)
                return error_set(err, errno, "pidfd_open of the container init %d", init->pid);
            break;
        }
        case SYNC_INIT_CREATED:
            return 0;
        default:
            return error_set(err, EPROTO, "unexpected `%s` from the container init",
                             sync_type_name(msg.type));
        }
    }
}

int spawn_init(const struct spawn_request *request, struct spawned_init *init, ctr_error **err)
{
    const struct spec_linux *linux_ = &request->spec->linux_;
    int ns_fds[NS_TYPE_COUNT];
    if (namespaces_open_paths(linux_, ns_fds, err) < 0)
        return -1;

    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
        namespaces_close_fds(ns_fds);
        return error_set(err, errno, "socketpair for the container init");
    }
    *init = (struct spawned_init){.pid = -1, .pidfd = -1, .sync_fd = sv[0]};

    int new_flags = namespaces_new_flags(linux_);
    bool fast = !namespaces_any_joined(linux_) && caller_is_single_threaded();
    bool into_cgroup = false;
    pid_t pid;
    if (fast) {
        struct clone_args args = {
            .flags = (uint64_t)new_flags | CLONE_PIDFD,
            .pidfd = (uint64_t)(uintptr_t)&init->pidfd,
            .exit_signal = SIGCHLD,
        };
        /* On a pure cgroup v2 host the init is born in its cgroup: one write less, and no
         * window where it runs in ours. */
        if (request->cgroup && request->cgroup->layout == CGROUP_LAYOUT_V2 &&
            request->cgroup->v2_dir_fd >= 0) {
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
        };
        init_main(&args);
    }

    close(sv[1]);
    namespaces_close_fds(ns_fds);
    init->pid = pid;
    if (!fast && (init->pidfd = sys_pidfd_open(pid)) < 0) {
        error_set(err, errno, "pidfd_open of the container init %d", pid);
        goto fail;
    }
    if (fast && (new_flags & CLONE_NEWUSER) && namespaces_write_id_maps(pid, linux_, err) < 0)
        goto fail;
    /* Moving a task between v1 cgroups waits for an RCU grace period (the threadgroup rwsem is
     * taken for writing): milliseconds. On the fast path the init sets up its mounts meanwhile
     * and waits for SYNC_CGROUP_JOINED only where it needs the cgroup. The general path may
     * fork the init from this child, so the child must be in the cgroup before it goes on. */
    bool join_first = !fast;
    if (join_first && request->cgroup && cgroup_enter(request->cgroup, pid, err) < 0)
        goto fail;
    if (sync_send(init->sync_fd, SYNC_PARENT_READY, 0, err) < 0)
        goto fail;
    if (!join_first && request->cgroup && !into_cgroup && cgroup_enter(request->cgroup, pid, err) < 0)
        goto fail;
    if (sync_send(init->sync_fd, SYNC_CGROUP_JOINED, 0, err) < 0)
        goto fail;
    pid_t intermediate = pid;
    if (drive_handshake(request, init, &intermediate, err) < 0) {
        if (intermediate > 0 && intermediate != init->pid) {
            kill(intermediate, SIGKILL);
            reap(intermediate);
        }
        goto fail;
    }
    return 0;

fail:
    spawn_abort(init);
    return -1;
}

int spawn_start(struct spawned_init *init, ctr_error **err)
{
    if (sync_send(init->sync_fd, SYNC_PARENT_START, 0, err) < 0)
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
