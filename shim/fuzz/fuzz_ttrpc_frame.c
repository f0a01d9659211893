/* libFuzzer target: the ttrpc frame parser and the Request/Response decoders, fed a byte stream
 * as a connection would receive it (frames back to back, oversized ones skipped).
 *
 *   CC=clang meson setup build-fuzz -Dfuzz=true && ninja -C build-fuzz
 *   build-fuzz/shim/fuzz_ttrpc_frame -max_total_time=60
 */
#include <stddef.h>
#include <stdint.h>

#include "ttrpc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t off = 0;
    while (off < size) {
        struct ttrpc_header header;
        enum ttrpc_parse_result r = ttrpc_parse(data + off, size - off, &header);
        if (r == TTRPC_PARSE_INCOMPLETE)
            break;
        off += TTRPC_HEADER_LENGTH;
        if (r == TTRPC_PARSE_OVERSIZED) {
            off += header.length < size - off ? header.length : size - off;
            continue;
        }
        const uint8_t *payload = data + off;
        if (header.type == TTRPC_TYPE_REQUEST) {
            Ttrpc__Request *req = ttrpc__request__unpack(NULL, header.length, payload);
            if (req) {
                /* Whatever decoded must encode again. */
                uint8_t *frame = NULL;
                size_t len = 0;
                if (ttrpc_frame_request(header.stream_id, req, &frame, &len) == 0)
                    __builtin_free(frame);
                ttrpc__request__free_unpacked(req, NULL);
            }
        } else {
            Ttrpc__Response *resp = ttrpc__response__unpack(NULL, header.length, payload);
            if (resp)
                ttrpc__response__free_unpacked(resp, NULL);
        }
        off += header.length;
    }
    return 0;
}
