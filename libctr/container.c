/* The public container lifecycle: create (everything up to the exec barrier), start, wait, kill,
 * destroy. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup.h"
#include "error.h"
#include "security.h"
#include "spawn.h"
#include "spec.h"
#include "util.h"

struct ctr_container {
    char *id;
    char *rootfs;
    ctr_spec *spec;
    bool own_spec;
    struct cgroup *cgroup;
    struct spawned_init init;
    bool started;
    bool reaped;
    int exit_code;
};

/* runc's rule for ids: they name directories and cgroups, so no '/' and no "..". */
static int check_id(const char *id, ctr_error **err)
{
    if (id == NULL || *id == '\0')
        return error_set(err, EINVAL, "container id: must not be empty");
    if (strlen(id) > 1024)
        return error_set(err, EINVAL, "container id: longer than 1024 characters");
    if (strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
        return error_set(err, EINVAL, "container id `%s`: invalid", id);
    for (const char *p = id; *p; p++)
        if (!(('a' <= *p && *p <= 'z') || ('A' <= *p && *p <= 'Z') || ('0' <= *p && *p <= '9') ||
              *p == '_' || *p == '-' || *p == '.' || *p == '+'))
            return error_set(err, EINVAL,
                             "container id `%s`: only letters, digits and _ - . + are allowed", id);
    return 0;
}

static int resolve_rootfs(const char *bundle, const struct ctr_spec *spec, char **rootfs,
                          ctr_error **err)
{
    _cleanup_free_ char *joined = NULL;
    const char *path = spec->root_path;
    if (path[0] != '/') {
        if (asprintf(&joined, "%s/%s", bundle, path) < 0)
            return error_set(err, ENOMEM, "root.path");
        path = joined;
    }
    char *resolved = realpath(path, NULL);
    if (resolved == NULL)
        return error_set(err, errno, "root.path `%s`", path);
    struct stat st;
    if (stat(resolved, &st) < 0 || !S_ISDIR(st.st_mode)) {
        free(resolved);
        return error_set(err, ENOTDIR, "root.path `%s`", path);
    }
    *rootfs = resolved;
    return 0;
}

/* What the runtime (not the config's syntax) decides cannot run here: checked before anything
 * is created on the host. */
static int check_runnable(const struct ctr_spec *spec, ctr_error **err)
{
    if (!spec->has_process)
        return error_set(err, EINVAL, "process: required to create a container");
    const struct spec_namespace *mnt = &spec->linux_.namespaces[NS_MOUNT];
    if (!mnt->present || mnt->path)
        return error_set(err, EINVAL,
                         "linux.namespaces: a new mount namespace is required to set up the rootfs");
    if (spec->process.has_capabilities &&
        caps_check_grantable(&spec->process.capabilities, err) < 0)
        return -1;
    /* No LSM is applied yet: a label that cannot be honoured must fail, not be ignored. */
    if (spec->process.apparmor_profile && *spec->process.apparmor_profile)
        return error_set(err, EOPNOTSUPP, "process.apparmorProfile `%s`: AppArmor is not supported",
                         spec->process.apparmor_profile);
    if (spec->process.selinux_label && *spec->process.selinux_label)
        return error_set(err, EOPNOTSUPP, "process.selinuxLabel `%s`: SELinux is not supported",
                         spec->process.selinux_label);
    if (spec->linux_.mount_label && *spec->linux_.mount_label)
        return error_set(err, EOPNOTSUPP, "linux.mountLabel `%s`: SELinux is not supported",
                         spec->linux_.mount_label);
    return 0;
}

static void container_free(ctr_container *c)
{
    if (c->own_spec)
        ctr_spec_free(c->spec);
    free(c->rootfs);
    free(c->id);
    free(c);
}

CTR_API int ctr_container_create(const char *id, const struct ctr_create_options *options,
                                 ctr_container **out, ctr_error **err)
{
    struct ctr_create_options opts = {.stdio = {-1, -1, -1}};
    if (options) {
        if (options->size < sizeof(options->size))
            return error_set(err, EINVAL, "ctr_create_options: bad size %zu", options->size);
        memcpy(&opts, options, options->size < sizeof(opts) ? options->size : sizeof(opts));
    }
    if (check_id(id, err) < 0)
        return -1;

    ctr_container *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return error_set(err, ENOMEM, "container `%s`", id);
    c->init = (struct spawned_init){.pid = -1, .pidfd = -1, .sync_fd = -1};
    c->id = strdup(id);
    _cleanup_free_ char *bundle = realpath(opts.bundle ? opts.bundle : ".", NULL);
    if (bundle == NULL) {
        error_set(err, errno, "bundle `%s`", opts.bundle ? opts.bundle : ".");
        goto fail;
    }
    if (opts.spec) {
        c->spec = (ctr_spec *)opts.spec;
    } else {
        _cleanup_free_ char *config = NULL;
        if (asprintf(&config, "%s/config.json", bundle) < 0 ||
            ctr_spec_load_file(config, &c->spec, err) < 0)
            goto fail;
        c->own_spec = true;
    }
    if (resolve_rootfs(bundle, c->spec, &c->rootfs, err) < 0 || check_runnable(c->spec, err) < 0)
        goto fail;

    if (cgroup_create(c->spec, id, &c->cgroup, err) < 0)
        goto fail;
    struct spawn_request request = {
        .spec = c->spec,
        .bundle = bundle,
        .rootfs = c->rootfs,
        .cgroup = c->cgroup,
        .stdio = {opts.stdio[0], opts.stdio[1], opts.stdio[2]},
    };
    if (spawn_init(&request, &c->init, err) < 0) {
        cgroup_destroy(steal_pointer(&c->cgroup), NULL);
        goto fail;
    }
    *out = c;
    return 0;

fail:
    error_wrap(err, "create container `%s`", id);
    container_free(c);
    return -1;
}

CTR_API int ctr_container_start(ctr_container *c, ctr_error **err)
{
    if (c->started)
        return error_set(err, EBUSY, "start container `%s`: already started", c->id);
    c->started = true;
    if (spawn_start(&c->init, err) < 0)
        return error_wrap(err, "start container `%s`", c->id);
    return 0;
}

CTR_API pid_t ctr_container_pid(const ctr_container *c)
{
    return c->init.pid;
}

CTR_API int ctr_container_pidfd(const ctr_container *c)
{
    return c->init.pidfd;
}

CTR_API const char *ctr_container_id(const ctr_container *c)
{
    return c->id;
}

CTR_API int ctr_container_kill(ctr_container *c, int signal, ctr_error **err)
{
    if (c->reaped)
        return error_set(err, ESRCH, "kill container `%s`: it has exited", c->id);
    /* Through the pidfd: the signal cannot reach a process that reused the pid. */
    if (syscall(SYS_pidfd_send_signal, c->init.pidfd, signal, NULL, 0) < 0)
        return error_set(err, errno, "kill container `%s` with signal %d", c->id, signal);
    return 0;
}

CTR_API int ctr_container_wait(ctr_container *c, int *exit_code, ctr_error **err)
{
    if (!c->reaped) {
        siginfo_t info = {0};
        while (waitid(P_PIDFD, (id_t)c->init.pidfd, &info, WEXITED) < 0)
            if (errno != EINTR)
                return error_set(err, errno, "wait for container `%s`", c->id);
        c->reaped = true;
        c->exit_code = info.si_code == CLD_EXITED ? info.si_status : 128 + info.si_status;
    }
    if (exit_code)
        *exit_code = c->exit_code;
    return 0;
}

CTR_API int ctr_container_destroy(ctr_container *c, ctr_error **err)
{
    if (c == NULL)
        return 0;
    int ret = 0;
    if (!c->reaped && c->init.pid > 0) {
        syscall(SYS_pidfd_send_signal, c->init.pidfd, SIGKILL, NULL, 0);
        ret = ctr_container_wait(c, NULL, err);
    }
    if (c->init.pidfd >= 0)
        close(c->init.pidfd);
    if (c->init.sync_fd >= 0)
        close(c->init.sync_fd);
    if (c->cgroup && cgroup_destroy(steal_pointer(&c->cgroup), ret < 0 ? NULL : err) < 0)
        ret = error_wrap(err, "destroy container `%s`", c->id);
    container_free(c);
    return ret;
}
