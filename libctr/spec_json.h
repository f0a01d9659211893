/* Typed access to config.json values that knows where each value sits, so every error names its
 * JSON path (`linux.namespaces[2].type: unknown namespace "foo"`), plus the entry points the
 * spec_*.c modules call on each other. Internal to the spec_*.c files.
 *
 * Conventions of the getters (they follow the runtime-spec's reading of a document):
 *  - a member that is absent, or JSON null (what Go's encoding/json, which wrote most configs in
 *    the wild, treats as "not set"), is "absent": the getter returns 0 and leaves *out alone, or
 *    fails with "required field missing" when called with J_REQUIRED;
 *  - a member of the wrong JSON type is an error ("expected an integer, got string"), and so is an
 *    integer outside the range of the struct field it lands in;
 *  - a present, valid member is stored and the getter returns 1; errors return -1;
 *  - strings are copied into the spec's arena, so the parsed structs do not depend on the
 *    lifetime of the json_t they came from (spec_parse_process also reads exec's process.json).
 */
#ifndef LIBCTR_SPEC_JSON_H
#define LIBCTR_SPEC_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "spec.h"

/* ---- JSON paths ---------------------------------------------------------------------------------- */

enum jpath_kind {
    JPATH_ROOT,    /* the start: `key` is a prefix as is ("process"), or NULL or "" for none */
    JPATH_KEY,     /* .key of an object defined by the spec */
    JPATH_INDEX,   /* [index] of an array */
    JPATH_MAP_KEY, /* ["key"] of a free-form map (annotations, sysctl, ...) */
};

/* One step of a path. Paths live on the stack as a chain to the parent and are only formatted when
 * an error is reported, so walking a large seccomp profile costs no allocation. */
struct jpath {
    const struct jpath *parent;
    enum jpath_kind kind;
    const char *key;
    size_t index;
};

#define JPATH_AT(prefix) ((struct jpath){.parent = NULL, .kind = JPATH_ROOT, .key = (prefix)})
#define JPATH_KEY(p, k) ((struct jpath){.parent = (p), .kind = JPATH_KEY, .key = (k)})
#define JPATH_INDEX(p, i) ((struct jpath){.parent = (p), .kind = JPATH_INDEX, .index = (i)})
#define JPATH_MAP_KEY(p, k) ((struct jpath){.parent = (p), .kind = JPATH_MAP_KEY, .key = (k)})

/* Sets *err to "<path>: <formatted problem>" (just the problem when the path is empty).
 * Returns -1. */
int jpath_error(ctr_error **err, const struct jpath *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Sets *err to ENOMEM with the path. Returns -1. */
int jpath_out_of_memory(ctr_error **err, const struct jpath *at);

/* ---- the document -------------------------------------------------------------------------------- */

/* Parses a whole JSON text. Syntax errors read "line 3, column 5: <jansson's text>". Integers above
 * INT64_MAX (uint64 fields such as an unlimited rlimit, 18446744073709551615) are kept: jansson
 * cannot hold them as integers, so they become marked strings that only jval_uint64() accepts. */
int spec_json_load(const char *data, size_t len, json_t **out, ctr_error **err);

/* ---- values ---------------------------------------------------------------------------------------- */

/* Type checks of a value (an array element, a map value). */
int jval_object(json_t *value, const struct jpath *at, ctr_error **err);
int jval_string(struct ctr_spec *spec, json_t *value, const struct jpath *at, char **out,
                ctr_error **err);
/* The same without the copy: *out points into `value`, for names that are looked up at once. */
int jval_borrow_string(json_t *value, const struct jpath *at, const char **out, ctr_error **err);
int jval_int64(json_t *value, const struct jpath *at, int64_t min, int64_t max, int64_t *out,
               ctr_error **err);
int jval_uint64(json_t *value, const struct jpath *at, uint64_t max, uint64_t *out, ctr_error **err);

/* A key of a free-form map (annotations, sysctl...) found at `at`, copied to *out. Empty keys are
 * refused (the spec says so of annotations; no other map has a use for one), and so are NULs. */
int jval_key(struct ctr_spec *spec, const char *key, size_t key_len, const struct jpath *at,
             char **out, ctr_error **err);

/* A name from a fixed vocabulary (namespace types, seccomp actions...). An unknown name fails with
 * `unknown <what> "<name>"`. */
struct jname {
    const char *name;
    long value;
};
int jval_name(json_t *value, const struct jpath *at, const struct jname *table, size_t count,
              const char *what, long *out, ctr_error **err);

/* ---- members ------------------------------------------------------------------------------------- */

enum { J_OPTIONAL = 0, J_REQUIRED = 1 };

/* `obj` must be an object (checked by the caller); `path` is its path. See the top of the file for
 * the return values. */
int jget_object(json_t *obj, const struct jpath *path, const char *key, int flags, json_t **out,
                ctr_error **err);
int jget_array(json_t *obj, const struct jpath *path, const char *key, int flags, json_t **out,
               ctr_error **err);
int jget_string(struct ctr_spec *spec, json_t *obj, const struct jpath *path, const char *key,
                int flags, char **out, ctr_error **err);
int jget_bool(json_t *obj, const struct jpath *path, const char *key, int flags, bool *out,
              ctr_error **err);
int jget_int64(json_t *obj, const struct jpath *path, const char *key, int flags, int64_t min,
               int64_t max, int64_t *out, ctr_error **err);
int jget_uint64(json_t *obj, const struct jpath *path, const char *key, int flags, uint64_t max,
                uint64_t *out, ctr_error **err);
int jget_name(json_t *obj, const struct jpath *path, const char *key, int flags,
              const struct jname *table, size_t count, const char *what, long *out,
              ctr_error **err);
/* The same into the spec's optional scalars, `set` telling whether the member was there. */
int jget_opt_int64(json_t *obj, const struct jpath *path, const char *key, int64_t min,
                   int64_t max, opt_int64 *out, ctr_error **err);
int jget_opt_uint64(json_t *obj, const struct jpath *path, const char *key, uint64_t max,
                    opt_uint64 *out, ctr_error **err);
int jget_opt_bool(json_t *obj, const struct jpath *path, const char *key, opt_bool *out,
                  ctr_error **err);
/* A string that must be an absolute path. */
int jget_abs_path(struct ctr_spec *spec, json_t *obj, const struct jpath *path, const char *key,
                  int flags, char **out, ctr_error **err);
/* An array of strings, NULL-terminated in `out->items`. */
int jget_string_list(struct ctr_spec *spec, json_t *obj, const struct jpath *path, const char *key,
                     int flags, struct string_list *out, ctr_error **err);
/* An array of "KEY=value" strings (an environment, as IEEE Std 1003.1 `environ` holds it). */
int jget_env(struct ctr_spec *spec, json_t *obj, const struct jpath *path, const char *key,
             struct string_list *out, ctr_error **err);
/* A CPU or memory-node list as the kernel's cpuset files take it ("0-3,7"). An empty one is
 * absent, as Go writers cannot tell the two apart. A malformed one fails with
 * `expected a <what> such as "0-3,7", got "<value>"`. */
int jget_id_list(struct ctr_spec *spec, json_t *obj, const struct jpath *path, const char *key,
                 const char *what, char **out, ctr_error **err);

/* ---- memory ---------------------------------------------------------------------------------------- */

/* Zeroed room for `count` elements in the spec's arena; ENOMEM (with the path) on failure. */
void *spec_alloc(struct ctr_spec *spec, size_t count, size_t size, const struct jpath *at,
                 ctr_error **err);
char *spec_strdup(struct ctr_spec *spec, const char *s, const struct jpath *at, ctr_error **err);

/* ---- value formats --------------------------------------------------------------------------------- */

/* A network interface name the kernel accepts (dev_valid_name): 1..15 bytes, not "." or "..",
 * no '/', ':' or white space. */
bool spec_valid_ifname(const char *s);

/* ---- the parts of the document, one module each ------------------------------------------------- */

/* spec_process.c */
int spec_parse_process_at(struct ctr_spec *spec, json_t *json, const struct jpath *path,
                          struct spec_process *out, ctr_error **err);
/* spec_mounts.c: the top-level `mounts` array of `doc`, when there is one. */
int spec_parse_mounts(struct ctr_spec *spec, json_t *doc, const struct jpath *path,
                      ctr_error **err);
/* spec_linux.c */
int spec_parse_linux(struct ctr_spec *spec, json_t *json, const struct jpath *path,
                     struct spec_linux *out, ctr_error **err);
/* `key` of `obj` as an array of LinuxIDMapping (linux.uidMappings, mounts[].gidMappings...). */
int spec_parse_id_mappings(struct ctr_spec *spec, json_t *obj, const struct jpath *path,
                           const char *key, struct spec_id_mapping **out, size_t *count,
                           ctr_error **err);
/* spec_resources.c */
int spec_parse_resources_at(struct ctr_spec *spec, json_t *json, const struct jpath *path,
                            struct spec_resources *out, ctr_error **err);
/* spec_seccomp.c */
int spec_parse_seccomp(struct ctr_spec *spec, json_t *json, const struct jpath *path,
                       struct spec_seccomp *out, ctr_error **err);

#endif
