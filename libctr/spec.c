/* config.json -> struct ctr_spec: loading, the top-level fields (config.md), hooks and annotations.
 * The other parts of the document have a module each (spec_process.c, spec_mounts.c,
 * spec_linux.c, spec_resources.c, spec_seccomp.c); cross-field rules are in spec_validate.c. */
#include "spec.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "spec_json.h"
#include "util.h"

/* ---- ociVersion ---------------------------------------------------------------------------------- */

/* Reads [0-9]+ at *s. */
static bool read_number(const char **s, unsigned long *out)
{
    if (!isdigit((unsigned char)**s))
        return false;
    errno = 0;
    char *end;
    *out = strtoul(*s, &end, 10);
    *s = end;
    return errno == 0;
}

/* Reads dot-separated identifiers [0-9A-Za-z-]+ at *s (SemVer's pre-release and build parts). */
static bool read_identifiers(const char **s)
{
    for (;;) {
        const char *start = *s;
        while (isalnum((unsigned char)**s) || **s == '-')
            (*s)++;
        if (*s == start)
            return false;
        if (**s != '.')
            return true;
        (*s)++;
    }
}

/* SemVer 2.0.0: MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD]. */
static bool parse_semver(const char *s, unsigned long *major)
{
    unsigned long minor, patch;
    if (!read_number(&s, major) || *s++ != '.' || !read_number(&s, &minor) || *s++ != '.' ||
        !read_number(&s, &patch))
        return false;
    if (*s == '-') {
        s++;
        if (!read_identifiers(&s))
            return false;
    }
    if (*s == '+') {
        s++;
        if (!read_identifiers(&s))
            return false;
    }
    return *s == '\0';
}

/* config.md, "Specification version": a configuration of any 1.x release is compatible with a
 * runtime implementing 1.x; another major version is not. */
static int parse_version(struct ctr_spec *spec, json_t *doc, const struct jpath *path,
                         ctr_error **err)
{
    if (jget_string(spec, doc, path, "ociVersion", J_REQUIRED, &spec->oci_version, err) < 0)
        return -1;
    struct jpath at = JPATH_KEY(path, "ociVersion");
    unsigned long major;
    if (!parse_semver(spec->oci_version, &major))
        return jpath_error(err, &at, "expected a SemVer version such as \"1.2.0\", got \"%s\"",
                           spec->oci_version);
    if (major != 1)
        return jpath_error(err, &at,
                           "unsupported major version in \"%s\" (this runtime implements 1.x)",
                           spec->oci_version);
    return 0;
}

/* ---- root ---------------------------------------------------------------------------------------- */

/* config.md, "Root": REQUIRED on Linux; `path` is absolute or relative to the bundle. */
static int parse_root(struct ctr_spec *spec, json_t *doc, const struct jpath *path, ctr_error **err)
{
    json_t *root = NULL;
    if (jget_object(doc, path, "root", J_REQUIRED, &root, err) < 0)
        return -1;
    struct jpath at = JPATH_KEY(path, "root");
    if (jget_string(spec, root, &at, "path", J_REQUIRED, &spec->root_path, err) < 0 ||
        jget_bool(root, &at, "readonly", J_OPTIONAL, &spec->root_readonly, err) < 0)
        return -1;
    if (spec->root_path[0] == '\0') {
        struct jpath path_at = JPATH_KEY(&at, "path");
        return jpath_error(err, &path_at, "must not be empty");
    }
    return 0;
}

/* ---- hooks --------------------------------------------------------------------------------------- */

/* config.md, "POSIX-platform Hooks": path REQUIRED and absolute; timeout, when set, > 0. */
static int parse_hook(struct ctr_spec *spec, json_t *json, const struct jpath *at,
                      struct spec_hook *hook, ctr_error **err)
{
    if (jval_object(json, at, err) < 0 ||
        jget_abs_path(spec, json, at, "path", J_REQUIRED, &hook->path, err) < 0 ||
        jget_string_list(spec, json, at, "args", J_OPTIONAL, &hook->args, err) < 0 ||
        jget_env(spec, json, at, "env", &hook->env, err) < 0 ||
        jget_opt_int64(json, at, "timeout", 1, INT32_MAX, &hook->timeout, err) < 0)
        return -1;
    return 0;
}

static int parse_hook_list(struct ctr_spec *spec, json_t *hooks, const struct jpath *path,
                           const char *key, struct spec_hook_list *out, ctr_error **err)
{
    json_t *array = NULL;
    int r = jget_array(hooks, path, key, J_OPTIONAL, &array, err);
    if (r <= 0)
        return r;
    struct jpath at = JPATH_KEY(path, key);
    out->count = json_array_size(array);
    out->items = spec_alloc(spec, out->count, sizeof(*out->items), &at, err);
    if (out->items == NULL)
        return -1;
    for (size_t i = 0; i < out->count; i++) {
        struct jpath item = JPATH_INDEX(&at, i);
        if (parse_hook(spec, json_array_get(array, i), &item, &out->items[i], err) < 0)
            return -1;
    }
    return 0;
}

/* config.md, "POSIX-platform Hooks", in the order the lifecycle runs them. */
static const struct {
    const char *key;
    size_t offset;
} hook_lists[] = {
    {"prestart", offsetof(struct spec_hooks, prestart)},
    {"createRuntime", offsetof(struct spec_hooks, create_runtime)},
    {"createContainer", offsetof(struct spec_hooks, create_container)},
    {"startContainer", offsetof(struct spec_hooks, start_container)},
    {"poststart", offsetof(struct spec_hooks, poststart)},
    {"poststop", offsetof(struct spec_hooks, poststop)},
};

const char *spec_hook_name(size_t i)
{
    return i < ARRAY_SIZE(hook_lists) ? hook_lists[i].key : NULL;
}

static int parse_hooks(struct ctr_spec *spec, json_t *doc, const struct jpath *path, ctr_error **err)
{
    json_t *hooks = NULL;
    int r = jget_object(doc, path, "hooks", J_OPTIONAL, &hooks, err);
    if (r <= 0)
        return r;
    struct jpath at = JPATH_KEY(path, "hooks");
    for (size_t i = 0; i < ARRAY_SIZE(hook_lists); i++) {
        struct spec_hook_list *list = (void *)((char *)&spec->hooks + hook_lists[i].offset);
        if (parse_hook_list(spec, hooks, &at, hook_lists[i].key, list, err) < 0)
            return -1;
    }
    return 0;
}

/* ---- annotations --------------------------------------------------------------------------------- */

/* config.md, "Annotations": a map of strings; keys MUST NOT be empty. */
static int parse_annotations(struct ctr_spec *spec, json_t *doc, const struct jpath *path,
                             ctr_error **err)
{
    json_t *map = NULL;
    int r = jget_object(doc, path, "annotations", J_OPTIONAL, &map, err);
    if (r <= 0)
        return r;
    struct jpath at = JPATH_KEY(path, "annotations");
    spec->annotations = spec_alloc(spec, json_object_size(map), sizeof(*spec->annotations), &at, err);
    if (spec->annotations == NULL)
        return -1;
    const char *key;
    size_t key_len;
    json_t *value;
    json_object_keylen_foreach(map, key, key_len, value)
    {
        struct jpath item = JPATH_MAP_KEY(&at, key);
        struct spec_annotation *a = &spec->annotations[spec->annotations_count];
        if (jval_key(spec, key, key_len, &item, &a->key, err) < 0 ||
            jval_string(spec, value, &item, &a->value, err) < 0)
            return -1;
        spec->annotations_count++;
    }
    return 0;
}

/* ---- the document -------------------------------------------------------------------------------- */

/* Go's encoding/json, which wrote most configs, cannot tell an empty hostname from an absent one
 * (omitempty), and runc ignores an empty one: so do we. */
static int parse_optional_name(struct ctr_spec *spec, json_t *doc, const struct jpath *path,
                               const char *key, char **out, ctr_error **err)
{
    char *value = NULL;
    int r = jget_string(spec, doc, path, key, J_OPTIONAL, &value, err);
    if (r > 0 && value[0] != '\0')
        *out = value;
    return r < 0 ? -1 : 0;
}

static int parse_document(struct ctr_spec *spec, ctr_error **err)
{
    struct jpath path = JPATH_AT(NULL);
    json_t *doc = spec->json, *part = NULL;
    int r;

    if (jval_object(doc, &path, err) < 0 || parse_version(spec, doc, &path, err) < 0 ||
        parse_root(spec, doc, &path, err) < 0)
        return -1;

    r = jget_object(doc, &path, "process", J_OPTIONAL, &part, err);
    if (r < 0)
        return -1;
    if (r > 0) {
        struct jpath at = JPATH_KEY(&path, "process");
        spec->has_process = true;
        if (spec_parse_process_at(spec, part, &at, &spec->process, err) < 0)
            return -1;
    }

    if (parse_optional_name(spec, doc, &path, "hostname", &spec->hostname, err) < 0 ||
        parse_optional_name(spec, doc, &path, "domainname", &spec->domainname, err) < 0)
        return -1;

    if (spec_parse_mounts(spec, doc, &path, err) < 0 || parse_hooks(spec, doc, &path, err) < 0 ||
        parse_annotations(spec, doc, &path, err) < 0)
        return -1;

    r = jget_object(doc, &path, "linux", J_OPTIONAL, &part, err);
    if (r < 0)
        return -1;
    if (r > 0) {
        struct jpath at = JPATH_KEY(&path, "linux");
        spec->has_linux = true;
        if (spec_parse_linux(spec, part, &at, &spec->linux_, err) < 0)
            return -1;
    }
    return 0;
}

CTR_API int ctr_spec_load_data(const char *json, size_t len, const char *name, ctr_spec **out,
                               ctr_error **err)
{
    *out = NULL;
    if (name == NULL)
        name = "config.json";
    struct arena *arena = arena_new();
    struct ctr_spec *spec = arena ? arena_alloc(arena, sizeof(*spec)) : NULL;
    if (spec == NULL) {
        arena_free(arena);
        return error_set(err, ENOMEM, "%s", name);
    }
    spec->arena = arena;
    if (spec_json_load(json, len, &spec->json, err) < 0 || parse_document(spec, err) < 0 ||
        spec_validate(spec, err) < 0) {
        ctr_spec_free(spec);
        return error_wrap(err, "%s", name);
    }
    *out = spec;
    return 0;
}

CTR_API int ctr_spec_load_file(const char *path, ctr_spec **out, ctr_error **err)
{
    _cleanup_free_ char *data = NULL;
    size_t len = 0;
    *out = NULL;
    if (read_file_at(AT_FDCWD, path, &data, &len, err) < 0)
        return -1;
    return ctr_spec_load_data(data, len, path, out, err);
}

CTR_API void ctr_spec_free(ctr_spec *spec)
{
    if (spec == NULL)
        return;
    json_decref(spec->json);
    arena_free(spec->arena); /* the spec itself lives in its arena */
}

int spec_parse_process(struct ctr_spec *spec, json_t *json, const char *where,
                       struct spec_process *out, ctr_error **err)
{
    struct jpath path = JPATH_AT(where);
    return spec_parse_process_at(spec, json, &path, out, err);
}

int spec_parse_resources(struct ctr_spec *spec, json_t *json, const char *where,
                         struct spec_resources *out, ctr_error **err)
{
    struct jpath path = JPATH_AT(where);
    return spec_parse_resources_at(spec, json, &path, out, err);
}
