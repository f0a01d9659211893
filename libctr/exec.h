/* The final execve of the container's program, through the exec trampoline (exec_trampoline.c)
 * run from a sealed memfd: CVE-2019-5736, /proc/self/exe must never be the host's runtime binary
 * when the container's program is exec'd. */
#ifndef LIBCTR_EXEC_H
#define LIBCTR_EXEC_H

#include "error.h"

/* A sealed, executable memfd holding the trampoline. Made before seccomp and the privilege drop,
 * which could forbid memfd_create. */
int exec_trampoline_create(int *memfd, ctr_error **err);

/* Execs `path` (argv, envp) through the trampoline; `sync_fd` stays open across the trampoline's
 * own exec so a failure of the final exec still reaches the runtime. `filter_fd` (or -1) holds a
 * seccomp BPF program the trampoline loads with `filter_flags` right before the final execve.
 * Returns only on failure, with errno set, having closed nothing the caller needs. */
void exec_through_trampoline(int memfd, int sync_fd, int filter_fd, unsigned filter_flags,
                             const char *path, char *const argv[], char *const envp[]);

#endif
