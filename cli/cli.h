/* ctr-run: shared pieces of the command line. Each subcommand lives in its own cmd_*.c. */
#ifndef CTR_CLI_H
#define CTR_CLI_H

#include <stdbool.h>

#include "libctr/libctr.h"

/* Global options, given before the subcommand (runc's syntax). */
struct cli_globals {
    const char *root;      /* state directory, default /run/ctr */
    const char *log_path;  /* --log */
    bool log_json;         /* --log-format json */
    bool debug;
    bool systemd_cgroup;
};

struct cli_command {
    const char *name;
    const char *summary;
    int (*run)(const struct cli_globals *globals, int argc, char **argv);
};

/* Reports an error on stderr (and the --log file) as "ctr-run: message". Returns 1, the exit
 * status of a failed command. */
int cli_fail(const struct cli_globals *globals, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The same for a libctr error, which it frees. */
int cli_fail_error(const struct cli_globals *globals, ctr_error *err);

int cmd_run(const struct cli_globals *globals, int argc, char **argv);

/* Runs the bundle in the foreground until its process exits; returns the exit status to use. */
int cli_run_foreground(const struct cli_globals *globals, const char *id, const char *bundle);

#endif
