/* pause, resume, update, ps, events: the commands acting on a container's cgroup. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

int cmd_pause(const struct cli_globals *g, int argc, char **argv)
{
    if (argc != 2)
        return cli_fail(g, "pause: expected exactly one container id");
    return cli_with_container(g, argv[1], ctr_container_pause);
}

int cmd_resume(const struct cli_globals *g, int argc, char **argv)
{
    if (argc != 2)
        return cli_fail(g, "resume: expected exactly one container id");
    return cli_with_container(g, argv[1], ctr_container_resume);
}

/* ---- update ------------------------------------------------------------------------------------ */

/* runc's single-value flags, each naming where it goes in linux.resources. */
struct update_flag {
    const char *name;
    const char *group, *field;
    enum { BYTES, INTEGER, STRING } kind;
};

static const struct update_flag update_flags[] = {
    {"memory", "memory", "limit", BYTES},
    {"memory-swap", "memory", "swap", BYTES},
    {"memory-reservation", "memory", "reservation", BYTES},
    {"kernel-memory", "memory", "kernel", BYTES},
    {"kernel-memory-tcp", "memory", "kernelTCP", BYTES},
    {"cpu-shares", "cpu", "shares", INTEGER},
    {"cpu-quota", "cpu", "quota", INTEGER},
    {"cpu-period", "cpu", "period", INTEGER},
    {"cpu-rt-period", "cpu", "realtimePeriod", INTEGER},
    {"cpu-rt-runtime", "cpu", "realtimeRuntime", INTEGER},
    {"cpuset-cpus", "cpu", "cpus", STRING},
    {"cpuset-mems", "cpu", "mems", STRING},
    {"pids-limit", "pids", "limit", INTEGER},
    {"blkio-weight", "blockIO", "weight", INTEGER},
};

enum { N_UPDATE_FLAGS = sizeof(update_flags) / sizeof(update_flags[0]) };

static int set_flag(const struct cli_globals *g, json_t *resources, const struct update_flag *flag,
                    const char *value)
{
    json_t *group = json_object_get(resources, flag->group);
    if (!json_is_object(group)) {
        group = json_object();
        json_object_set_new(resources, flag->group, group);
    }
    long long n;
    char *end;
    switch (flag->kind) {
    case BYTES:
        if (cli_parse_bytes(value, &n) < 0)
            return cli_fail(g, "update: --%s `%s`: expected a size like 64m, 1g or bytes",
                            flag->name, value);
        json_object_set_new(group, flag->field, json_integer(n));
        break;
    case INTEGER:
        errno = 0;
        n = strtoll(value, &end, 10);
        if (errno || *value == '\0' || *end)
            return cli_fail(g, "update: --%s `%s`: expected an integer", flag->name, value);
        json_object_set_new(group, flag->field, json_integer(n));
        break;
    case STRING:
        json_object_set_new(group, flag->field, json_string(value));
        break;
    }
    return 0;
}

static json_t *read_resources(const struct cli_globals *g, const char *path)
{
    json_error_t jerr;
    /* "-": JSON on stdin, as containerd and docker send it. */
    json_t *json = strcmp(path, "-") == 0 ? json_loadf(stdin, 0, &jerr) : json_load_file(path, 0, &jerr);
    if (json == NULL || !json_is_object(json)) {
        cli_fail(g, "update: --resources `%s`: %s", path, json ? "not a JSON object" : jerr.text);
        json_decref(json);
        return NULL;
    }
    return json;
}

static int apply_resources(const struct cli_globals *g, ctr_container *c, void *data)
{
    const char *text = data;
    ctr_error *err = NULL;
    return ctr_container_update(c, text, strlen(text), &err) < 0 ? cli_fail_error(g, err) : 0;
}

int cmd_update(const struct cli_globals *g, int argc, char **argv)
{
    struct option options[N_UPDATE_FLAGS + 2];
    for (size_t i = 0; i < N_UPDATE_FLAGS; i++)
        options[i] = (struct option){update_flags[i].name, required_argument, NULL, 256 + (int)i};
    options[N_UPDATE_FLAGS] = (struct option){"resources", required_argument, NULL, 'r'};
    options[N_UPDATE_FLAGS + 1] = (struct option){NULL, 0, NULL, 0};

    json_t *resources = NULL, *flags = json_object();
    int opt, ret = 0;
    while (ret == 0 && (opt = getopt_long(argc, argv, "+r:", options, NULL)) != -1) {
        if (opt == 'r') {
            json_decref(resources);
            ret = (resources = read_resources(g, optarg)) ? 0 : 1;
        } else if (opt >= 256 && opt < 256 + N_UPDATE_FLAGS) {
            ret = set_flag(g, flags, &update_flags[opt - 256], optarg);
        } else {
            ret = cli_fail(g, "update: bad option (see update --help)");
        }
    }
    if (ret == 0 && optind != argc - 1)
        ret = cli_fail(g, "update: expected exactly one container id");
    if (ret == 0 && resources == NULL && json_object_size(flags) == 0)
        ret = cli_fail(g, "update: nothing to change (give --resources or a flag)");
    if (ret == 0) {
        /* The single-value flags refine what --resources gives. */
        if (resources == NULL)
            resources = json_object();
        const char *key;
        json_t *group;
        json_object_foreach(flags, key, group) {
            json_t *existing = json_object_get(resources, key);
            if (json_is_object(existing))
                json_object_update(existing, group);
            else
                json_object_set(resources, key, group);
        }
        char *text = json_dumps(resources, JSON_COMPACT);
        ret = text ? cli_on_container(g, argv[optind], apply_resources, text)
                   : cli_fail(g, "update: out of memory");
        free(text);
    }
    json_decref(resources);
    json_decref(flags);
    return ret;
}

/* ---- ps ------------------------------------------------------------------------------------------ */

static void print_command(pid_t pid)
{
    char path[64], buf[4096];
    snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
    if (fd >= 0)
        close(fd);
    if (n <= 0) {
        printf("%d\n", (int)pid);
        return;
    }
    for (ssize_t i = 0; i < n - 1; i++)
        if (buf[i] == '\0')
            buf[i] = ' ';
    buf[n] = '\0';
    printf("%-8d %s\n", (int)pid, buf);
}

static int print_processes(const struct cli_globals *g, ctr_container *c, void *data)
{
    bool json = *(const bool *)data;
    pid_t *pids = NULL;
    size_t count = 0;
    ctr_error *err = NULL;
    if (ctr_container_pids(c, &pids, &count, &err) < 0)
        return cli_fail_error(g, err);
    if (json) {
        json_t *array = json_array();
        for (size_t i = 0; i < count; i++)
            json_array_append_new(array, json_integer(pids[i]));
        char *text = json_dumps(array, JSON_COMPACT);
        printf("%s\n", text ? text : "[]");
        free(text);
        json_decref(array);
    } else {
        printf("%-8s %s\n", "PID", "CMD");
        for (size_t i = 0; i < count; i++)
            print_command(pids[i]);
    }
    free(pids);
    return 0;
}

int cmd_ps(const struct cli_globals *g, int argc, char **argv)
{
    static const struct option options[] = {
        {"format", required_argument, NULL, 'f'},
        {NULL, 0, NULL, 0},
    };
    bool json = false;
    int opt;
    while ((opt = getopt_long(argc, argv, "+f:", options, NULL)) != -1) {
        if (opt != 'f' || cli_parse_format(optarg, &json) < 0)
            return cli_fail(g, "ps: --format must be table or json");
    }
    if (optind >= argc)
        return cli_fail(g, "ps: a container id is required");
    return cli_on_container(g, argv[optind], print_processes, &json);
}

/* ---- events -------------------------------------------------------------------------------------- */

static int print_stats(const struct cli_globals *g, ctr_container *c)
{
    char *stats = NULL;
    ctr_error *err = NULL;
    if (ctr_container_stats_json(c, &stats, &err) < 0)
        return cli_fail_error(g, err);
    printf("{\"type\":\"stats\",\"id\":\"%s\",\"data\":%s}\n", ctr_container_id(c), stats);
    fflush(stdout);
    free(stats);
    return 0;
}

/* Seconds from "5s", "500ms", "1m" or a bare number of seconds. */
static int parse_interval(const char *text, int *ms)
{
    char *end;
    double n = strtod(text, &end);
    if (end == text || n <= 0)
        return -1;
    double scale = 1000;
    if (strcmp(end, "ms") == 0)
        scale = 1;
    else if (strcmp(end, "m") == 0)
        scale = 60000;
    else if (*end && strcmp(end, "s") != 0)
        return -1;
    *ms = (int)(n * scale);
    return *ms > 0 ? 0 : -1;
}

/* Streaming, as runc's `events`: a stats event every interval and an oom event each time the OOM
 * killer acts, until the container stops (its pidfd says so). One poll(2), no polling loop. */
static int stream_events(const struct cli_globals *g, ctr_container *c, int interval_ms)
{
    int oom_fd = -1;
    uint64_t ooms = 0;
    ctr_error *err = NULL;
    /* No memory controller (or no cgroup): stats only. */
    if (ctr_container_oom_fd(c, &oom_fd, &err) < 0 || ctr_container_oom_count(c, &ooms, &err) < 0) {
        ctr_error_free(err);
        err = NULL;
        if (oom_fd >= 0)
            close(oom_fd);
        oom_fd = -1;
    }
    int ret = 0;
    for (;;) {
        struct pollfd fds[2] = {{.fd = ctr_container_pidfd(c), .events = POLLIN},
                                {.fd = oom_fd, .events = POLLIN}};
        int n = poll(fds, 2, interval_ms);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 || fds[0].revents)
            break;
        if (n == 0) {
            if ((ret = print_stats(g, c)) != 0)
                break;
            continue;
        }
        char drain[4096];
        while (read(oom_fd, drain, sizeof(drain)) > 0)
            ;
        uint64_t now = ooms;
        if (ctr_container_oom_count(c, &now, &err) < 0) {
            ret = cli_fail_error(g, err);
            break;
        }
        for (; ooms < now; ooms++)
            printf("{\"type\":\"oom\",\"id\":\"%s\"}\n", ctr_container_id(c));
        fflush(stdout);
    }
    if (oom_fd >= 0)
        close(oom_fd);
    return ret;
}

/* Stats once (data NULL, --stats), or then the stream every *data milliseconds. */
static int show_events(const struct cli_globals *g, ctr_container *c, void *data)
{
    const int *interval_ms = data;
    int ret = print_stats(g, c);
    if (ret == 0 && interval_ms)
        ret = stream_events(g, c, *interval_ms);
    return ret;
}

int cmd_events(const struct cli_globals *g, int argc, char **argv)
{
    static const struct option options[] = {
        {"stats", no_argument, NULL, 's'},
        {"interval", required_argument, NULL, 'i'},
        {NULL, 0, NULL, 0},
    };
    bool once = false;
    int interval_ms = 5000, opt;
    while ((opt = getopt_long(argc, argv, "+", options, NULL)) != -1) {
        if (opt == 's')
            once = true;
        else if (opt == 'i' && parse_interval(optarg, &interval_ms) == 0)
            continue;
        else
            return cli_fail(g, "events: bad option (--stats, --interval DURATION)");
    }
    if (optind != argc - 1)
        return cli_fail(g, "events: expected exactly one container id");
    return cli_on_container(g, argv[optind], show_events, once ? NULL : &interval_ms);
}
