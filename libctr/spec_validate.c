/* The rules of the spec that tie fields together, checked once everything is parsed. Each error
 * names the field that cannot be honoured, with its JSON path. */
#include "spec.h"

#include <string.h>

#include "spec_json.h"
#include "util.h"

static const struct spec_namespace *namespace_of(const struct ctr_spec *spec,
                                                 enum spec_namespace_type type)
{
    return &spec->linux_.namespaces[type];
}

/* Either a new namespace or a joined one: not the runtime's. */
static bool has_namespace(const struct ctr_spec *spec, enum spec_namespace_type type)
{
    return namespace_of(spec, type)->present;
}

/* "needs a new uts namespace in linux.namespaces" or "..., not the joined one at `path`". */
static int need_new_namespace(const struct ctr_spec *spec, const struct jpath *at,
                              enum spec_namespace_type type, ctr_error **err)
{
    const struct spec_namespace *ns = namespace_of(spec, type);
    if (!ns->present)
        return jpath_error(err, at, "needs a new %s namespace in linux.namespaces",
                           spec_namespace_name(type));
    if (ns->path)
        return jpath_error(err, at, "needs a new %s namespace, not the joined one at \"%s\"",
                           spec_namespace_name(type), ns->path);
    return 0;
}

/* config.md, "Hostname"/"Domainname" change the UTS namespace the container is in: without one of
 * its own that is the host's (or another container's), which runc refuses to touch. */
static int validate_uts(const struct ctr_spec *spec, const struct jpath *root, ctr_error **err)
{
    struct jpath hostname = JPATH_KEY(root, "hostname"), domainname = JPATH_KEY(root, "domainname");
    if (spec->hostname && need_new_namespace(spec, &hostname, NS_UTS, err) < 0)
        return -1;
    if (spec->domainname && need_new_namespace(spec, &domainname, NS_UTS, err) < 0)
        return -1;
    return 0;
}

/* config-linux.md, "User namespace mappings" are written for a new user namespace: without one
 * there is nothing to map, a joined one has its maps already, and a new one without both maps
 * leaves every id unmapped (runc: "user namespaces enabled, but no uid/gid mappings found"). */
static int validate_user_namespace(const struct ctr_spec *spec, const struct jpath *lx,
                                   ctr_error **err)
{
    const struct spec_linux *l = &spec->linux_;
    const struct spec_namespace *user = namespace_of(spec, NS_USER);
    struct jpath uid_at = JPATH_KEY(lx, "uidMappings"), gid_at = JPATH_KEY(lx, "gidMappings");
    if (l->uid_mappings_count && need_new_namespace(spec, &uid_at, NS_USER, err) < 0)
        return -1;
    if (l->gid_mappings_count && need_new_namespace(spec, &gid_at, NS_USER, err) < 0)
        return -1;
    if (user->present && user->path == NULL) {
        if (l->uid_mappings_count == 0)
            return jpath_error(err, &uid_at, "required field missing (a new user namespace needs "
                                             "uid and gid mappings)");
        if (l->gid_mappings_count == 0)
            return jpath_error(err, &gid_at, "required field missing (a new user namespace needs "
                                             "uid and gid mappings)");
    }
    return 0;
}

/* time_namespaces(7): offsets can only be written before the first process enters the
 * namespace, so only into one the container creates. */
static int validate_time_offsets(const struct ctr_spec *spec, const struct jpath *lx,
                                 ctr_error **err)
{
    struct jpath at = JPATH_KEY(lx, "timeOffsets");
    if (spec->linux_.time_monotonic.set || spec->linux_.time_boottime.set)
        return need_new_namespace(spec, &at, NS_TIME, err);
    return 0;
}

/* Which namespace a sysctl belongs to; NS_TYPE_COUNT when none (then it is the host's). The IPC
 * ones are listed in ipc_namespaces(7), the UTS ones in uts_namespaces(7); everything under net.
 * is per network namespace. This is runc's list. */
static enum spec_namespace_type sysctl_namespace(const char *key)
{
    static const char *const ipc_keys[] = {
        "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
        "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced",
    };
    for (size_t i = 0; i < ARRAY_SIZE(ipc_keys); i++) {
        if (strcmp(key, ipc_keys[i]) == 0)
            return NS_IPC;
    }
    if (strncmp(key, "fs.mqueue.", 10) == 0)
        return NS_IPC;
    if (strncmp(key, "net.", 4) == 0)
        return NS_NETWORK;
    if (strcmp(key, "kernel.hostname") == 0 || strcmp(key, "kernel.domainname") == 0)
        return NS_UTS;
    return NS_TYPE_COUNT;
}

/* A sysctl written without a namespace of the container's own would change the host. */
static int validate_sysctl(const struct ctr_spec *spec, const struct jpath *lx, ctr_error **err)
{
    struct jpath at = JPATH_KEY(lx, "sysctl");
    for (size_t i = 0; i < spec->linux_.sysctl_count; i++) {
        const char *key = spec->linux_.sysctl[i].key;
        struct jpath item = JPATH_MAP_KEY(&at, key);
        enum spec_namespace_type type = sysctl_namespace(key);
        if (type == NS_TYPE_COUNT)
            return jpath_error(err, &item, "not namespaced, refusing to change the host");
        if (!has_namespace(spec, type))
            return jpath_error(err, &item, "needs a %s namespace in linux.namespaces",
                               spec_namespace_name(type));
    }
    return 0;
}

/* config-linux.md, "Network Devices": they are moved into the container's network namespace;
 * without one they would stay where they are, in the host's. */
static int validate_net_devices(const struct ctr_spec *spec, const struct jpath *lx,
                                ctr_error **err)
{
    struct jpath at = JPATH_KEY(lx, "netDevices");
    if (spec->linux_.net_devices_count && !has_namespace(spec, NS_NETWORK))
        return jpath_error(err, &at, "needs a network namespace in linux.namespaces");
    return 0;
}

/* config-linux.md, listenerPath: the socket the SCMP_ACT_NOTIFY listener fd is sent over. */
static int validate_seccomp(const struct ctr_spec *spec, const struct jpath *lx, ctr_error **err)
{
    const struct spec_seccomp *s = &spec->linux_.seccomp;
    if (spec->linux_.has_seccomp && s->uses_notify && s->listener_path == NULL) {
        struct jpath at = JPATH_KEY(lx, "seccomp"), listener = JPATH_KEY(&at, "listenerPath");
        return jpath_error(err, &listener, "required field missing (SCMP_ACT_NOTIFY is used)");
    }
    return 0;
}

/* config.md, "POSIX-platform Mounts": uidMappings "MUST be specified along with gidMappings" (and
 * the other way round); "idmap"/"ridmap": "If there are no uidMappings and gidMappings specified
 * and the container isn't using user namespaces, an error MUST be returned". */
static int validate_mounts(const struct ctr_spec *spec, const struct jpath *root, ctr_error **err)
{
    struct jpath mounts = JPATH_KEY(root, "mounts");
    for (size_t i = 0; i < spec->mounts_count; i++) {
        const struct spec_mount *m = &spec->mounts[i];
        struct jpath item = JPATH_INDEX(&mounts, i);
        struct jpath uid_at = JPATH_KEY(&item, "uidMappings"), gid_at = JPATH_KEY(&item, "gidMappings");
        if (m->uid_mappings_count && !m->gid_mappings_count)
            return jpath_error(err, &gid_at, "required field missing (uidMappings is set)");
        if (m->gid_mappings_count && !m->uid_mappings_count)
            return jpath_error(err, &uid_at, "required field missing (gidMappings is set)");
        if ((m->idmap || m->recursive_idmap) && !m->uid_mappings_count &&
            !has_namespace(spec, NS_USER)) {
            struct jpath options = JPATH_KEY(&item, "options");
            return jpath_error(err, &options,
                               "\"%s\" needs uidMappings and gidMappings or a user namespace",
                               m->recursive_idmap ? "ridmap" : "idmap");
        }
    }
    return 0;
}

int spec_validate(const struct ctr_spec *spec, ctr_error **err)
{
    struct jpath root = JPATH_AT(NULL), lx = JPATH_KEY(&root, "linux");
    if (validate_uts(spec, &root, err) < 0 || validate_mounts(spec, &root, err) < 0 ||
        validate_user_namespace(spec, &lx, err) < 0 || validate_time_offsets(spec, &lx, err) < 0 ||
        validate_sysctl(spec, &lx, err) < 0 || validate_net_devices(spec, &lx, err) < 0 ||
        validate_seccomp(spec, &lx, err) < 0)
        return -1;
    return 0;
}
