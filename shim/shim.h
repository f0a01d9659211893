/* The shim's state: one container (a task) with its init and exec'd processes, the ttrpc server
 * containerd talks to, and the event publisher. Everything runs on one event loop. */
#ifndef SHIM_SHIM_H
#define SHIM_SHIM_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include <libctr/libctr.h>

#include "events.h"
#include "loop.h"
#include "io_pump.h"
#include "ttrpc_conn.h"
#include "wellknown.pb-c.h"

#define SHIM_VERSION "0.1.0"
/* Where libctr records the shim's containers, one directory per namespace (as containerd's runc
 * shim uses /run/containerd/runc/NAMESPACE). */
#define SHIM_STATE_ROOT "/run/containerd/ctr"

enum process_state {
    PROCESS_CREATED, /* init: at the exec barrier; exec: accepted, not yet run */
    PROCESS_RUNNING,
    PROCESS_STOPPED, /* exited and reaped: exit_status and exited_at are set */
};

/* A Wait request answered when the process exits. */
struct waiter {
    struct waiter *next;
    struct server_conn *conn;
    uint32_t stream_id;
};

struct process {
    struct process *next;   /* the task's exec'd processes */
    struct task *task;
    char *exec_id;          /* NULL for the init */
    pid_t pid;
    int pidfd;              /* exec'd processes only; the init's is libctr's */
    enum process_state state;
    uint32_t exit_status;
    struct timespec exited_at;
    char *stdin_path, *stdout_path, *stderr_path;
    bool terminal;
    struct stdio io;
    char *spec_json;        /* exec'd process: its runtime-spec process, until started */
    size_t spec_len;
    struct waiter *waiters;
};

/* OOM kills in the task's cgroup (oom.c). */
struct oom_watch {
    struct loop_source source;  /* libctr's OOM fd, or -1 without a memory controller */
    struct loop_source recheck; /* a notification that found no new kill, looked at again */
    uint64_t kills;             /* kills published so far (the counter when watching began) */
};

struct task {
    char *id;
    char *bundle;
    char *rootfs;           /* BUNDLE/rootfs when the shim mounted it, else NULL */
    ctr_container *container;
    bool shared_pid_ns;     /* no pid namespace of its own: kill the rest when the init exits */
    /* Paused through the shim (Pause, until Resume or the init's exit): State answers from it, as
     * runc's shim does, without asking the cgroup (reading an exiting init's /proc files can
     * block for milliseconds). */
    bool paused;
    struct oom_watch oom;
    struct loop_deferred after_create;
    struct process init;
    struct process *execs;
};

/* The listening socket `start` made and handed to the daemon it forked. The daemon removes the
 * file when it stops listening (Shutdown, SIGTERM), as containerd's shims do: containerd may
 * remove the bundle, and with it the `address` file naming the socket, as soon as Shutdown was
 * answered. The file is removed only while it is still the one `start` bound (device and inode),
 * never a new shim's of the same container. */
struct shim_socket {
    int fd;
    char path[108]; /* sizeof(sun_path) */
    dev_t dev;
    ino_t ino;
};

struct server_conn {
    struct ttrpc_conn conn;
    struct server_conn *next;
    struct shim *shim;
};

struct shim {
    struct loop loop;
    const char *namespace;
    const char *id;
    const char *bundle;
    bool debug;
    ctr_context *ctx;
    struct task *task;       /* NULL until Create, and again after Delete */
    struct publisher events;
    struct shim_socket socket;
    struct loop_source listener, signals, exit_timer, idle_timer;
    struct server_conn *conns;
    bool shutting_down;
};

/* ---- server.c: the listening socket and containerd's connections ---- */
/* Serves shim->socket (taking its fd). */
int server_start(struct shim *shim);
/* Stops listening and removes the socket file (see struct shim_socket). */
void server_stop(struct shim *shim);
/* Sends a reply (see ttrpc_frame_reply) on `conn`, if it is still open. */
void server_reply(struct server_conn *conn, uint32_t stream_id, int code, const char *message,
                  const ProtobufCMessage *payload);

/* ---- task_service.c: containerd.task.v2.Task ---- */
void task_service_dispatch(struct shim *shim, struct server_conn *conn, uint32_t stream_id,
                           const char *method, const uint8_t *payload, size_t len);
/* A connection closed: forget the Wait requests it made. */
void task_service_forget_conn(struct shim *shim, struct server_conn *conn);

/* ---- process.c: processes, their exits and their events ---- */
struct process *task_find_process(struct task *task, const char *exec_id);
/* The task's process running as `pid`: the init until its exit is recorded, an exec once started. */
struct process *task_find_by_pid(struct task *task, pid_t pid);
/* Records the exit of `p` (status as a shell reports it), publishes TaskExit, answers waiters. */
void process_exited(struct shim *shim, struct process *p, int status);
void process_free(struct process *p);
void process_fill_timestamp(const struct process *p, Google__Protobuf__Timestamp *ts);
/* Answers one Wait for a stopped process. */
void process_answer_wait(struct process *p, struct server_conn *conn, uint32_t stream_id);

/* ---- reaper.c: signals (SIGCHLD, and SIGTERM or SIGINT to end the shim) ---- */
int reaper_start(struct shim *shim);
/* Collects every exited child: a known process's exit is recorded, any other is just reaped. */
void reaper_collect(struct shim *shim);

/* ---- oom.c: TaskOOM ---- */
void oom_watch_init(struct shim *shim, struct task *task);
/* Watches the task's cgroup for OOM kills (nothing when it has no memory controller). */
void oom_watch_start(struct shim *shim, struct task *task);
/* Publishes the kills counted since the last look (before a TaskExit). */
void oom_check(struct shim *shim, struct task *task);
void oom_watch_stop(struct shim *shim, struct task *task);

/* ---- serve.c: the daemon's lifecycle ---- */
/* Exits once Shutdown came (or SIGTERM) and the events are out. */
void shim_maybe_exit(struct shim *shim);
/* SIGTERM or SIGINT: exit as containerd's own shims do, leaving the containers running. */
void shim_terminate(struct shim *shim, int signo);
/* The shim did some work: it gives memory back once it has been idle a while (trim.h). */
void shim_worked(struct shim *shim);

#endif
