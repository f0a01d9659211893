/* exec: a new process in a running container, from a process.json (--process) or from the
 * container's own `process` with runc's flags applied on top. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"

struct exec_flags {
    const char *process_file;
    const char *console_socket;
    const char *pid_file;
    const char *cwd;
    const char *user;
    json_t *env;          /* --env entries */
    json_t *caps;         /* --cap entries */
    json_t *gids;         /* --additional-gids entries */
    bool tty, detach, no_new_privs;
    unsigned preserve_fds;
};

enum {
    OPT_CONSOLE_SOCKET = 256, OPT_PID_FILE, OPT_CWD, OPT_NO_NEW_PRIVS, OPT_PRESERVE_FDS,
    OPT_IGNORED_ARG, OPT_IGNORED,
};

static int parse_flags(const struct cli_globals *g, int argc, char **argv, struct exec_flags *f)
{
    static const struct option options[] = {
        {"process", required_argument, NULL, 'p'},
        {"console-socket", required_argument, NULL, OPT_CONSOLE_SOCKET},
        {"pid-file", required_argument, NULL, OPT_PID_FILE},
        {"cwd", required_argument, NULL, OPT_CWD},
        {"env", required_argument, NULL, 'e'},
        {"user", required_argument, NULL, 'u'},
        {"additional-gids", required_argument, NULL, 'g'},
        {"cap", required_argument, NULL, 'c'},
        {"tty", no_argument, NULL, 't'},
        {"detach", no_argument, NULL, 'd'},
        {"no-new-privs", no_argument, NULL, OPT_NO_NEW_PRIVS},
        {"preserve-fds", required_argument, NULL, OPT_PRESERVE_FDS},
        /* runc flags for things this host or runtime decides otherwise: accepted, unused. */
        {"process-label", required_argument, NULL, OPT_IGNORED_ARG},
        {"apparmor", required_argument, NULL, OPT_IGNORED_ARG},
        {"cgroup", required_argument, NULL, OPT_IGNORED_ARG},
        {"ignore-paused", no_argument, NULL, OPT_IGNORED},
        {NULL, 0, NULL, 0},
    };
    int opt;
    while ((opt = getopt_long(argc, argv, "+p:e:u:g:c:td", options, NULL)) != -1) {
        switch (opt) {
        case 'p': f->process_file = optarg; break;
        case OPT_CONSOLE_SOCKET: f->console_socket = optarg; break;
        case OPT_PID_FILE: f->pid_file = optarg; break;
        case OPT_CWD: f->cwd = optarg; break;
        case 'e':
            if (strchr(optarg, '=') == NULL)
                return cli_fail(g, "exec: --env `%s`: expected KEY=value", optarg);
            json_array_append_new(f->env, json_string(optarg));
            break;
        case 'u': f->user = optarg; break;
        case 'g': {
            char *end;
            long gid = strtol(optarg, &end, 10);
            if (*optarg == '\0' || *end || gid < 0 || gid > 4294967294L)
                return cli_fail(g, "exec: --additional-gids `%s`: not a gid", optarg);
            json_array_append_new(f->gids, json_integer(gid));
            break;
        }
        case 'c': json_array_append_new(f->caps, json_string(optarg)); break;
        case 't': f->tty = true; break;
        case 'd': f->detach = true; break;
        case OPT_NO_NEW_PRIVS: f->no_new_privs = true; break;
        case OPT_PRESERVE_FDS:
            if (cli_parse_fd_count(g, "exec", optarg, &f->preserve_fds) < 0)
                return 1;
            break;
        case OPT_IGNORED_ARG:
        case OPT_IGNORED: break;
        default: return cli_fail(g, "exec: bad option (see exec --help)");
        }
    }
    return 0;
}

/* "uid[:gid]" */
static int apply_user(const struct cli_globals *g, json_t *process, const char *spec)
{
    char *end;
    long uid = strtol(spec, &end, 10), gid = 0;
    if (end == spec || (*end && *end != ':') || uid < 0 || uid > 4294967294L)
        return cli_fail(g, "exec: --user `%s`: expected UID[:GID] (numbers)", spec);
    if (*end == ':') {
        char *gid_text = end + 1;
        gid = strtol(gid_text, &end, 10);
        if (end == gid_text || *end || gid < 0 || gid > 4294967294L)
            return cli_fail(g, "exec: --user `%s`: expected UID[:GID] (numbers)", spec);
    }
    json_t *user = json_object_get(process, "user");
    if (!json_is_object(user)) {
        user = json_object();
        json_object_set_new(process, "user", user);
    }
    json_object_set_new(user, "uid", json_integer(uid));
    json_object_set_new(user, "gid", json_integer(gid));
    return 0;
}

/* --env KEY=v replaces an inherited KEY, or is added. */
static void apply_env(json_t *process, json_t *additions)
{
    json_t *env = json_object_get(process, "env");
    if (!json_is_array(env)) {
        env = json_array();
        json_object_set_new(process, "env", env);
    }
    size_t i;
    json_t *entry;
    json_array_foreach(additions, i, entry) {
        const char *text = json_string_value(entry);
        size_t key_len = (size_t)(strchr(text, '=') - text);
        size_t j;
        json_t *old;
        bool replaced = false;
        json_array_foreach(env, j, old) {
            const char *o = json_string_value(old);
            if (o && strncmp(o, text, key_len + 1) == 0) {
                json_array_set(env, j, entry);
                replaced = true;
                break;
            }
        }
        if (!replaced)
            json_array_append(env, entry);
    }
}

/* --cap adds to the bounding, effective and permitted sets, as runc's does. */
static void apply_caps(json_t *process, json_t *caps)
{
    json_t *sets = json_object_get(process, "capabilities");
    if (!json_is_object(sets)) {
        sets = json_object();
        json_object_set_new(process, "capabilities", sets);
    }
    const char *names[] = {"bounding", "effective", "permitted"};
    for (size_t s = 0; s < 3; s++) {
        json_t *set = json_object_get(sets, names[s]);
        if (!json_is_array(set)) {
            set = json_array();
            json_object_set_new(sets, names[s], set);
        }
        json_array_extend(set, caps);
    }
}

/* The process.json to run: --process's file, or the container's process with the flags on top. */
static char *build_process(const struct cli_globals *g, ctr_container *c, struct exec_flags *f,
                           int argc, char **argv)
{
    json_t *process = NULL;
    json_error_t jerr;
    if (f->process_file) {
        process = json_load_file(f->process_file, 0, &jerr);
        if (process == NULL) {
            cli_fail(g, "exec: --process `%s`: %s", f->process_file, jerr.text);
            return NULL;
        }
    } else {
        if (argc == 0) {
            cli_fail(g, "exec: a command to run is required (or --process FILE)");
            return NULL;
        }
        char *base = NULL;
        ctr_error *err = NULL;
        if (ctr_container_process_json(c, &base, &err) < 0) {
            cli_fail_error(g, err);
            return NULL;
        }
        process = json_loads(base, 0, &jerr);
        free(base);
        if (process == NULL) {
            cli_fail(g, "exec: the container's process: %s", jerr.text);
            return NULL;
        }
        json_t *args = json_array();
        for (int i = 0; i < argc; i++)
            json_array_append_new(args, json_string(argv[i]));
        json_object_set_new(process, "args", args);
        json_object_set_new(process, "terminal", json_boolean(f->tty));
        if (f->cwd)
            json_object_set_new(process, "cwd", json_string(f->cwd));
        if (f->user && apply_user(g, process, f->user)) {
            json_decref(process);
            return NULL;
        }
        apply_env(process, f->env);
        if (json_array_size(f->caps))
            apply_caps(process, f->caps);
        if (json_array_size(f->gids)) {
            json_t *user = json_object_get(process, "user");
            if (json_is_object(user))
                json_object_set(user, "additionalGids", f->gids);
        }
        if (f->no_new_privs)
            json_object_set_new(process, "noNewPrivileges", json_true());
    }
    if (f->tty)
        json_object_set_new(process, "terminal", json_true());
    f->tty = json_is_true(json_object_get(process, "terminal"));
    char *text = json_dumps(process, JSON_COMPACT);
    json_decref(process);
    return text;
}

/* SIGKILL through the pidfd, then waits until the process is gone (reaping it when it is our
 * child) and closes the pidfd. */
static void kill_and_reap(int pidfd)
{
    syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
    struct pollfd exited = {.fd = pidfd, .events = POLLIN};
    while (poll(&exited, 1, -1) < 0 && errno == EINTR)
        ;
    siginfo_t info;
    waitid(P_PIDFD, (id_t)pidfd, &info, WEXITED | WNOHANG);
    close(pidfd);
}

static int run_exec(const struct cli_globals *g, ctr_container *c, struct exec_flags *f,
                    const char *process_json)
{
    /* A terminal nobody relays would hang the process: runc refuses the same. */
    if (f->detach && f->tty && f->console_socket == NULL)
        return cli_fail(g, "exec: a terminal needs --console-socket when detached");
    if (!f->detach)
        cli_block_forwarded_signals();
    struct ctr_exec_options opts = {
        .size = sizeof(opts),
        .process_json = process_json,
        .process_json_len = strlen(process_json),
        .stdio = {-1, -1, -1},
        .console_socket = f->console_socket,
        .preserve_fds = f->preserve_fds,
    };
    pid_t pid;
    int pidfd = -1, console = -1;
    ctr_error *err = NULL;
    if (ctr_container_exec(c, &opts, &pid, &pidfd, &console, &err) < 0)
        return cli_fail_error(g, err);
    if (f->pid_file && cli_write_pid_file(f->pid_file, pid) < 0) {
        /* As runc: the caller cannot track a process whose pid it was not given, so the
         * exec fails as a whole and the process does not outlive it. */
        int saved = errno;
        kill_and_reap(pidfd);
        if (console >= 0)
            close(console);
        return cli_fail(g, "write pid file `%s`: %s", f->pid_file, strerror(saved));
    }
    if (f->detach) {
        close(pidfd);
        return 0;
    }
    int status = cli_foreground(g, c, pidfd, console, false);
    if (console >= 0)
        close(console);
    close(pidfd);
    return status;
}

struct exec_request {
    struct exec_flags flags;
    int argc;    /* the command, after the container id */
    char **argv;
};

static int exec_in(const struct cli_globals *g, ctr_container *c, void *data)
{
    struct exec_request *req = data;
    char *process = build_process(g, c, &req->flags, req->argc, req->argv);
    int ret = process ? run_exec(g, c, &req->flags, process) : 1;
    free(process);
    return ret;
}

int cmd_exec(const struct cli_globals *g, int argc, char **argv)
{
    struct exec_request req = {
        .flags = {.env = json_array(), .caps = json_array(), .gids = json_array()},
    };
    int ret = parse_flags(g, argc, argv, &req.flags);
    if (ret == 0 && optind >= argc)
        ret = cli_fail(g, "exec: a container id is required");
    if (ret == 0) {
        req.argc = argc - optind - 1;
        req.argv = argv + optind + 1;
        ret = cli_on_container(g, argv[optind], exec_in, &req);
    }
    json_decref(req.flags.env);
    json_decref(req.flags.caps);
    json_decref(req.flags.gids);
    return ret;
}
