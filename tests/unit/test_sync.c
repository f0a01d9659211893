/* The parent <-> init handshake codec: messages keep their boundaries, errors travel whole. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmocka.h>

#include "sync.h"

static int pair[2];

static int open_pair(void **state)
{
    return socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair);
}

static int close_pair(void **state)
{
    close(pair[0]);
    close(pair[1]);
    return 0;
}

static void message_value_arrives(void **state)
{
    ctr_error *err = NULL;
    assert_int_equal(sync_send(pair[1], SYNC_INIT_PID, 4242, &err), 0);
    int64_t value = 0;
    assert_int_equal(sync_expect(pair[0], SYNC_INIT_PID, &value, &err), 0);
    assert_int_equal(value, 4242);
}

static void error_travels_with_code_and_text(void **state)
{
    ctr_error *sent = NULL;
    error_set(&sent, EPERM, "mount `proc` on `/proc`");
    sync_send_error(pair[1], sent);
    ctr_error_free(sent);
    ctr_error *err = NULL;
    assert_int_equal(sync_expect(pair[0], SYNC_INIT_CREATED, NULL, &err), -1);
    assert_int_equal(ctr_error_code(err), EPERM);
    assert_string_equal(ctr_error_message(err), "mount `proc` on `/proc`: Operation not permitted");
    ctr_error_free(err);
}

static void long_error_is_cut_not_lost(void **state)
{
    char text[SYNC_TEXT_MAX * 2];
    memset(text, 'x', sizeof(text) - 1);
    text[sizeof(text) - 1] = '\0';
    ctr_error *sent = NULL;
    error_set(&sent, 0, "%s", text);
    sync_send_error(pair[1], sent);
    ctr_error_free(sent);
    ctr_error *err = NULL;
    assert_int_equal(sync_expect(pair[0], SYNC_INIT_CREATED, NULL, &err), -1);
    assert_int_equal(strlen(ctr_error_message(err)), SYNC_TEXT_MAX - 1);
    ctr_error_free(err);
}

static void unexpected_stage_is_named(void **state)
{
    ctr_error *err = NULL;
    assert_int_equal(sync_send(pair[1], SYNC_USERNS_CREATED, 0, &err), 0);
    assert_int_equal(sync_expect(pair[0], SYNC_INIT_CREATED, NULL, &err), -1);
    assert_string_equal(ctr_error_message(err),
                        "expected `init-created` from the container init, got `userns-created`: "
                        "Protocol error");
    ctr_error_free(err);
}

static void end_of_stream_says_the_init_exited(void **state)
{
    close(pair[1]);
    pair[1] = -1;
    ctr_error *err = NULL;
    assert_int_equal(sync_expect(pair[0], SYNC_PARENT_START, NULL, &err), -1);
    assert_string_equal(ctr_error_message(err),
                        "the container init exited before `parent-start`: Broken pipe");
    ctr_error_free(err);
    pair[1] = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(message_value_arrives, open_pair, close_pair),
        cmocka_unit_test_setup_teardown(error_travels_with_code_and_text, open_pair, close_pair),
        cmocka_unit_test_setup_teardown(long_error_is_cut_not_lost, open_pair, close_pair),
        cmocka_unit_test_setup_teardown(unexpected_stage_is_named, open_pair, close_pair),
        cmocka_unit_test_setup_teardown(end_of_stream_says_the_init_exited, open_pair, close_pair),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
