/* The shim's helpers around the ttrpc service: the socket name containerd expects (SHA-256 of
 * ADDRESS/NAMESPACE/ID), and the rootfs mount options containerd sends (flags vs filesystem data,
 * an overlay's long lowerdir made relative). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#include <cmocka.h>

#include "rootfs.h"
#include "sha256.h"

static void sha256_matches_fips_vectors(void **state)
{
    char hex[65];
    sha256_hex("", 0, hex);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    sha256_hex("abc", 3, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *two_blocks = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    sha256_hex(two_blocks, strlen(two_blocks), hex);
    assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    char *million = malloc(1000000);
    memset(million, 'a', 1000000);
    sha256_hex(million, 1000000, hex);
    assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    free(million);
}

static void socket_name_is_containerds(void **state)
{
    /* containerd 1.6 SocketAddress("/run/containerd/containerd.sock", "default", "redis") is
     * unix:///run/containerd/s/ + sha256 of the joined path; checked with sha256sum. */
    const char *joined = "/run/containerd/containerd.sock/default/redis";
    char hex[65];
    sha256_hex(joined, strlen(joined), hex);
    assert_string_equal(hex, "f6b99128c07bdbd0902363ba979c22f8ef053e683a7ce24dd016a1ab17092c33");
}

static void options_split_into_flags_and_data(void **state)
{
    char *opts[] = {"index=off", "ro", "nosuid", "workdir=/w", "upperdir=/u", "lowerdir=/l"};
    unsigned long flags = 0, propagation = 0;
    char *data = NULL;
    assert_int_equal(rootfs_parse_options(opts, 6, &flags, &propagation, &data), 0);
    assert_int_equal(flags, MS_RDONLY | MS_NOSUID);
    assert_int_equal(propagation, 0);
    assert_string_equal(data, "index=off,workdir=/w,upperdir=/u,lowerdir=/l");
    free(data);
}

static void rbind_is_a_recursive_bind(void **state)
{
    char *opts[] = {"rbind", "ro", "rprivate"};
    unsigned long flags = 0, propagation = 0;
    char *data = NULL;
    assert_int_equal(rootfs_parse_options(opts, 3, &flags, &propagation, &data), 0);
    assert_int_equal(flags, MS_BIND | MS_REC | MS_RDONLY);
    assert_int_equal(propagation, MS_PRIVATE | MS_REC);
    assert_string_equal(data, "");
    free(data);
}

static void long_lowerdir_is_made_relative(void **state)
{
    const char *data = "index=off,lowerdir=/var/lib/s/snapshots/3/fs:/var/lib/s/snapshots/12/fs:"
                       "/var/lib/s/snapshots/1/fs,upperdir=/u";
    char *dir = NULL, *compacted = NULL;
    assert_int_equal(rootfs_compact_lowerdir(data, &dir, &compacted), 0);
    assert_string_equal(dir, "/var/lib/s/snapshots/");
    assert_string_equal(compacted, "index=off,lowerdir=3/fs:12/fs:1/fs,upperdir=/u");
    free(dir);
    free(compacted);
}

static void lowerdirs_without_a_common_directory_stay(void **state)
{
    char *dir = NULL, *compacted = NULL;
    assert_int_equal(rootfs_compact_lowerdir("lowerdir=/a/x:/b/y", &dir, &compacted), 0);
    assert_null(dir);
    assert_null(compacted);
    assert_int_equal(rootfs_compact_lowerdir("workdir=/w", &dir, &compacted), 0);
    assert_null(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sha256_matches_fips_vectors),
        cmocka_unit_test(socket_name_is_containerds),
        cmocka_unit_test(options_split_into_flags_and_data),
        cmocka_unit_test(rbind_is_a_recursive_bind),
        cmocka_unit_test(long_lowerdir_is_made_relative),
        cmocka_unit_test(lowerdirs_without_a_common_directory_stay),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
