#include "sync.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

const char *sync_type_name(uint32_t type)
{
    switch ((enum sync_type)type) {
    case SYNC_PARENT_READY: return "parent-ready";
    case SYNC_CGROUP_JOINED: return "cgroup-joined";
    case SYNC_USERNS_CREATED: return "userns-created";
    case SYNC_USERNS_MAPPED: return "userns-mapped";
    case SYNC_INIT_PID: return "init-pid";
    case SYNC_CONSOLE: return "console";
    case SYNC_CREATE_HOOKS: return "create-hooks";
    case SYNC_HOOKS_DONE: return "hooks-done";
    case SYNC_INIT_CREATED: return "init-created";
    case SYNC_PARENT_START: return "parent-start";
    case SYNC_PARENT_DETACH: return "parent-detach";
    case SYNC_INIT_ERROR: return "init-error";
    case SYNC_NET_DEVICES: return "net-devices";
    case SYNC_NET_DEVICES_MOVED: return "net-devices-moved";
    case SYNC_IDMAP_MOUNTS: return "idmap-mounts";
    case SYNC_IDMAP_TREE: return "idmap-tree";
    case SYNC_IDMAP_DONE: return "idmap-done";
    case SYNC_SECCOMP_LISTENER: return "seccomp-listener";
    }
    return "unknown";
}

/* One packet: the message, and `count` fds as SCM_RIGHTS when count > 0. */
static int send_msg(int fd, const struct sync_msg *msg, size_t text_len, const int *fds,
                    size_t count)
{
    struct iovec iov = {.iov_base = (void *)msg,
                        .iov_len = offsetof(struct sync_msg, text) + text_len};
    union {
        char buf[CMSG_SPACE(sizeof(int) * SYNC_FDS_MAX)];
        struct cmsghdr align;
    } control;
    memset(&control, 0, sizeof(control));
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
    if (count > SYNC_FDS_MAX) {
        errno = EINVAL;
        return -1;
    }
    if (count) {
        mh.msg_control = control.buf;
        mh.msg_controllen = CMSG_SPACE(sizeof(int) * count);
        struct cmsghdr *cmsg = CMSG_FIRSTHDR(&mh);
        cmsg->cmsg_level = SOL_SOCKET;
        cmsg->cmsg_type = SCM_RIGHTS;
        cmsg->cmsg_len = CMSG_LEN(sizeof(int) * count);
        memcpy(CMSG_DATA(cmsg), fds, sizeof(int) * count);
    }
    ssize_t n;
    do
        n = sendmsg(fd, &mh, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    return n < 0 ? -1 : 0;
}

int sync_send(int fd, enum sync_type type, int64_t value, ctr_error **err)
{
    struct sync_msg msg = {.type = type, .value = value};
    if (send_msg(fd, &msg, 0, NULL, 0) < 0)
        return error_set(err, errno, "send `%s` to the container init", sync_type_name(type));
    return 0;
}

int sync_send_fds(int fd, enum sync_type type, int64_t value, const int *fds, size_t count,
                  ctr_error **err)
{
    struct sync_msg msg = {.type = type, .value = value};
    if (send_msg(fd, &msg, 0, fds, count) < 0)
        return error_set(err, errno, "send `%s`", sync_type_name(type));
    return 0;
}

void sync_send_error(int fd, const ctr_error *error)
{
    struct sync_msg msg = {.type = SYNC_INIT_ERROR, .code = ctr_error_code(error)};
    const char *text = ctr_error_message(error);
    size_t len = strnlen(text, SYNC_TEXT_MAX - 1);
    memcpy(msg.text, text, len);
    msg.text[len] = '\0';
    send_msg(fd, &msg, len + 1, NULL, 0);
}

static void close_fds(int *fds, size_t *count)
{
    for (size_t i = 0; i < *count; i++)
        close(fds[i]);
    *count = 0;
}

int sync_receive(int fd, struct sync_msg *msg, ctr_error **err)
{
    size_t none = 0;
    return sync_receive_fds(fd, msg, NULL, 0, &none, err);
}

int sync_receive_fds(int fd, struct sync_msg *msg, int *fds, size_t max, size_t *count,
                     ctr_error **err)
{
    struct iovec iov = {.iov_base = msg, .iov_len = sizeof(*msg)};
    union {
        char buf[CMSG_SPACE(sizeof(int) * SYNC_FDS_MAX)];
        struct cmsghdr align;
    } control;
    /* Room for SYNC_FDS_MAX even when the caller wants fewer: what arrives is counted, and any
     * fd beyond `max` is closed here rather than left to the kernel's truncation. */
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                        .msg_controllen = sizeof(control.buf)};
    /* A peer that exits with data it never read resets the connection (unix_release_sock), and
     * the kernel reports that reset once, before the messages still queued for us (the
     * SYNC_INIT_ERROR saying why it exited): read on after it. A second one is an end of
     * stream. */
    ssize_t n;
    bool reset_seen = false;
    for (;;) {
        n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
        if (n >= 0)
            break;
        if (errno == EINTR)
            continue;
        if (errno == ECONNRESET && !reset_seen) {
            reset_seen = true;
            continue;
        }
        break;
    }
    if (n < 0 && errno == ECONNRESET)
        n = 0, mh.msg_controllen = 0;
    if (n < 0)
        return error_set(err, errno, "receive from the container init");
    int received[SYNC_FDS_MAX];
    size_t got = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < k && got < SYNC_FDS_MAX; i++)
            memcpy(&received[got++], CMSG_DATA(c) + i * sizeof(int), sizeof(int));
    }
    if (got > max || (mh.msg_flags & MSG_CTRUNC)) {
        close_fds(received, &got);
        if (max > 0)
            return error_set(err, EPROTO, "too many fds in a message from the container init");
    }
    *count = 0;
    if (n == 0) {
        msg->type = 0;
        return 0;
    }
    if ((size_t)n < offsetof(struct sync_msg, text)) {
        close_fds(received, &got);
        return error_set(err, EPROTO, "short message (%zd bytes) from the container init", n);
    }
    if (msg->type == SYNC_INIT_ERROR) {
        close_fds(received, &got);
        size_t text_len = (size_t)n - offsetof(struct sync_msg, text);
        msg->text[text_len < SYNC_TEXT_MAX ? text_len : SYNC_TEXT_MAX - 1] = '\0';
        if (text_len == 0)
            msg->text[0] = '\0';
        if (msg->value == SYNC_ERROR_WITH_ERRNO_TEXT)
            return error_set(err, msg->code, "%s", msg->text);
        return error_from_message(err, msg->code, msg->text);
    }
    for (size_t i = 0; i < got; i++)
        fds[i] = received[i];
    *count = got;
    return 0;
}

int sync_expect(int fd, enum sync_type expected, int64_t *value, ctr_error **err)
{
    return sync_expect_fds(fd, expected, value, NULL, 0, err);
}

int sync_expect_fds(int fd, enum sync_type expected, int64_t *value, int *fds, size_t count,
                    ctr_error **err)
{
    struct sync_msg msg;
    int received[SYNC_FDS_MAX];
    size_t got = 0;
    if (sync_receive_fds(fd, &msg, received, count, &got, err) < 0)
        return -1;
    if (msg.type == expected && got != count) {
        close_fds(received, &got);
        return error_set(err, EPROTO, "`%s` without its %zu fd(s)", sync_type_name(expected),
                         count);
    }
    if (msg.type != expected)
        close_fds(received, &got);
    if (msg.type == 0)
        return error_set(err, EPIPE, "the container init exited before `%s`",
                         sync_type_name(expected));
    if (msg.type != expected)
        return error_set(err, EPROTO, "expected `%s` from the container init, got `%s`",
                         sync_type_name(expected), sync_type_name(msg.type));
    if (value)
        *value = msg.value;
    for (size_t i = 0; i < got; i++)
        fds[i] = received[i];
    return 0;
}
