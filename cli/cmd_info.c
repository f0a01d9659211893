/* features and spec: what this runtime implements (runtime-spec features.md, features-linux.md,
 * built by libctr from its parser's own tables: libctr/features.c) and a starting config.json
 * (runc's `spec`).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static json_t *string_array(const char *const *items, size_t count)
{
    json_t *array = json_array();
    for (size_t i = 0; array && i < count; i++)
        if (json_array_append_new(array, json_string(items[i])) < 0) {
            json_decref(array);
            return NULL;
        }
    return array;
}

/* ---- features -------------------------------------------------------------------------------- */

/* No option besides --help (handled by main.c), no argument: anything else is a mistake. */
static int no_arguments(const struct cli_globals *g, int argc, char **argv)
{
    static const struct option options[] = {{NULL, 0, NULL, 0}};
    if (getopt_long(argc, argv, "+", options, NULL) != -1)
        return cli_fail(g, "%s: bad option (see %s --help)", argv[0], argv[0]);
    if (optind != argc)
        return cli_fail(g, "%s: takes no arguments, got `%s`", argv[0], argv[optind]);
    return 0;
}

int cmd_features(const struct cli_globals *g, int argc, char **argv)
{
    if (no_arguments(g, argc, argv) != 0)
        return 1;
    /* libctr builds it from the parser's own tables (libctr/features.c); printed indented, as
     * runc prints its own. */
    char *text = ctr_features_json();
    json_t *doc = text ? json_loads(text, 0, NULL) : NULL;
    free(text);
    if (doc == NULL)
        return cli_fail(g, "features: build the document: %s", strerror(ENOMEM));
    int rc = json_dumpf(doc, stdout, JSON_INDENT(2));
    json_decref(doc);
    if (rc < 0 || fputc('\n', stdout) == EOF || fflush(stdout) == EOF)
        return cli_fail(g, "features: write to stdout: %s", strerror(errno));
    return 0;
}

/* ---- spec ------------------------------------------------------------------------------------ */

/* runc's specconv.Example(), with our hostname: a shell on a read-only rootfs/ with the mounts a
 * Linux userland expects, three harmless capabilities, and no device but the default ones. */
static const struct {
    const char *destination, *type, *source;
    const char *options; /* comma-separated */
} default_mounts[] = {
    {"/proc", "proc", "proc", NULL},
    {"/dev", "tmpfs", "tmpfs", "nosuid,strictatime,mode=755,size=65536k"},
    {"/dev/pts", "devpts", "devpts", "nosuid,noexec,newinstance,ptmxmode=0666,mode=0620,gid=5"},
    {"/dev/shm", "tmpfs", "shm", "nosuid,noexec,nodev,mode=1777,size=65536k"},
    {"/dev/mqueue", "mqueue", "mqueue", "nosuid,noexec,nodev"},
    {"/sys", "sysfs", "sysfs", "nosuid,noexec,nodev,ro"},
    {"/sys/fs/cgroup", "cgroup", "cgroup", "nosuid,noexec,nodev,relatime,ro"},
};

/* runc adds the cgroup namespace on cgroup v2 hosts only; libctr gives a container its own
 * cgroup namespace, and mounts its cgroups in it, on v1 and hybrid hosts too (rootfs.c). */
static const char *const default_namespaces[] = {"pid", "network", "ipc", "uts", "mount", "cgroup"};

static const char *const default_masked_paths[] = {
    "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
    "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi",
    "/sys/devices/virtual/tpm",
};

static const char *const default_readonly_paths[] = {"/proc/bus", "/proc/fs", "/proc/irq",
                                                     "/proc/sys", "/proc/sysrq-trigger"};

static const char *const default_caps[] = {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"};

static json_t *default_mount_list(void)
{
    json_t *mounts = json_array();
    bool failed = mounts == NULL;
    for (size_t i = 0; !failed && i < COUNT(default_mounts); i++) {
        json_t *m = json_pack("{s:s, s:s, s:s}", "destination", default_mounts[i].destination,
                              "type", default_mounts[i].type, "source", default_mounts[i].source);
        const char *opts = default_mounts[i].options;
        if (opts) {
            json_t *options = json_array();
            for (const char *p = opts; *p;) {
                size_t len = strcspn(p, ",");
                failed |= json_array_append_new(options, json_stringn(p, len)) < 0;
                p += len + (p[len] == ',');
            }
            failed |= json_object_set_new(m, "options", options) < 0;
        }
        failed |= json_array_append_new(mounts, m) < 0;
    }
    if (failed) {
        json_decref(mounts);
        return NULL;
    }
    return mounts;
}

static json_t *example_spec(void)
{
    json_t *namespaces_json = json_array();
    bool failed = false;
    for (size_t i = 0; i < COUNT(default_namespaces); i++)
        failed |= json_array_append_new(namespaces_json,
                                        json_pack("{s:s}", "type", default_namespaces[i])) < 0;
    if (failed) {
        json_decref(namespaces_json);
        return NULL;
    }
    /* The three sets are the same list: one array, referenced three times (O). */
    json_t *caps = string_array(default_caps, COUNT(default_caps));
    json_t *spec = json_pack(
        "{s:s,"
        " s:{s:b, s:{s:i, s:i}, s:[s], s:[s, s], s:s, s:{s:O, s:O, s:O},"
        "    s:[{s:s, s:i, s:i}], s:b},"
        " s:{s:s, s:b}, s:s, s:o,"
        " s:{s:{s:[{s:b, s:s}]}, s:o, s:o, s:o}}",
        "ociVersion", ctr_oci_spec_version(),
        "process", "terminal", 1, "user", "uid", 0, "gid", 0, "args", "sh",
        "env", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm",
        "cwd", "/",
        "capabilities", "bounding", caps, "effective", caps, "permitted", caps,
        "rlimits", "type", "RLIMIT_NOFILE", "hard", 1024, "soft", 1024,
        "noNewPrivileges", 1,
        "root", "path", "rootfs", "readonly", 1,
        "hostname", "ctr",
        "mounts", default_mount_list(),
        "linux", "resources", "devices", "allow", 0, "access", "rwm",
        "namespaces", namespaces_json,
        "maskedPaths", string_array(default_masked_paths, COUNT(default_masked_paths)),
        "readonlyPaths", string_array(default_readonly_paths, COUNT(default_readonly_paths)));
    json_decref(caps);
    return spec;
}

static bool has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* runc's specconv.ToRootless(): the same container for an unprivileged user, who owns no network
 * device, has one uid and one gid to map, and may not mount what needs real root. */
static int make_rootless(json_t *spec)
{
    json_t *lx = json_object_get(spec, "linux");
    json_t *ns = json_object_get(lx, "namespaces");
    size_t i;
    /* An unprivileged user cannot connect a new network namespace to anything (a veth pair
     * needs root on the host), so the container keeps the host's network. */
    for (i = json_array_size(ns); i-- > 0;) {
        const char *type = json_string_value(json_object_get(json_array_get(ns, i), "type"));
        if (type && (strcmp(type, "network") == 0 || strcmp(type, "user") == 0))
            json_array_remove(ns, i);
    }
    json_int_t uid = geteuid(), gid = getegid();
    if (json_array_append_new(ns, json_pack("{s:s}", "type", "user")) < 0 ||
        json_object_set_new(lx, "uidMappings", json_pack("[{s:i, s:I, s:i}]", "containerID", 0,
                                                         "hostID", uid, "size", 1)) < 0 ||
        json_object_set_new(lx, "gidMappings", json_pack("[{s:i, s:I, s:i}]", "containerID", 0,
                                                         "hostID", gid, "size", 1)) < 0)
        return -1;

    json_t *mounts = json_object_get(spec, "mounts");
    for (i = json_array_size(mounts); i-- > 0;) {
        json_t *m = json_array_get(mounts, i);
        const char *dest = json_string_value(json_object_get(m, "destination"));
        /* Without its own network namespace the container may not mount a sysfs: the host's
         * /sys is bound instead. */
        if (dest && strcmp(dest, "/sys") == 0) {
            json_t *bind = json_pack("{s:s, s:s, s:s, s:[s, s, s, s, s]}", "destination", "/sys",
                                     "type", "none", "source", "/sys", "options", "rbind",
                                     "nosuid", "noexec", "nodev", "ro");
            if (json_array_set_new(mounts, i, bind) < 0)
                return -1;
            continue;
        }
        /* gid=5 (tty) on /dev/pts: only the one mapped id exists in the user namespace. */
        json_t *options = json_object_get(m, "options");
        for (size_t j = json_array_size(options); j-- > 0;) {
            const char *opt = json_string_value(json_array_get(options, j));
            if (opt && (has_prefix(opt, "uid=") || has_prefix(opt, "gid=")))
                json_array_remove(options, j);
        }
    }
    /* Cgroup limits need a delegated cgroup the user owns, which a default cannot assume. */
    json_object_del(lx, "resources");
    return 0;
}

static int write_all_fd(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

/* O_EXCL: the existing-file check and the creation are one step, so a config.json appearing in
 * between is not overwritten either. */
static int write_new_file(const struct cli_globals *g, const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, 0666);
    if (fd < 0 && errno == EEXIST)
        return cli_fail(g, "File %s exists. Remove it first", path);
    if (fd < 0)
        return cli_fail(g, "spec: create %s: %s", path, strerror(errno));
    int rc = write_all_fd(fd, text, strlen(text));
    if (rc == 0)
        rc = write_all_fd(fd, "\n", 1);
    int saved = errno;
    if (close(fd) < 0 && rc == 0) {
        rc = -1;
        saved = errno;
    }
    if (rc < 0) {
        unlink(path);
        return cli_fail(g, "spec: write %s: %s", path, strerror(saved));
    }
    return 0;
}

int cmd_spec(const struct cli_globals *g, int argc, char **argv)
{
    static const struct option options[] = {
        {"bundle", required_argument, NULL, 'b'},
        {"rootless", no_argument, NULL, 'r'},
        {NULL, 0, NULL, 0},
    };
    const char *bundle = NULL;
    bool rootless = false;
    int opt;
    while ((opt = getopt_long(argc, argv, "+b:", options, NULL)) != -1) {
        switch (opt) {
        case 'b': bundle = optarg; break;
        case 'r': rootless = true; break;
        default: return cli_fail(g, "spec: bad option (see spec --help)");
        }
    }
    if (optind != argc)
        return cli_fail(g, "spec: takes no arguments, got `%s`", argv[optind]);

    char *path = NULL;
    if (asprintf(&path, "%s%sconfig.json", bundle ? bundle : "",
                 bundle && bundle[0] && bundle[strlen(bundle) - 1] != '/' ? "/" : "") < 0)
        return cli_fail(g, "spec: %s", strerror(ENOMEM));
    json_t *spec = example_spec();
    char *text = NULL;
    if (spec && (!rootless || make_rootless(spec) == 0))
        text = json_dumps(spec, JSON_INDENT(2));
    json_decref(spec);
    int rc;
    ctr_spec *loaded = NULL;
    ctr_error *err = NULL;
    if (text == NULL) {
        rc = cli_fail(g, "spec: build the configuration: %s", strerror(ENOMEM));
    } else if (ctr_spec_load_data(text, strlen(text), path, &loaded, &err) < 0) {
        /* A default that libctr itself refuses would be a bug here, not the user's: say so, and
         * write no file that the next `spec` would refuse to replace. */
        rc = cli_fail(g, "spec: internal error: the generated configuration does not load: %s",
                      ctr_error_message(err));
        ctr_error_free(err);
    } else {
        rc = write_new_file(g, path, text);
    }
    ctr_spec_free(loaded);
    free(text);
    free(path);
    return rc;
}
