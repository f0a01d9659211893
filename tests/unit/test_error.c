/* The error object: messages name the object, wrapping adds context, the errno is kept. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "error.h"

static void set_appends_strerror(void **state)
{
    ctr_error *err = NULL;
    assert_int_equal(error_set(&err, ENOENT, "open `%s`", "/x"), -1);
    assert_int_equal(ctr_error_code(err), ENOENT);
    assert_string_equal(ctr_error_message(err), "open `/x`: No such file or directory");
    ctr_error_free(err);
}

static void set_without_errno_is_plain(void **state)
{
    ctr_error *err = NULL;
    error_set(&err, 0, "hook `/x`: exit status 1");
    assert_int_equal(ctr_error_code(err), 0);
    assert_string_equal(ctr_error_message(err), "hook `/x`: exit status 1");
    ctr_error_free(err);
}

/* A refused request carries EINVAL, and its message names the field, not strerror(EINVAL). */
static void invalid_is_einval_without_strerror(void **state)
{
    ctr_error *err = NULL;
    assert_int_equal(error_invalid(&err, "config.json: %s: required field missing", "root"), -1);
    assert_int_equal(ctr_error_code(err), EINVAL);
    assert_string_equal(ctr_error_message(err), "config.json: root: required field missing");
    assert_int_equal(error_invalid(NULL, "nobody listens"), -1);
    ctr_error_free(err);
}

static void wrap_prefixes_context(void **state)
{
    ctr_error *err = NULL;
    error_set(&err, EPERM, "mount `proc` on `/proc`");
    assert_int_equal(error_wrap(&err, "create container `%s`", "c1"), -1);
    assert_string_equal(ctr_error_message(err),
                        "create container `c1`: mount `proc` on `/proc`: Operation not permitted");
    assert_int_equal(ctr_error_code(err), EPERM);
    ctr_error_free(err);
}

static void set_replaces_previous(void **state)
{
    ctr_error *err = NULL;
    error_set(&err, EPERM, "first");
    error_set(&err, EIO, "second");
    assert_string_equal(ctr_error_message(err), "second: Input/output error");
    ctr_error_free(err);
}

static void null_error_pointer_is_allowed(void **state)
{
    assert_int_equal(error_set(NULL, EPERM, "nobody listens"), -1);
    assert_int_equal(error_wrap(NULL, "still nobody"), -1);
    ctr_error *none = NULL;
    assert_int_equal(error_wrap(&none, "nothing to wrap"), -1);
    assert_null(none);
    assert_string_equal(ctr_error_message(NULL), "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(set_appends_strerror),
        cmocka_unit_test(set_without_errno_is_plain),
        cmocka_unit_test(invalid_is_einval_without_strerror),
        cmocka_unit_test(wrap_prefixes_context),
        cmocka_unit_test(set_replaces_previous),
        cmocka_unit_test(null_error_pointer_is_allowed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
