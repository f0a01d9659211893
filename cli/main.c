/* ctr-run: run OCI bundles with libctr, with runc's command line. */
#include <errno.h>
#include <getopt.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

static const struct cli_command commands[] = {
    {"create", "[--bundle DIR] [--pid-file F] [--console-socket S] ID", "create a container", cmd_create},
    {"start", "ID", "run the process of a created container", cmd_start},
    {"run", "[--bundle DIR] [--detach] [--keep] ID", "create and start a container", cmd_run},
    {"state", "ID", "print the state of a container (JSON)", cmd_state},
    {"kill", "[--all] ID [SIGNAL]", "send a signal to a container (default SIGTERM)", cmd_kill},
    {"delete", "[--force] ID", "delete a container", cmd_delete},
    {"list", "[--format table|json] [--quiet]", "list containers", cmd_list},
    {"exec", "[--process F | OPTIONS] ID [COMMAND...]", "run a process in a container", cmd_exec},
    {"ps", "[--format table|json] ID", "list the processes of a container", cmd_ps},
    {"pause", "ID", "freeze every process of a container", cmd_pause},
    {"resume", "ID", "thaw a paused container", cmd_resume},
    {"update", "[--resources F|-] [--memory N ...] ID", "change a container's resources", cmd_update},
    {"events", "[--stats] [--interval T] ID", "show a container's resource usage and OOM events", cmd_events},
    {"features", "", "print the features this runtime implements (JSON)", cmd_features},
    {"spec", "[--bundle DIR] [--rootless]", "write a default config.json", cmd_spec},
};

static void usage(FILE *out)
{
    fprintf(out, "Usage: ctr-run [GLOBAL OPTIONS] BUNDLE\n"
                 "       ctr-run [GLOBAL OPTIONS] COMMAND [OPTIONS] ARGS\n"
                 "\n"
                 "Runs OCI runtime-spec bundles as containers, with runc's command line.\n"
                 "`ctr-run BUNDLE` runs the bundle's config.json in the foreground with a generated\n"
                 "id and exits with its process's exit status (128+n if signal n killed it).\n"
                 "\nCommands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(out, "  %-9s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nGlobal options:\n"
                 "  --root DIR          state directory (default /run/ctr)\n"
                 "  --log FILE          also write errors and warnings to FILE\n"
                 "  --log-format FMT    text or json (JSON lines, as runc writes them)\n"
                 "  --debug             accepted for compatibility\n"
                 "  --systemd-cgroup    linux.cgroupsPath is systemd's slice:prefix:name\n"
                 "  --cgroup-manager M  cgroupfs (default), systemd, or disabled: no cgroup (device\n"
                 "                      rules then not enforced; other limits refused)\n"
                 "  -h, --help          this help; COMMAND --help shows a command's options\n"
                 "  -v, --version       the version\n");
}

static void version(void)
{
    const struct scmp_version *scmp = seccomp_version();
    printf("ctr-run version %s\nlibctr: %s\nspec: %s\nlibseccomp: %u.%u.%u\n", CTR_VERSION,
           ctr_version(), ctr_oci_spec_version(), scmp->major, scmp->minor, scmp->micro);
}

static const struct cli_command *find_command(const char *name)
{
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

/* `ctr-run BUNDLE`: a fresh id for each run, so runs never collide. */
static int run_generated(const struct cli_globals *g, const char *bundle)
{
    unsigned char bytes[6];
    if (getrandom(bytes, sizeof(bytes), 0) != sizeof(bytes))
        return cli_fail(g, "generate a container id: %s", strerror(errno));
    char id[32];
    snprintf(id, sizeof(id), "ctr-%02x%02x%02x%02x%02x%02x", bytes[0], bytes[1], bytes[2], bytes[3],
             bytes[4], bytes[5]);
    return cli_run_bundle(g, id, bundle);
}

int main(int argc, char **argv)
{
    struct cli_globals g = {.root = "/run/ctr"};
    enum { OPT_ROOT = 256, OPT_LOG, OPT_LOG_FORMAT, OPT_DEBUG, OPT_SYSTEMD_CGROUP,
           OPT_CGROUP_MANAGER, OPT_IGNORED };
    static const struct option options[] = {
        {"root", required_argument, NULL, OPT_ROOT},
        {"log", required_argument, NULL, OPT_LOG},
        {"log-format", required_argument, NULL, OPT_LOG_FORMAT},
        {"debug", no_argument, NULL, OPT_DEBUG},
        {"systemd-cgroup", no_argument, NULL, OPT_SYSTEMD_CGROUP},
        {"cgroup-manager", required_argument, NULL, OPT_CGROUP_MANAGER},
        /* runc's flags for features we do not have; accepted as runc accepts them unused. */
        {"criu", required_argument, NULL, OPT_IGNORED},
        {"rootless", required_argument, NULL, OPT_IGNORED},
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
        case OPT_CGROUP_MANAGER: /* crun's spelling of the same choice */
            if (strcmp(optarg, "cgroupfs") == 0)
                g.systemd_cgroup = g.no_cgroup = false;
            else if (strcmp(optarg, "systemd") == 0)
                g.systemd_cgroup = true;
            else if (strcmp(optarg, "disabled") == 0)
                g.no_cgroup = true;
            else
                return cli_fail(&g, "--cgroup-manager: `%s` is none of cgroupfs, systemd, disabled",
                                optarg);
            break;
        case OPT_IGNORED: break;
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
        for (int i = optind + 1; i < argc && argv[i][0] == '-'; i++) {
            if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
                printf("Usage: ctr-run %s %s\n%s\n", cmd->name, cmd->usage, cmd->summary);
                return 0;
            }
            if (strcmp(argv[i], "--") == 0)
                break;
        }
        /* The subcommand sees argv starting at its own name, with getopt reset. */
        int sub_argc = argc - optind;
        char **sub_argv = argv + optind;
        optind = 0;
        return cmd->run(&g, sub_argc, sub_argv);
    }
    struct stat st;
    if (optind == argc - 1 && stat(name, &st) == 0 && S_ISDIR(st.st_mode))
        return run_generated(&g, name);
    return cli_fail(&g, "`%s` is neither a command nor a bundle directory (see --help)", name);
}
