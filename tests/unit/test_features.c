/* The features document (libctr/features.c) against the parser: every name it lists is one the
 * parser takes, so a manager that reads it never writes a config libctr refuses, and the lists
 * come from the parser's own tables, so a name added there shows up here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "spec.h"

static json_t *features(void)
{
    char *text = ctr_features_json();
    assert_non_null(text);
    json_error_t jerr;
    json_t *doc = json_loads(text, 0, &jerr);
    if (doc == NULL)
        fail_msg("ctr_features_json() is not JSON: %s", jerr.text);
    free(text);
    return doc;
}

static json_t *list_at(json_t *doc, const char *a, const char *b, const char *c)
{
    json_t *v = json_object_get(doc, a);
    if (b)
        v = json_object_get(v, b);
    if (c)
        v = json_object_get(v, c);
    if (!json_is_array(v) || json_array_size(v) == 0)
        fail_msg("features: %s%s%s%s%s is not a non-empty list", a, b ? "." : "", b ? b : "",
                 c ? "." : "", c ? c : "");
    return v;
}

/* A minimal config with `fragment` merged in, its `%s` replaced by `name`. */
static bool loads(const char *fragment, const char *name, char **why)
{
    char patch[1024];
    const char *hole = strstr(fragment, "%s");
    assert_non_null(hole);
    snprintf(patch, sizeof(patch), "%.*s%s%s", (int)(hole - fragment), fragment, name, hole + 2);
    json_error_t jerr;
    json_t *doc = json_pack("{s:s, s:{s:s}}", "ociVersion", "1.2.0", "root", "path", "rootfs");
    json_t *extra = json_loads(patch, 0, &jerr);
    if (extra == NULL)
        fail_msg("bad fragment in the test: %s: %s", patch, jerr.text);
    json_object_update_recursive(doc, extra);
    json_decref(extra);
    char *text = json_dumps(doc, 0);
    json_decref(doc);
    struct ctr_spec *spec = NULL;
    ctr_error *err = NULL;
    int r = ctr_spec_load_data(text, strlen(text), "config.json", &spec, &err);
    free(text);
    if (r < 0) {
        *why = strdup(ctr_error_message(err));
        ctr_error_free(err);
        return false;
    }
    ctr_spec_free(spec);
    return true;
}

static void each_is_taken(json_t *names, const char *fragment)
{
    size_t i;
    json_t *v;
    json_array_foreach(names, i, v) {
        char *why = NULL;
        if (!loads(fragment, json_string_value(v), &why))
            fail_msg("features lists `%s`, which the parser refuses: %s", json_string_value(v),
                     why);
    }
}

static void every_listed_name_is_taken(void **state)
{
    json_t *doc = features();
    assert_string_equal(json_string_value(json_object_get(doc, "ociVersionMax")),
                        ctr_oci_spec_version());
    /* A new user namespace also needs its mappings, which the others refuse. */
    static const char *const with_mappings =
        "{\"linux\": {\"namespaces\": [{\"type\": \"%s\"}], \"uidMappings\": [{\"containerID\":"
        " 0, \"hostID\": 1, \"size\": 1}], \"gidMappings\": [{\"containerID\": 0, \"hostID\": 1,"
        " \"size\": 1}]}}";
    size_t i;
    json_t *ns;
    json_array_foreach(list_at(doc, "linux", "namespaces", NULL), i, ns) {
        json_t *one = json_pack("[O]", ns);
        bool user = strcmp(json_string_value(ns), "user") == 0;
        each_is_taken(one, user ? with_mappings
                                : "{\"linux\": {\"namespaces\": [{\"type\": \"%s\"}]}}");
        json_decref(one);
    }
    each_is_taken(list_at(doc, "hooks", NULL, NULL),
                  "{\"hooks\": {\"%s\": [{\"path\": \"/bin/true\"}]}}");
    each_is_taken(list_at(doc, "mountOptions", NULL, NULL),
                  "{\"mounts\": [{\"destination\": \"/m\", \"type\": \"bind\", \"source\": \"/s\","
                  " \"options\": [\"%s\"], \"uidMappings\": [{\"containerID\": 0, \"hostID\": 1,"
                  " \"size\": 1}], \"gidMappings\": [{\"containerID\": 0, \"hostID\": 1,"
                  " \"size\": 1}]}]}");
    each_is_taken(list_at(doc, "linux", "capabilities", NULL),
                  "{\"process\": {\"cwd\": \"/\", \"args\": [\"sh\"], \"user\": {\"uid\": 0,"
                  " \"gid\": 0}, \"capabilities\": {\"bounding\": [\"%s\"]}}}");
    each_is_taken(list_at(doc, "linux", "seccomp", "actions"),
                  "{\"linux\": {\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ERRNO\","
                  " \"listenerPath\": \"/run/agent.sock\", \"syscalls\": [{\"names\": [\"kill\"],"
                  " \"action\": \"%s\"}]}}}");
    each_is_taken(list_at(doc, "linux", "seccomp", "operators"),
                  "{\"linux\": {\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\":"
                  " [{\"names\": [\"kill\"], \"action\": \"SCMP_ACT_ERRNO\", \"args\":"
                  " [{\"index\": 0, \"value\": 1, \"op\": \"%s\"}]}]}}}");
    each_is_taken(list_at(doc, "linux", "seccomp", "knownFlags"),
                  "{\"linux\": {\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\","
                  " \"flags\": [\"%s\"]}}}");
    each_is_taken(list_at(doc, "linux", "seccomp", "archs"),
                  "{\"linux\": {\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\","
                  " \"architectures\": [\"%s\"]}}}");
    json_decref(doc);
}

/* The lists are the parser's: its namespaces and hooks in full, its OCI mount extras and
 * libmount's flags both, and a name the parser refuses is not there. */
static void the_lists_are_the_parsers(void **state)
{
    json_t *doc = features();
    assert_int_equal(json_array_size(list_at(doc, "linux", "namespaces", NULL)), NS_TYPE_COUNT);
    size_t hooks = 0;
    while (spec_hook_name(hooks))
        hooks++;
    assert_int_equal(json_array_size(list_at(doc, "hooks", NULL, NULL)), hooks);
    json_t *options = list_at(doc, "mountOptions", NULL, NULL);
    bool rbind = false, noexec = false, bogus = false;
    size_t i;
    json_t *v;
    json_array_foreach(options, i, v) {
        rbind |= strcmp(json_string_value(v), "rbind") == 0;
        noexec |= strcmp(json_string_value(v), "noexec") == 0;
        bogus |= strcmp(json_string_value(v), "nosuchoption") == 0;
    }
    assert_true(rbind && noexec && !bogus);
    char *why = NULL;
    assert_false(loads("{\"linux\": {\"namespaces\": [{\"type\": \"%s\"}]}}", "nosuchns", &why));
    free(why);
    json_decref(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_listed_name_is_taken),
        cmocka_unit_test(the_lists_are_the_parsers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
