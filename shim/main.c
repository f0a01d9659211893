/* containerd-shim-ctr-v2: containerd's runtime v2 shim for libctr. See options.h for how it is
 * called, shim.h for what the daemon holds. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libctr/libctr.h>

#include "options.h"
#include "shim.h"

int options_parse(int argc, char **argv, struct shim_options *opts)
{
    static const struct {
        const char *name;
        size_t offset;
    } strings[] = {
        {"namespace", offsetof(struct shim_options, namespace)},
        {"id", offsetof(struct shim_options, id)},
        {"address", offsetof(struct shim_options, address)},
        {"publish-binary", offsetof(struct shim_options, publish_binary)},
        {"bundle", offsetof(struct shim_options, bundle)},
        {"socket", offsetof(struct shim_options, socket)},
    };
    int i = 1;
    for (; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++) {
        const char *arg = argv[i] + 1 + (argv[i][1] == '-');
        if (*arg == '\0') { /* "--" ends the flags */
            i++;
            break;
        }
        size_t name_len = strcspn(arg, "=");
        const char *value = arg[name_len] == '=' ? arg + name_len + 1 : NULL;
        if (strncmp(arg, "debug", name_len) == 0 && name_len == 5) {
            opts->debug = value == NULL || strcmp(value, "true") == 0;
            continue;
        }
        if (strncmp(arg, "v", name_len) == 0 && name_len == 1) {
            opts->version = true;
            continue;
        }
        size_t k = 0;
        while (k < sizeof(strings) / sizeof(strings[0]) &&
               !(strlen(strings[k].name) == name_len && strncmp(arg, strings[k].name, name_len) == 0))
            k++;
        if (k == sizeof(strings) / sizeof(strings[0])) {
            fprintf(stderr, "flag provided but not defined: -%.*s\n", (int)name_len, arg);
            return -1;
        }
        if (value == NULL) {
            if (i + 1 >= argc) {
                fprintf(stderr, "flag needs an argument: -%.*s\n", (int)name_len, arg);
                return -1;
            }
            value = argv[++i];
        }
        *(const char **)((char *)opts + strings[k].offset) = value;
    }
    opts->action = i < argc ? argv[i] : NULL;
    opts->ttrpc_address = getenv("TTRPC_ADDRESS");
    /* containerd 2.x also passes the namespace in the environment. */
    if (opts->namespace == NULL)
        opts->namespace = getenv("NAMESPACE");
    return 0;
}

/* The daemon is `start` forked (actions.c): its command line (/proc/PID/cmdline, ps) shows the
 * flags without the word `start`, as containerd's own shims show theirs. The arguments are the
 * process's memory, which the kernel reads back. */
static void hide_action(char *action)
{
    memset(action, '\0', strlen(action));
}

int main(int argc, char **argv)
{
    struct shim_options opts = {0};
    if (options_parse(argc, argv, &opts) < 0)
        return 2;
    if (opts.version) {
        printf("%s:\n  Version:  %s\n  Revision: libctr %s\n  OCI spec: %s\n\n", argv[0],
               SHIM_VERSION, ctr_version(), ctr_oci_spec_version());
        return 0;
    }
    if (opts.namespace == NULL || *opts.namespace == '\0') {
        fprintf(stderr, "%s: shim namespace cannot be empty\n", argv[0]);
        return 1;
    }
    if (opts.id == NULL || *opts.id == '\0') {
        fprintf(stderr, "%s: shim id cannot be empty\n", argv[0]);
        return 1;
    }
    if (opts.action && strcmp(opts.action, "start") == 0) {
        struct shim_socket daemon_socket = {.fd = -1};
        if (action_start(&opts, &daemon_socket) < 0)
            return 1;
        if (daemon_socket.fd < 0)
            return 0;
        hide_action((char *)opts.action);
        return serve(&opts, &daemon_socket) < 0 ? 1 : 0;
    }
    if (opts.action && strcmp(opts.action, "delete") == 0)
        return action_delete(&opts) < 0 ? 1 : 0;
    fprintf(stderr, "%s: %s `%s`\n", argv[0], opts.action ? "unknown action" : "no action",
            opts.action ? opts.action : "(start or delete)");
    return 1;
}
