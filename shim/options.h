/* The shim's command line, as containerd 1.6 to 2.x call it (Go `flag` syntax: -name value,
 * -name=value, --name; booleans take no value):
 *
 *   containerd-shim-ctr-v2 -namespace NS -address CONTAINERD_SOCK -publish-binary BIN
 *                          -id ID [-debug] [-bundle DIR] start|delete
 *   containerd-shim-ctr-v2 -v
 *
 * with TTRPC_ADDRESS (containerd's ttrpc socket, where events go) in the environment. Without an
 * action it is the daemon that `start` launched, serving the socket it inherits as fd 3. */
#ifndef SHIM_OPTIONS_H
#define SHIM_OPTIONS_H

#include <stdbool.h>

struct shim_options {
    const char *namespace;
    const char *id;
    const char *address;        /* containerd's grpc socket (names the shim's socket) */
    const char *publish_binary; /* unused: events go over ttrpc */
    const char *bundle;         /* default: the working directory */
    const char *socket;
    const char *action;         /* "start", "delete" or NULL */
    const char *ttrpc_address;  /* $TTRPC_ADDRESS */
    bool debug;
    bool version;
};

/* -1 with a message on stderr for an unknown flag or a missing value. */
int options_parse(int argc, char **argv, struct shim_options *opts);

/* actions.c */
int action_start(const struct shim_options *opts, const char *self);
int action_delete(const struct shim_options *opts);
/* The libctr state root of a namespace, SHIM_STATE_ROOT/NAMESPACE (malloc'd). */
char *shim_state_root(const char *namespace);
/* Removes the shim's socket named in BUNDLE/address unless a shim still answers on it. */
void remove_socket_of(const char *bundle);

/* serve.c */
int serve(const struct shim_options *opts);

#endif
