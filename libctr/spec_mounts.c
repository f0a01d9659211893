/* The `mounts` array (config.md, "Mounts", "Linux mount options", "POSIX-platform Mounts").
 *
 * Each option string is classified once here, so the mount code applies numbers:
 *  - the OCI extras (bind/rbind, propagation, the recursive `r*` attributes for mount_setattr(2),
 *    tmpcopyup, idmap/ridmap) come from the table below;
 *  - the filesystem-independent flags of mount(8) come from libmount's own map, MNT_INVERT telling
 *    the ones that clear a flag ("rw", "suid", "dev", "exec", "atime"...);
 *  - everything else is filesystem data, passed comma-joined to mount(2)'s `data`, as the spec
 *    says runtimes SHOULD do with unknown options.
 */
#include "spec.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#include <libmount/libmount.h>

#include "spec_json.h"
#include "util.h"

/* ---- options ------------------------------------------------------------------------------------- */

enum option_kind {
    OPT_IGNORE,      /* "defaults": mount(8)'s placeholder, nothing to do */
    OPT_BIND,        /* value: MS_BIND [| MS_REC] */
    OPT_PROPAGATION, /* value: MS_SHARED/MS_SLAVE/MS_PRIVATE/MS_UNBINDABLE [| MS_REC] */
    OPT_REC_SET,     /* value: a MOUNT_ATTR_* to set recursively */
    OPT_REC_CLEAR,   /* value: a MOUNT_ATTR_* to clear recursively */
    OPT_REC_ATIME,   /* value: the MOUNT_ATTR_*ATIME mode to switch to recursively */
    OPT_TMPCOPYUP,
    OPT_IDMAP,
    OPT_RIDMAP,
};

static const struct {
    const char *name;
    enum option_kind kind;
    unsigned long value;
} oci_options[] = {
    {"defaults", OPT_IGNORE, 0},
    {"bind", OPT_BIND, MS_BIND},
    {"rbind", OPT_BIND, MS_BIND | MS_REC},
    {"shared", OPT_PROPAGATION, MS_SHARED},
    {"rshared", OPT_PROPAGATION, MS_SHARED | MS_REC},
    {"slave", OPT_PROPAGATION, MS_SLAVE},
    {"rslave", OPT_PROPAGATION, MS_SLAVE | MS_REC},
    {"private", OPT_PROPAGATION, MS_PRIVATE},
    {"rprivate", OPT_PROPAGATION, MS_PRIVATE | MS_REC},
    {"unbindable", OPT_PROPAGATION, MS_UNBINDABLE},
    {"runbindable", OPT_PROPAGATION, MS_UNBINDABLE | MS_REC},
    {"rro", OPT_REC_SET, MOUNT_ATTR_RDONLY},
    {"rrw", OPT_REC_CLEAR, MOUNT_ATTR_RDONLY},
    {"rnosuid", OPT_REC_SET, MOUNT_ATTR_NOSUID},
    {"rsuid", OPT_REC_CLEAR, MOUNT_ATTR_NOSUID},
    {"rnodev", OPT_REC_SET, MOUNT_ATTR_NODEV},
    {"rdev", OPT_REC_CLEAR, MOUNT_ATTR_NODEV},
    {"rnoexec", OPT_REC_SET, MOUNT_ATTR_NOEXEC},
    {"rexec", OPT_REC_CLEAR, MOUNT_ATTR_NOEXEC},
    {"rnodiratime", OPT_REC_SET, MOUNT_ATTR_NODIRATIME},
    {"rdiratime", OPT_REC_CLEAR, MOUNT_ATTR_NODIRATIME},
    {"rnosymfollow", OPT_REC_SET, MOUNT_ATTR_NOSYMFOLLOW},
    {"rsymfollow", OPT_REC_CLEAR, MOUNT_ATTR_NOSYMFOLLOW},
    /* mount_setattr(2) changes the atime mode as a whole (MOUNT_ATTR__ATIME in attr_clr, the new
     * mode in attr_set), so each option names the mode it leads to. "atime" and "nostrictatime"
     * undo an option and mean the kernel's default, relatime; "norelatime" means updating atime
     * "without regard to mtime/ctime" (libmount's words), which is strictatime. */
    {"rnoatime", OPT_REC_ATIME, MOUNT_ATTR_NOATIME},
    {"ratime", OPT_REC_ATIME, MOUNT_ATTR_RELATIME},
    {"rrelatime", OPT_REC_ATIME, MOUNT_ATTR_RELATIME},
    {"rnorelatime", OPT_REC_ATIME, MOUNT_ATTR_STRICTATIME},
    {"rstrictatime", OPT_REC_ATIME, MOUNT_ATTR_STRICTATIME},
    {"rnostrictatime", OPT_REC_ATIME, MOUNT_ATTR_RELATIME},
    {"tmpcopyup", OPT_TMPCOPYUP, 0},
    {"idmap", OPT_IDMAP, 0},
    {"ridmap", OPT_RIDMAP, 0},
};

static bool name_is(const char *table_name, const char *name, size_t len)
{
    return strlen(table_name) == len && memcmp(table_name, name, len) == 0;
}

static int find_oci_option(const char *name, size_t len)
{
    for (size_t i = 0; i < ARRAY_SIZE(oci_options); i++) {
        if (name_is(oci_options[i].name, name, len))
            return (int)i;
    }
    return -1;
}

/* A libmount flag an option's name can be: not a name with a value part ("context="), nor a
 * prefix entry. */
static bool is_plain_flag(const struct libmnt_optmap *map)
{
    return strchr(map->name, '=') == NULL && !(map->mask & MNT_PREFIX);
}

static const struct libmnt_optmap *find_mount_flag(const char *name, size_t len)
{
    const struct libmnt_optmap *map = mnt_get_builtin_optmap(MNT_LINUX_MAP);
    for (; map && map->name; map++) {
        if (is_plain_flag(map) && name_is(map->name, name, len))
            return map;
    }
    return NULL;
}

const char *spec_mount_option_name(size_t i)
{
    if (i < ARRAY_SIZE(oci_options))
        return oci_options[i].name;
    i -= ARRAY_SIZE(oci_options);
    for (const struct libmnt_optmap *map = mnt_get_builtin_optmap(MNT_LINUX_MAP); map && map->name;
         map++)
        if (is_plain_flag(map) && i-- == 0)
            return map->name;
    return NULL;
}

/* Later options override earlier ones, as with mount(8): "ro,rw" is read-write. */
static void apply_oci_option(struct spec_mount *m, int index)
{
    unsigned long value = oci_options[index].value;
    switch (oci_options[index].kind) {
    case OPT_IGNORE:
        break;
    case OPT_BIND:
        m->is_bind = true;
        m->flags |= value;
        m->clear_flags &= ~value;
        break;
    case OPT_PROPAGATION:
        m->propagation = value;
        m->recursive.propagation = (value & MS_REC) ? value & ~(unsigned long)MS_REC : 0;
        break;
    case OPT_REC_SET:
        m->recursive.set |= value;
        m->recursive.clear &= ~(uint64_t)value;
        break;
    case OPT_REC_CLEAR:
        m->recursive.clear |= value;
        m->recursive.set &= ~(uint64_t)value;
        break;
    case OPT_REC_ATIME:
        m->recursive.clear |= MOUNT_ATTR__ATIME;
        m->recursive.set = (m->recursive.set & ~(uint64_t)MOUNT_ATTR__ATIME) | value;
        break;
    case OPT_TMPCOPYUP:
        m->tmpcopyup = true;
        break;
    case OPT_IDMAP:
        m->idmap = true;
        break;
    case OPT_RIDMAP:
        m->recursive_idmap = true;
        break;
    }
}

static void apply_mount_flag(struct spec_mount *m, const struct libmnt_optmap *flag)
{
    unsigned long value = (unsigned long)flag->id;
    if (flag->mask & MNT_INVERT) {
        m->clear_flags |= value;
        m->flags &= ~value;
    } else {
        m->flags |= value;
        m->clear_flags &= ~value;
    }
}

/* Classifies the options of one string ("ro", or "ro,nosuid": libmount splits them, and keeps
 * quoted values such as SELinux's context="a,b" whole); the rest goes to `data`. */
static int classify_options(struct spec_mount *m, const char *option, const struct jpath *at,
                            FILE *data, ctr_error **err)
{
    char *cursor = (char *)option, *name, *value;
    size_t name_len, value_len;
    int rc;
    while ((rc = mnt_optstr_next_option(&cursor, &name, &name_len, &value, &value_len)) == 0) {
        int oci = value ? -1 : find_oci_option(name, name_len);
        const struct libmnt_optmap *flag = value || oci >= 0 ? NULL : find_mount_flag(name, name_len);
        if (oci >= 0) {
            apply_oci_option(m, oci);
        } else if (flag) {
            apply_mount_flag(m, flag);
        } else {
            size_t len = value ? (size_t)(value + value_len - name) : name_len;
            if (ftell(data) > 0)
                fputc(',', data);
            fwrite(name, 1, len, data);
        }
    }
    /* libmount stops, without an error, at an option it cannot split (an unbalanced quote). */
    cursor += strspn(cursor, ",");
    if (rc < 0 || *cursor != '\0')
        return jpath_error(err, at, "cannot parse mount option \"%s\"", option);
    return 0;
}

static int parse_options(struct ctr_spec *spec, struct spec_mount *m, const struct jpath *path,
                         ctr_error **err)
{
    struct jpath options_at = JPATH_KEY(path, "options");
    _cleanup_free_ char *data = NULL;
    size_t data_len = 0;
    FILE *f = open_memstream(&data, &data_len);
    if (f == NULL)
        return jpath_out_of_memory(err, &options_at);

    m->flags = m->clear_flags = m->propagation = 0;
    m->recursive = (struct spec_mount_attr){0};
    m->is_bind = m->tmpcopyup = m->idmap = m->recursive_idmap = false;
    m->data = NULL;
    for (size_t i = 0; i < m->options.count; i++) {
        struct jpath item = JPATH_INDEX(&options_at, i);
        if (classify_options(m, m->options.items[i], &item, f, err) < 0) {
            fclose(f);
            return -1;
        }
    }
    if (fclose(f) != 0)
        return jpath_out_of_memory(err, &options_at);

    /* config.md: "A mount is a bind mount if it has either bind or rbind in the options"; runc and
     * crun also take the type "bind" alone for a (non-recursive) bind mount. */
    if (m->type && strcmp(m->type, "bind") == 0) {
        m->is_bind = true;
        m->flags |= MS_BIND;
    }
    /* config.md: with mappings the options SHOULD say idmap or ridmap, "to ensure that older
     * runtimes will not silently ignore this field"; without either, map the mount itself (runc
     * does the same). */
    if ((m->uid_mappings_count || m->gid_mappings_count) && !m->idmap && !m->recursive_idmap)
        m->idmap = true;
    if (data_len > 0) {
        m->data = spec_strdup(spec, data, &options_at, err);
        if (m->data == NULL)
            return -1;
    }
    return 0;
}

int spec_parse_mount_options(struct ctr_spec *spec, struct spec_mount *mount, const char *where,
                             ctr_error **err)
{
    struct jpath path = JPATH_AT(where);
    return parse_options(spec, mount, &path, err);
}

/* ---- one mount ----------------------------------------------------------------------------------- */

/* config.md: on Linux a relative destination is deprecated but allowed, "interpreted as relative to
 * /". The result is cleaned lexically (as Go's filepath.Join("/", dest), which runc uses): no ".",
 * "..", repeated or trailing slashes, so the mount code compares and resolves one spelling. */
static char *clean_destination(struct ctr_spec *spec, const char *dest, const struct jpath *at,
                               ctr_error **err)
{
    char *out = spec_alloc(spec, strlen(dest) + 2, 1, at, err);
    if (out == NULL)
        return NULL;
    size_t len = 0;
    out[len++] = '/';
    for (const char *p = dest; *p;) {
        p += strspn(p, "/");
        const char *segment = p;
        p += strcspn(p, "/");
        size_t n = (size_t)(p - segment);
        if (n == 0 || (n == 1 && segment[0] == '.'))
            continue;
        if (n == 2 && segment[0] == '.' && segment[1] == '.') {
            if (len > 1) {
                len--; /* the slash after the last segment */
                while (out[len - 1] != '/')
                    len--;
            }
            continue;
        }
        memcpy(out + len, segment, n);
        len += n;
        out[len++] = '/';
    }
    if (len > 1)
        len--;
    out[len] = '\0';
    return out;
}

static int parse_mount(struct ctr_spec *spec, json_t *json, const struct jpath *at,
                       struct spec_mount *m, ctr_error **err)
{
    char *destination = NULL;
    if (jval_object(json, at, err) < 0 ||
        jget_string(spec, json, at, "destination", J_REQUIRED, &destination, err) < 0)
        return -1;
    struct jpath destination_at = JPATH_KEY(at, "destination");
    if (destination[0] == '\0')
        return jpath_error(err, &destination_at, "must not be empty");
    m->destination = clean_destination(spec, destination, &destination_at, err);
    if (m->destination == NULL ||
        jget_string(spec, json, at, "type", J_OPTIONAL, &m->type, err) < 0 ||
        jget_string(spec, json, at, "source", J_OPTIONAL, &m->source, err) < 0 ||
        jget_string_list(spec, json, at, "options", J_OPTIONAL, &m->options, err) < 0 ||
        spec_parse_id_mappings(spec, json, at, "uidMappings", &m->uid_mappings,
                               &m->uid_mappings_count, err) < 0 ||
        spec_parse_id_mappings(spec, json, at, "gidMappings", &m->gid_mappings,
                               &m->gid_mappings_count, err) < 0 ||
        parse_options(spec, m, at, err) < 0)
        return -1;
    return 0;
}

int spec_parse_mounts(struct ctr_spec *spec, json_t *doc, const struct jpath *path,
                      ctr_error **err)
{
    json_t *array = NULL;
    int r = jget_array(doc, path, "mounts", J_OPTIONAL, &array, err);
    if (r <= 0)
        return r;
    struct jpath at = JPATH_KEY(path, "mounts");
    size_t count = json_array_size(array);
    spec->mounts = spec_alloc(spec, count, sizeof(*spec->mounts), &at, err);
    if (spec->mounts == NULL)
        return -1;
    for (size_t i = 0; i < count; i++) {
        struct jpath item = JPATH_INDEX(&at, i);
        if (parse_mount(spec, json_array_get(array, i), &item, &spec->mounts[i], err) < 0)
            return -1;
        spec->mounts_count++;
    }
    return 0;
}
