/* The task's lifecycle behind the Task service: Create, Start, Exec and Delete. Each returns a
 * ttrpc code (TTRPC_OK or the error's) and, on error, a message naming the object in `errbuf`. */
#ifndef SHIM_TASK_CREATE_H
#define SHIM_TASK_CREATE_H

#include <stddef.h>

#include <libctr/libctr.h>

#include "shim.h"
#include "task.pb-c.h"

/* libctr's errno -> the gRPC code containerd maps back to its own errors (errdefs): EBUSY
 * FailedPrecondition, ENOENT and ESRCH NotFound (a process already gone, as runc's shim says),
 * EEXIST AlreadyExists, EINVAL InvalidArgument, EOPNOTSUPP Unimplemented, the rest Unknown. */
int task_error_code(const ctr_error *err);

int task_create(struct shim *shim, const Containerd__Task__V2__CreateTaskRequest *req, int *pid,
                char *errbuf, size_t errlen);
int task_start_init(struct shim *shim, struct task *task, char *errbuf, size_t errlen);
int task_add_exec(struct shim *shim, struct task *task,
                  const Containerd__Task__V2__ExecProcessRequest *req, char *errbuf, size_t errlen);
int task_start_exec(struct shim *shim, struct process *p, char *errbuf, size_t errlen);
/* Frees the task (its processes' stdio, its OOM watch, its pending work); not the container. */
void task_free(struct shim *shim, struct task *task);
/* Deletes an exec'd process, or the init and with it the container (TaskDelete). */
int task_delete_process(struct shim *shim, struct process *p, uint32_t *pid, uint32_t *exit_status,
                        Google__Protobuf__Timestamp *exited_at, char *errbuf, size_t errlen);

#endif
