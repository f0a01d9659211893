/* The shim's ttrpc codec against golden frames written out by hand from the wire format that
 * containerd's Go ttrpc produces (github.com/containerd/ttrpc channel.go and types.go, gogo
 * protobuf encoding fields in number order), and round trips of the shim's protobuf messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "events.pb-c.h"
#include "events_service.pb-c.h"
#include "rpc_status.pb-c.h"
#include "runc_options.pb-c.h"
#include "task.pb-c.h"
#include "ttrpc.h"

#define BYTES(...) ((const uint8_t[]){__VA_ARGS__})

/* ---- the 10-byte header ------------------------------------------------------------------ */

static void header_is_big_endian_length_stream_type_flags(void **state)
{
    struct ttrpc_header h = {.length = 0x01020304, .stream_id = 0x0a0b0c0d, .type = 2, .flags = 0};
    uint8_t out[TTRPC_HEADER_LENGTH];
    ttrpc_header_encode(&h, out);
    assert_memory_equal(out, BYTES(0x01, 0x02, 0x03, 0x04, 0x0a, 0x0b, 0x0c, 0x0d, 0x02, 0x00), 10);

    struct ttrpc_header back;
    ttrpc_header_decode(BYTES(0, 0, 0, 5, 0, 0, 0, 3, 1, 0x04), &back);
    assert_int_equal(back.length, 5);
    assert_int_equal(back.stream_id, 3);
    assert_int_equal(back.type, TTRPC_TYPE_REQUEST);
    assert_int_equal(back.flags, 4);
}

static void parse_waits_for_the_whole_frame(void **state)
{
    const uint8_t frame[] = {0, 0, 0, 2, 0, 0, 0, 1, 1, 0, 0x0a, 0x00};
    struct ttrpc_header h;
    for (size_t len = 0; len < sizeof(frame); len++)
        assert_int_equal(ttrpc_parse(frame, len, &h), TTRPC_PARSE_INCOMPLETE);
    assert_int_equal(ttrpc_parse(frame, sizeof(frame), &h), TTRPC_PARSE_FRAME);
    assert_int_equal(h.length, 2);
    assert_int_equal(h.stream_id, 1);
}

static void parse_refuses_more_than_4_mib(void **state)
{
    struct ttrpc_header h;
    /* 4 MiB exactly is allowed (and incomplete here); one byte more is not. */
    assert_int_equal(ttrpc_parse(BYTES(0, 0x40, 0, 0, 0, 0, 0, 1, 1, 0), 10, &h),
                     TTRPC_PARSE_INCOMPLETE);
    assert_int_equal(ttrpc_parse(BYTES(0, 0x40, 0, 1, 0, 0, 0, 1, 1, 0), 10, &h),
                     TTRPC_PARSE_OVERSIZED);
    assert_int_equal(h.length, (4u << 20) + 1);
    assert_int_equal(ttrpc_parse(BYTES(0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1, 1, 0), 10, &h),
                     TTRPC_PARSE_OVERSIZED);
}

/* ---- golden frames --------------------------------------------------------------------------- */

/* containerd calling Connect{id: "c1"} on stream 1, with its namespace in the metadata and a
 * deadline, as its Go client sends it. */
static const uint8_t connect_request_frame[] = {
    0x00, 0x00, 0x00, 0x4f, 0x00, 0x00, 0x00, 0x01, 0x01, 0x00,   /* header: 79 bytes, stream 1 */
    0x0a, 0x17, 'c', 'o', 'n', 't', 'a', 'i', 'n', 'e', 'r', 'd', '.', 't', 'a', 's', 'k', '.',
    'v', '2', '.', 'T', 'a', 's', 'k',                             /* 1: service */
    0x12, 0x07, 'C', 'o', 'n', 'n', 'e', 'c', 't',                 /* 2: method */
    0x1a, 0x04, 0x0a, 0x02, 'c', '1',                              /* 3: payload */
    0x20, 0x80, 0x94, 0xeb, 0xdc, 0x03,                            /* 4: timeout_nano 1e9 */
    0x2a, 0x1f,                                                    /* 5: metadata */
    0x0a, 0x1a, 'c', 'o', 'n', 't', 'a', 'i', 'n', 'e', 'r', 'd', '-', 'n', 'a', 'm', 'e', 's',
    'p', 'a', 'c', 'e', '-', 't', 't', 'r', 'p', 'c',
    0x12, 0x01, 'n',
};

static void golden_request_decodes(void **state)
{
    struct ttrpc_header h;
    assert_int_equal(ttrpc_parse(connect_request_frame, sizeof(connect_request_frame), &h),
                     TTRPC_PARSE_FRAME);
    assert_int_equal(h.length, sizeof(connect_request_frame) - TTRPC_HEADER_LENGTH);
    assert_int_equal(h.type, TTRPC_TYPE_REQUEST);
    Ttrpc__Request *req = ttrpc__request__unpack(NULL, h.length, connect_request_frame + 10);
    assert_non_null(req);
    assert_string_equal(req->service, "containerd.task.v2.Task");
    assert_string_equal(req->method, "Connect");
    assert_int_equal(req->timeout_nano, 1000000000);
    assert_int_equal(req->n_metadata, 1);
    assert_string_equal(req->metadata[0]->key, "containerd-namespace-ttrpc");
    assert_string_equal(req->metadata[0]->value, "n");
    Containerd__Task__V2__ConnectRequest *connect =
        containerd__task__v2__connect_request__unpack(NULL, req->payload.len, req->payload.data);
    assert_non_null(connect);
    assert_string_equal(connect->id, "c1");
    containerd__task__v2__connect_request__free_unpacked(connect, NULL);

    /* And it encodes back to the same bytes. */
    uint8_t *frame = NULL;
    size_t len = 0;
    assert_int_equal(ttrpc_frame_request(1, req, &frame, &len), 0);
    assert_int_equal(len, sizeof(connect_request_frame));
    assert_memory_equal(frame, connect_request_frame, len);
    free(frame);
    ttrpc__request__free_unpacked(req, NULL);
}

static void golden_success_reply(void **state)
{
    /* ttrpc's server sends an empty status (code 0) with the payload. */
    Containerd__Task__V2__ConnectResponse resp = CONTAINERD__TASK__V2__CONNECT_RESPONSE__INIT;
    resp.shim_pid = 42;
    resp.task_pid = 7;
    resp.version = "0.1.0";
    uint8_t *frame = NULL;
    size_t len = 0;
    assert_int_equal(ttrpc_frame_reply(3, TTRPC_OK, "ignored", &resp.base, &frame, &len), 0);
    const uint8_t golden[] = {
        0x00, 0x00, 0x00, 0x0f, 0x00, 0x00, 0x00, 0x03, 0x02, 0x00, /* 15 bytes, stream 3, reply */
        0x0a, 0x00,                                                 /* 1: status {} */
        0x12, 0x0b,                                                 /* 2: payload */
        0x08, 0x2a, 0x10, 0x07, 0x1a, 0x05, '0', '.', '1', '.', '0',
    };
    assert_int_equal(len, sizeof(golden));
    assert_memory_equal(frame, golden, len);
    free(frame);
}

static void golden_error_reply(void **state)
{
    uint8_t *frame = NULL;
    size_t len = 0;
    assert_int_equal(ttrpc_frame_reply(5, TTRPC_NOT_FOUND, "container not created", NULL, &frame,
                                       &len), 0);
    const uint8_t golden[] = {
        0x00, 0x00, 0x00, 0x1b, 0x00, 0x00, 0x00, 0x05, 0x02, 0x00,
        0x0a, 0x19,                                                 /* 1: status */
        0x08, 0x05,                                                 /*    code NotFound */
        0x12, 0x15, 'c', 'o', 'n', 't', 'a', 'i', 'n', 'e', 'r', ' ', 'n', 'o', 't', ' ', 'c',
        'r', 'e', 'a', 't', 'e', 'd',                               /*    message */
    };
    assert_int_equal(len, sizeof(golden));
    assert_memory_equal(frame, golden, len);
    free(frame);
}

static void empty_reply_has_a_status_and_an_empty_payload(void **state)
{
    Google__Protobuf__Empty empty = GOOGLE__PROTOBUF__EMPTY__INIT;
    uint8_t *frame = NULL;
    size_t len = 0;
    assert_int_equal(ttrpc_frame_reply(7, TTRPC_OK, NULL, &empty.base, &frame, &len), 0);
    /* An empty bytes field is left out, as Go does. */
    const uint8_t golden[] = {0, 0, 0, 2, 0, 0, 0, 7, 2, 0, 0x0a, 0x00};
    assert_int_equal(len, sizeof(golden));
    assert_memory_equal(frame, golden, len);
    free(frame);
}

static void code_names_follow_grpc(void **state)
{
    assert_string_equal(ttrpc_code_name(TTRPC_NOT_FOUND), "NotFound");
    assert_string_equal(ttrpc_code_name(TTRPC_FAILED_PRECONDITION), "FailedPrecondition");
    assert_string_equal(ttrpc_code_name(TTRPC_UNIMPLEMENTED), "Unimplemented");
    assert_string_equal(ttrpc_code_name(99), "Unknown");
}

/* ---- protobuf round trips -------------------------------------------------------------------- */

static void create_request_round_trip(void **state)
{
    char *options[] = {"index=off", "lowerdir=/a:/b", "upperdir=/u", "workdir=/w"};
    Containerd__Types__Mount mount = CONTAINERD__TYPES__MOUNT__INIT;
    mount.type = "overlay";
    mount.source = "overlay";
    mount.n_options = 4;
    mount.options = options;
    Containerd__Types__Mount *mounts[] = {&mount};
    Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
    any.type_url = "containerd.runc.v1.Options";
    any.value.data = (uint8_t *)"\x08\x01"; /* no_pivot_root: true */
    any.value.len = 2;
    Containerd__Task__V2__CreateTaskRequest req = CONTAINERD__TASK__V2__CREATE_TASK_REQUEST__INIT;
    req.id = "c1";
    req.bundle = "/b";
    req.n_rootfs = 1;
    req.rootfs = mounts;
    req.terminal = 1;
    req.stdout = "/run/containerd/fifo/1/c1-stdout";
    req.options = &any;

    uint8_t *data = NULL;
    size_t len = 0;
    assert_int_equal(ttrpc_pack(&req.base, &data, &len), 0);
    Containerd__Task__V2__CreateTaskRequest *back =
        containerd__task__v2__create_task_request__unpack(NULL, len, data);
    assert_non_null(back);
    assert_string_equal(back->id, "c1");
    assert_string_equal(back->bundle, "/b");
    assert_true(back->terminal);
    assert_string_equal(back->stdin, "");
    assert_string_equal(back->stdout, "/run/containerd/fifo/1/c1-stdout");
    assert_int_equal(back->n_rootfs, 1);
    assert_string_equal(back->rootfs[0]->type, "overlay");
    assert_int_equal(back->rootfs[0]->n_options, 4);
    assert_string_equal(back->rootfs[0]->options[1], "lowerdir=/a:/b");
    Containerd__Runc__V1__Options *opts = containerd__runc__v1__options__unpack(
        NULL, back->options->value.len, back->options->value.data);
    assert_non_null(opts);
    assert_true(opts->no_pivot_root);
    assert_false(opts->no_new_keyring);
    containerd__runc__v1__options__free_unpacked(opts, NULL);
    containerd__task__v2__create_task_request__free_unpacked(back, NULL);
    free(data);
}

static void delete_response_golden(void **state)
{
    /* What the `delete` action prints: pid 1234, exit 137, exited_at 1700000000.5. */
    Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    ts.seconds = 1700000000;
    ts.nanos = 500000000;
    Containerd__Task__V2__DeleteResponse resp = CONTAINERD__TASK__V2__DELETE_RESPONSE__INIT;
    resp.pid = 1234;
    resp.exit_status = 137;
    resp.exited_at = &ts;
    uint8_t buf[64];
    size_t len = containerd__task__v2__delete_response__pack(&resp, buf);
    const uint8_t golden[] = {0x08, 0xd2, 0x09, 0x10, 0x89, 0x01, 0x1a, 0x0c, 0x08, 0x80, 0xe2,
                              0xcf, 0xaa, 0x06, 0x10, 0x80, 0xca, 0xb5, 0xee, 0x01};
    assert_int_equal(len, sizeof(golden));
    assert_memory_equal(buf, golden, len);
}

static void forward_envelope_round_trip(void **state)
{
    Containerd__Events__TaskExit exit_event = CONTAINERD__EVENTS__TASK_EXIT__INIT;
    exit_event.container_id = "c1";
    exit_event.id = "c1";
    exit_event.pid = 99;
    exit_event.exit_status = 3;
    Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
    /* The type URL containerd's typeurl registry knows: the message's full name. */
    any.type_url = (char *)exit_event.base.descriptor->name;
    assert_string_equal(any.type_url, "containerd.events.TaskExit");
    assert_int_equal(ttrpc_pack(&exit_event.base, &any.value.data, &any.value.len), 0);
    Containerd__Services__Events__Ttrpc__V1__Envelope env =
        CONTAINERD__SERVICES__EVENTS__TTRPC__V1__ENVELOPE__INIT;
    env.namespace_ = "default";
    env.topic = "/tasks/exit";
    env.event = &any;
    Containerd__Services__Events__Ttrpc__V1__ForwardRequest fwd =
        CONTAINERD__SERVICES__EVENTS__TTRPC__V1__FORWARD_REQUEST__INIT;
    fwd.envelope = &env;
    uint8_t *data = NULL;
    size_t len = 0;
    assert_int_equal(ttrpc_pack(&fwd.base, &data, &len), 0);
    Containerd__Services__Events__Ttrpc__V1__ForwardRequest *back =
        containerd__services__events__ttrpc__v1__forward_request__unpack(NULL, len, data);
    assert_non_null(back);
    assert_string_equal(back->envelope->topic, "/tasks/exit");
    assert_string_equal(back->envelope->namespace_, "default");
    Containerd__Events__TaskExit *ev = containerd__events__task_exit__unpack(
        NULL, back->envelope->event->value.len, back->envelope->event->value.data);
    assert_non_null(ev);
    assert_int_equal(ev->pid, 99);
    assert_int_equal(ev->exit_status, 3);
    containerd__events__task_exit__free_unpacked(ev, NULL);
    containerd__services__events__ttrpc__v1__forward_request__free_unpacked(back, NULL);
    free(data);
    free(any.value.data);
}

static void truncated_message_does_not_decode(void **state)
{
    /* The Connect request cut inside its service string. */
    assert_null(ttrpc__request__unpack(NULL, 12, connect_request_frame + 10));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(header_is_big_endian_length_stream_type_flags),
        cmocka_unit_test(parse_waits_for_the_whole_frame),
        cmocka_unit_test(parse_refuses_more_than_4_mib),
        cmocka_unit_test(golden_request_decodes),
        cmocka_unit_test(golden_success_reply),
        cmocka_unit_test(golden_error_reply),
        cmocka_unit_test(empty_reply_has_a_status_and_an_empty_payload),
        cmocka_unit_test(code_names_follow_grpc),
        cmocka_unit_test(create_request_round_trip),
        cmocka_unit_test(delete_response_golden),
        cmocka_unit_test(forward_envelope_round_trip),
        cmocka_unit_test(truncated_message_does_not_decode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
