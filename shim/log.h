/* The shim's log: containerd reads the FIFO `log` in the bundle and copies it to its own output
 * (runtime/v2 openShimLog), so that is where messages go, one logrus-style line each. Before the
 * FIFO is open (the start and delete actions) they go to stderr, which containerd shows when an
 * action fails. */
#ifndef SHIM_LOG_H
#define SHIM_LOG_H

#include <stdbool.h>

void log_open_fifo(const char *path, bool debug);
void log_close(void);
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* For ctr_context_options.warn: libctr's non-fatal warnings (a failing poststart hook). */
void log_libctr_warning(void *data, const char *message);

#endif
