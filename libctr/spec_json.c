/* Typed getters over jansson that carry the JSON path of each value (see spec_json.h). */
#include "spec_json.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "id_list.h"
#include "util.h"

/* ---- JSON paths ---------------------------------------------------------------------------------- */

/* Control characters from the document (a key or value quoted in a message) would break the
 * one-line form of messages that end up in log files: write them as JSON escapes. */
static void print_escaped(FILE *f, const char *s, bool quotes)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (quotes && (c == '"' || c == '\\'))
            fprintf(f, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", f);
        else if (c == '\t')
            fputs("\\t", f);
        else if (c < 0x20 || c == 0x7f)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
}

static void print_path(FILE *f, const struct jpath *p)
{
    if (p == NULL)
        return;
    print_path(f, p->parent);
    switch (p->kind) {
    case JPATH_ROOT:
        if (p->key)
            fputs(p->key, f);
        break;
    case JPATH_KEY:
        if (ftell(f) > 0)
            fputc('.', f);
        fputs(p->key, f);
        break;
    case JPATH_INDEX:
        fprintf(f, "[%zu]", p->index);
        break;
    case JPATH_MAP_KEY:
        fputs("[\"", f);
        print_escaped(f, p->key, true);
        fputs("\"]", f);
        break;
    }
}

/* The path as text ("linux.sysctl[\"net.ipv4.ip_forward\"]"); malloc'd, NULL when out of memory. */
static char *jpath_format(const struct jpath *path)
{
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    if (f == NULL)
        return NULL;
    print_path(f, path);
    if (fclose(f) != 0) {
        free(text);
        return NULL;
    }
    return text;
}

/* Sets *err to "<path>: <problem>", the problem's control characters escaped. */
static int path_error(ctr_error **err, const struct jpath *path, const char *problem)
{
    _cleanup_free_ char *where = jpath_format(path);
    _cleanup_free_ char *line = NULL;
    size_t size = 0;
    FILE *f = where ? open_memstream(&line, &size) : NULL;
    if (f == NULL)
        return error_set(err, ENOMEM, "%s", problem);
    if (*where)
        fprintf(f, "%s: ", where);
    print_escaped(f, problem, false);
    if (fclose(f) != 0)
        return error_set(err, ENOMEM, "%s", problem);
    return error_invalid(err, "%s", line);
}

int jpath_error(ctr_error **err, const struct jpath *path, const char *fmt, ...)
{
    _cleanup_free_ char *problem = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&problem, fmt, ap);
    va_end(ap);
    if (n < 0) {
        problem = NULL;
        return error_set(err, ENOMEM, "out of memory while reporting an error");
    }
    return path_error(err, path, problem);
}

/* Sets *err to "<path>.<key>: required field missing". Returns -1. */
static int jmissing(ctr_error **err, const struct jpath *path, const char *key)
{
    struct jpath at = JPATH_KEY(path, key);
    return jpath_error(err, &at, "required field missing");
}

int jpath_out_of_memory(ctr_error **err, const struct jpath *at)
{
    _cleanup_free_ char *where = jpath_format(at);
    if (where == NULL || *where == '\0')
        return error_set(err, ENOMEM, "config");
    return error_set(err, ENOMEM, "%s", where);
}

/* ---- the document -------------------------------------------------------------------------------- */

/* jansson stores integers as int64 and rejects larger ones, but the spec has uint64 fields whose
 * natural values are above INT64_MAX (RLIM_INFINITY as podman writes it for `--ulimit x=-1`,
 * seccomp argument masks). Those literals are rewritten as strings starting with a NUL byte, which
 * no real string field accepts (see jval_string) and jval_uint64 reads back. */
static const char big_integer_marker[] = "\0u64:";
#define BIG_INTEGER_MARKER_LEN (sizeof(big_integer_marker) - 1)

static bool is_big_integer(const json_t *value)
{
    return json_is_string(value) && json_string_length(value) > BIG_INTEGER_MARKER_LEN &&
           memcmp(json_string_value(value), big_integer_marker, BIG_INTEGER_MARKER_LEN) == 0;
}

/* Is the integer literal `digits` (n characters) above INT64_MAX but within UINT64_MAX? */
static bool needs_marker(const char *digits, size_t n)
{
    static const char int64_max[] = "9223372036854775807", uint64_max[] = "18446744073709551615";
    bool above_int64 = n > sizeof(int64_max) - 1 ||
                       (n == sizeof(int64_max) - 1 && memcmp(digits, int64_max, n) > 0);
    bool within_uint64 = n < sizeof(uint64_max) - 1 ||
                         (n == sizeof(uint64_max) - 1 && memcmp(digits, uint64_max, n) <= 0);
    return above_int64 && within_uint64;
}

/* The rewritten form of a literal, and how many characters longer than the literal it is. */
#define BIG_INTEGER_FORMAT "\"\\u0000u64:%.*s\""
#define BIG_INTEGER_GROWTH (sizeof("\"\\u0000u64:\"") - 1)

/* Copies `data` into *out with the big integer literals outside strings marked, and their
 * offsets in *out into *marks (ascending). *out and *marks stay NULL when there was none. */
static int mark_big_integers(const char *data, size_t len, char **out, size_t *out_len,
                             size_t **marks, size_t *marks_count)
{
    _cleanup_free_ char *text = NULL;
    _cleanup_free_ size_t *offsets = NULL;
    size_t size = 0, count = 0, capacity = 0;
    FILE *f = open_memstream(&text, &size);
    if (f == NULL)
        return -1;
    bool in_string = false;
    for (size_t i = 0; i < len;) {
        char c = data[i];
        if (in_string) {
            size_t n = (c == '\\' && i + 1 < len) ? 2 : 1;
            if (c == '"')
                in_string = false;
            fwrite(data + i, 1, n, f);
            i += n;
            continue;
        }
        if (c == '"') {
            in_string = true;
        } else if (c == '-' || isdigit((unsigned char)c)) {
            size_t end = i + 1;
            bool integer = c != '-';
            while (end < len && data[end] != '\0' &&
                   (isdigit((unsigned char)data[end]) || strchr(".eE+-", data[end]))) {
                if (!isdigit((unsigned char)data[end]))
                    integer = false;
                end++;
            }
            /* "0" followed by digits is no JSON number: left as it is, jansson refuses it, as
             * it would have without the big integer that brought us here. */
            if (integer && c != '0' && needs_marker(data + i, end - i)) {
                long at = ftell(f);
                if (count == capacity) {
                    capacity = capacity ? 2 * capacity : 8;
                    size_t *grown = realloc(offsets, capacity * sizeof(*offsets));
                    if (grown == NULL)
                        at = -1;
                    else
                        offsets = grown;
                }
                if (at < 0) {
                    fclose(f);
                    return -1;
                }
                offsets[count++] = (size_t)at;
                fprintf(f, BIG_INTEGER_FORMAT, (int)(end - i), data + i);
            } else {
                fwrite(data + i, 1, end - i, f);
            }
            i = end;
            continue;
        }
        fputc(c, f);
        i++;
    }
    if (fclose(f) != 0)
        return -1;
    if (count > 0) {
        *out = steal_pointer(&text);
        *out_len = size;
        *marks = steal_pointer(&offsets);
        *marks_count = count;
    }
    return 0;
}

/* A syntax error found in the rewritten text is reported where it is in the original: on its
 * line, each literal rewritten before it pushed it BIG_INTEGER_GROWTH columns to the right. */
static void locate_in_original(json_error_t *jerr, const char *marked, const size_t *marks,
                               size_t count)
{
    int line = 1;
    size_t i = 0;
    for (size_t m = 0; m < count && jerr->position >= 0 && marks[m] < (size_t)jerr->position;
         m++) {
        for (; i < marks[m]; i++)
            line += marked[i] == '\n';
        if (line == jerr->line)
            jerr->column -= (int)BIG_INTEGER_GROWTH;
    }
}

static int syntax_error(ctr_error **err, const json_error_t *jerr)
{
    struct jpath root = JPATH_AT(NULL);
    if (jerr->line > 0)
        return jpath_error(err, &root, "line %d, column %d: %s", jerr->line, jerr->column,
                           jerr->text);
    return jpath_error(err, &root, "%s", jerr->text);
}

int spec_json_load(const char *data, size_t len, json_t **out, ctr_error **err)
{
    /* Duplicate keys are refused: two tools reading the same file must not see two configs. */
    json_error_t jerr;
    json_t *root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL && json_error_code(&jerr) == json_error_numeric_overflow) {
        _cleanup_free_ char *marked = NULL;
        _cleanup_free_ size_t *marks = NULL;
        size_t marked_len = 0, marks_count = 0;
        if (mark_big_integers(data, len, &marked, &marked_len, &marks, &marks_count) < 0)
            return error_set(err, ENOMEM, "parse JSON");
        if (marked != NULL) {
            json_error_t again;
            root = json_loadb(marked, marked_len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &again);
            if (root == NULL) {
                jerr = again;
                locate_in_original(&jerr, marked, marks, marks_count);
            }
        }
    }
    if (root == NULL)
        return syntax_error(err, &jerr);
    *out = root;
    return 0;
}

/* "object", "array", "string", "integer", "real number", "boolean" or "null". */
static const char *json_kind(const json_t *value)
{
    switch (json_typeof(value)) {
    case JSON_OBJECT:
        return "object";
    case JSON_ARRAY:
        return "array";
    case JSON_STRING:
        return is_big_integer(value) ? "integer" : "string";
    case JSON_INTEGER:
        return "integer";
    case JSON_REAL:
        return "real number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "boolean";
    case JSON_NULL:
        break;
    }
    return "null";
}

/* ---- values ---------------------------------------------------------------------------------------- */

int jval_object(json_t *value, const struct jpath *at, ctr_error **err)
{
    if (!json_is_object(value))
        return jpath_error(err, at, "expected an object, got %s", json_kind(value));
    return 0;
}

static int jval_array(json_t *value, const struct jpath *at, ctr_error **err)
{
    if (!json_is_array(value))
        return jpath_error(err, at, "expected an array, got %s", json_kind(value));
    return 0;
}

int jval_borrow_string(json_t *value, const struct jpath *at, const char **out, ctr_error **err)
{
    if (!json_is_string(value) || is_big_integer(value))
        return jpath_error(err, at, "expected a string, got %s", json_kind(value));
    const char *s = json_string_value(value);
    /* Every string ends up in a C API (a path, execve, a cgroup file) that would cut it short. */
    if (strlen(s) != json_string_length(value))
        return jpath_error(err, at, "must not contain a NUL character");
    *out = s;
    return 0;
}

int jval_string(struct ctr_spec *spec, json_t *value, const struct jpath *at, char **out,
                ctr_error **err)
{
    const char *s;
    if (jval_borrow_string(value, at, &s, err) < 0)
        return -1;
    char *copy = spec_strdup(spec, s, at, err);
    if (copy == NULL)
        return -1;
    *out = copy;
    return 0;
}

int jval_int64(json_t *value, const struct jpath *at, int64_t min, int64_t max, int64_t *out,
               ctr_error **err)
{
    if (is_big_integer(value))
        return jpath_error(err, at, "must be between %" PRId64 " and %" PRId64 ", got %s", min,
                           max, json_string_value(value) + BIG_INTEGER_MARKER_LEN);
    if (!json_is_integer(value))
        return jpath_error(err, at, "expected an integer, got %s", json_kind(value));
    int64_t v = json_integer_value(value);
    if (v < min || v > max)
        return jpath_error(err, at, "must be between %" PRId64 " and %" PRId64 ", got %" PRId64,
                           min, max, v);
    *out = v;
    return 0;
}

int jval_uint64(json_t *value, const struct jpath *at, uint64_t max, uint64_t *out, ctr_error **err)
{
    uint64_t v;
    if (is_big_integer(value)) {
        v = strtoull(json_string_value(value) + BIG_INTEGER_MARKER_LEN, NULL, 10);
    } else if (json_is_integer(value)) {
        int64_t signed_value = json_integer_value(value);
        if (signed_value < 0)
            return jpath_error(err, at, "must be between 0 and %" PRIu64 ", got %" PRId64, max,
                               signed_value);
        v = (uint64_t)signed_value;
    } else {
        return jpath_error(err, at, "expected an integer, got %s", json_kind(value));
    }
    if (v > max)
        return jpath_error(err, at, "must be between 0 and %" PRIu64 ", got %" PRIu64, max, v);
    *out = v;
    return 0;
}

int jval_key(struct ctr_spec *spec, const char *key, size_t key_len, const struct jpath *at,
             char **out, ctr_error **err)
{
    if (key_len == 0)
        return jpath_error(err, at, "keys must not be empty");
    if (strlen(key) != key_len)
        return jpath_error(err, at, "keys must not contain a NUL character");
    char *copy = spec_strdup(spec, key, at, err);
    if (copy == NULL)
        return -1;
    *out = copy;
    return 0;
}

int jval_name(json_t *value, const struct jpath *at, const struct jname *table, size_t count,
              const char *what, long *out, ctr_error **err)
{
    const char *name;
    if (jval_borrow_string(value, at, &name, err) < 0)
        return -1;
    for (size_t i = 0; i < count; i++) {
        if (strcmp(table[i].name, name) == 0) {
            *out = table[i].value;
            return 0;
        }
    }
    return jpath_error(err, at, "unknown %s \"%s\"", what, name);
}

/* ---- members ------------------------------------------------------------------------------------- */

/* The member `key` of `obj`, or NULL when it is absent or null. */
static json_t *member(json_t *obj, const char *key)
{
    json_t *value = json_object_get(obj, key);
    return value && !json_is_null(value) ? value : NULL;
}

static int absent(ctr_error **err, const struct jpath *path, const char *key, int flags)
{
    return (flags & J_REQUIRED) ? jmissing(err, path, key) : 0;
}

int jget_object(json_t *obj, const struct jpath *path, const char *key, int flags, json_t **out,
                ctr_error **err)
{
    json_t *value = member(obj, key);
    if (value == NULL)
        return absent(err, path, key, flags);
    struct jpath at = JPATH_KEY(path, key);
    if (jval_object(value, &at, err) < 0)
        return -1;
    *out = value;
    return 1;
}

int jget_array(json_t *obj, const struct jpath *path, const char *key, int flags, json_t **out,
               ctr_error **err)
{
    json_t *value = member(obj, key);
    if (value == NULL)
        return absent(err, path, key, flags);
    struct jpath at = JPATH_KEY(path, key);
    if (jval_array(value, &at, err) < 0)
        return -1;
    *out = value;
    return 1;
}

int jget_string(struct ctr_spec *spec, json_t *obj, const struct jpath *path, const char *key,
                int flags, char **out, ctr_error **err)
{
    json_t *value = member(obj, key);
    if (value == NULL)
        return absent(err, path, key, flags);
    struct jpath at = JPATH_KEY(path, key);
    return jval_string(spec, value, &at, out, err) < 0 ? -1 : 1;
}

int jget_bool(json_t *obj, const struct jpath *path, const char *key, int flags, bool *out,
              ctr_error **err)
{
    json_t *value = member(obj, key);
    if (value == NULL)
        return absent(err, path, key, flags);
    if (!json_is_boolean(value)) {
        struct jpath at = JPATH_KEY(path, key);
        return jpath_error(err, &at, "expected a boolean, got %s", json_kind(value));
    }
    *out = json_is_true(value);
    return 1;
}

int jget_int64(json_t *obj, const struct jpath *path, const char *key, int flags, int64_t min,
               int64_t max, int64_t *out, ctr_error **err)
{
    json_t *value = member(obj, key);
    if (value == NULL)
        return absent(err, path, key, flags);
    struct jpath at = JPATH_KEY(path, key);
    return jval_int64(value, &at, min, max, out, err) < 0 ? -1 : 1;
}

int jget_uint64(json_t *obj, const struct jpath *path, const char *key, int flags, uint64_t max,
                uint64_t *out, ctr_error **err)
{
    json_t *value = member(obj, key);
    if (value == NULL)
        return absent(err, path, key, flags);
    struct jpath at = JPATH_KEY(path, key);
    return jval_uint64(value, &at, max, out, err) < 0 ? -1 : 1;
}

int jget_name(json_t *obj, const struct jpath *path, const char *key, int flags,
              const struct jname *table, size_t count, const char *what, long *out,
              ctr_error **err)
{
    json_t *value = member(obj, key);
    if (value == NULL)
        return absent(err, path, key, flags);
    struct jpath at = JPATH_KEY(path, key);
    return jval_name(value, &at, table, count, what, out, err) < 0 ? -1 : 1;
}

int jget_opt_int64(json_t *obj, const struct jpath *path, const char *key, int64_t min,
                   int64_t max, opt_int64 *out, ctr_error **err)
{
    int r = jget_int64(obj, path, key, J_OPTIONAL, min, max, &out->value, err);
    out->set = r > 0;
    return r;
}

int jget_opt_uint64(json_t *obj, const struct jpath *path, const char *key, uint64_t max,
                    opt_uint64 *out, ctr_error **err)
{
    int r = jget_uint64(obj, path, key, J_OPTIONAL, max, &out->value, err);
    out->set = r > 0;
    return r;
}

int jget_opt_bool(json_t *obj, const struct jpath *path, const char *key, opt_bool *out,
                  ctr_error **err)
{
    int r = jget_bool(obj, path, key, J_OPTIONAL, &out->value, err);
    out->set = r > 0;
    return r;
}

int jget_abs_path(struct ctr_spec *spec, json_t *obj, const struct jpath *path, const char *key,
                  int flags, char **out, ctr_error **err)
{
    char *value = NULL;
    int r = jget_string(spec, obj, path, key, flags, &value, err);
    if (r <= 0)
        return r;
    if (value[0] != '/') {
        struct jpath at = JPATH_KEY(path, key);
        return jpath_error(err, &at, "must be an absolute path, got \"%s\"", value);
    }
    *out = value;
    return 1;
}

int jget_string_list(struct ctr_spec *spec, json_t *obj, const struct jpath *path, const char *key,
                     int flags, struct string_list *out, ctr_error **err)
{
    json_t *array = NULL;
    int r = jget_array(obj, path, key, flags, &array, err);
    if (r <= 0)
        return r;
    struct jpath at = JPATH_KEY(path, key);
    size_t count = json_array_size(array);
    char **items = spec_alloc(spec, count + 1, sizeof(*items), &at, err);
    if (items == NULL)
        return -1;
    for (size_t i = 0; i < count; i++) {
        struct jpath item = JPATH_INDEX(&at, i);
        if (jval_string(spec, json_array_get(array, i), &item, &items[i], err) < 0)
            return -1;
    }
    out->items = items;
    out->count = count;
    return 1;
}

int jget_env(struct ctr_spec *spec, json_t *obj, const struct jpath *path, const char *key,
             struct string_list *out, ctr_error **err)
{
    struct string_list env = {0};
    int r = jget_string_list(spec, obj, path, key, J_OPTIONAL, &env, err);
    if (r <= 0)
        return r;
    struct jpath at = JPATH_KEY(path, key);
    for (size_t i = 0; i < env.count; i++) {
        const char *equals = strchr(env.items[i], '=');
        if (equals == NULL || equals == env.items[i]) {
            struct jpath item = JPATH_INDEX(&at, i);
            return jpath_error(err, &item, "expected \"KEY=value\", got \"%s\"", env.items[i]);
        }
    }
    *out = env;
    return 1;
}

int jget_id_list(struct ctr_spec *spec, json_t *obj, const struct jpath *path, const char *key,
                 const char *what, char **out, ctr_error **err)
{
    char *list = NULL;
    int r = jget_string(spec, obj, path, key, J_OPTIONAL, &list, err);
    if (r <= 0 || list[0] == '\0')
        return r < 0 ? -1 : 0;
    struct id_list_fault fault;
    if (id_list_walk(list, NULL, NULL, &fault) < 0) {
        struct jpath at = JPATH_KEY(path, key);
        if (fault.kind == ID_LIST_TOO_BIG)
            return jpath_error(err, &at, "ids must be below %d, got \"%s\"", ID_LIST_MAX, list);
        return jpath_error(err, &at, "expected a %s such as \"0-3,7\", got \"%s\"", what, list);
    }
    *out = list;
    return 1;
}

/* ---- memory ---------------------------------------------------------------------------------------- */

void *spec_alloc(struct ctr_spec *spec, size_t count, size_t size, const struct jpath *at,
                 ctr_error **err)
{
    size_t total;
    if (__builtin_mul_overflow(count, size, &total)) {
        jpath_out_of_memory(err, at);
        return NULL;
    }
    void *p = arena_alloc(spec->arena, total ? total : 1);
    if (p == NULL)
        jpath_out_of_memory(err, at);
    return p;
}

char *spec_strdup(struct ctr_spec *spec, const char *s, const struct jpath *at, ctr_error **err)
{
    char *copy = arena_strdup(spec->arena, s);
    if (copy == NULL)
        jpath_out_of_memory(err, at);
    return copy;
}

/* ---- value formats --------------------------------------------------------------------------------- */

bool spec_valid_ifname(const char *s)
{
    size_t len = strlen(s);
    if (len == 0 || len >= 16 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
        return false;
    for (; *s; s++) {
        if (*s == '/' || *s == ':' || isspace((unsigned char)*s))
            return false;
    }
    return true;
}
