/* AppArmor and SELinux labels (lsm.h): the context= option linux.mountLabel adds to a mount's
 * data, and the refusal of labels where their LSM is not enabled (this test machine has none; a
 * host with one skips those checks). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lsm.h"

static const char LABEL[] = "system_u:object_r:container_file_t:s0:c1,c2";

static char *data_for(const char *type, const char *data, const char *label)
{
    char *out = (char *)"unset";
    ctr_error *err = NULL;
    assert_int_equal(lsm_mount_data(type, data, label, &out, &err), 0);
    assert_null(err);
    return out;
}

static void mount_label_is_added_as_a_quoted_context(void **state)
{
    char *out = data_for("tmpfs", "size=1m,mode=755", LABEL);
    assert_string_equal(
        out, "size=1m,mode=755,context=\"system_u:object_r:container_file_t:s0:c1,c2\"");
    free(out);
    out = data_for("devpts", NULL, LABEL);
    assert_string_equal(out, "context=\"system_u:object_r:container_file_t:s0:c1,c2\"");
    free(out);
}

static void kernel_filesystems_and_set_contexts_are_left_alone(void **state)
{
    static const char *const types[] = {"proc", "sysfs", "cgroup", "cgroup2", "mqueue"};
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        char *out = data_for(types[i], "nosuid", LABEL);
        assert_string_equal(out, "nosuid");
        free(out);
        assert_null(data_for(types[i], NULL, LABEL));
    }
    char *out = data_for("tmpfs", "size=1m,fscontext=system_u:object_r:tmpfs_t:s0", LABEL);
    assert_string_equal(out, "size=1m,fscontext=system_u:object_r:tmpfs_t:s0");
    free(out);
}

static void without_a_mount_label_the_data_is_unchanged(void **state)
{
    char *out = data_for("tmpfs", "size=1m", NULL);
    assert_string_equal(out, "size=1m");
    free(out);
    out = data_for("tmpfs", "size=1m", "");
    assert_string_equal(out, "size=1m");
    free(out);
    assert_null(data_for("tmpfs", NULL, NULL));
}

static void labels_are_refused_where_the_lsm_is_not_enabled(void **state)
{
    if (access("/sys/kernel/security/apparmor", F_OK) == 0 ||
        access("/sys/fs/selinux/enforce", F_OK) == 0) {
        print_message("SKIP: an LSM is enabled on this host: labels would be applied\n");
        skip();
    }
    ctr_error *err = NULL;
    struct spec_process apparmor = {.apparmor_profile = (char *)"docker-default"};
    assert_int_equal(lsm_check_process(&apparmor, "process.json: ", &err), -1);
    assert_string_equal(ctr_error_message(err),
                        "process.json: process.apparmorProfile `docker-default`: AppArmor is not "
                        "enabled on this host: Operation not supported");
    ctr_error_free(err);
    err = NULL;
    struct spec_process selinux = {.selinux_label = (char *)"system_u:system_r:container_t:s0"};
    assert_int_equal(lsm_check_process(&selinux, "", &err), -1);
    assert_string_equal(ctr_error_message(err),
                        "process.selinuxLabel `system_u:system_r:container_t:s0`: SELinux is not "
                        "enabled on this host: Operation not supported");
    ctr_error_free(err);
    err = NULL;
    struct spec_linux linux_ = {.mount_label = (char *)LABEL};
    assert_int_equal(lsm_check_mount_label(&linux_, &err), -1);
    assert_int_equal(ctr_error_code(err), EOPNOTSUPP);
    ctr_error_free(err);
}

static void empty_labels_ask_for_nothing(void **state)
{
    ctr_error *err = NULL;
    struct spec_process process = {.apparmor_profile = (char *)"", .selinux_label = (char *)""};
    struct spec_linux linux_ = {.mount_label = (char *)""};
    assert_int_equal(lsm_check_process(&process, "", &err), 0);
    assert_int_equal(lsm_check_mount_label(&linux_, &err), 0);
    /* Nothing to write: the procfs handle is not even looked at. */
    assert_int_equal(lsm_set_exec_label(-1, &process, &err), 0);
    assert_null(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(mount_label_is_added_as_a_quoted_context),
        cmocka_unit_test(kernel_filesystems_and_set_contexts_are_left_alone),
        cmocka_unit_test(without_a_mount_label_the_data_is_unchanged),
        cmocka_unit_test(labels_are_refused_where_the_lsm_is_not_enabled),
        cmocka_unit_test(empty_labels_ask_for_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
