/* Helpers of the command line: logging in runc's formats, pid files, signal and size parsing. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

static void write_log(const struct cli_globals *g, const char *level, const char *msg)
{
    if (g == NULL || g->log_path == NULL)
        return;
    FILE *f = fopen(g->log_path, "ae");
    if (f == NULL)
        return;
    if (g->log_json) {
        char stamp[64];
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        struct tm tm;
        strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", gmtime_r(&ts.tv_sec, &tm));
        fprintf(f, "{\"level\":\"%s\",\"msg\":\"", level);
        for (const char *p = msg; *p; p++) {
            if (*p == '"' || *p == '\\')
                fprintf(f, "\\%c", *p);
            else if ((unsigned char)*p < 0x20)
                fprintf(f, "\\u%04x", *p);
            else
                fputc(*p, f);
        }
        fprintf(f, "\",\"time\":\"%s.%09ldZ\"}\n", stamp, ts.tv_nsec);
    } else {
        fprintf(f, "level=%s msg=\"%s\"\n", level, msg);
    }
    fclose(f);
}

int cli_fail(const struct cli_globals *g, const char *fmt, ...)
{
    char *msg = NULL;
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&msg, fmt, ap) < 0)
        msg = NULL;
    va_end(ap);
    fprintf(stderr, "ctr-run: %s\n", msg ? msg : fmt);
    write_log(g, "error", msg ? msg : fmt);
    free(msg);
    return 1;
}

int cli_fail_error(const struct cli_globals *g, ctr_error *err)
{
    int ret = cli_fail(g, "%s", ctr_error_message(err));
    ctr_error_free(err);
    return ret;
}

void cli_warn(void *globals, const char *message)
{
    fprintf(stderr, "ctr-run: warning: %s\n", message);
    write_log(globals, "warning", message);
}

int cli_context(const struct cli_globals *g, ctr_context **ctx)
{
    struct ctr_context_options opts = {
        .size = sizeof(opts),
        .state_root = g->root,
        .warn = cli_warn,
        .warn_data = (void *)g,
    };
    ctr_error *err = NULL;
    if (ctr_context_new(&opts, ctx, &err) < 0)
        return cli_fail_error(g, err);
    return 0;
}

ctr_container *cli_load(const struct cli_globals *g, ctr_context *ctx, const char *id)
{
    ctr_container *c = NULL;
    ctr_error *err = NULL;
    if (ctr_container_load(ctx, id, &c, &err) < 0) {
        cli_fail_error(g, err);
        return NULL;
    }
    return c;
}

int cli_on_container(const struct cli_globals *g, const char *id,
                     int (*fn)(const struct cli_globals *g, ctr_container *c, void *data), void *data)
{
    ctr_context *ctx;
    if (cli_context(g, &ctx))
        return 1;
    ctr_container *c = cli_load(g, ctx, id);
    int ret = c ? fn(g, c, data) : 1;
    ctr_container_release(c);
    ctr_context_free(ctx);
    return ret;
}

struct library_call {
    int (*op)(ctr_container *c, ctr_error **err);
};

static int run_library_call(const struct cli_globals *g, ctr_container *c, void *data)
{
    const struct library_call *call = data;
    ctr_error *err = NULL;
    return call->op(c, &err) < 0 ? cli_fail_error(g, err) : 0;
}

int cli_with_container(const struct cli_globals *g, const char *id,
                       int (*op)(ctr_container *c, ctr_error **err))
{
    struct library_call call = {.op = op};
    return cli_on_container(g, id, run_library_call, &call);
}

int cli_write_pid_file(const char *path, pid_t pid)
{
    char *tmp = NULL;
    if (asprintf(&tmp, "%s.tmp%d", path, (int)getpid()) < 0)
        return -1;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int ret = -1;
    if (fd >= 0) {
        char buf[32];
        int n = snprintf(buf, sizeof(buf), "%d", (int)pid);
        ret = write(fd, buf, (size_t)n) == n ? 0 : -1;
        close(fd);
        if (ret == 0)
            ret = rename(tmp, path);
        if (ret < 0)
            unlink(tmp);
    }
    free(tmp);
    return ret;
}

int cli_parse_signal(const char *text)
{
    char *end;
    long number = strtol(text, &end, 10);
    if (*text && *end == '\0')
        return number > 0 && number < NSIG ? (int)number : -1;
    const char *name = strncasecmp(text, "SIG", 3) == 0 ? text + 3 : text;
    for (int sig = 1; sig < SIGRTMIN; sig++) {
        const char *abbrev = sigabbrev_np(sig);
        if (abbrev && strcasecmp(abbrev, name) == 0)
            return sig;
    }
    /* Real-time signals: RTMIN, RTMIN+n, RTMAX, RTMAX-n. */
    int base = 0, sign = 0;
    if (strncasecmp(name, "RTMIN", 5) == 0)
        base = SIGRTMIN, sign = 1;
    else if (strncasecmp(name, "RTMAX", 5) == 0)
        base = SIGRTMAX, sign = -1;
    if (base == 0)
        return -1;
    if (name[5] == '\0')
        return base;
    if (name[5] != (sign > 0 ? '+' : '-'))
        return -1;
    long offset = strtol(name + 6, &end, 10);
    int sig = base + sign * (int)offset;
    return *end == '\0' && offset >= 0 && sig >= SIGRTMIN && sig <= SIGRTMAX ? sig : -1;
}

int cli_parse_fd_count(const struct cli_globals *g, const char *command, const char *text,
                       unsigned *count)
{
    char *end;
    long n = strtol(text, &end, 10);
    if (*text == '\0' || *end || n < 0 || n > 65536) {
        cli_fail(g, "%s: --preserve-fds `%s`: not a count of fds", command, text);
        return -1;
    }
    *count = (unsigned)n;
    return 0;
}

int cli_parse_format(const char *text, bool *json)
{
    if (strcmp(text, "json") != 0 && strcmp(text, "table") != 0)
        return -1;
    *json = strcmp(text, "json") == 0;
    return 0;
}

int cli_parse_bytes(const char *text, long long *value)
{
    char *end;
    errno = 0;
    long long n = strtoll(text, &end, 10);
    if (errno || end == text)
        return -1;
    if (n == -1 && *end == '\0') {
        *value = -1;
        return 0;
    }
    long long unit = 1;
    switch (*end) {
    case '\0': break;
    case 'k': case 'K': unit = 1LL << 10; end++; break;
    case 'm': case 'M': unit = 1LL << 20; end++; break;
    case 'g': case 'G': unit = 1LL << 30; end++; break;
    case 't': case 'T': unit = 1LL << 40; end++; break;
    default: return -1;
    }
    if (*end == 'b' || *end == 'B')
        end++;
    if (*end != '\0' || n < 0 || n > __LONG_LONG_MAX__ / unit)
        return -1;
    *value = n * unit;
    return 0;
}
