/* `linux.resources` (config-linux.md, "Control groups"), also the body of `update --resources`.
 * Values that end up in the name of a cgroup file (hugepage sizes, unified keys) or in one line of
 * a cgroup file (interface and RDMA device names) are checked here, so no config can write outside
 * its cgroup or smuggle a second line in. */
#include "spec.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdint.h>
#include <string.h>

#include "spec_json.h"
#include "util.h"

/* Device numbers as makedev(3) takes them. */
#define MAX_DEVICE_NUMBER UINT32_MAX

/* ---- devices ------------------------------------------------------------------------------------- */

static const struct jname rule_types[] = {{"a", 'a'}, {"c", 'c'}, {"b", 'b'}};

/* config-linux.md, "Allowed Device list": allow REQUIRED; type "a" when unset; major and minor
 * wildcards when unset (runc also takes -1, its own wildcard, so do we); access a composition of
 * r, w and m, "rwm" when unset or empty (Go writers cannot tell the two apart). */
static int parse_device_rule(struct ctr_spec *spec, json_t *json, const struct jpath *at,
                             struct spec_device_rule *rule, ctr_error **err)
{
    long type = 'a';
    char *access = NULL;
    if (jval_object(json, at, err) < 0 ||
        jget_bool(json, at, "allow", J_REQUIRED, &rule->allow, err) < 0 ||
        jget_name(json, at, "type", J_OPTIONAL, rule_types, ARRAY_SIZE(rule_types),
                  "device type", &type, err) < 0 ||
        jget_opt_int64(json, at, "major", -1, MAX_DEVICE_NUMBER, &rule->major, err) < 0 ||
        jget_opt_int64(json, at, "minor", -1, MAX_DEVICE_NUMBER, &rule->minor, err) < 0 ||
        jget_string(spec, json, at, "access", J_OPTIONAL, &access, err) < 0)
        return -1;
    rule->type = (char)type;
    if (rule->major.set && rule->major.value == -1)
        rule->major.set = false;
    if (rule->minor.set && rule->minor.value == -1)
        rule->minor.set = false;

    const char *letters = access && access[0] ? access : "rwm";
    bool r = false, w = false, m = false;
    for (const char *p = letters; *p; p++) {
        bool *seen = *p == 'r' ? &r : *p == 'w' ? &w : *p == 'm' ? &m : NULL;
        if (seen == NULL) {
            struct jpath access_at = JPATH_KEY(at, "access");
            return jpath_error(err, &access_at, "expected a combination of r, w and m, got \"%s\"",
                               letters);
        }
        *seen = true;
    }
    size_t n = 0;
    if (r)
        rule->access[n++] = 'r';
    if (w)
        rule->access[n++] = 'w';
    if (m)
        rule->access[n++] = 'm';
    rule->access[n] = '\0';
    return 0;
}

static int parse_device_rules(struct ctr_spec *spec, json_t *res, const struct jpath *path,
                              struct spec_resources *out, ctr_error **err)
{
    json_t *array = NULL;
    int r = jget_array(res, path, "devices", J_OPTIONAL, &array, err);
    if (r <= 0)
        return r;
    struct jpath at = JPATH_KEY(path, "devices");
    size_t count = json_array_size(array);
    out->devices = spec_alloc(spec, count, sizeof(*out->devices), &at, err);
    if (out->devices == NULL)
        return -1;
    for (size_t i = 0; i < count; i++) {
        struct jpath item = JPATH_INDEX(&at, i);
        if (parse_device_rule(spec, json_array_get(array, i), &item, &out->devices[i], err) < 0)
            return -1;
        out->devices_count++;
    }
    return 0;
}

/* ---- memory and cpu ------------------------------------------------------------------------------ */

/* config-linux.md, "Memory": limits in bytes, "or -1 for unlimited memory"; swappiness 0..100. */
static int parse_memory(json_t *res, const struct jpath *path, struct spec_resources *out,
                        ctr_error **err)
{
    json_t *json = NULL;
    int r = jget_object(res, path, "memory", J_OPTIONAL, &json, err);
    if (r <= 0)
        return r;
    struct jpath at = JPATH_KEY(path, "memory");
    struct spec_memory *m = &out->memory;
    out->has_memory = true;
    if (jget_opt_int64(json, &at, "limit", -1, INT64_MAX, &m->limit, err) < 0 ||
        jget_opt_int64(json, &at, "reservation", -1, INT64_MAX, &m->reservation, err) < 0 ||
        jget_opt_int64(json, &at, "swap", -1, INT64_MAX, &m->swap, err) < 0 ||
        jget_opt_int64(json, &at, "kernel", -1, INT64_MAX, &m->kernel, err) < 0 ||
        jget_opt_int64(json, &at, "kernelTCP", -1, INT64_MAX, &m->kernel_tcp, err) < 0 ||
        jget_opt_uint64(json, &at, "swappiness", UINT64_MAX, &m->swappiness, err) < 0)
        return -1;
    /* 0 is "not set" for these, as runc's cgroup code reads them: docker sends every field of
     * `update` with 0 for the ones not asked for (and a zero memory limit would kill at once). */
    opt_int64 *zero_is_unset[] = {&m->limit, &m->reservation, &m->kernel, &m->kernel_tcp};
    for (size_t i = 0; i < ARRAY_SIZE(zero_is_unset); i++)
        if (zero_is_unset[i]->set && zero_is_unset[i]->value == 0)
            zero_is_unset[i]->set = false;
    /* runc and Docker write -1 as a uint64 (18446744073709551615) for "leave it alone". */
    if (m->swappiness.set && m->swappiness.value == UINT64_MAX) {
        m->swappiness.set = false;
    } else if (m->swappiness.set && m->swappiness.value > 100) {
        struct jpath swappiness_at = JPATH_KEY(&at, "swappiness");
        return jpath_error(err, &swappiness_at, "must be between 0 and 100, got %" PRIu64,
                           m->swappiness.value);
    }
    if (jget_opt_bool(json, &at, "disableOOMKiller", &m->disable_oom_killer, err) < 0 ||
        jget_opt_bool(json, &at, "useHierarchy", &m->use_hierarchy, err) < 0 ||
        jget_opt_bool(json, &at, "checkBeforeUpdate", &m->check_before_update, err) < 0)
        return -1;
    return 0;
}

/* config-linux.md, "CPU". quota: -1 is unlimited. "If specified with any (valid) positive value,
 * [quota] MUST be no smaller than burst (runtimes MAY generate an error)": we do. idle: "0:
 * default behavior, 1: SCHED_IDLE". */
static int parse_cpu(struct ctr_spec *spec, json_t *res, const struct jpath *path,
                     struct spec_resources *out, ctr_error **err)
{
    json_t *json = NULL;
    int r = jget_object(res, path, "cpu", J_OPTIONAL, &json, err);
    if (r <= 0)
        return r;
    struct jpath at = JPATH_KEY(path, "cpu");
    struct spec_cpu *c = &out->cpu;
    out->has_cpu = true;
    if (jget_opt_uint64(json, &at, "shares", UINT64_MAX, &c->shares, err) < 0 ||
        jget_opt_int64(json, &at, "quota", -1, INT64_MAX, &c->quota, err) < 0 ||
        jget_opt_uint64(json, &at, "burst", UINT64_MAX, &c->burst, err) < 0 ||
        jget_opt_uint64(json, &at, "period", UINT64_MAX, &c->period, err) < 0 ||
        jget_opt_int64(json, &at, "realtimeRuntime", -1, INT64_MAX, &c->realtime_runtime, err) < 0 ||
        jget_opt_uint64(json, &at, "realtimePeriod", UINT64_MAX, &c->realtime_period, err) < 0 ||
        jget_id_list(spec, json, &at, "cpus", "list", &c->cpus, err) < 0 ||
        jget_id_list(spec, json, &at, "mems", "list", &c->mems, err) < 0 ||
        jget_opt_int64(json, &at, "idle", 0, 1, &c->idle, err) < 0)
        return -1;
    if (c->burst.set && c->quota.set && c->quota.value > 0 &&
        c->burst.value > (uint64_t)c->quota.value) {
        struct jpath burst_at = JPATH_KEY(&at, "burst");
        return jpath_error(err, &burst_at, "must not be larger than quota (%" PRId64 "), got %" PRIu64,
                           c->quota.value, c->burst.value);
    }
    return 0;
}

/* ---- block I/O ----------------------------------------------------------------------------------- */

/* blkio weights: uint16 in the spec; 10..1000 is what the blkio controller takes. */
static int parse_weight(json_t *json, const struct jpath *path, const char *key, opt_uint64 *out,
                        ctr_error **err)
{
    if (jget_opt_uint64(json, path, key, UINT16_MAX, out, err) < 0)
        return -1;
    /* Docker writes "weight": 0 into every config for "not set"; runc ignores 0 too. */
    if (out->set && out->value == 0)
        out->set = false;
    if (out->set && (out->value < 10 || out->value > 1000)) {
        struct jpath at = JPATH_KEY(path, key);
        return jpath_error(err, &at, "must be between 10 and 1000, got %" PRIu64, out->value);
    }
    return 0;
}

static int parse_device_number(json_t *json, const struct jpath *at, int64_t *major,
                               int64_t *minor, ctr_error **err)
{
    if (jget_int64(json, at, "major", J_REQUIRED, 0, MAX_DEVICE_NUMBER, major, err) < 0 ||
        jget_int64(json, at, "minor", J_REQUIRED, 0, MAX_DEVICE_NUMBER, minor, err) < 0)
        return -1;
    return 0;
}

/* weightDevice: major and minor REQUIRED; "You MUST specify at least one of weight or leafWeight". */
static int parse_weight_devices(struct ctr_spec *spec, json_t *blkio, const struct jpath *path,
                                struct spec_block_io *out, ctr_error **err)
{
    json_t *array = NULL;
    int r = jget_array(blkio, path, "weightDevice", J_OPTIONAL, &array, err);
    if (r <= 0)
        return r;
    struct jpath at = JPATH_KEY(path, "weightDevice");
    size_t count = json_array_size(array);
    out->weight_devices = spec_alloc(spec, count, sizeof(*out->weight_devices), &at, err);
    if (out->weight_devices == NULL)
        return -1;
    for (size_t i = 0; i < count; i++) {
        struct jpath item = JPATH_INDEX(&at, i);
        struct spec_weight_device *d = &out->weight_devices[i];
        json_t *json = json_array_get(array, i);
        if (jval_object(json, &item, err) < 0 ||
            parse_device_number(json, &item, &d->major, &d->minor, err) < 0 ||
            parse_weight(json, &item, "weight", &d->weight, err) < 0 ||
            parse_weight(json, &item, "leafWeight", &d->leaf_weight, err) < 0)
            return -1;
        if (!d->weight.set && !d->leaf_weight.set)
            return jpath_error(err, &item, "needs weight or leafWeight");
        out->weight_devices_count++;
    }
    return 0;
}

/* throttle*Device: major, minor and rate REQUIRED. */
static int parse_throttle_devices(struct ctr_spec *spec, json_t *blkio, const struct jpath *path,
                                  const char *key, struct spec_throttle_device **out,
                                  size_t *count, ctr_error **err)
{
    json_t *array = NULL;
    int r = jget_array(blkio, path, key, J_OPTIONAL, &array, err);
    if (r <= 0)
        return r;
    struct jpath at = JPATH_KEY(path, key);
    size_t n = json_array_size(array);
    struct spec_throttle_device *devices = spec_alloc(spec, n, sizeof(*devices), &at, err);
    if (devices == NULL)
        return -1;
    for (size_t i = 0; i < n; i++) {
        struct jpath item = JPATH_INDEX(&at, i);
        json_t *json = json_array_get(array, i);
        if (jval_object(json, &item, err) < 0 ||
            parse_device_number(json, &item, &devices[i].major, &devices[i].minor, err) < 0 ||
            jget_uint64(json, &item, "rate", J_REQUIRED, UINT64_MAX, &devices[i].rate, err) < 0)
            return -1;
    }
    *out = devices;
    *count = n;
    return 0;
}

/* config-linux.md, "Block IO". */
static int parse_block_io(struct ctr_spec *spec, json_t *res, const struct jpath *path,
                          struct spec_resources *out, ctr_error **err)
{
    json_t *json = NULL;
    int r = jget_object(res, path, "blockIO", J_OPTIONAL, &json, err);
    if (r <= 0)
        return r;
    struct jpath at = JPATH_KEY(path, "blockIO");
    struct spec_block_io *b = &out->block_io;
    out->has_block_io = true;
    if (parse_weight(json, &at, "weight", &b->weight, err) < 0 ||
        parse_weight(json, &at, "leafWeight", &b->leaf_weight, err) < 0 ||
        parse_weight_devices(spec, json, &at, b, err) < 0 ||
        parse_throttle_devices(spec, json, &at, "throttleReadBpsDevice", &b->throttle_read_bps,
                               &b->throttle_read_bps_count, err) < 0 ||
        parse_throttle_devices(spec, json, &at, "throttleWriteBpsDevice", &b->throttle_write_bps,
                               &b->throttle_write_bps_count, err) < 0 ||
        parse_throttle_devices(spec, json, &at, "throttleReadIOPSDevice", &b->throttle_read_iops,
                               &b->throttle_read_iops_count, err) < 0 ||
        parse_throttle_devices(spec, json, &at, "throttleWriteIOPSDevice", &b->throttle_write_iops,
                               &b->throttle_write_iops_count, err) < 0)
        return -1;
    return 0;
}

/* ---- hugepages, network, pids -------------------------------------------------------------------- */

/* "<size><unit-prefix>B (64KB, 2MB, 1GB)": it becomes part of the name of hugetlb's files. */
static bool valid_page_size(const char *s)
{
    size_t digits = strspn(s, "0123456789");
    if (digits == 0)
        return false;
    s += digits;
    if (*s && strchr("KMGTPE", *s))
        s++;
    return strcmp(s, "B") == 0;
}

/* config-linux.md, "Huge page limits": pageSize and limit REQUIRED. */
static int parse_hugepage_limits(struct ctr_spec *spec, json_t *res, const struct jpath *path,
                                 struct spec_resources *out, ctr_error **err)
{
    json_t *array = NULL;
    int r = jget_array(res, path, "hugepageLimits", J_OPTIONAL, &array, err);
    if (r <= 0)
        return r;
    struct jpath at = JPATH_KEY(path, "hugepageLimits");
    size_t count = json_array_size(array);
    out->hugepage_limits = spec_alloc(spec, count, sizeof(*out->hugepage_limits), &at, err);
    if (out->hugepage_limits == NULL)
        return -1;
    for (size_t i = 0; i < count; i++) {
        struct jpath item = JPATH_INDEX(&at, i);
        struct spec_hugepage_limit *h = &out->hugepage_limits[i];
        json_t *json = json_array_get(array, i);
        if (jval_object(json, &item, err) < 0 ||
            jget_string(spec, json, &item, "pageSize", J_REQUIRED, &h->page_size, err) < 0)
            return -1;
        if (!valid_page_size(h->page_size)) {
            struct jpath size_at = JPATH_KEY(&item, "pageSize");
            return jpath_error(err, &size_at, "expected a size such as \"2MB\", got \"%s\"",
                               h->page_size);
        }
        if (jget_uint64(json, &item, "limit", J_REQUIRED, UINT64_MAX, &h->limit, err) < 0)
            return -1;
        out->hugepage_limits_count++;
    }
    return 0;
}

/* config-linux.md, "Network": classID uint32; priorities' name and priority REQUIRED. */
static int parse_network(struct ctr_spec *spec, json_t *res, const struct jpath *path,
                         struct spec_resources *out, ctr_error **err)
{
    json_t *json = NULL, *array = NULL;
    int r = jget_object(res, path, "network", J_OPTIONAL, &json, err);
    if (r <= 0)
        return r;
    struct jpath at = JPATH_KEY(path, "network");
    out->has_network = true;
    if (jget_opt_uint64(json, &at, "classID", UINT32_MAX, &out->net_class_id, err) < 0)
        return -1;
    r = jget_array(json, &at, "priorities", J_OPTIONAL, &array, err);
    if (r <= 0)
        return r;
    struct jpath prio_at = JPATH_KEY(&at, "priorities");
    size_t count = json_array_size(array);
    out->net_priorities = spec_alloc(spec, count, sizeof(*out->net_priorities), &prio_at, err);
    if (out->net_priorities == NULL)
        return -1;
    for (size_t i = 0; i < count; i++) {
        struct jpath item = JPATH_INDEX(&prio_at, i);
        struct spec_net_priority *p = &out->net_priorities[i];
        json_t *entry = json_array_get(array, i);
        uint64_t priority;
        if (jval_object(entry, &item, err) < 0 ||
            jget_string(spec, entry, &item, "name", J_REQUIRED, &p->name, err) < 0)
            return -1;
        if (!spec_valid_ifname(p->name)) {
            struct jpath name_at = JPATH_KEY(&item, "name");
            return jpath_error(err, &name_at, "not a valid network interface name: \"%s\"",
                               p->name);
        }
        if (jget_uint64(entry, &item, "priority", J_REQUIRED, UINT32_MAX, &priority, err) < 0)
            return -1;
        p->priority = (uint32_t)priority;
        out->net_priorities_count++;
    }
    return 0;
}

/* config-linux.md, "PIDs": limit REQUIRED; -1 is unlimited. 0 leaves the limit alone, as runc
 * reads it: docker sends "limit": 0 when no limit was asked for. */
static int parse_pids(json_t *res, const struct jpath *path, struct spec_resources *out,
                      ctr_error **err)
{
    json_t *json = NULL;
    int r = jget_object(res, path, "pids", J_OPTIONAL, &json, err);
    if (r <= 0)
        return r;
    struct jpath at = JPATH_KEY(path, "pids");
    if (jget_int64(json, &at, "limit", J_REQUIRED, -1, INT64_MAX, &out->pids_limit.value, err) < 0)
        return -1;
    out->pids_limit.set = out->pids_limit.value != 0;
    out->has_pids = true;
    return 0;
}

/* ---- rdma and unified ---------------------------------------------------------------------------- */

/* config-linux.md, "RDMA": the device is the key; "You MUST specify at least one of the hcaHandles
 * or hcaObjects". The name starts a line of rdma.max: no blanks in it. */
static int parse_rdma(struct ctr_spec *spec, json_t *res, const struct jpath *path,
                      struct spec_resources *out, ctr_error **err)
{
    json_t *map = NULL, *value;
    const char *key;
    size_t key_len;
    int r = jget_object(res, path, "rdma", J_OPTIONAL, &map, err);
    if (r <= 0)
        return r;
    struct jpath at = JPATH_KEY(path, "rdma");
    out->rdma = spec_alloc(spec, json_object_size(map), sizeof(*out->rdma), &at, err);
    if (out->rdma == NULL)
        return -1;
    json_object_keylen_foreach(map, key, key_len, value)
    {
        struct jpath item = JPATH_MAP_KEY(&at, key);
        struct spec_rdma_limit *l = &out->rdma[out->rdma_count];
        if (jval_key(spec, key, key_len, &item, &l->device, err) < 0)
            return -1;
        for (const char *p = l->device; *p; p++) {
            if (isspace((unsigned char)*p))
                return jpath_error(err, &item, "device names must not contain white space");
        }
        if (jval_object(value, &item, err) < 0 ||
            jget_opt_uint64(value, &item, "hcaHandles", UINT32_MAX, &l->hca_handles, err) < 0 ||
            jget_opt_uint64(value, &item, "hcaObjects", UINT32_MAX, &l->hca_objects, err) < 0)
            return -1;
        if (!l->hca_handles.set && !l->hca_objects.set)
            return jpath_error(err, &item, "needs hcaHandles or hcaObjects");
        out->rdma_count++;
    }
    return 0;
}

/* config-linux.md, "Unified": "Each key in the map refers to a file in the cgroup unified
 * hierarchy": a file name of the container's cgroup directory, never a path out of it. */
static int parse_unified(struct ctr_spec *spec, json_t *res, const struct jpath *path,
                         struct spec_resources *out, ctr_error **err)
{
    json_t *map = NULL, *value;
    const char *key;
    size_t key_len;
    int r = jget_object(res, path, "unified", J_OPTIONAL, &map, err);
    if (r <= 0)
        return r;
    struct jpath at = JPATH_KEY(path, "unified");
    out->unified = spec_alloc(spec, json_object_size(map), sizeof(*out->unified), &at, err);
    if (out->unified == NULL)
        return -1;
    json_object_keylen_foreach(map, key, key_len, value)
    {
        struct jpath item = JPATH_MAP_KEY(&at, key);
        struct spec_unified_entry *e = &out->unified[out->unified_count];
        if (jval_key(spec, key, key_len, &item, &e->key, err) < 0)
            return -1;
        if (strchr(e->key, '/') || strcmp(e->key, ".") == 0 || strcmp(e->key, "..") == 0)
            return jpath_error(err, &item, "expected the name of a cgroup file such as \"memory.max\"");
        if (jval_string(spec, value, &item, &e->value, err) < 0)
            return -1;
        out->unified_count++;
    }
    return 0;
}

int spec_parse_resources_at(struct ctr_spec *spec, json_t *json, const struct jpath *path,
                            struct spec_resources *out, ctr_error **err)
{
    /* Counts accumulate: start from nothing (`update` may reuse its struct). */
    *out = (struct spec_resources){0};
    if (jval_object(json, path, err) < 0 || parse_device_rules(spec, json, path, out, err) < 0 ||
        parse_memory(json, path, out, err) < 0 || parse_cpu(spec, json, path, out, err) < 0 ||
        parse_block_io(spec, json, path, out, err) < 0 ||
        parse_hugepage_limits(spec, json, path, out, err) < 0 ||
        parse_network(spec, json, path, out, err) < 0 || parse_pids(json, path, out, err) < 0 ||
        parse_rdma(spec, json, path, out, err) < 0 || parse_unified(spec, json, path, out, err) < 0)
        return -1;
    return 0;
}
