/* create, start, run, state, kill, delete, list: runc's syntax and behaviour. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/* The options create and run share. */
struct create_flags {
    const char *bundle;
    const char *pid_file;
    const char *console_socket;
    unsigned preserve_fds;
    bool no_pivot, no_new_keyring;
    bool detach, keep;   /* run only */
};

enum {
    OPT_PID_FILE = 256, OPT_CONSOLE_SOCKET, OPT_PRESERVE_FDS, OPT_NO_PIVOT, OPT_NO_NEW_KEYRING,
    OPT_KEEP, OPT_NO_SUBREAPER,
};

static int parse_create_flags(const struct cli_globals *g, int argc, char **argv, bool run,
                              struct create_flags *flags, const char **id)
{
    static const struct option options[] = {
        {"bundle", required_argument, NULL, 'b'},
        {"pid-file", required_argument, NULL, OPT_PID_FILE},
        {"console-socket", required_argument, NULL, OPT_CONSOLE_SOCKET},
        {"preserve-fds", required_argument, NULL, OPT_PRESERVE_FDS},
        {"no-pivot", no_argument, NULL, OPT_NO_PIVOT},
        {"no-new-keyring", no_argument, NULL, OPT_NO_NEW_KEYRING},
        {"detach", no_argument, NULL, 'd'},
        {"keep", no_argument, NULL, OPT_KEEP},
        {"no-subreaper", no_argument, NULL, OPT_NO_SUBREAPER},
        {NULL, 0, NULL, 0},
    };
    *flags = (struct create_flags){.bundle = "."};
    int opt;
    while ((opt = getopt_long(argc, argv, run ? "+b:d" : "+b:", options, NULL)) != -1) {
        switch (opt) {
        case 'b': flags->bundle = optarg; break;
        case OPT_PID_FILE: flags->pid_file = optarg; break;
        case OPT_CONSOLE_SOCKET: flags->console_socket = optarg; break;
        case OPT_PRESERVE_FDS:
            if (cli_parse_fd_count(g, argv[0], optarg, &flags->preserve_fds) < 0)
                return 1;
            break;
        case OPT_NO_PIVOT: flags->no_pivot = true; break;
        case OPT_NO_NEW_KEYRING: flags->no_new_keyring = true; break;
        case 'd':
            flags->detach = true;
            break;
        case OPT_KEEP:
            if (!run)
                return cli_fail(g, "%s: unknown option --keep", argv[0]);
            flags->keep = true;
            break;
        case OPT_NO_SUBREAPER: break; /* ctr-run never makes itself a subreaper */
        default: return cli_fail(g, "%s: bad option (see %s --help)", argv[0], argv[0]);
        }
    }
    if (!run && flags->detach)
        return cli_fail(g, "create: unknown option --detach");
    if (optind != argc - 1)
        return cli_fail(g, "%s: expected exactly one container id, got %d arguments", argv[0],
                        argc - optind);
    *id = argv[optind];
    return 0;
}

/* Socket activation, as runc does: fds 3.. named by LISTEN_FDS go on to the container, whose
 * process is told it is their listener (LISTEN_PID=1: it is pid 1 of its namespace). */
static unsigned listen_fds(char *env[3], char buf[2][32])
{
    const char *value = getenv("LISTEN_FDS");
    long n = value ? strtol(value, NULL, 10) : 0;
    if (n <= 0 || n > 65536)
        return 0;
    snprintf(buf[0], sizeof(buf[0]), "LISTEN_FDS=%ld", n);
    snprintf(buf[1], sizeof(buf[1]), "LISTEN_PID=1");
    env[0] = buf[0];
    env[1] = buf[1];
    env[2] = NULL;
    return (unsigned)n;
}

static int create_container(const struct cli_globals *g, ctr_context *ctx, const char *id,
                            const struct create_flags *flags, ctr_container **c)
{
    char *extra_env[3] = {NULL}, buf[2][32];
    unsigned activation = listen_fds(extra_env, buf);
    struct ctr_create_options opts = {
        .size = sizeof(opts),
        .bundle = flags->bundle,
        .stdio = {-1, -1, -1},
        .console_socket = flags->console_socket,
        .preserve_fds = flags->preserve_fds > activation ? flags->preserve_fds : activation,
        .no_new_keyring = flags->no_new_keyring,
        .no_pivot = flags->no_pivot,
        .systemd_cgroup = g->systemd_cgroup,
        .no_cgroup = g->no_cgroup,
        .extra_env = (const char *const *)extra_env,
    };
    ctr_error *err = NULL;
    if (ctr_container_create(ctx, id, &opts, c, &err) < 0)
        return cli_fail_error(g, err);
    /* A terminal nobody relays would hang the container: runc refuses the same. */
    if (flags->detach && flags->console_socket == NULL && ctr_container_console_fd(*c) >= 0) {
        ctr_container_destroy(*c, NULL);
        return cli_fail(g, "%s: process.terminal needs --console-socket when detached", id);
    }
    if (flags->pid_file && cli_write_pid_file(flags->pid_file, ctr_container_pid(*c)) < 0) {
        int saved = errno;
        ctr_container_destroy(*c, NULL);
        return cli_fail(g, "write pid file `%s`: %s", flags->pid_file, strerror(saved));
    }
    return 0;
}

int cmd_create(const struct cli_globals *g, int argc, char **argv)
{
    struct create_flags flags;
    const char *id;
    if (parse_create_flags(g, argc, argv, false, &flags, &id))
        return 1;
    flags.detach = true; /* create always leaves the container to a later start */
    ctr_context *ctx;
    if (cli_context(g, &ctx))
        return 1;
    ctr_container *c = NULL;
    int ret = create_container(g, ctx, id, &flags, &c);
    if (ret == 0)
        ctr_container_release(c);
    ctr_context_free(ctx);
    return ret;
}

int cmd_start(const struct cli_globals *g, int argc, char **argv)
{
    if (argc != 2)
        return cli_fail(g, "start: expected exactly one container id");
    return cli_with_container(g, argv[1], ctr_container_start);
}

/* run: create + start, then (unless detached) wait in the foreground and delete. */
static int run_container(const struct cli_globals *g, const char *id, const struct create_flags *flags)
{
    if (!flags->detach)
        cli_block_forwarded_signals();
    ctr_context *ctx;
    if (cli_context(g, &ctx))
        return 1;
    ctr_container *c = NULL;
    int status = create_container(g, ctx, id, flags, &c);
    if (status) {
        ctr_context_free(ctx);
        return status;
    }
    ctr_error *err = NULL;
    if (ctr_container_start(c, &err) < 0) {
        status = cli_fail_error(g, err);
        ctr_container_destroy(c, NULL);
        ctr_context_free(ctx);
        return status;
    }
    if (flags->detach) {
        ctr_container_release(c);
        ctr_context_free(ctx);
        return 0;
    }
    status = cli_foreground(g, c, ctr_container_pidfd(c), ctr_container_console_fd(c), true);
    if (flags->keep) {
        ctr_container_release(c);
    } else if (ctr_container_delete(c, 1, &err) < 0) {
        cli_fail_error(g, err);
        if (status == 0)
            status = 1;
    }
    ctr_context_free(ctx);
    return status;
}

int cli_run_bundle(const struct cli_globals *g, const char *id, const char *bundle)
{
    struct create_flags flags = {.bundle = bundle};
    return run_container(g, id, &flags);
}

int cmd_run(const struct cli_globals *g, int argc, char **argv)
{
    struct create_flags flags;
    const char *id;
    if (parse_create_flags(g, argc, argv, true, &flags, &id))
        return 1;
    return run_container(g, id, &flags);
}

static int print_state(const struct cli_globals *g, ctr_container *c, void *data)
{
    (void)data;
    char *text = NULL;
    ctr_error *err = NULL;
    if (ctr_container_state_json(c, &text, &err) < 0)
        return cli_fail_error(g, err);
    /* Indented, as runc prints it. */
    json_t *state = json_loads(text, 0, NULL);
    char *pretty = state ? json_dumps(state, JSON_INDENT(2)) : NULL;
    printf("%s\n", pretty ? pretty : text);
    free(pretty);
    json_decref(state);
    free(text);
    return 0;
}

int cmd_state(const struct cli_globals *g, int argc, char **argv)
{
    if (argc != 2)
        return cli_fail(g, "state: expected exactly one container id");
    return cli_on_container(g, argv[1], print_state, NULL);
}

struct kill_request {
    int signal;
    bool all;
};

static int send_signal(const struct cli_globals *g, ctr_container *c, void *data)
{
    const struct kill_request *req = data;
    ctr_error *err = NULL;
    return ctr_container_kill(c, req->signal, req->all, &err) < 0 ? cli_fail_error(g, err) : 0;
}

int cmd_kill(const struct cli_globals *g, int argc, char **argv)
{
    static const struct option options[] = {
        {"all", no_argument, NULL, 'a'},
        {NULL, 0, NULL, 0},
    };
    struct kill_request req = {.signal = SIGTERM};
    int opt;
    while ((opt = getopt_long(argc, argv, "+a", options, NULL)) != -1) {
        if (opt != 'a')
            return cli_fail(g, "kill: bad option (see kill --help)");
        req.all = true;
    }
    if (optind >= argc || argc - optind > 2)
        return cli_fail(g, "kill: expected a container id and at most one signal");
    if (argc - optind == 2 && (req.signal = cli_parse_signal(argv[optind + 1])) < 0)
        return cli_fail(g, "kill: unknown signal `%s`", argv[optind + 1]);
    return cli_on_container(g, argv[optind], send_signal, &req);
}

int cmd_delete(const struct cli_globals *g, int argc, char **argv)
{
    static const struct option options[] = {
        {"force", no_argument, NULL, 'f'},
        {NULL, 0, NULL, 0},
    };
    bool force = false;
    int opt;
    while ((opt = getopt_long(argc, argv, "+f", options, NULL)) != -1) {
        if (opt != 'f')
            return cli_fail(g, "delete: bad option (see delete --help)");
        force = true;
    }
    if (optind != argc - 1)
        return cli_fail(g, "delete: expected exactly one container id");
    const char *id = argv[optind];
    ctr_context *ctx;
    if (cli_context(g, &ctx))
        return 1;
    ctr_container *c = NULL;
    ctr_error *err = NULL;
    int ret = 0;
    if (ctr_container_load(ctx, id, &c, &err) < 0) {
        /* runc: `delete --force` of a container that does not exist succeeds (the managers
         * call it to make sure). */
        if (force && ctr_error_code(err) == ENOENT)
            ctr_error_free(err);
        else
            ret = cli_fail_error(g, err);
    } else if (ctr_container_delete(c, force, &err) < 0) {
        ret = cli_fail_error(g, err);
    }
    ctr_context_free(ctx);
    return ret;
}

int cmd_list(const struct cli_globals *g, int argc, char **argv)
{
    static const struct option options[] = {
        {"format", required_argument, NULL, 'f'},
        {"quiet", no_argument, NULL, 'q'},
        {NULL, 0, NULL, 0},
    };
    bool json = false, quiet = false;
    int opt;
    while ((opt = getopt_long(argc, argv, "+f:q", options, NULL)) != -1) {
        if (opt == 'q')
            quiet = true;
        else if (opt != 'f' || cli_parse_format(optarg, &json) < 0)
            return cli_fail(g, "list: --format must be table or json");
    }
    if (optind != argc)
        return cli_fail(g, "list: takes no arguments");
    ctr_context *ctx;
    if (cli_context(g, &ctx))
        return 1;
    char **ids = NULL;
    size_t count = 0;
    ctr_error *err = NULL;
    if (ctr_container_list(ctx, &ids, &count, &err) < 0) {
        ctr_context_free(ctx);
        return cli_fail_error(g, err);
    }
    json_t *array = json_array();
    if (!json && !quiet)
        printf("%-20s %-8s %-10s %-40s %-30s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED",
               "OWNER");
    for (size_t i = 0; i < count; i++) {
        ctr_container *c = NULL;
        char *text = NULL;
        /* A container deleted meanwhile is simply not listed. */
        if (ctr_container_load(ctx, ids[i], &c, NULL) < 0 ||
            ctr_container_state_json(c, &text, NULL) < 0) {
            ctr_container_release(c);
            continue;
        }
        json_t *state = json_loads(text, 0, NULL);
        free(text);
        ctr_container_release(c);
        if (state == NULL)
            continue;
        if (quiet)
            printf("%s\n", ids[i]);
        else if (!json)
            printf("%-20s %-8lld %-10s %-40s %-30s %s\n", ids[i],
                   json_integer_value(json_object_get(state, "pid")),
                   json_string_value(json_object_get(state, "status")),
                   json_string_value(json_object_get(state, "bundle")),
                   json_string_value(json_object_get(state, "created")), "root");
        json_array_append_new(array, state);
    }
    if (json && !quiet) {
        char *out = json_dumps(array, JSON_COMPACT);
        printf("%s\n", out ? out : "[]");
        free(out);
    }
    json_decref(array);
    ctr_strv_free(ids);
    ctr_context_free(ctx);
    return 0;
}
