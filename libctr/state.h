/* The state directory: <state_root>/<id>/ holds state.json (written atomically, with the
 * container's config as it was created) and the init's socket for `start`. An flock on the directory
 * serialises the commands acting on one container; mkdir makes ids unique. */
#ifndef LIBCTR_STATE_H
#define LIBCTR_STATE_H

#include <stdbool.h>
#include <sys/types.h>

#include <jansson.h>

#include "error.h"

/* Opens (creating it 0700 when missing) the state root directory. */
int state_root_open(const char *root, int *fd, ctr_error **err);

/* Creates <root>/<id> exclusively and locks it: "container `id` already exists" otherwise. */
int state_dir_create(int rootfd, const char *id, int *dirfd, ctr_error **err);

/* Opens and locks (shared or exclusive) an existing container's directory:
 * "container `id` does not exist" otherwise. */
int state_dir_open(int rootfd, const char *id, bool exclusive, int *dirfd, ctr_error **err);

/* Changes the lock held on an open state directory. */
int state_dir_lock(int dirfd, const char *id, bool exclusive, ctr_error **err);

/* Removes the directory of `id` and everything in it (it holds only our own files). */
int state_dir_remove(int rootfd, const char *id, ctr_error **err);

/* state.json: written to a temporary file and renamed, so a reader never sees half of it. */
int state_write(int dirfd, const char *id, json_t *state, ctr_error **err);
int state_read(int dirfd, const char *id, json_t **state, ctr_error **err);

/* The ids in the root, sorted, NULL-terminated. */
int state_list(int rootfd, char ***ids, size_t *count, ctr_error **err);

/* The start time of a process in clock ticks since boot (/proc/PID/stat field 22): a pid plus its
 * start time names one process, even after the pid is reused. 0 when it does not exist or is a
 * zombie (it has exited: only its parent has yet to reap it). */
unsigned long long process_start_time(pid_t pid);

#endif
