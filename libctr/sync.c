#include "sync.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>

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
    }
    return "unknown";
}

static int send_msg(int fd, const struct sync_msg *msg, size_t text_len)
{
    size_t len = offsetof(struct sync_msg, text) + text_len;
    ssize_t n;
    do
        n = send(fd, msg, len, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    return n < 0 ? -1 : 0;
}

int sync_send(int fd, enum sync_type type, int64_t value, ctr_error **err)
{
    struct sync_msg msg = {.type = type, .value = value};
    if (send_msg(fd, &msg, 0) < 0)
        return error_set(err, errno, "send `%s` to the container init", sync_type_name(type));
    return 0;
}

void sync_send_error(int fd, const ctr_error *error)
{
    struct sync_msg msg = {.type = SYNC_INIT_ERROR, .code = ctr_error_code(error)};
    const char *text = ctr_error_message(error);
    size_t len = strnlen(text, SYNC_TEXT_MAX - 1);
    memcpy(msg.text, text, len);
    msg.text[len] = '\0';
    send_msg(fd, &msg, len + 1);
}

int sync_receive(int fd, struct sync_msg *msg, ctr_error **err)
{
    ssize_t n;
    do
        n = recv(fd, msg, sizeof(*msg), 0);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return error_set(err, errno, "receive from the container init");
    if (n == 0) {
        msg->type = 0;
        return 0;
    }
    if ((size_t)n < offsetof(struct sync_msg, text))
        return error_set(err, EPROTO, "short message (%zd bytes) from the container init", n);
    if (msg->type == SYNC_INIT_ERROR) {
        size_t text_len = (size_t)n - offsetof(struct sync_msg, text);
        msg->text[text_len < SYNC_TEXT_MAX ? text_len : SYNC_TEXT_MAX - 1] = '\0';
        if (text_len == 0)
            msg->text[0] = '\0';
        return error_from_message(err, msg->code, msg->text);
    }
    return 0;
}

int sync_expect(int fd, enum sync_type expected, int64_t *value, ctr_error **err)
{
    struct sync_msg msg;
    if (sync_receive(fd, &msg, err) < 0)
        return -1;
    if (msg.type == 0)
        return error_set(err, EPIPE, "the container init exited before `%s`",
                         sync_type_name(expected));
    if (msg.type != expected)
        return error_set(err, EPROTO, "expected `%s` from the container init, got `%s`",
                         sync_type_name(expected), sync_type_name(msg.type));
    if (value)
        *value = msg.value;
    return 0;
}
