/* stdio pumps between containerd's FIFOs and a process; see stdio.h. */
#include "io_pump.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#define SPLICE_CHUNK (64 * 1024)
#define RW_BUFFER 8192
/* Moves per wake-up, so one chatty process cannot starve the rest of the loop. */
#define MOVES_PER_EVENT 16

static void pump_reset(struct pump *p, struct loop *loop)
{
    *p = (struct pump){.loop = loop, .src = {.fd = -1}, .dst = {.fd = -1}};
}

/* Also closes the fds of a pump that was never started: a terminal process's FIFOs before its
 * console exists, a console kept only for ResizePty. */
static void pump_stop(struct pump *p)
{
    loop_unwatch(p->loop, &p->src);
    loop_unwatch(p->loop, &p->dst);
    if (p->src.fd >= 0)
        close(p->src.fd);
    if (p->dst.fd >= 0)
        close(p->dst.fd);
    free(p->buf);
    pump_reset(p, p->loop);
}

/* One read or write of the fallback path: > 0 progress, 0 end of file, -1 with errno. */
static ssize_t rw_step(struct pump *p)
{
    if (p->buf == NULL && (p->buf = malloc(RW_BUFFER)) == NULL)
        return -1;
    if (p->buf_off < p->buf_len) {
        ssize_t n = write(p->dst.fd, p->buf + p->buf_off, p->buf_len - p->buf_off);
        if (n > 0)
            p->buf_off += (size_t)n;
        return n;
    }
    ssize_t n = read(p->src.fd, p->buf, RW_BUFFER);
    p->buf_off = 0;
    p->buf_len = n > 0 ? (size_t)n : 0;
    return n;
}

static void on_dst_writable(struct loop *loop, struct loop_source *source, uint32_t events);

/* The destination is full: stop reading the source (not only disarm it: a hung-up FIFO reports
 * EPOLLHUP whatever the mask) until the destination has room. */
static void wait_for_dst(struct pump *p)
{
    loop_unwatch(p->loop, &p->src);
    p->dst.fn = on_dst_writable;
    p->dst.data = p;
    if (loop_watch(p->loop, &p->dst, EPOLLOUT) < 0)
        pump_stop(p);
}

static void pump_move(struct pump *p, int moves)
{
    for (int i = 0; i < moves && p->active; i++) {
        ssize_t n = p->use_rw ? rw_step(p)
                              : splice(p->src.fd, NULL, p->dst.fd, NULL, SPLICE_CHUNK,
                                       SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
        if (n > 0)
            continue;
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EINVAL && !p->use_rw) {
            p->use_rw = true; /* not a pipe-splicing pair on this kernel (e.g. an old tty) */
            continue;
        }
        if (n < 0 && errno == EAGAIN) {
            /* splice cannot say which side would block: ask the destination. */
            struct pollfd pfd = {.fd = p->dst.fd, .events = POLLOUT};
            bool pending = p->use_rw && p->buf_off < p->buf_len;
            if (pending || poll(&pfd, 1, 0) == 0)
                wait_for_dst(p);
            return;
        }
        /* End of file, the reader gone (EPIPE), or a pty whose other side closed (EIO). */
        pump_stop(p);
        return;
    }
}

static void on_src_readable(struct loop *loop, struct loop_source *source, uint32_t events)
{
    (void)loop;
    (void)events;
    pump_move(source->data, MOVES_PER_EVENT);
}

static void on_dst_writable(struct loop *loop, struct loop_source *source, uint32_t events)
{
    struct pump *p = source->data;
    (void)events;
    loop_unwatch(loop, &p->dst);
    if (loop_watch(loop, &p->src, EPOLLIN) < 0) {
        pump_stop(p);
        return;
    }
    pump_move(p, MOVES_PER_EVENT);
}

static int set_nonblock(int fd)
{
    int flags = fcntl(fd, F_GETFL);
    return flags < 0 ? -1 : fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

/* Takes src and dst and starts moving. */
static int pump_start(struct pump *p, int src, int dst)
{
    p->src = (struct loop_source){.fd = src, .fn = on_src_readable, .data = p};
    p->dst = (struct loop_source){.fd = dst, .data = p};
    p->active = true;
    if (set_nonblock(src) < 0 || set_nonblock(dst) < 0 || loop_watch(p->loop, &p->src, EPOLLIN) < 0) {
        pump_stop(p);
        return -1;
    }
    return 0;
}

/* "file:///path": the process writes there itself (containerd's file logging URI). */
static const char *file_uri(const char *path)
{
    return strncmp(path, "file://", 7) == 0 ? path + 7 : NULL;
}

static int open_output(const char *path, int *fd, char *errbuf, size_t errlen)
{
    const char *file = file_uri(path);
    if (strncmp(path, "binary://", 9) == 0) {
        snprintf(errbuf, errlen, "stdio `%s`: logging binaries are not supported", path);
        errno = EOPNOTSUPP;
        return -1;
    }
    /* A FIFO read and written: holding its read side too means the process never gets EPIPE
     * while no client is attached; the FIFO fills and the process waits instead. */
    *fd = file ? open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640)
               : open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (*fd < 0) {
        snprintf(errbuf, errlen, "open stdio `%s`: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* An output of a process without a terminal: a pipe pumped into the FIFO, or the file itself. */
static int setup_output(struct stdio *io, struct pump *p, int index, const char *path, char *errbuf,
                        size_t errlen)
{
    int fd, pipefd[2];
    if (open_output(path, &fd, errbuf, errlen) < 0)
        return -1;
    if (file_uri(path)) {
        io->process_fds[index] = fd;
        return 0;
    }
    if (pipe2(pipefd, O_CLOEXEC) < 0) {
        snprintf(errbuf, errlen, "pipe for `%s`: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    io->process_fds[index] = pipefd[1];
    if (pump_start(p, pipefd[0], fd) < 0) {
        snprintf(errbuf, errlen, "copy to `%s`: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

static int open_stdin(const char *path, int *fd, char *errbuf, size_t errlen)
{
    /* Non-blocking: the client may open its end later; until it writes, nothing happens. */
    *fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (*fd < 0) {
        snprintf(errbuf, errlen, "open stdin `%s`: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

int stdio_open(struct stdio *io, struct loop *loop, const char *in, const char *out,
               const char *err, bool terminal, char *errbuf, size_t errlen)
{
    pump_reset(&io->in, loop);
    pump_reset(&io->out, loop);
    pump_reset(&io->err, loop);
    io->process_fds[0] = io->process_fds[1] = io->process_fds[2] = -1;
    if (terminal) {
        /* Kept in the pumps' slots until the console exists. */
        if (in && *in && open_stdin(in, &io->in.src.fd, errbuf, errlen) < 0)
            goto fail;
        if (out && *out && open_output(out, &io->out.dst.fd, errbuf, errlen) < 0)
            goto fail;
        return 0;
    }
    if (in && *in) {
        int fd, pipefd[2];
        if (open_stdin(in, &fd, errbuf, errlen) < 0)
            goto fail;
        if (pipe2(pipefd, O_CLOEXEC) < 0) {
            snprintf(errbuf, errlen, "pipe for `%s`: %s", in, strerror(errno));
            close(fd);
            goto fail;
        }
        io->process_fds[0] = pipefd[0];
        if (pump_start(&io->in, fd, pipefd[1]) < 0) {
            snprintf(errbuf, errlen, "copy from `%s`: %s", in, strerror(errno));
            goto fail;
        }
    }
    if (out && *out && setup_output(io, &io->out, 1, out, errbuf, errlen) < 0)
        goto fail;
    if (err && *err && setup_output(io, &io->err, 2, err, errbuf, errlen) < 0)
        goto fail;
    return 0;
fail:;
    int saved = errno;
    stdio_process_started(io);
    stdio_close(io);
    errno = saved;
    return -1;
}

void stdio_process_started(struct stdio *io)
{
    for (int i = 0; i < 3; i++) {
        if (io->process_fds[i] >= 0)
            close(io->process_fds[i]);
        io->process_fds[i] = -1;
    }
}

int stdio_attach_console(struct stdio *io, int console)
{
    int in_fifo = io->in.src.fd, out_fifo = io->out.dst.fd;
    pump_reset(&io->in, io->in.loop);
    pump_reset(&io->out, io->out.loop);
    int ret = 0;
    /* The console is the source of one pump and the destination of the other; epoll watches
     * an fd once, so the stdin pump writes through a duplicate. */
    if (in_fifo >= 0) {
        int dup_fd = fcntl(console, F_DUPFD_CLOEXEC, 3);
        if (dup_fd < 0)
            close(in_fifo);
        if (dup_fd < 0 || pump_start(&io->in, in_fifo, dup_fd) < 0)
            ret = -1;
    }
    if (out_fifo >= 0) {
        if (pump_start(&io->out, console, out_fifo) < 0)
            ret = -1;
    } else {
        /* Nobody reads the console: keep it only for ResizePty. */
        io->out.src.fd = console;
    }
    return ret;
}

int stdio_console(const struct stdio *io)
{
    return io->out.src.fd;
}

void stdio_close_stdin(struct stdio *io)
{
    pump_stop(&io->in);
}

static void drain_and_stop(struct pump *p)
{
    if (p->active)
        pump_move(p, 64);
    pump_stop(p);
}

void stdio_close(struct stdio *io)
{
    stdio_close_stdin(io);
    drain_and_stop(&io->out);
    drain_and_stop(&io->err);
    stdio_process_started(io);
}
