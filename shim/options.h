/* The shim's command line, as containerd 1.6 to 2.x call it (Go `flag` syntax: -name value,
 * -name=value, --name; booleans take no value):
 *
 *   containerd-shim-ctr-v2 -namespace NS -address CONTAINERD_SOCK -publish-binary BIN
 *                          -id ID [-debug] [-bundle DIR] start|delete
 *   containerd-shim-ctr-v2 -v
 *
 * with TTRPC_ADDRESS (containerd's ttrpc socket, where events go) in the environment. `start`
 * forks the daemon, which serves the socket `start` made. */
#ifndef SHIM_OPTIONS_H
#define SHIM_OPTIONS_H

#include <stdbool.h>

#include "shim.h"

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
/* -1 on failure (said on stderr); 0 in `start`, which then prints nothing more and exits; 0 with
 * daemon_socket->fd set (the listening socket) in the daemon it forked, which goes on to
 * serve(). */
int action_start(const struct shim_options *opts, struct shim_socket *daemon_socket);
int action_delete(const struct shim_options *opts);
/* The libctr state root of a namespace, SHIM_STATE_ROOT/NAMESPACE (malloc'd). */
char *shim_state_root(const char *namespace);
/* Removes the shim's socket named in BUNDLE/address unless a shim still answers on it. */
void remove_socket_of(const char *bundle);

/* serve.c: the daemon, until Shutdown or SIGTERM; takes the socket's fd. */
int serve(const struct shim_options *opts, const struct shim_socket *socket);

#endif
