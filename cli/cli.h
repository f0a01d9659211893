/* ctr-run: shared pieces of the command line. Each group of subcommands lives in its own file. */
#ifndef CTR_CLI_H
#define CTR_CLI_H

#include <stdbool.h>
#include <sys/types.h>

#include "libctr/libctr.h"

/* Global options, given before the subcommand (runc's syntax). */
struct cli_globals {
    const char *root;      /* state directory, default /run/ctr */
    const char *log_path;  /* --log */
    bool log_json;         /* --log-format json */
    bool debug;
    bool systemd_cgroup;
    bool no_cgroup;        /* --cgroup-manager=disabled */
};

struct cli_command {
    const char *name;
    const char *usage;     /* arguments, e.g. "[--bundle DIR] ID" */
    const char *summary;
    int (*run)(const struct cli_globals *globals, int argc, char **argv);
};

/* Reports an error on stderr and in the --log file (a JSON line with --log-format json, the form
 * podman and containerd read). Returns 1, the exit status of a failed command. */
int cli_fail(const struct cli_globals *globals, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The same for a libctr error, which it frees. */
int cli_fail_error(const struct cli_globals *globals, ctr_error *err);
/* A warning (a failed poststart hook...): stderr and the log, exit status unchanged. */
void cli_warn(void *globals, const char *message);

/* The libctr context for --root (state directory) with warnings going to cli_warn. */
int cli_context(const struct cli_globals *globals, ctr_context **ctx);
/* Loads container `id`; on failure reports and returns NULL. */
ctr_container *cli_load(const struct cli_globals *globals, ctr_context *ctx, const char *id);

/* Loads container `id` (with the --root context) and runs `fn` on it; returns fn's exit status,
 * or 1 (reported) when the container cannot be loaded. */
int cli_on_container(const struct cli_globals *globals, const char *id,
                     int (*fn)(const struct cli_globals *globals, ctr_container *c, void *data),
                     void *data);
/* The same for the commands that are one library call: runs `op` and reports its error. */
int cli_with_container(const struct cli_globals *globals, const char *id,
                       int (*op)(ctr_container *c, ctr_error **err));

/* Writes `pid` to `path` atomically (a temporary file renamed), as conmon and containerd read it
 * as soon as it appears. */
int cli_write_pid_file(const char *path, pid_t pid);

/* "9", "KILL", "SIGKILL", "sigkill", "RTMIN+3": -1 when unknown. */
int cli_parse_signal(const char *text);

/* --preserve-fds N of `command` (create, run, exec): reports a bad count and returns -1. */
int cli_parse_fd_count(const struct cli_globals *globals, const char *command, const char *text,
                       unsigned *count);

/* --format table|json: -1 for anything else. */
int cli_parse_format(const char *text, bool *json);

/* Parses "64m", "1G", "1024" (binary multiples, as runc's units.RAMInBytes); -1 is kept. */
int cli_parse_bytes(const char *text, long long *value);

/* Waits for the container's init (or an exec'd process) to exit, forwarding the signals a
 * foreground runtime forwards, and relaying `console` (a pty master, or -1) with our stdio.
 * Returns the exit code (128+n for signal n). */
int cli_foreground(const struct cli_globals *globals, ctr_container *c, int pidfd, int console,
                   bool is_container_init);

/* The forwarded signals are blocked before anything is created, so none is lost in between. */
void cli_block_forwarded_signals(void);

int cmd_create(const struct cli_globals *g, int argc, char **argv);
int cmd_start(const struct cli_globals *g, int argc, char **argv);
int cmd_run(const struct cli_globals *g, int argc, char **argv);
int cmd_state(const struct cli_globals *g, int argc, char **argv);
int cmd_kill(const struct cli_globals *g, int argc, char **argv);
int cmd_delete(const struct cli_globals *g, int argc, char **argv);
int cmd_list(const struct cli_globals *g, int argc, char **argv);
int cmd_exec(const struct cli_globals *g, int argc, char **argv);
int cmd_pause(const struct cli_globals *g, int argc, char **argv);
int cmd_resume(const struct cli_globals *g, int argc, char **argv);
int cmd_update(const struct cli_globals *g, int argc, char **argv);
int cmd_ps(const struct cli_globals *g, int argc, char **argv);
int cmd_events(const struct cli_globals *g, int argc, char **argv);
int cmd_features(const struct cli_globals *g, int argc, char **argv);
int cmd_spec(const struct cli_globals *g, int argc, char **argv);

/* `ctr-run BUNDLE` and `run` in the foreground. */
int cli_run_bundle(const struct cli_globals *g, const char *id, const char *bundle);

#endif
