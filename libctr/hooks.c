#include "hooks.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

json_t *hooks_state_document(const struct ctr_spec *spec, const char *id, const char *status,
                             pid_t pid, const char *bundle)
{
    json_t *state = json_pack("{s:s, s:s, s:s, s:s}", "ociVersion", spec->oci_version, "id", id,
                              "status", status, "bundle", bundle);
    if (state == NULL)
        return NULL;
    if (pid > 0)
        json_object_set_new(state, "pid", json_integer(pid));
    json_t *annotations = json_object_get(spec->json, "annotations");
    if (json_is_object(annotations))
        json_object_set(state, "annotations", annotations);
    return state;
}

char *hooks_state_text(const struct ctr_spec *spec, const char *id, const char *status, pid_t pid,
                       const char *bundle)
{
    json_t *state = hooks_state_document(spec, id, status, pid, bundle);
    char *text = state ? json_dumps(state, JSON_COMPACT) : NULL;
    json_decref(state);
    return text;
}

/* What a hook printed (stdout and stderr together), kept up to this size for the error. */
enum { HOOK_OUTPUT_MAX = 1024 };

struct hook_output {
    char text[HOOK_OUTPUT_MAX + 1];
    size_t len;
};

_Noreturn static void exec_hook(const struct spec_hook *hook, int input, int output)
{
    /* The runtime's caller may block signals (ctr-run blocks those it forwards). */
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    if (dup2(input, 0) < 0 || dup2(output, 1) < 0 || dup2(output, 2) < 0)
        _exit(127);
    syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);
    char *default_argv[] = {hook->path, NULL};
    char *empty_env[] = {NULL};
    execve(hook->path, hook->args.items ? hook->args.items : default_argv,
           hook->env.items ? hook->env.items : empty_env);
    _exit(127);
}

static void drain(int fd, struct hook_output *out)
{
    char buf[4096];
    ssize_t n;
    while ((n = read(fd, buf, sizeof(buf))) > 0) {
        size_t room = HOOK_OUTPUT_MAX - out->len;
        size_t take = (size_t)n < room ? (size_t)n : room;
        memcpy(out->text + out->len, buf, take);
        out->len += take;
    }
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for the hook, collecting its output, killing it at the deadline. */
static int wait_hook(pid_t pid, int pidfd, int output, int64_t deadline, struct hook_output *out,
                     int *status, bool *timed_out)
{
    struct pollfd fds[2] = {{.fd = pidfd, .events = POLLIN}, {.fd = output, .events = POLLIN}};
    for (;;) {
        int timeout = -1;
        if (deadline > 0) {
            int64_t left = deadline - now_ms();
            timeout = left > 0 ? (int)left : 0;
        }
        int n = poll(fds, fds[1].fd >= 0 ? 2 : 1, timeout);
        if (n < 0 && errno != EINTR)
            return -1;
        if (n == 0) {
            *timed_out = true;
            kill(pid, SIGKILL);
        }
        if (fds[1].fd >= 0 && fds[1].revents) {
            drain(output, out);
            if (fds[1].revents & (POLLHUP | POLLERR))
                fds[1].fd = -1;
        }
        if (fds[0].revents || *timed_out)
            break;
    }
    while (waitpid(pid, status, 0) < 0)
        if (errno != EINTR)
            return -1;
    drain(output, out);
    return 0;
}

static int run_one(const struct spec_hook *hook, const char *where, const char *state_json,
                   ctr_error **err)
{
    /* A socket for stdin: writing to a hook that exited early must not raise SIGPIPE in the
     * caller's process (MSG_NOSIGNAL), and the library may not change its signal handling. */
    int input[2], output[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, input) < 0)
        return error_set(err, errno, "%s (`%s`): socketpair", where, hook->path);
    if (pipe2(output, O_CLOEXEC) < 0) {
        int saved = errno;
        close(input[0]);
        close(input[1]);
        return error_set(err, saved, "%s (`%s`): pipe", where, hook->path);
    }
    int64_t deadline = hook->timeout.set ? now_ms() + hook->timeout.value * 1000 : 0;
    pid_t pid = fork();
    if (pid == 0)
        exec_hook(hook, input[1], output[1]);
    int saved = errno;
    close(input[1]);
    close(output[1]);
    _cleanup_close_ int in = input[0], out_fd = output[0];
    if (pid < 0)
        return error_set(err, saved, "%s (`%s`): fork", where, hook->path);
    _cleanup_close_ int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    /* The state is small (well under a socket buffer): one send, then EOF for the hook. */
    if (send(in, state_json, strlen(state_json), MSG_NOSIGNAL | MSG_DONTWAIT) < 0 &&
        errno != EPIPE && errno != ECONNRESET && errno != EAGAIN) {
        saved = errno;
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        return error_set(err, saved, "%s (`%s`): write the state to its stdin", where, hook->path);
    }
    shutdown(in, SHUT_WR);
    fcntl(out_fd, F_SETFL, O_NONBLOCK);

    struct hook_output output_text = {.len = 0};
    int status = 0;
    bool timed_out = false;
    if (pidfd < 0 || wait_hook(pid, pidfd, out_fd, deadline, &output_text, &status, &timed_out) < 0) {
        saved = errno;
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        return error_set(err, saved, "%s (`%s`): wait", where, hook->path);
    }
    output_text.text[output_text.len] = '\0';
    while (output_text.len > 0 && output_text.text[output_text.len - 1] == '\n')
        output_text.text[--output_text.len] = '\0';
    const char *sep = output_text.len ? ": " : "";
    if (timed_out)
        return error_set(err, ETIMEDOUT, "%s (`%s`): killed after its timeout of %lld s%s%s", where,
                         hook->path, (long long)hook->timeout.value, sep, output_text.text);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127 && output_text.len == 0)
        return error_set(err, ENOEXEC, "%s (`%s`): could not be executed", where, hook->path);
    if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
        return error_set(err, 0, "%s (`%s`): exit status %d%s%s", where, hook->path,
                         WEXITSTATUS(status), sep, output_text.text);
    if (WIFSIGNALED(status))
        return error_set(err, 0, "%s (`%s`): killed by signal %d%s%s", where, hook->path,
                         WTERMSIG(status), sep, output_text.text);
    return 0;
}

int hooks_run(const struct spec_hook_list *list, const char *name, const char *state_json,
              ctr_error **err)
{
    for (size_t i = 0; i < list->count; i++) {
        char where[64];
        snprintf(where, sizeof(where), "hooks.%s[%zu]", name, i);
        if (run_one(&list->items[i], where, state_json, err) < 0)
            return -1;
    }
    return 0;
}

void hooks_run_warning(const struct spec_hook_list *list, const char *name, const char *state_json,
                       void (*warn)(void *data, const char *message), void *warn_data)
{
    for (size_t i = 0; i < list->count; i++) {
        char where[64];
        snprintf(where, sizeof(where), "hooks.%s[%zu]", name, i);
        ctr_error *err = NULL;
        if (run_one(&list->items[i], where, state_json, &err) < 0 && warn)
            warn(warn_data, ctr_error_message(err));
        ctr_error_free(err);
    }
}
