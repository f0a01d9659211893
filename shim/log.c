/* The shim's log; see log.h. */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Process-wide, as a log is: -1 until the FIFO is open, then messages go there. */
static int log_fd = -1;
static bool log_debug_enabled;

void log_open_fifo(const char *path, bool debug)
{
    log_debug_enabled = debug;
    /* Non-blocking: with nobody reading (containerd restarting) a message is dropped rather
     * than stalling the event loop. ENXIO (no reader yet) leaves the shim without a log. */
    log_fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
}

void log_close(void)
{
    if (log_fd >= 0)
        close(log_fd);
    log_fd = -1;
}

__attribute__((format(printf, 2, 0))) static void emit(const char *level, const char *fmt,
                                                      va_list ap)
{
    char msg[1024];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    for (char *p = msg; *p; p++)
        if (*p == '"' || *p == '\n')
            *p = *p == '"' ? '\'' : ' ';
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char when[32];
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
    char line[1200];
    int n = snprintf(line, sizeof(line), "time=\"%s.%09ldZ\" level=%s msg=\"%s\" runtime=ctr\n",
                     when, ts.tv_nsec, level, msg);
    if (n > (int)sizeof(line) - 1)
        n = (int)sizeof(line) - 1;
    int saved = errno;
    if (write(log_fd >= 0 ? log_fd : STDERR_FILENO, line, (size_t)n) < 0) {
        /* Nowhere else to say it. */
    }
    errno = saved;
}

#define DEFINE_LOG(name, level, enabled)                                                          \
    void name(const char *fmt, ...)                                                               \
    {                                                                                             \
        if (!(enabled))                                                                           \
            return;                                                                               \
        va_list ap;                                                                               \
        va_start(ap, fmt);                                                                        \
        emit(level, fmt, ap);                                                                     \
        va_end(ap);                                                                               \
    }

DEFINE_LOG(log_debug, "debug", log_debug_enabled)
DEFINE_LOG(log_info, "info", true)
DEFINE_LOG(log_error, "error", true)

void log_libctr_warning(void *data, const char *message)
{
    (void)data;
    log_info("warning: %s", message);
}
