/* The `linux` object (config-linux.md) but for `resources` (spec_resources.c) and `seccomp`
 * (spec_seccomp.c): namespaces, id mappings, time offsets, devices, network devices, propagation,
 * masked and read-only paths, sysctl, personality, Intel RDT and the NUMA memory policy. */
#include "spec.h"

#include <inttypes.h>
#include <linux/mempolicy.h>
#include <stdint.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>

#include "spec_json.h"
#include "util.h"

/* ---- namespaces ---------------------------------------------------------------------------------- */

/* In the order of enum spec_namespace_type. */
static const struct jname namespace_types[NS_TYPE_COUNT] = {
    {"pid", NS_PID},   {"network", NS_NETWORK}, {"mount", NS_MOUNT},   {"ipc", NS_IPC},
    {"uts", NS_UTS},   {"user", NS_USER},       {"cgroup", NS_CGROUP}, {"time", NS_TIME},
};

const char *spec_namespace_name(enum spec_namespace_type type)
{
    return (unsigned)type < NS_TYPE_COUNT ? namespace_types[type].name : "unknown";
}

/* config-linux.md, "Namespaces": type REQUIRED; path, when set, absolute; "If a namespaces field
 * contains duplicated namespaces with same type, the runtime MUST generate an error". */
static int parse_namespaces(struct ctr_spec *spec, json_t *linux_json, const struct jpath *path,
                            struct spec_linux *out, ctr_error **err)
{
    json_t *array = NULL;
    int r = jget_array(linux_json, path, "namespaces", J_OPTIONAL, &array, err);
    if (r <= 0)
        return r;
    struct jpath at = JPATH_KEY(path, "namespaces");
    for (size_t i = 0; i < json_array_size(array); i++) {
        struct jpath item = JPATH_INDEX(&at, i);
        json_t *json = json_array_get(array, i);
        long type;
        if (jval_object(json, &item, err) < 0 ||
            jget_name(json, &item, "type", J_REQUIRED, namespace_types, NS_TYPE_COUNT,
                      "namespace", &type, err) < 0)
            return -1;
        struct spec_namespace *ns = &out->namespaces[type];
        if (ns->present) {
            struct jpath type_at = JPATH_KEY(&item, "type");
            return jpath_error(err, &type_at, "duplicate namespace \"%s\" (also at index %zu)",
                               namespace_types[type].name, ns->index);
        }
        if (jget_abs_path(spec, json, &item, "path", J_OPTIONAL, &ns->path, err) < 0)
            return -1;
        ns->present = true;
        ns->index = i;
    }
    return 0;
}

/* ---- id mappings --------------------------------------------------------------------------------- */

/* user_namespaces(7): "since Linux 4.15, the limit is 340 lines" per map file. */
#define MAX_ID_MAPPINGS 340

/* config-linux.md, "User namespace mappings": containerID, hostID and size, all uint32, REQUIRED.
 * The kernel refuses empty ranges and ranges that wrap around 2^32 ((uid_t)-1 is never valid). */
int spec_parse_id_mappings(struct ctr_spec *spec, json_t *obj, const struct jpath *path,
                           const char *key, struct spec_id_mapping **out, size_t *count,
                           ctr_error **err)
{
    json_t *array = NULL;
    int r = jget_array(obj, path, key, J_OPTIONAL, &array, err);
    if (r <= 0)
        return r;
    struct jpath at = JPATH_KEY(path, key);
    size_t n = json_array_size(array);
    if (n > MAX_ID_MAPPINGS)
        return jpath_error(err, &at, "at most %d entries are possible (the kernel's limit), got %zu",
                           MAX_ID_MAPPINGS, n);
    struct spec_id_mapping *maps = spec_alloc(spec, n, sizeof(*maps), &at, err);
    if (maps == NULL)
        return -1;
    for (size_t i = 0; i < n; i++) {
        struct jpath item = JPATH_INDEX(&at, i);
        json_t *json = json_array_get(array, i);
        uint64_t container_id, host_id, size;
        if (jval_object(json, &item, err) < 0 ||
            jget_uint64(json, &item, "containerID", J_REQUIRED, UINT32_MAX, &container_id, err) < 0 ||
            jget_uint64(json, &item, "hostID", J_REQUIRED, UINT32_MAX, &host_id, err) < 0 ||
            jget_uint64(json, &item, "size", J_REQUIRED, UINT32_MAX, &size, err) < 0)
            return -1;
        struct jpath size_at = JPATH_KEY(&item, "size");
        if (size == 0)
            return jpath_error(err, &size_at, "must be greater than 0");
        if (container_id + size > UINT32_MAX || host_id + size > UINT32_MAX)
            return jpath_error(err, &size_at,
                               "the range must end below 4294967295, got %" PRIu64 " ids from "
                               "containerID %" PRIu64 " and hostID %" PRIu64,
                               size, container_id, host_id);
        maps[i] = (struct spec_id_mapping){(uint32_t)container_id, (uint32_t)host_id,
                                           (uint32_t)size};
    }
    *out = maps;
    *count = n;
    return 0;
}

/* ---- time offsets -------------------------------------------------------------------------------- */

/* config-linux.md, "Offset for Time Namespace": the clock is the key; time_namespaces(7) has
 * offsets only for CLOCK_MONOTONIC and CLOCK_BOOTTIME. */
static int parse_time_offsets(json_t *linux_json, const struct jpath *path, struct spec_linux *out,
                              ctr_error **err)
{
    json_t *map = NULL, *value;
    const char *clock;
    size_t clock_len;
    int r = jget_object(linux_json, path, "timeOffsets", J_OPTIONAL, &map, err);
    if (r <= 0)
        return r;
    struct jpath at = JPATH_KEY(path, "timeOffsets");
    json_object_keylen_foreach(map, clock, clock_len, value)
    {
        struct jpath item = JPATH_MAP_KEY(&at, clock);
        bool plain = strlen(clock) == clock_len;
        struct spec_time_offset *offset =
            plain && strcmp(clock, "monotonic") == 0  ? &out->time_monotonic
            : plain && strcmp(clock, "boottime") == 0 ? &out->time_boottime
                                                      : NULL;
        uint64_t nanosecs = 0;
        if (offset == NULL)
            return jpath_error(err, &item,
                               "unknown clock (only \"monotonic\" and \"boottime\" have offsets)");
        if (jval_object(value, &item, err) < 0 ||
            jget_int64(value, &item, "secs", J_OPTIONAL, INT64_MIN, INT64_MAX, &offset->secs,
                       err) < 0 ||
            jget_uint64(value, &item, "nanosecs", J_OPTIONAL, 999999999, &nanosecs, err) < 0)
            return -1;
        offset->nanosecs = (uint32_t)nanosecs;
        offset->set = true;
    }
    return 0;
}

/* ---- devices ------------------------------------------------------------------------------------- */

static const struct jname device_types[] = {{"c", 'c'}, {"b", 'b'}, {"u", 'u'}, {"p", 'p'}};

/* config-linux.md, "Devices": type and path REQUIRED, major and minor "REQUIRED unless type is p".
 * Owners follow the rule of process.user: (uid_t)-1 would mean "unchanged" to chown(2). */
static int parse_device(struct ctr_spec *spec, json_t *json, const struct jpath *at,
                        struct spec_device *dev, ctr_error **err)
{
    long type;
    if (jval_object(json, at, err) < 0 ||
        jget_name(json, at, "type", J_REQUIRED, device_types, ARRAY_SIZE(device_types),
                  "device type", &type, err) < 0 ||
        jget_abs_path(spec, json, at, "path", J_REQUIRED, &dev->path, err) < 0)
        return -1;
    dev->type = (char)type;
    int numbers = type == 'p' ? J_OPTIONAL : J_REQUIRED;
    if (jget_int64(json, at, "major", numbers, 0, UINT32_MAX, &dev->major, err) < 0 ||
        jget_int64(json, at, "minor", numbers, 0, UINT32_MAX, &dev->minor, err) < 0)
        return -1;
    if (type == 'p')
        dev->major = dev->minor = 0;
    if (jget_opt_uint64(json, at, "fileMode", UINT32_MAX, &dev->file_mode, err) < 0 ||
        jget_opt_uint64(json, at, "uid", UINT32_MAX - 1, &dev->uid, err) < 0 ||
        jget_opt_uint64(json, at, "gid", UINT32_MAX - 1, &dev->gid, err) < 0)
        return -1;
    return 0;
}

static int parse_devices(struct ctr_spec *spec, json_t *linux_json, const struct jpath *path,
                         struct spec_linux *out, ctr_error **err)
{
    json_t *array = NULL;
    int r = jget_array(linux_json, path, "devices", J_OPTIONAL, &array, err);
    if (r <= 0)
        return r;
    struct jpath at = JPATH_KEY(path, "devices");
    size_t count = json_array_size(array);
    out->devices = spec_alloc(spec, count, sizeof(*out->devices), &at, err);
    if (out->devices == NULL)
        return -1;
    for (size_t i = 0; i < count; i++) {
        struct jpath item = JPATH_INDEX(&at, i);
        if (parse_device(spec, json_array_get(array, i), &item, &out->devices[i], err) < 0)
            return -1;
        out->devices_count++;
    }
    return 0;
}

/* config-linux.md, "Network Devices" (1.3): a map from the host's interface name to {name}, the
 * name inside the container (the host's when absent; "%d" templates are the kernel's to fill). */
static int parse_net_devices(struct ctr_spec *spec, json_t *linux_json, const struct jpath *path,
                             struct spec_linux *out, ctr_error **err)
{
    json_t *map = NULL, *value;
    const char *key;
    size_t key_len;
    int r = jget_object(linux_json, path, "netDevices", J_OPTIONAL, &map, err);
    if (r <= 0)
        return r;
    struct jpath at = JPATH_KEY(path, "netDevices");
    out->net_devices = spec_alloc(spec, json_object_size(map), sizeof(*out->net_devices), &at, err);
    if (out->net_devices == NULL)
        return -1;
    json_object_keylen_foreach(map, key, key_len, value)
    {
        struct jpath item = JPATH_MAP_KEY(&at, key);
        struct spec_net_device *dev = &out->net_devices[out->net_devices_count];
        if (jval_key(spec, key, key_len, &item, &dev->host_name, err) < 0)
            return -1;
        if (!spec_valid_ifname(dev->host_name))
            return jpath_error(err, &item, "not a valid network interface name");
        if (jval_object(value, &item, err) < 0 ||
            jget_string(spec, value, &item, "name", J_OPTIONAL, &dev->name, err) < 0)
            return -1;
        if (dev->name == NULL) {
            dev->name = dev->host_name;
        } else if (!spec_valid_ifname(dev->name)) {
            struct jpath name_at = JPATH_KEY(&item, "name");
            return jpath_error(err, &name_at, "not a valid network interface name: \"%s\"",
                               dev->name);
        }
        out->net_devices_count++;
    }
    return 0;
}

/* ---- paths, propagation, sysctl ------------------------------------------------------------------ */

/* config-linux.md, "Rootfs Mount Propagation": shared, slave, private or unbindable; runc and crun
 * also take the recursive forms. */
static const struct jname rootfs_propagations[] = {
    {"shared", MS_SHARED},   {"rshared", MS_SHARED | MS_REC},
    {"slave", MS_SLAVE},     {"rslave", MS_SLAVE | MS_REC},
    {"private", MS_PRIVATE}, {"rprivate", MS_PRIVATE | MS_REC},
    {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
};

/* maskedPaths and readonlyPaths: "The values MUST be absolute paths". */
static int parse_abs_path_list(struct ctr_spec *spec, json_t *linux_json, const struct jpath *path,
                               const char *key, struct string_list *out, ctr_error **err)
{
    int r = jget_string_list(spec, linux_json, path, key, J_OPTIONAL, out, err);
    if (r <= 0)
        return r;
    struct jpath at = JPATH_KEY(path, key);
    for (size_t i = 0; i < out->count; i++) {
        if (out->items[i][0] != '/') {
            struct jpath item = JPATH_INDEX(&at, i);
            return jpath_error(err, &item, "must be an absolute path, got \"%s\"", out->items[i]);
        }
    }
    return 0;
}

/* config-linux.md, "Sysctl": a map of strings. Keys are taken in the dotted form only: the slash
 * form would let "net./../../kernel/x" pass the check of spec_validate() for a namespaced prefix
 * and then name a file outside /proc/sys/net. */
static int parse_sysctl(struct ctr_spec *spec, json_t *linux_json, const struct jpath *path,
                        struct spec_linux *out, ctr_error **err)
{
    json_t *map = NULL, *value;
    const char *key;
    size_t key_len;
    int r = jget_object(linux_json, path, "sysctl", J_OPTIONAL, &map, err);
    if (r <= 0)
        return r;
    struct jpath at = JPATH_KEY(path, "sysctl");
    out->sysctl = spec_alloc(spec, json_object_size(map), sizeof(*out->sysctl), &at, err);
    if (out->sysctl == NULL)
        return -1;
    json_object_keylen_foreach(map, key, key_len, value)
    {
        struct jpath item = JPATH_MAP_KEY(&at, key);
        struct spec_sysctl *s = &out->sysctl[out->sysctl_count];
        if (jval_key(spec, key, key_len, &item, &s->key, err) < 0)
            return -1;
        if (strchr(s->key, '/'))
            return jpath_error(err, &item, "expected a dotted name such as \"net.ipv4.ip_forward\"");
        if (jval_string(spec, value, &item, &s->value, err) < 0)
            return -1;
        out->sysctl_count++;
    }
    return 0;
}

/* ---- personality, Intel RDT, memory policy -------------------------------------------------------- */

static const struct jname personality_domains[] = {{"LINUX", PER_LINUX}, {"LINUX32", PER_LINUX32}};

/* config-linux.md, "Personality": domain REQUIRED; flags: "Currently no flag values are
 * supported", so any is an error rather than silently ignored. */
static int parse_personality(json_t *linux_json, const struct jpath *path, struct spec_linux *out,
                             ctr_error **err)
{
    json_t *json = NULL, *flags = NULL;
    long domain;
    int r = jget_object(linux_json, path, "personality", J_OPTIONAL, &json, err);
    if (r <= 0)
        return r;
    struct jpath at = JPATH_KEY(path, "personality");
    if (jget_name(json, &at, "domain", J_REQUIRED, personality_domains,
                  ARRAY_SIZE(personality_domains), "personality domain", &domain, err) < 0)
        return -1;
    r = jget_array(json, &at, "flags", J_OPTIONAL, &flags, err);
    if (r < 0)
        return -1;
    if (r > 0 && json_array_size(flags) > 0) {
        struct jpath flags_at = JPATH_KEY(&at, "flags"), item = JPATH_INDEX(&flags_at, 0);
        const char *flag;
        if (jval_borrow_string(json_array_get(flags, 0), &item, &flag, err) < 0)
            return -1;
        return jpath_error(err, &item, "unknown personality flag \"%s\" (the spec defines none)",
                           flag);
    }
    out->personality = (struct spec_personality){.set = true, .domain = (unsigned long)domain};
    return 0;
}

static int check_no_newline(const struct jpath *at, const char *value, ctr_error **err)
{
    if (strchr(value, '\n'))
        return jpath_error(err, at, "must not contain a newline");
    return 0;
}

/* The 1.3 form of intelRdt.schemata is an array of lines; earlier releases had one string. */
static int parse_schemata(struct ctr_spec *spec, json_t *rdt, const struct jpath *path,
                          struct string_list *out, ctr_error **err)
{
    json_t *value = json_object_get(rdt, "schemata");
    struct jpath at = JPATH_KEY(path, "schemata");
    if (value && json_is_string(value)) {
        char *text = NULL, *line, *save = NULL;
        if (jval_string(spec, value, &at, &text, err) < 0)
            return -1;
        size_t lines = 1;
        for (const char *p = text; *p; p++)
            lines += *p == '\n';
        out->items = spec_alloc(spec, lines + 1, sizeof(*out->items), &at, err);
        if (out->items == NULL)
            return -1;
        for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
            out->items[out->count++] = line;
        return 0;
    }
    if (jget_string_list(spec, rdt, path, "schemata", J_OPTIONAL, out, err) < 0)
        return -1;
    for (size_t i = 0; i < out->count; i++) {
        struct jpath item = JPATH_INDEX(&at, i);
        if (check_no_newline(&item, out->items[i], err) < 0)
            return -1;
    }
    return 0;
}

/* config-linux.md, "IntelRdt". closID names a directory of the resctrl filesystem: "/" (the
 * default CLOS) or one path component, never a way out of it. enableCMT and enableMBM (1.1 to
 * 1.2) were replaced by enableMonitoring in 1.3 and mean the same here. */
static int parse_intel_rdt(struct ctr_spec *spec, json_t *linux_json, const struct jpath *path,
                           struct spec_intel_rdt *out, ctr_error **err)
{
    json_t *json = NULL;
    bool cmt = false, mbm = false;
    int r = jget_object(linux_json, path, "intelRdt", J_OPTIONAL, &json, err);
    if (r <= 0)
        return r;
    struct jpath at = JPATH_KEY(path, "intelRdt"), clos_at = JPATH_KEY(&at, "closID"),
                 l3_at = JPATH_KEY(&at, "l3CacheSchema"), mb_at = JPATH_KEY(&at, "memBwSchema");
    if (jget_string(spec, json, &at, "closID", J_OPTIONAL, &out->clos_id, err) < 0 ||
        jget_string(spec, json, &at, "l3CacheSchema", J_OPTIONAL, &out->l3_cache_schema, err) < 0 ||
        jget_string(spec, json, &at, "memBwSchema", J_OPTIONAL, &out->mem_bw_schema, err) < 0 ||
        parse_schemata(spec, json, &at, &out->schemata, err) < 0 ||
        jget_bool(json, &at, "enableMonitoring", J_OPTIONAL, &out->enable_monitoring, err) < 0 ||
        jget_bool(json, &at, "enableCMT", J_OPTIONAL, &cmt, err) < 0 ||
        jget_bool(json, &at, "enableMBM", J_OPTIONAL, &mbm, err) < 0)
        return -1;
    const char *clos = out->clos_id;
    if (clos && strcmp(clos, "/") != 0 &&
        (clos[0] == '\0' || strchr(clos, '/') || strcmp(clos, ".") == 0 || strcmp(clos, "..") == 0))
        return jpath_error(err, &clos_at, "expected \"/\" or a directory name, got \"%s\"", clos);
    if (out->l3_cache_schema && check_no_newline(&l3_at, out->l3_cache_schema, err) < 0)
        return -1;
    if (out->mem_bw_schema) {
        /* "The value MUST start with MB: and MUST NOT contain newlines." */
        if (strncmp(out->mem_bw_schema, "MB:", 3) != 0)
            return jpath_error(err, &mb_at, "must start with \"MB:\", got \"%s\"",
                               out->mem_bw_schema);
        if (check_no_newline(&mb_at, out->mem_bw_schema, err) < 0)
            return -1;
    }
    out->enable_monitoring = out->enable_monitoring || cmt || mbm;
    out->set = true;
    return 0;
}

/* linux/mempolicy.h; MPOL_WEIGHTED_INTERLEAVE (Linux 6.9) is newer than some systems' headers. */
enum { MPOL_WEIGHTED_INTERLEAVE_MODE = 6 };

static const struct jname mempolicy_modes[] = {
    {"MPOL_DEFAULT", MPOL_DEFAULT},
    {"MPOL_BIND", MPOL_BIND},
    {"MPOL_INTERLEAVE", MPOL_INTERLEAVE},
    {"MPOL_WEIGHTED_INTERLEAVE", MPOL_WEIGHTED_INTERLEAVE_MODE},
    {"MPOL_PREFERRED", MPOL_PREFERRED},
    {"MPOL_PREFERRED_MANY", MPOL_PREFERRED_MANY},
    {"MPOL_LOCAL", MPOL_LOCAL},
};

static const struct jname mempolicy_flags[] = {
    {"MPOL_F_NUMA_BALANCING", MPOL_F_NUMA_BALANCING},
    {"MPOL_F_RELATIVE_NODES", MPOL_F_RELATIVE_NODES},
    {"MPOL_F_STATIC_NODES", MPOL_F_STATIC_NODES},
};

/* config-linux.md, "Memory policy" (1.3): mode REQUIRED; "Some modes require that there are no
 * nodes, e.g. MPOL_DEFAULT and MPOL_LOCAL. Others that there is at least one node" (the ones
 * set_mempolicy(2) fails with EINVAL on an empty mask). */
static int parse_memory_policy(struct ctr_spec *spec, json_t *linux_json, const struct jpath *path,
                               struct spec_memory_policy *out, ctr_error **err)
{
    json_t *json = NULL, *flags = NULL;
    long mode;
    int r = jget_object(linux_json, path, "memoryPolicy", J_OPTIONAL, &json, err);
    if (r <= 0)
        return r;
    struct jpath at = JPATH_KEY(path, "memoryPolicy"), nodes_at = JPATH_KEY(&at, "nodes"),
                 flags_at = JPATH_KEY(&at, "flags");
    if (jget_name(json, &at, "mode", J_REQUIRED, mempolicy_modes, ARRAY_SIZE(mempolicy_modes),
                  "memory policy mode", &mode, err) < 0 ||
        jget_id_list(spec, json, &at, "nodes", "node list", &out->nodes, err) < 0)
        return -1;
    const char *mode_name = json_string_value(json_object_get(json, "mode"));
    if (out->nodes && (mode == MPOL_DEFAULT || mode == MPOL_LOCAL))
        return jpath_error(err, &nodes_at, "must be empty with %s", mode_name);
    if (!out->nodes && mode != MPOL_DEFAULT && mode != MPOL_LOCAL && mode != MPOL_PREFERRED)
        return jpath_error(err, &nodes_at, "required with %s", mode_name);

    r = jget_array(json, &at, "flags", J_OPTIONAL, &flags, err);
    if (r < 0)
        return -1;
    for (size_t i = 0; r > 0 && i < json_array_size(flags); i++) {
        struct jpath item = JPATH_INDEX(&flags_at, i);
        long flag;
        if (jval_name(json_array_get(flags, i), &item, mempolicy_flags, ARRAY_SIZE(mempolicy_flags),
                      "memory policy flag", &flag, err) < 0)
            return -1;
        out->flags |= (unsigned)flag;
    }
    if ((out->flags & MPOL_F_STATIC_NODES) && (out->flags & MPOL_F_RELATIVE_NODES))
        return jpath_error(err, &flags_at,
                           "MPOL_F_STATIC_NODES and MPOL_F_RELATIVE_NODES exclude each other");
    out->mode = (int)mode;
    out->set = true;
    return 0;
}

/* ---- cgroupsPath --------------------------------------------------------------------------------- */

/* config-linux.md, "Cgroups path": absolute or relative to the runtime's parent. A `..` component
 * could climb out of the container's parent into another cgroup (or the hierarchy's root): refused
 * here, with the config file and JSON path named, rather than later by cgroup.c once the create has
 * begun (which still refuses it, for callers that build a spec by hand). */
static int parse_cgroups_path(struct ctr_spec *spec, json_t *json, const struct jpath *path,
                              struct spec_linux *out, ctr_error **err)
{
    int r = jget_string(spec, json, path, "cgroupsPath", J_OPTIONAL, &out->cgroups_path, err);
    if (r <= 0)
        return r;
    for (const char *p = out->cgroups_path; *p;) {
        size_t len = strcspn(p, "/");
        if (len == 2 && strncmp(p, "..", 2) == 0) {
            struct jpath at = JPATH_KEY(path, "cgroupsPath");
            return jpath_error(err, &at, "`..` is not allowed, got \"%s\"", out->cgroups_path);
        }
        p += len + (p[len] == '/');
    }
    return 0;
}

/* ---- linux --------------------------------------------------------------------------------------- */

int spec_parse_linux(struct ctr_spec *spec, json_t *json, const struct jpath *path,
                     struct spec_linux *out, ctr_error **err)
{
    json_t *part = NULL;
    long propagation;
    int r;
    if (jval_object(json, path, err) < 0 || parse_namespaces(spec, json, path, out, err) < 0 ||
        spec_parse_id_mappings(spec, json, path, "uidMappings", &out->uid_mappings,
                               &out->uid_mappings_count, err) < 0 ||
        spec_parse_id_mappings(spec, json, path, "gidMappings", &out->gid_mappings,
                               &out->gid_mappings_count, err) < 0 ||
        parse_time_offsets(json, path, out, err) < 0 || parse_devices(spec, json, path, out, err) < 0 ||
        parse_net_devices(spec, json, path, out, err) < 0 ||
        parse_cgroups_path(spec, json, path, out, err) < 0)
        return -1;

    r = jget_object(json, path, "resources", J_OPTIONAL, &part, err);
    if (r < 0)
        return -1;
    if (r > 0) {
        struct jpath at = JPATH_KEY(path, "resources");
        out->has_resources = true;
        if (spec_parse_resources_at(spec, part, &at, &out->resources, err) < 0)
            return -1;
    }

    r = jget_name(json, path, "rootfsPropagation", J_OPTIONAL, rootfs_propagations,
                  ARRAY_SIZE(rootfs_propagations), "rootfs propagation", &propagation, err);
    if (r < 0)
        return -1;
    if (r > 0)
        out->rootfs_propagation = (unsigned long)propagation;

    if (parse_abs_path_list(spec, json, path, "maskedPaths", &out->masked_paths, err) < 0 ||
        parse_abs_path_list(spec, json, path, "readonlyPaths", &out->readonly_paths, err) < 0 ||
        jget_string(spec, json, path, "mountLabel", J_OPTIONAL, &out->mount_label, err) < 0 ||
        parse_sysctl(spec, json, path, out, err) < 0)
        return -1;

    r = jget_object(json, path, "seccomp", J_OPTIONAL, &part, err);
    if (r < 0)
        return -1;
    if (r > 0) {
        struct jpath at = JPATH_KEY(path, "seccomp");
        out->has_seccomp = true;
        if (spec_parse_seccomp(spec, part, &at, &out->seccomp, err) < 0)
            return -1;
    }

    if (parse_personality(json, path, out, err) < 0 ||
        parse_intel_rdt(spec, json, path, &out->intel_rdt, err) < 0 ||
        parse_memory_policy(spec, json, path, &out->memory_policy, err) < 0)
        return -1;
    return 0;
}
