/* Signals through a signalfd: SIGCHLD (the shim is the parent of the container's init and of every
 * exec'd process, and the subreaper of whatever they leave behind), and SIGTERM and SIGINT, which
 * end the shim as they end containerd's own (shim_terminate). */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "shim.h"

static int shell_status(const siginfo_t *info)
{
    return info->si_code == CLD_EXITED ? info->si_status : 128 + info->si_status;
}

void reaper_collect(struct shim *shim)
{
    for (;;) {
        /* Look before reaping: the init must be reaped by libctr (ctr_container_wait), which
         * then knows the container stopped. */
        siginfo_t info = {0};
        if (waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) < 0 || info.si_pid == 0)
            return;
        struct process *p = shim->task ? task_find_by_pid(shim->task, info.si_pid) : NULL;
        int status = shell_status(&info);
        if (p && p == &shim->task->init) {
            struct task *task = shim->task;
            ctr_error *err = NULL;
            /* runc's shim too: without a pid namespace of its own, the init's exit does not end
             * the rest of the container, so the shim does. */
            if (task->shared_pid_ns && ctr_container_kill(task->container, SIGKILL, 1, &err) < 0) {
                log_error("%s", ctr_error_message(err));
                ctr_error_free(err);
                err = NULL;
            }
            if (ctr_container_wait(task->container, &status, &err) < 0) {
                log_error("%s", ctr_error_message(err));
                ctr_error_free(err);
                waitid(P_PID, (id_t)info.si_pid, &info, WEXITED | WNOHANG);
            }
        } else {
            siginfo_t reaped = {0};
            waitid(P_PID, (id_t)info.si_pid, &reaped, WEXITED | WNOHANG);
        }
        if (p)
            process_exited(shim, p, status);
    }
}

static void on_signal(struct loop *loop, struct loop_source *source, uint32_t events)
{
    struct shim *shim = source->data;
    struct signalfd_siginfo si;
    int terminate = 0;
    (void)loop;
    (void)events;
    while (read(source->fd, &si, sizeof(si)) == sizeof(si))
        if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
            terminate = (int)si.ssi_signo;
    reaper_collect(shim);
    shim_worked(shim);
    if (terminate)
        shim_terminate(shim, terminate);
}

int reaper_start(struct shim *shim)
{
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGCHLD);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigset_t blocked = mask;
    /* SIGPIPE blocked, not ignored: a write to a FIFO nobody reads returns EPIPE instead of
     * killing the shim, and the container's processes (whose mask libctr clears) still get the
     * default action; an ignored disposition would survive their exec. */
    sigaddset(&blocked, SIGPIPE);
    if (sigprocmask(SIG_BLOCK, &blocked, NULL) < 0)
        return -1;
    int fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
    if (fd < 0)
        return -1;
    shim->signals = (struct loop_source){.fd = fd, .fn = on_signal, .data = shim};
    return loop_watch(&shim->loop, &shim->signals, EPOLLIN);
}
