/* SHA-256 (FIPS 180-4), only to name the shim's socket as containerd names its shims' sockets:
 * /run/containerd/s/<hex sha256 of ADDRESS/NAMESPACE/ID>. A hash keeps the path under sun_path's
 * 108 bytes whatever the id; a library (libcrypto) would be a large dependency for 80 lines. */
#ifndef SHIM_SHA256_H
#define SHIM_SHA256_H

#include <stddef.h>
#include <stdint.h>

void sha256(const void *data, size_t len, uint8_t digest[32]);
/* The digest as 64 lowercase hex digits and a NUL. */
void sha256_hex(const void *data, size_t len, char hex[65]);

#endif
