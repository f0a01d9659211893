/* Forwarding task events to containerd; see events.h. */
#include "events.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "events_service.pb-c.h"
#include "log.h"

#define MAX_ATTEMPTS 5
#define FORWARD_TIMEOUT_NS 5000000000LL

struct event_item {
    struct event_item *next;
    uint8_t *frame_payload; /* the packed ForwardRequest */
    size_t len;
    char *topic;
    int attempts;
};

static void kick(struct publisher *pub);

static void drop_head(struct publisher *pub)
{
    struct event_item *item = pub->head;
    pub->head = item->next;
    if (pub->head == NULL)
        pub->tail = NULL;
    free(item->frame_payload);
    free(item->topic);
    free(item);
    if (pub->head == NULL && pub->on_idle)
        pub->on_idle(pub->idle_data);
}

static void on_retry(struct loop *loop, struct loop_source *source, uint32_t events)
{
    struct publisher *pub = source->data;
    (void)events;
    loop_timer_disarm(loop, &pub->retry);
    kick(pub);
}

/* The head failed: try it again later, or give up on it. */
static void retry_later(struct publisher *pub, const char *why)
{
    struct event_item *item = pub->head;
    if (item == NULL)
        return;
    if (++item->attempts >= MAX_ATTEMPTS) {
        log_error("dropping event %s after %d attempts: %s", item->topic, item->attempts, why);
        drop_head(pub);
        kick(pub);
        return;
    }
    log_error("forward event %s: %s (retrying)", item->topic, why);
    if (loop_timer_arm(pub->loop, &pub->retry, 1000u * (unsigned)item->attempts) < 0) {
        drop_head(pub);
        kick(pub);
    }
}

static void on_frame(struct ttrpc_conn *conn, const struct ttrpc_header *header,
                     const uint8_t *payload)
{
    struct publisher *pub = conn->data;
    if (header->type != TTRPC_TYPE_RESPONSE || !pub->in_flight || header->stream_id != pub->stream_id)
        return;
    pub->in_flight = false;
    Ttrpc__Response *response =
        payload ? ttrpc__response__unpack(NULL, header->length, payload) : NULL;
    if (response && (response->status == NULL || response->status->code == 0)) {
        drop_head(pub);
        kick(pub);
    } else {
        retry_later(pub, response && response->status->message ? response->status->message
                                                               : "bad response");
    }
    if (response)
        ttrpc__response__free_unpacked(response, NULL);
}

static void on_close(struct ttrpc_conn *conn)
{
    struct publisher *pub = conn->data;
    pub->conn = NULL;
    free(conn);
    if (pub->in_flight) {
        pub->in_flight = false;
        retry_later(pub, "connection to containerd closed");
    }
}

static int connect_containerd(struct publisher *pub)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    const char *path = strncmp(pub->address, "unix://", 7) == 0 ? pub->address + 7 : pub->address;
    if (strlen(path) >= sizeof(addr.sun_path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    strcpy(addr.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
        fcntl(fd, F_SETFL, O_NONBLOCK) < 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    struct ttrpc_conn *conn = malloc(sizeof(*conn));
    if (conn == NULL || ttrpc_conn_init(conn, pub->loop, fd, on_frame, on_close, pub) < 0) {
        free(conn);
        close(fd);
        return -1;
    }
    pub->conn = conn;
    return 0;
}

static void kick(struct publisher *pub)
{
    if (pub->in_flight || pub->head == NULL || pub->retry.fd >= 0)
        return;
    if (pub->conn == NULL && connect_containerd(pub) < 0) {
        retry_later(pub, strerror(errno));
        return;
    }
    Ttrpc__KeyValue ns = TTRPC__KEY_VALUE__INIT;
    ns.key = "containerd-namespace-ttrpc";
    ns.value = pub->namespace;
    Ttrpc__KeyValue *metadata[] = {&ns};
    Ttrpc__Request request = TTRPC__REQUEST__INIT;
    request.service = "containerd.services.events.ttrpc.v1.Events";
    request.method = "Forward";
    request.payload.data = pub->head->frame_payload;
    request.payload.len = pub->head->len;
    request.timeout_nano = FORWARD_TIMEOUT_NS;
    request.n_metadata = 1;
    request.metadata = metadata;
    pub->stream_id += 2; /* client streams are odd: 1, 3, 5, ... */
    uint8_t *frame = NULL;
    size_t len = 0;
    if (ttrpc_frame_request(pub->stream_id, &request, &frame, &len) < 0) {
        retry_later(pub, strerror(errno));
        return;
    }
    pub->in_flight = true;
    if (ttrpc_conn_send(pub->conn, frame, len) < 0 && pub->in_flight) {
        /* The close callback already ran only if the connection was dispatching; say it here. */
        pub->in_flight = false;
        retry_later(pub, "send to containerd failed");
    }
    free(frame);
}

void timestamp_set(Google__Protobuf__Timestamp *ts, const struct timespec *t)
{
    ts->seconds = t->tv_sec;
    ts->nanos = (int32_t)t->tv_nsec;
}

void timestamp_now(Google__Protobuf__Timestamp *ts)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    timestamp_set(ts, &now);
}

int publisher_publish(struct publisher *pub, const char *topic, const ProtobufCMessage *event)
{
    Google__Protobuf__Timestamp timestamp = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    timestamp_now(&timestamp);
    Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
    any.type_url = (char *)event->descriptor->name; /* e.g. "containerd.events.TaskExit" */
    Containerd__Services__Events__Ttrpc__V1__Envelope envelope =
        CONTAINERD__SERVICES__EVENTS__TTRPC__V1__ENVELOPE__INIT;
    envelope.timestamp = &timestamp;
    envelope.namespace_ = pub->namespace;
    envelope.topic = (char *)topic;
    envelope.event = &any;
    Containerd__Services__Events__Ttrpc__V1__ForwardRequest forward =
        CONTAINERD__SERVICES__EVENTS__TTRPC__V1__FORWARD_REQUEST__INIT;
    forward.envelope = &envelope;

    struct event_item *item = calloc(1, sizeof(*item));
    if (item == NULL || (item->topic = strdup(topic)) == NULL)
        goto fail;
    if (ttrpc_pack(event, &any.value.data, &any.value.len) < 0)
        goto fail;
    int ret = ttrpc_pack(&forward.base, &item->frame_payload, &item->len);
    free(any.value.data);
    if (ret < 0)
        goto fail;
    if (pub->tail)
        pub->tail->next = item;
    else
        pub->head = item;
    pub->tail = item;
    log_debug("event %s queued", topic);
    loop_defer(pub->loop, &pub->send);
    return 0;
fail:
    log_error("event %s: out of memory", topic);
    if (item)
        free(item->topic);
    free(item);
    return -1;
}

void publisher_connect(struct publisher *pub)
{
    if (pub->conn == NULL && connect_containerd(pub) < 0)
        log_debug("connect to containerd at %s: %s (for the first event)", pub->address,
                  strerror(errno));
}

bool publisher_idle(const struct publisher *pub)
{
    return pub->head == NULL;
}

static void on_send(void *data)
{
    kick(data);
}

int publisher_init(struct publisher *pub, struct loop *loop, const char *address,
                   const char *namespace)
{
    *pub = (struct publisher){.loop = loop, .retry = {.fd = -1, .fn = on_retry, .data = pub},
                              .send = {.fn = on_send, .data = pub}, .stream_id = (uint32_t)-1};
    pub->address = strdup(address ? address : "");
    pub->namespace = strdup(namespace);
    return pub->address && pub->namespace ? 0 : -1;
}

void publisher_fini(struct publisher *pub)
{
    loop_cancel(pub->loop, &pub->send);
    while (pub->head)
        drop_head(pub);
    loop_timer_disarm(pub->loop, &pub->retry);
    if (pub->conn) {
        pub->conn->on_close = NULL;
        struct ttrpc_conn *conn = pub->conn;
        ttrpc_conn_close(conn);
        free(conn);
        pub->conn = NULL;
    }
    free(pub->address);
    free(pub->namespace);
}
