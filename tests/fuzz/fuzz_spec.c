/* libFuzzer target: config.json parsing and validation (libctr/spec*.c), fed any bytes.
 *
 * Each input goes through the three ways JSON reaches the spec parser:
 *  - ctr_spec_load_data(): a whole config.json (parse, every section, spec_validate);
 *  - spec_parse_process(): the process.json of `exec`, on the input taken as a process object;
 *  - spec_parse_resources(): the body of `update --resources`, taken as a resources object.
 * Beyond the sanitizers, two properties are checked:
 *  - an error is one line (the messages end up in managers' log files as JSON lines; spec_json.c
 *    escapes control characters for that);
 *  - libctr reads the integers above INT64_MAX that jansson refuses (spec_json.c rewrites them
 *    and parses again), but otherwise agrees with jansson reading integers as reals, which takes
 *    any size: an accepted config.json is valid JSON, and a syntax error is reported at the same
 *    line and column.
 *
 *   tests/fuzz/run.sh            (builds build-fuzz with clang and runs every target)
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_error(ctr_error *err)
{
    const char *message = ctr_error_message(err);
    if (message == NULL || *message == '\0' || strchr(message, '\n')) {
        fprintf(stderr, "fuzz_spec: bad error message: \"%s\"\n", message ? message : "(null)");
        abort();
    }
    ctr_error_free(err);
}

/* `message` is libctr's error for the document, NULL when it was accepted. */
static void compare_with_jansson(const uint8_t *data, size_t size, const char *message)
{
    json_error_t jerr;
    json_t *strict = json_loadb((const char *)data, size,
                                JSON_REJECT_DUPLICATES | JSON_DECODE_INT_AS_REAL | JSON_ALLOW_NUL,
                                &jerr);
    json_decref(strict);
    if (message == NULL && strict == NULL) {
        fprintf(stderr, "fuzz_spec: accepted a config that is not JSON: %s\n", jerr.text);
        abort();
    }
    /* Only syntax errors carry a position; integers out of range and \u0000 (which libctr's
     * first reading refuses) stop libctr earlier than the reference, rightly. A raw NUL byte
     * (no JSON text has one) is refused both ways, but jansson's lexer places it differently
     * after the rewritten integers (a string) than after the original ones (a number). */
    static const char syntax[] = "config.json: line ";
    if (message == NULL || strict != NULL || strncmp(message, syntax, sizeof(syntax) - 1) != 0 ||
        strstr(message, "too big") || strstr(message, "JSON_ALLOW_NUL") || memchr(data, 0, size))
        return;
    char where[64];
    snprintf(where, sizeof(where), "config.json: line %d, column %d:", jerr.line, jerr.column);
    if (strncmp(message, where, strlen(where)) != 0) {
        fprintf(stderr, "fuzz_spec: \"%s\", but jansson says line %d, column %d: %s\n", message,
                jerr.line, jerr.column, jerr.text);
        abort();
    }
}

/* A spec with nothing but an arena, as `update` parses resources (container_ops.c). */
static void parse_alone(json_t *json)
{
    struct ctr_spec scratch = {.arena = arena_new()};
    if (scratch.arena == NULL)
        return;
    ctr_error *err = NULL;
    struct spec_process process = {0};
    if (spec_parse_process(&scratch, json, "process", &process, &err) < 0)
        check_error(err);
    err = NULL;
    struct spec_resources resources = {0};
    if (spec_parse_resources(&scratch, json, "resources", &resources, &err) < 0)
        check_error(err);
    arena_free(scratch.arena);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ctr_spec *spec = NULL;
    ctr_error *err = NULL;
    int loaded = ctr_spec_load_data((const char *)data, size, "config.json", &spec, &err);
    ctr_spec_free(spec);
    compare_with_jansson(data, size, loaded == 0 ? NULL : ctr_error_message(err));
    if (loaded < 0)
        check_error(err);

    json_t *json = json_loadb((const char *)data, size, 0, NULL);
    if (json_is_object(json))
        parse_alone(json);
    json_decref(json);
    return 0;
}
