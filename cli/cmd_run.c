/* `ctr-run run [--bundle DIR] ID` and `ctr-run BUNDLE`: a container in the foreground. */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "cli.h"

/* The signals a foreground `run` passes on to the container, as runc does: the terminal's and the
 * usual service-manager ones. SIGCHLD and SIGPIPE stay ours. */
static const int forwarded_signals[] = {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2,
                                        SIGWINCH, SIGCONT, SIGALRM, SIGPROF, SIGVTALRM, SIGURG};

static void forwarded_set(sigset_t *set)
{
    sigemptyset(set);
    for (size_t i = 0; i < sizeof(forwarded_signals) / sizeof(forwarded_signals[0]); i++)
        sigaddset(set, forwarded_signals[i]);
}

/* Waits for the container's exit, forwarding signals meanwhile. No polling: one poll(2) on the
 * signalfd and the init's pidfd. */
static int wait_forwarding_signals(const struct cli_globals *g, ctr_container *c, int sigfd,
                                   int *exit_code)
{
    ctr_error *err = NULL;
    struct pollfd fds[2] = {{.fd = ctr_container_pidfd(c), .events = POLLIN},
                            {.fd = sigfd, .events = POLLIN}};
    for (;;) {
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            return cli_fail(g, "wait for container `%s`: %s", ctr_container_id(c), strerror(errno));
        }
        if (fds[0].revents)
            break;
        struct signalfd_siginfo info;
        if (read(sigfd, &info, sizeof(info)) == sizeof(info) &&
            ctr_container_kill(c, (int)info.ssi_signo, &err) < 0) {
            ctr_error_free(err); /* it is exiting: the wait below tells */
            err = NULL;
        }
    }
    if (ctr_container_wait(c, exit_code, &err) < 0)
        return cli_fail_error(g, err);
    return 0;
}

int cli_run_foreground(const struct cli_globals *g, const char *id, const char *bundle)
{
    sigset_t set, old;
    forwarded_set(&set);
    sigprocmask(SIG_BLOCK, &set, &old);
    int sigfd = signalfd(-1, &set, SFD_CLOEXEC);
    if (sigfd < 0)
        return cli_fail(g, "signalfd: %s", strerror(errno));

    ctr_error *err = NULL;
    ctr_container *c = NULL;
    struct ctr_create_options opts = {.size = sizeof(opts), .bundle = bundle, .stdio = {-1, -1, -1}};
    int status = 1;
    if (ctr_container_create(id, &opts, &c, &err) < 0) {
        status = cli_fail_error(g, err);
        goto out;
    }
    if (ctr_container_start(c, &err) < 0) {
        status = cli_fail_error(g, err);
        goto destroy;
    }
    int exit_code = 0;
    if (wait_forwarding_signals(g, c, sigfd, &exit_code) == 0)
        status = exit_code;
destroy:
    err = NULL;
    if (ctr_container_destroy(c, &err) < 0) {
        cli_fail_error(g, err);
        if (status == 0)
            status = 1;
    }
out:
    close(sigfd);
    sigprocmask(SIG_SETMASK, &old, NULL);
    return status;
}

int cmd_run(const struct cli_globals *g, int argc, char **argv)
{
    static const struct option options[] = {
        {"bundle", required_argument, NULL, 'b'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *bundle = ".";
    int opt;
    while ((opt = getopt_long(argc, argv, "+b:h", options, NULL)) != -1) {
        switch (opt) {
        case 'b': bundle = optarg; break;
        case 'h':
            printf("Usage: ctr-run run [--bundle DIR] ID\n"
                   "Creates and runs container ID from the bundle DIR (default: the current\n"
                   "directory) in the foreground; exits with its process's exit status.\n");
            return 0;
        default: return 2;
        }
    }
    if (optind != argc - 1)
        return cli_fail(g, "run: expected exactly one container id (see run --help)");
    return cli_run_foreground(g, argv[optind], bundle);
}
