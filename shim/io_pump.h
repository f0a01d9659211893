/* A process's stdio as containerd hands it over: paths of FIFOs it created (or "file://" paths,
 * or nothing), copied to and from the process by the event loop so the process keeps its
 * stdio while containerd and its clients come and go.
 *
 *   stdin FIFO  --pump-->  pipe (or pty master)  -->  process
 *   process  -->  pipe (or pty master)  --pump-->  stdout / stderr FIFO
 *
 * Pumps move bytes with splice(2), pipe to pipe without copying them through the shim, and fall
 * back to read/write where splice cannot (EINVAL). When the destination is full the pump stops
 * reading its source until the destination drains, so a stalled reader stalls the process, as
 * with containerd's own shim, and the shim buffers nothing. */
#ifndef SHIM_IO_PUMP_H
#define SHIM_IO_PUMP_H

#include <stdbool.h>
#include <stddef.h>

#include "loop.h"

struct pump {
    struct loop_source src, dst; /* dst is watched only while it is full */
    struct loop *loop;
    char *buf;                   /* read/write fallback only */
    size_t buf_len, buf_off;
    bool use_rw;
    bool close_dst;              /* at the end: close dst (the process's stdin, a FIFO) */
    bool active;
};

struct stdio {
    struct pump in, out, err;
    /* The ends the process gets as its fds 0-2 (-1: the shim's own /dev/null); closed once the
     * process has them. */
    int process_fds[3];
};

/* Opens the FIFOs (or files) and makes the pipes. With `terminal`, only stdin and stdout are
 * used and the pumps are connected later by stdio_attach_console. Messages name the path. */
int stdio_open(struct stdio *io, struct loop *loop, const char *in, const char *out,
               const char *err, bool terminal, char *errbuf, size_t errlen);
/* Closes the process's ends in the shim: the process has its own copies now. */
void stdio_process_started(struct stdio *io);
/* Terminal: stdin FIFO -> console and console -> stdout FIFO. Takes `console` (a pty master). */
int stdio_attach_console(struct stdio *io, int console);
/* CloseIO: no more stdin for the process (it sees end of file). */
void stdio_close_stdin(struct stdio *io);
/* Moves what the process already wrote, without waiting, then closes everything. */
void stdio_close(struct stdio *io);
/* The console's fd for ResizePty, or -1. */
int stdio_console(const struct stdio *io);

#endif
