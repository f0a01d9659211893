/* The runtime-spec features document (features.md, features-linux.md): what this build of the
 * library implements, on this host, for managers (containerd, podman) deciding which fields they
 * may put in a config.
 *
 * Every list is what the parser and the code behind it really take: the names come from the
 * parser's own tables (spec.h), and where a library owns the names (libmount's mount flags,
 * libcap-ng's capabilities, libseccomp's architectures and API level) the list is asked of the
 * library, as the parser asks it.
 */
#include <cap-ng.h>
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec.h"
#include "util.h"

/* Every architecture name some libseccomp release knows; the parser resolves SCMP_ARCH_<NAME>
 * with seccomp_arch_resolve_name(), so only the ones this libseccomp resolves are listed. */
static const char *const seccomp_arch_names[] = {
    "x86", "x86_64", "x32", "arm", "aarch64", "loongarch64", "m68k", "mips", "mipsel", "mips64",
    "mipsel64", "mips64n32", "mipsel64n32", "parisc", "parisc64", "ppc", "ppc64", "ppc64le",
    "riscv64", "s390", "s390x", "sh", "sheb",
};

/* libseccomp 2.6 brought SCMP_FLTATR_CTL_WAITKILL; seccomp.c refuses the flag without it. */
#define LIBSECCOMP_HAS_WAITKILL (SCMP_VER_MAJOR > 2 || (SCMP_VER_MAJOR == 2 && SCMP_VER_MINOR >= 6))

/* The libseccomp API level (seccomp_api_get(3)) at which libseccomp and the running kernel can set
 * each filter flag the parser takes; the level is probed, so it covers both. A flag the parser
 * takes and this table lacks is reported as known but not supported. */
static const struct {
    const char *name;
    unsigned api_level;
    bool built; /* seccomp.c can set it with the libseccomp it was built against */
} seccomp_flag_levels[] = {
    {"SECCOMP_FILTER_FLAG_TSYNC", 2, true},
    {"SECCOMP_FILTER_FLAG_LOG", 3, true},
    {"SECCOMP_FILTER_FLAG_SPEC_ALLOW", 4, true},
    {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", 7, LIBSECCOMP_HAS_WAITKILL},
};

/* Appends `item` (NULL: out of memory) to `array`; false when either failed. */
static bool append(json_t *array, json_t *item)
{
    return array && item && json_array_append_new(array, item) == 0;
}

/* The names `name_at` gives, in order. */
static json_t *names(const char *(*name_at)(size_t))
{
    json_t *array = json_array();
    const char *name;
    for (size_t i = 0; array && (name = name_at(i)) != NULL; i++)
        if (!append(array, json_string(name))) {
            json_decref(array);
            return NULL;
        }
    return array;
}

/* "x86_64" -> "SCMP_ARCH_X86_64", "sys_admin" -> "CAP_SYS_ADMIN". */
static json_t *prefixed_upper(const char *prefix, const char *name)
{
    char buf[64];
    int n = snprintf(buf, sizeof(buf), "%s%s", prefix, name);
    if (n < 0 || (size_t)n >= sizeof(buf))
        return NULL;
    for (char *p = buf; *p; p++)
        *p = (char)toupper((unsigned char)*p);
    return json_string(buf);
}

static const char *namespace_name_at(size_t i)
{
    return i < NS_TYPE_COUNT ? spec_namespace_name((enum spec_namespace_type)i) : NULL;
}

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The parser's mount options, sorted without repeats (libmount also knows bind and the
 * propagation names). */
static json_t *mount_options(void)
{
    size_t count = 0;
    while (spec_mount_option_name(count))
        count++;
    _cleanup_free_ const char **sorted = calloc(count ? count : 1, sizeof(*sorted));
    if (sorted == NULL)
        return NULL;
    for (size_t i = 0; i < count; i++)
        sorted[i] = spec_mount_option_name(i);
    qsort(sorted, count, sizeof(sorted[0]), compare_strings);
    json_t *array = json_array();
    for (size_t i = 0; array && i < count; i++) {
        if (i > 0 && strcmp(sorted[i], sorted[i - 1]) == 0)
            continue;
        if (!append(array, json_string(sorted[i]))) {
            json_decref(array);
            return NULL;
        }
    }
    return array;
}

/* The parser asks libcap-ng for a capability's number, so the names libcap-ng has are exactly the
 * ones it takes. It takes numbers below 64 (a bit each in the spec's sets). */
static json_t *capabilities(void)
{
    json_t *array = json_array();
    for (unsigned cap = 0; array && cap < 64; cap++) {
        const char *name = capng_capability_to_name(cap);
        if (name != NULL && !append(array, prefixed_upper("CAP_", name))) {
            json_decref(array);
            return NULL;
        }
    }
    return array;
}

static bool flag_supported(const char *name, unsigned api)
{
    for (size_t i = 0; i < ARRAY_SIZE(seccomp_flag_levels); i++)
        if (strcmp(seccomp_flag_levels[i].name, name) == 0)
            return seccomp_flag_levels[i].built && api >= seccomp_flag_levels[i].api_level;
    return false;
}

static json_t *seccomp_features(void)
{
    json_t *archs = json_array(), *known = names(spec_seccomp_flag_name),
           *supported = json_array();
    bool ok = archs && known && supported;
    for (size_t i = 0; ok && i < ARRAY_SIZE(seccomp_arch_names); i++)
        if (seccomp_arch_resolve_name(seccomp_arch_names[i]) != 0)
            ok = append(archs, prefixed_upper("SCMP_ARCH_", seccomp_arch_names[i]));
    /* Probes the running kernel too (SECCOMP_FILTER_FLAG_LOG needs Linux 4.14, ...). */
    unsigned api = seccomp_api_get();
    const char *flag;
    for (size_t i = 0; ok && (flag = spec_seccomp_flag_name(i)) != NULL; i++)
        if (flag_supported(flag, api))
            ok = append(supported, json_string(flag));
    if (!ok) {
        json_decref(archs);
        json_decref(known);
        json_decref(supported);
        return NULL;
    }
    return json_pack("{s:b, s:o, s:o, s:o, s:o, s:o}", "enabled", 1, "actions",
                     names(spec_seccomp_action_name), "operators",
                     names(spec_seccomp_operator_name), "archs", archs, "knownFlags", known,
                     "supportedFlags", supported);
}

static json_t *linux_features(void)
{
    return json_pack(
        "{s:o, s:o, s:{s:b, s:b, s:b, s:b, s:b}, s:o, s:{s:b}, s:{s:b}, s:{s:b}, s:{s:{s:b}}}",
        "namespaces", names(namespace_name_at), "capabilities", capabilities(),
        /* systemd: the driver only places the cgroup where systemd would (cgroup_layout.c); it
         * makes no transient unit over D-Bus, which is what a manager asking this relies on. */
        "cgroup", "v1", 1, "v2", 1, "systemd", 0, "systemdUser", 0, "rdma", 1,
        "seccomp", seccomp_features(),
        /* features-linux.md: these say whether the support is built in, not whether this host
         * has the LSM: AppArmor and SELinux labels are applied where the LSM is active and
         * refused clearly where not (lsm.c); linux.intelRdt goes through resctrl (intelrdt.c).
         * (1.3's linux.netDevices is implemented too, netdev.c, but its features field is
         * 1.3's, and a 1.2 document must not hold fields its version does not define.) */
        "apparmor", "enabled", 1, "selinux", "enabled", 1, "intelRdt", "enabled", 1,
        /* idmap and ridmap bind mounts: mount.c, mount_idmapped(). */
        "mountExtensions", "idmap", "enabled", 1);
}

CTR_API char *ctr_features_json(void)
{
    const struct scmp_version *scmp = seccomp_version();
    char scmp_version[48];
    snprintf(scmp_version, sizeof(scmp_version), "%u.%u.%u", scmp->major, scmp->minor,
             scmp->micro);
    /* ociVersionMin: config.md makes any 1.x config acceptable to a 1.x runtime, and spec.c
     * takes every 1.x.y; "1.0.0" is the oldest such release. */
    json_t *doc = json_pack("{s:s, s:s, s:o, s:o, s:o, s:{s:s, s:s}, s:[]}", "ociVersionMin",
                            "1.0.0", "ociVersionMax", ctr_oci_spec_version(), "hooks",
                            names(spec_hook_name), "mountOptions", mount_options(), "linux",
                            linux_features(), "annotations", "io.github.libctr.version",
                            ctr_version(), "io.github.seccomp.libseccomp.version", scmp_version,
                            "potentiallyUnsafeConfigAnnotations");
    char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    if (text == NULL)
        errno = ENOMEM;
    return text;
}
