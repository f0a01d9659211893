/* ttrpc, containerd's small RPC protocol over a unix socket (github.com/containerd/ttrpc), as a
 * codec with no I/O so it can be unit-tested with golden frames and fuzzed:
 *
 *   frame  = header (10 bytes) + payload
 *   header = length (u32 BE, payload only) | stream id (u32 BE) | type (u8) | flags (u8)
 *   type 1 = Request{service, method, payload, timeout_nano, metadata}  (client streams are odd)
 *   type 2 = Response{status: google.rpc.Status, payload}
 *
 * A payload longer than 4 MiB is refused (ttrpc's messageLengthMax): its bytes are discarded and
 * the request answered with RESOURCE_EXHAUSTED, as ttrpc's own server does. */
#ifndef SHIM_TTRPC_H
#define SHIM_TTRPC_H

#include <stddef.h>
#include <stdint.h>

#include "ttrpc.pb-c.h"

#define TTRPC_HEADER_LENGTH 10
#define TTRPC_MESSAGE_LENGTH_MAX (4u << 20)

enum ttrpc_type {
    TTRPC_TYPE_REQUEST = 1,
    TTRPC_TYPE_RESPONSE = 2,
};

/* google.rpc codes (grpc's codes package), what containerd's errdefs.FromGRPC maps back to its
 * errors: NotFound -> ErrNotFound, AlreadyExists -> ErrAlreadyExists, ... */
enum ttrpc_code {
    TTRPC_OK = 0,
    TTRPC_CANCELLED = 1,
    TTRPC_UNKNOWN = 2,
    TTRPC_INVALID_ARGUMENT = 3,
    TTRPC_DEADLINE_EXCEEDED = 4,
    TTRPC_NOT_FOUND = 5,
    TTRPC_ALREADY_EXISTS = 6,
    TTRPC_PERMISSION_DENIED = 7,
    TTRPC_RESOURCE_EXHAUSTED = 8,
    TTRPC_FAILED_PRECONDITION = 9,
    TTRPC_ABORTED = 10,
    TTRPC_OUT_OF_RANGE = 11,
    TTRPC_UNIMPLEMENTED = 12,
    TTRPC_INTERNAL = 13,
    TTRPC_UNAVAILABLE = 14,
};

struct ttrpc_header {
    uint32_t length;
    uint32_t stream_id;
    uint8_t type;
    uint8_t flags;
};

void ttrpc_header_encode(const struct ttrpc_header *header, uint8_t out[TTRPC_HEADER_LENGTH]);
void ttrpc_header_decode(const uint8_t in[TTRPC_HEADER_LENGTH], struct ttrpc_header *header);

enum ttrpc_parse_result {
    TTRPC_PARSE_INCOMPLETE = 0, /* read more bytes */
    TTRPC_PARSE_FRAME = 1,      /* a whole frame: header + header.length payload bytes */
    TTRPC_PARSE_OVERSIZED = 2,  /* header.length is over the limit: discard that many bytes */
};

/* Looks at the start of `buf` (`len` bytes received so far) for one frame. */
enum ttrpc_parse_result ttrpc_parse(const uint8_t *buf, size_t len, struct ttrpc_header *header);

/* Builds a whole frame (header + message) in a malloc'd buffer. Return 0, or -1 on ENOMEM or a
 * message over the limit (errno E2BIG). */
int ttrpc_frame_request(uint32_t stream_id, const Ttrpc__Request *request, uint8_t **frame,
                        size_t *frame_len);
int ttrpc_frame_response(uint32_t stream_id, const Ttrpc__Response *response, uint8_t **frame,
                         size_t *frame_len);

/* A Response frame for the message `payload` (packed here; NULL for none) or, when `code` is not
 * TTRPC_OK, for the error `message`. */
int ttrpc_frame_reply(uint32_t stream_id, enum ttrpc_code code, const char *message,
                      const ProtobufCMessage *payload, uint8_t **frame, size_t *frame_len);

/* Packs any message into a malloc'd buffer (ProtobufCBinaryData style). */
int ttrpc_pack(const ProtobufCMessage *message, uint8_t **data, size_t *len);

const char *ttrpc_code_name(enum ttrpc_code code);

#endif
