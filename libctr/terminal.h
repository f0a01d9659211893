/* process.terminal: a pty from the container's own devpts, its master handed to whoever relays it
 * (over a console socket, or back to the caller), its slave the process's stdio and controlling
 * terminal. */
#ifndef LIBCTR_TERMINAL_H
#define LIBCTR_TERMINAL_H

#include "error.h"
#include "spec.h"

/* Opens a new pty master from `ptmx`, an fd (O_PATH is fine) of the container's /dev/pts/ptmx,
 * after checking it is the ptmx of a devpts instance and not something the image put there;
 * `procfd` is the runtime's verified procfs (procfs.h), through which it is reopened. */
int terminal_open_master(int procfd, int ptmx, int *master, ctr_error **err);

/* Unlocks the master and opens its slave with TIOCGPTPEER, never through a path the container
 * could swap (CVE-2025-52565 class). */
int terminal_open_slave(int master, int *slave, ctr_error **err);

/* process.consoleSize, if set. */
int terminal_set_size(int fd, const struct spec_process *process, ctr_error **err);

/* Makes `slave` the controlling terminal of a new session and stdin/stdout/stderr. */
int terminal_become_controlling(int slave, ctr_error **err);

/* Connects to the console socket at `path` (the caller's, e.g. conmon's). */
int terminal_connect(const char *path, int *fd, ctr_error **err);

/* Sends the pty master to a console socket with SCM_RIGHTS, as runc does (one byte of data). */
int terminal_send_fd(int sock, int fd, ctr_error **err);

#endif
