/* A container (or exec'd process) in the foreground: ctr-run waits for it, passes on the signals
 * it receives, and relays the terminal when it holds the pty master itself. One poll(2) loop:
 * no threads, no polling intervals. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"

/* The signals a foreground runtime passes on, as runc does: the terminal's and the usual service
 * manager ones. SIGCHLD and SIGPIPE stay ours. */
static const int forwarded_signals[] = {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2,
                                        SIGWINCH, SIGCONT, SIGALRM, SIGPROF, SIGVTALRM, SIGURG};

static void forwarded_set(sigset_t *set)
{
    sigemptyset(set);
    for (size_t i = 0; i < sizeof(forwarded_signals) / sizeof(forwarded_signals[0]); i++)
        sigaddset(set, forwarded_signals[i]);
}

void cli_block_forwarded_signals(void)
{
    sigset_t set;
    forwarded_set(&set);
    sigprocmask(SIG_BLOCK, &set, NULL);
}

/* Copies what is readable from `from` to `to`: 1 when it copied, 0 when nothing was there
 * (EAGAIN), -1 at the end of input (a pty master reads EIO once the slave side is gone). */
static int copy_once(int from, int to)
{
    char buf[8192];
    ssize_t n = read(from, buf, sizeof(buf));
    if (n <= 0)
        return n < 0 && (errno == EAGAIN || errno == EINTR) ? 0 : -1;
    for (ssize_t done = 0; done < n;) {
        ssize_t w = write(to, buf + done, (size_t)(n - done));
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN)
                return -1;
            struct pollfd p = {.fd = to, .events = POLLOUT};
            poll(&p, 1, -1);
            continue;
        }
        done += w;
    }
    return 1;
}

static void copy_window_size(int console)
{
    struct winsize ws;
    if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
        ioctl(console, TIOCSWINSZ, &ws);
}

/* The exit status of `pid` once its pidfd is readable. A container's init is waited for
 * through libctr (which reaps it); an exec'd process is our own child. */
static int exit_code(const struct cli_globals *g, ctr_container *c, int pidfd, bool is_init)
{
    if (is_init) {
        int code = 0;
        ctr_error *err = NULL;
        if (ctr_container_wait(c, &code, &err) < 0)
            return cli_fail_error(g, err);
        return code;
    }
    siginfo_t info = {0};
    while (waitid(P_PIDFD, (id_t)pidfd, &info, WEXITED) < 0)
        if (errno != EINTR)
            return cli_fail(g, "wait for the process: %s", strerror(errno));
    return info.si_code == CLD_EXITED ? info.si_status : 128 + info.si_status;
}

int cli_foreground(const struct cli_globals *g, ctr_container *c, int pidfd, int console,
                   bool is_init)
{
    sigset_t set;
    forwarded_set(&set);
    int sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    if (sigfd < 0)
        return cli_fail(g, "signalfd: %s", strerror(errno));

    /* With the pty master ours, our terminal goes raw: the container's line discipline does
     * the echo and editing. Restored on the way out. */
    struct termios saved;
    bool restore = false;
    if (console >= 0) {
        fcntl(console, F_SETFL, O_NONBLOCK);
        if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0) {
            struct termios raw = saved;
            cfmakeraw(&raw);
            restore = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
            copy_window_size(console);
        }
    }
    enum { PROCESS, SIGNALS, CONSOLE, INPUT };
    struct pollfd fds[4] = {
        [PROCESS] = {.fd = pidfd, .events = POLLIN},
        [SIGNALS] = {.fd = sigfd, .events = POLLIN},
        [CONSOLE] = {.fd = console, .events = POLLIN},
        [INPUT] = {.fd = console >= 0 ? STDIN_FILENO : -1, .events = POLLIN},
    };
    for (;;) {
        if (poll(fds, 4, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (fds[CONSOLE].revents && copy_once(console, STDOUT_FILENO) < 0)
            fds[CONSOLE].fd = -1;
        if (fds[INPUT].revents && copy_once(STDIN_FILENO, console) < 0)
            fds[INPUT].fd = -1;
        if (fds[SIGNALS].revents) {
            struct signalfd_siginfo info;
            while (read(sigfd, &info, sizeof(info)) == sizeof(info)) {
                if (info.ssi_signo == SIGWINCH && console >= 0)
                    copy_window_size(console);
                else
                    syscall(SYS_pidfd_send_signal, pidfd, (int)info.ssi_signo, NULL, 0);
            }
        }
        if (fds[PROCESS].revents) {
            /* Whatever the process wrote last is still in the pty: pass it on. */
            while (console >= 0 && fds[CONSOLE].fd >= 0 && copy_once(console, STDOUT_FILENO) > 0)
                ;
            break;
        }
    }
    if (restore)
        tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    close(sigfd);
    return exit_code(g, c, pidfd, is_init);
}
