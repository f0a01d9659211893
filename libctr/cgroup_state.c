/* The cgroup as JSON, for the state directory: a later process (`kill`, `pause`, `delete`...)
 * finds, operates on and removes the container's cgroup from it without detecting anything again,
 * and removes only the levels the creator made.
 *
 *   {"layout": "hybrid", "path": "/ctr/web",
 *    "hierarchies": [{"mountPoint": "/sys/fs/cgroup/memory", "name": "memory",
 *                     "controllers": "memory", "v2": false,
 *                     "dir": "/sys/fs/cgroup/memory/ctr/web", "createdLevels": 1}, ...]}
 */
#include "cgroup_internal.h"

#include <errno.h>
#include <string.h>

static const char *const layout_names[] = {
    [CGROUP_LAYOUT_V1] = "v1", [CGROUP_LAYOUT_V2] = "v2", [CGROUP_LAYOUT_HYBRID] = "hybrid"};

json_t *cgroup_to_json(const struct cgroup *cgroup)
{
    json_t *list = json_array();
    for (size_t i = 0; list && i < cgroup->count; i++) {
        const struct cgroup_hierarchy *h = &cgroup->hierarchies[i];
        json_t *entry = json_pack("{s:s,s:s,s:b,s:s,s:i}", "mountPoint", h->mount_point, "name",
                                  h->name, "v2", h->v2, "dir", h->dir, "createdLevels",
                                  (int)h->created_levels);
        if (entry && h->controllers)
            json_object_set_new(entry, "controllers", json_string(h->controllers));
        if (entry == NULL || json_array_append_new(list, entry) < 0) {
            json_decref(list);
            return NULL;
        }
    }
    if (list == NULL)
        return NULL;
    return json_pack("{s:s,s:s,s:o}", "layout", layout_names[cgroup->layout], "path", cgroup->path,
                     "hierarchies", list);
}

static int get_string(json_t *object, const char *key, bool required, char **out,
                      const char *where, ctr_error **err)
{
    json_t *value = json_object_get(object, key);
    if (value == NULL && !required)
        return 0;
    if (!json_is_string(value))
        return error_set(err, EINVAL, "%s.%s: expected a string", where, key);
    if ((*out = strdup(json_string_value(value))) == NULL)
        return error_set(err, ENOMEM, "%s.%s", where, key);
    return 0;
}

static int hierarchy_from_json(json_t *json, const char *path, struct cgroup_hierarchy *h,
                               const char *where, ctr_error **err)
{
    json_t *v2 = json_object_get(json, "v2"), *levels = json_object_get(json, "createdLevels");
    if (!json_is_object(json))
        return error_set(err, EINVAL, "%s: expected an object", where);
    if (get_string(json, "mountPoint", true, &h->mount_point, where, err) < 0 ||
        get_string(json, "name", true, &h->name, where, err) < 0 ||
        get_string(json, "dir", true, &h->dir, where, err) < 0 ||
        get_string(json, "controllers", false, &h->controllers, where, err) < 0)
        return -1;
    if (!json_is_boolean(v2) || !json_is_integer(levels) || json_integer_value(levels) < 0 ||
        json_integer_value(levels) > 64)
        return error_set(err, EINVAL, "%s: v2 (boolean) and createdLevels (0..64) are required",
                         where);
    h->v2 = json_is_true(v2);
    h->created_levels = (unsigned)json_integer_value(levels);
    if (!h->v2 && h->controllers == NULL)
        return error_set(err, EINVAL, "%s: a v1 hierarchy needs its controllers", where);
    /* What destroy kills and removes must be the container's cgroup and nothing else. */
    size_t n = strlen(h->mount_point);
    if (h->mount_point[0] != '/' || strncmp(h->dir, h->mount_point, n) != 0 ||
        strcmp(h->dir + n, path) != 0)
        return error_set(err, EINVAL, "%s.dir `%s` is not the cgroup path `%s` below `%s`", where,
                         h->dir, path, h->mount_point);
    return 0;
}

int cgroup_from_json(json_t *json, struct cgroup **out, ctr_error **err)
{
    static const char *const where = "cgroup";
    _cleanup_(cgroup_freep) struct cgroup *cg = calloc(1, sizeof(*cg));
    if (cg == NULL)
        return error_set(err, ENOMEM, "%s", where);
    cg->v2_dir_fd = -1;
    if (!json_is_object(json))
        return error_set(err, EINVAL, "%s: expected an object", where);
    const char *layout = json_string_value(json_object_get(json, "layout"));
    size_t k = 0;
    while (k < ARRAY_SIZE(layout_names) && (layout == NULL || strcmp(layout, layout_names[k]) != 0))
        k++;
    if (k == ARRAY_SIZE(layout_names))
        return error_set(err, EINVAL, "%s.layout: expected \"v1\", \"v2\" or \"hybrid\"", where);
    cg->layout = (enum cgroup_layout)k;
    if (get_string(json, "path", true, &cg->path, where, err) < 0)
        return -1;
    if (cg->path[0] != '/' || strstr(cg->path, "/..") || strcmp(cg->path, "/") == 0)
        return error_set(err, EINVAL, "%s.path `%s`: not a container's cgroup path", where,
                         cg->path);
    json_t *list = json_object_get(json, "hierarchies");
    if (!json_is_array(list) || json_array_size(list) == 0)
        return error_set(err, EINVAL, "%s.hierarchies: expected a non-empty array", where);
    cg->hierarchies = calloc(json_array_size(list), sizeof(*cg->hierarchies));
    if (cg->hierarchies == NULL)
        return error_set(err, ENOMEM, "%s.hierarchies", where);
    for (size_t i = 0; i < json_array_size(list); i++) {
        char at[48];
        snprintf(at, sizeof(at), "%s.hierarchies[%zu]", where, i);
        cg->count++; /* counted first: freed with the rest when it fails half-way */
        if (hierarchy_from_json(json_array_get(list, i), cg->path, &cg->hierarchies[i], at, err) <
            0)
            return -1;
    }
    *out = steal_pointer(&cg);
    return 0;
}
