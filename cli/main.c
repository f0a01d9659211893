/* ctr-run: run OCI bundles with libctr, with runc's command line. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

static const struct cli_command commands[] = {
    {"run", "create and run a container in the foreground", cmd_run},
};

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: ctr-run [GLOBAL OPTIONS] BUNDLE\n"
            "       ctr-run [GLOBAL OPTIONS] COMMAND [OPTIONS] [ARGS]\n"
            "\n"
            "Runs OCI runtime-spec bundles as containers.\n"
            "`ctr-run BUNDLE` runs the bundle's config.json in the foreground with a generated id\n"
            "and exits with its process's exit status (128+n if signal n killed it).\n"
            "\nCommands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nGlobal options:\n"
                 "  --root DIR          state directory (default /run/ctr)\n"
                 "  --log FILE          also write errors to FILE\n"
                 "  --log-format FMT    text or json\n"
                 "  --debug             verbose logging\n"
                 "  --systemd-cgroup    use the systemd cgroup driver\n"
                 "  -h, --help          this help\n"
                 "  -v, --version       the version\n");
}

static void version(void)
{
    printf("ctr-run version %s\nlibctr: %s\nspec: %s\n", CTR_VERSION, ctr_version(),
           ctr_oci_spec_version());
}

static void log_line(const struct cli_globals *g, const char *msg)
{
    fprintf(stderr, "ctr-run: %s\n", msg);
    if (g == NULL || g->log_path == NULL)
        return;
    FILE *f = fopen(g->log_path, "ae");
    if (f == NULL)
        return;
    if (g->log_json) {
        char stamp[64];
        time_t now = time(NULL);
        struct tm tm;
        strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
        fputs("{\"level\":\"error\",\"msg\":\"", f);
        for (const char *p = msg; *p; p++) {
            if (*p == '"' || *p == '\\')
                fprintf(f, "\\%c", *p);
            else if ((unsigned char)*p < 0x20)
                fprintf(f, "\\u%04x", *p);
            else
                fputc(*p, f);
        }
        fprintf(f, "\",\"time\":\"%s\"}\n", stamp);
    } else {
        fprintf(f, "%s\n", msg);
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
    log_line(g, msg ? msg : fmt);
    free(msg);
    return 1;
}

int cli_fail_error(const struct cli_globals *g, ctr_error *err)
{
    log_line(g, ctr_error_message(err));
    ctr_error_free(err);
    return 1;
}

static const struct cli_command *find_command(const char *name)
{
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

/* `ctr-run BUNDLE`: a fresh id for each run, so runs never collide. */
static int run_bundle(const struct cli_globals *g, const char *bundle)
{
    unsigned char bytes[6];
    if (getrandom(bytes, sizeof(bytes), 0) != sizeof(bytes))
        return cli_fail(g, "generate a container id: %s", strerror(errno));
    char id[32];
    snprintf(id, sizeof(id), "ctr-%02x%02x%02x%02x%02x%02x", bytes[0], bytes[1], bytes[2], bytes[3],
             bytes[4], bytes[5]);
    return cli_run_foreground(g, id, bundle);
}

int main(int argc, char **argv)
{
    struct cli_globals g = {.root = "/run/ctr"};
    enum { OPT_ROOT = 256, OPT_LOG, OPT_LOG_FORMAT, OPT_DEBUG, OPT_SYSTEMD_CGROUP };
    static const struct option options[] = {
        {"root", required_argument, NULL, OPT_ROOT},
        {"log", required_argument, NULL, OPT_LOG},
        {"log-format", required_argument, NULL, OPT_LOG_FORMAT},
        {"debug", no_argument, NULL, OPT_DEBUG},
        {"systemd-cgroup", no_argument, NULL, OPT_SYSTEMD_CGROUP},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'v'},
        {NULL, 0, NULL, 0},
    };
    int opt;
    /* '+': stop at the subcommand; its own options are parsed by it. */
    while ((opt = getopt_long(argc, argv, "+hv", options, NULL)) != -1) {
        switch (opt) {
        case OPT_ROOT: g.root = optarg; break;
        case OPT_LOG: g.log_path = optarg; break;
        case OPT_LOG_FORMAT:
            if (strcmp(optarg, "json") != 0 && strcmp(optarg, "text") != 0)
                return cli_fail(&g, "--log-format: `%s` is neither text nor json", optarg);
            g.log_json = strcmp(optarg, "json") == 0;
            break;
        case OPT_DEBUG: g.debug = true; break;
        case OPT_SYSTEMD_CGROUP: g.systemd_cgroup = true; break;
        case 'h': usage(stdout); return 0;
        case 'v': version(); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return 2;
    }
    const char *name = argv[optind];
    const struct cli_command *cmd = find_command(name);
    if (cmd) {
        /* The subcommand sees argv starting at its own name, with getopt reset. */
        int sub_argc = argc - optind;
        char **sub_argv = argv + optind;
        optind = 0;
        return cmd->run(&g, sub_argc, sub_argv);
    }
    struct stat st;
    if (optind == argc - 1 && stat(name, &st) == 0 && S_ISDIR(st.st_mode))
        return run_bundle(&g, name);
    return cli_fail(&g, "`%s` is neither a command nor a bundle directory (see --help)", name);
}
