/* ttrpc framing and envelope messages; see ttrpc.h. */
#include "ttrpc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rpc_status.pb-c.h"

void ttrpc_header_encode(const struct ttrpc_header *h, uint8_t out[TTRPC_HEADER_LENGTH])
{
    out[0] = (uint8_t)(h->length >> 24);
    out[1] = (uint8_t)(h->length >> 16);
    out[2] = (uint8_t)(h->length >> 8);
    out[3] = (uint8_t)h->length;
    out[4] = (uint8_t)(h->stream_id >> 24);
    out[5] = (uint8_t)(h->stream_id >> 16);
    out[6] = (uint8_t)(h->stream_id >> 8);
    out[7] = (uint8_t)h->stream_id;
    out[8] = h->type;
    out[9] = h->flags;
}

void ttrpc_header_decode(const uint8_t in[TTRPC_HEADER_LENGTH], struct ttrpc_header *h)
{
    h->length = (uint32_t)in[0] << 24 | (uint32_t)in[1] << 16 | (uint32_t)in[2] << 8 | in[3];
    h->stream_id = (uint32_t)in[4] << 24 | (uint32_t)in[5] << 16 | (uint32_t)in[6] << 8 | in[7];
    h->type = in[8];
    h->flags = in[9];
}

enum ttrpc_parse_result ttrpc_parse(const uint8_t *buf, size_t len, struct ttrpc_header *header)
{
    if (len < TTRPC_HEADER_LENGTH)
        return TTRPC_PARSE_INCOMPLETE;
    ttrpc_header_decode(buf, header);
    if (header->length > TTRPC_MESSAGE_LENGTH_MAX)
        return TTRPC_PARSE_OVERSIZED;
    if (len - TTRPC_HEADER_LENGTH < header->length)
        return TTRPC_PARSE_INCOMPLETE;
    return TTRPC_PARSE_FRAME;
}

int ttrpc_pack(const ProtobufCMessage *message, uint8_t **data, size_t *len)
{
    size_t size = protobuf_c_message_get_packed_size(message);
    /* malloc(0) may return NULL: an empty message still gets a buffer. */
    *data = malloc(size ? size : 1);
    if (*data == NULL)
        return -1;
    *len = protobuf_c_message_pack(message, *data);
    return 0;
}

static int frame(uint32_t stream_id, enum ttrpc_type type, const ProtobufCMessage *message,
                 uint8_t **out, size_t *out_len)
{
    size_t size = protobuf_c_message_get_packed_size(message);
    if (size > TTRPC_MESSAGE_LENGTH_MAX) {
        errno = E2BIG;
        return -1;
    }
    uint8_t *buf = malloc(TTRPC_HEADER_LENGTH + size);
    if (buf == NULL)
        return -1;
    struct ttrpc_header header = {.length = (uint32_t)size, .stream_id = stream_id, .type = type};
    ttrpc_header_encode(&header, buf);
    protobuf_c_message_pack(message, buf + TTRPC_HEADER_LENGTH);
    *out = buf;
    *out_len = TTRPC_HEADER_LENGTH + size;
    return 0;
}

int ttrpc_frame_request(uint32_t stream_id, const Ttrpc__Request *request, uint8_t **out,
                        size_t *out_len)
{
    return frame(stream_id, TTRPC_TYPE_REQUEST, &request->base, out, out_len);
}

int ttrpc_frame_response(uint32_t stream_id, const Ttrpc__Response *response, uint8_t **out,
                         size_t *out_len)
{
    return frame(stream_id, TTRPC_TYPE_RESPONSE, &response->base, out, out_len);
}

int ttrpc_frame_reply(uint32_t stream_id, enum ttrpc_code code, const char *message,
                      const ProtobufCMessage *payload, uint8_t **out, size_t *out_len)
{
    /* ttrpc's server always sends a status, an empty one (code 0) on success. */
    Google__Rpc__Status status = GOOGLE__RPC__STATUS__INIT;
    Ttrpc__Response response = TTRPC__RESPONSE__INIT;
    status.code = (int32_t)code;
    status.message = (char *)(code != TTRPC_OK && message ? message : "");
    response.status = &status;
    uint8_t *data = NULL;
    if (code == TTRPC_OK && payload) {
        size_t len = 0;
        if (ttrpc_pack(payload, &data, &len) < 0)
            return -1;
        response.payload.data = data;
        response.payload.len = len;
    }
    int ret = ttrpc_frame_response(stream_id, &response, out, out_len);
    free(data);
    return ret;
}

const char *ttrpc_code_name(enum ttrpc_code code)
{
    static const char *const names[] = {
        "OK", "Canceled", "Unknown", "InvalidArgument", "DeadlineExceeded", "NotFound",
        "AlreadyExists", "PermissionDenied", "ResourceExhausted", "FailedPrecondition", "Aborted",
        "OutOfRange", "Unimplemented", "Internal", "Unavailable",
    };
    return (unsigned)code < sizeof(names) / sizeof(names[0]) ? names[code] : "Unknown";
}
