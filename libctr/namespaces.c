#include "namespaces.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "procfs.h"
#include "util.h"

int namespace_clone_flag(enum spec_namespace_type type)
{
    static const int flags[NS_TYPE_COUNT] = {
        [NS_PID] = CLONE_NEWPID,   [NS_NETWORK] = CLONE_NEWNET, [NS_MOUNT] = CLONE_NEWNS,
        [NS_IPC] = CLONE_NEWIPC,   [NS_UTS] = CLONE_NEWUTS,     [NS_USER] = CLONE_NEWUSER,
        [NS_CGROUP] = CLONE_NEWCGROUP, [NS_TIME] = CLONE_NEWTIME,
    };
    return flags[type];
}

int namespaces_new_flags(const struct spec_linux *linux_)
{
    int flags = 0;
    for (int t = 0; t < NS_TYPE_COUNT; t++) {
        const struct spec_namespace *ns = &linux_->namespaces[t];
        if (ns->present && ns->path == NULL && t != NS_CGROUP && t != NS_TIME)
            flags |= namespace_clone_flag(t);
    }
    return flags;
}

bool namespaces_any_joined(const struct spec_linux *linux_)
{
    for (int t = 0; t < NS_TYPE_COUNT; t++)
        if (linux_->namespaces[t].present && linux_->namespaces[t].path)
            return true;
    return false;
}

void namespaces_close_fds(int fds[NS_TYPE_COUNT])
{
    for (int t = 0; t < NS_TYPE_COUNT; t++) {
        if (fds[t] >= 0)
            close(fds[t]);
        fds[t] = -1;
    }
}

int namespaces_open_paths(const struct spec_linux *linux_, int fds[NS_TYPE_COUNT], ctr_error **err)
{
    for (int t = 0; t < NS_TYPE_COUNT; t++)
        fds[t] = -1;
    for (int t = 0; t < NS_TYPE_COUNT; t++) {
        const struct spec_namespace *ns = &linux_->namespaces[t];
        if (!ns->present || ns->path == NULL)
            continue;
        fds[t] = open(ns->path, O_RDONLY | O_CLOEXEC);
        struct statfs st;
        if (fds[t] < 0 || fstatfs(fds[t], &st) < 0) {
            int saved = errno;
            namespaces_close_fds(fds);
            return error_set(err, saved, "linux.namespaces[%zu].path `%s`", ns->index, ns->path);
        }
        if (st.f_type != NSFS_MAGIC) {
            namespaces_close_fds(fds);
            return error_set(err, EINVAL, "linux.namespaces[%zu].path `%s`: not a namespace",
                             ns->index, ns->path);
        }
    }
    return 0;
}

int namespaces_open_of_process(int procfd, const struct spec_linux *linux_, pid_t pid,
                               int fds[NS_TYPE_COUNT], char paths[NS_TYPE_COUNT][48],
                               ctr_error **err)
{
    static const char *const proc_names[NS_TYPE_COUNT] = {
        [NS_PID] = "pid", [NS_NETWORK] = "net", [NS_MOUNT] = "mnt",   [NS_IPC] = "ipc",
        [NS_UTS] = "uts", [NS_USER] = "user",   [NS_CGROUP] = "cgroup", [NS_TIME] = "time",
    };
    for (int t = 0; t < NS_TYPE_COUNT; t++) {
        fds[t] = -1;
        paths[t][0] = '\0';
    }
    for (int t = 0; t < NS_TYPE_COUNT; t++) {
        if (!linux_->namespaces[t].present)
            continue;
        snprintf(paths[t], sizeof(paths[t]), "/proc/%d/ns/%s", (int)pid, proc_names[t]);
        fds[t] = procfs_open_namespace(procfd, paths[t] + strlen("/proc/"),
                                       namespace_clone_flag(t), err);
        if (fds[t] < 0) {
            namespaces_close_fds(fds);
            return error_wrap(err, "the container's %s namespace", spec_namespace_name(t));
        }
    }
    return 0;
}

static int join_one(int fds[NS_TYPE_COUNT], enum spec_namespace_type t, const char *path,
                    ctr_error **err)
{
    if (fds[t] < 0)
        return 0;
    if (setns(fds[t], namespace_clone_flag(t)) < 0)
        return error_set(err, errno, "join %s namespace `%s`", spec_namespace_name(t), path);
    close(fds[t]);
    fds[t] = -1;
    return 0;
}

int namespaces_join(int fds[NS_TYPE_COUNT], const char *const paths[NS_TYPE_COUNT],
                    ctr_error **err)
{
    if (join_one(fds, NS_USER, paths[NS_USER], err) < 0)
        return -1;
    for (int t = 0; t < NS_TYPE_COUNT; t++)
        if (t != NS_USER && join_one(fds, t, paths[t], err) < 0)
            return -1;
    return 0;
}

static int write_map(int procfd, pid_t pid, const char *file, const struct spec_id_mapping *maps,
                     size_t count, ctr_error **err)
{
    /* All lines in one write(2): the kernel accepts a map file's content only once. */
    char buf[4096];
    size_t used = 0;
    for (size_t i = 0; i < count; i++) {
        int n = snprintf(buf + used, sizeof(buf) - used, "%" PRIu32 " %" PRIu32 " %" PRIu32 "\n",
                         maps[i].container_id, maps[i].host_id, maps[i].size);
        if (n < 0 || (size_t)n >= sizeof(buf) - used)
            return error_set(err, E2BIG, "%s: too many mappings", file);
        used += (size_t)n;
    }
    char path[64];
    snprintf(path, sizeof(path), "%d/%s", (int)pid, file);
    return procfs_write(procfd, path, buf, used, err);
}

int namespaces_write_id_maps(int procfd, pid_t pid, const struct spec_linux *linux_,
                             ctr_error **err)
{
    if (write_map(procfd, pid, "uid_map", linux_->uid_mappings, linux_->uid_mappings_count,
                  err) < 0)
        return error_wrap(err, "linux.uidMappings");
    if (write_map(procfd, pid, "gid_map", linux_->gid_mappings, linux_->gid_mappings_count,
                  err) < 0)
        return error_wrap(err, "linux.gidMappings");
    return 0;
}

static int set_time_offsets(int procfd, const struct spec_linux *linux_, ctr_error **err)
{
    /* time_namespaces(7): offsets can only be written while no process is in the namespace, so
     * unshare (which only affects children), write them, then move ourselves in with setns. */
    char buf[128];
    size_t used = 0;
    if (linux_->time_monotonic.set)
        used += (size_t)snprintf(buf + used, sizeof(buf) - used, "monotonic %" PRId64 " %" PRIu32 "\n",
                                 linux_->time_monotonic.secs, linux_->time_monotonic.nanosecs);
    if (linux_->time_boottime.set)
        used += (size_t)snprintf(buf + used, sizeof(buf) - used, "boottime %" PRId64 " %" PRIu32 "\n",
                                 linux_->time_boottime.secs, linux_->time_boottime.nanosecs);
    /* One write(2): the kernel parses the whole content at once. */
    if (used > 0 && procfs_write(procfd, "self/timens_offsets", buf, used, err) < 0)
        return error_wrap(err, "linux.timeOffsets");
    _cleanup_close_ int fd =
        procfs_open_namespace(procfd, "self/ns/time_for_children", CLONE_NEWTIME, err);
    if (fd < 0)
        return -1;
    if (setns(fd, CLONE_NEWTIME) < 0)
        return error_set(err, errno, "enter the new time namespace");
    return 0;
}

int namespaces_unshare_cgroup(const struct spec_linux *linux_, ctr_error **err)
{
    const struct spec_namespace *cgroup = &linux_->namespaces[NS_CGROUP];
    if (cgroup->present && cgroup->path == NULL && unshare(CLONE_NEWCGROUP) < 0)
        return error_set(err, errno, "create cgroup namespace");
    return 0;
}

int namespaces_unshare_time(int procfd, const struct spec_linux *linux_, ctr_error **err)
{
    const struct spec_namespace *time = &linux_->namespaces[NS_TIME];
    if (time->present && time->path == NULL) {
        if (unshare(CLONE_NEWTIME) < 0)
            return error_set(err, errno, "create time namespace");
        if (set_time_offsets(procfd, linux_, err) < 0)
            return -1;
    }
    return 0;
}

int namespaces_set_uts(const struct ctr_spec *spec, ctr_error **err)
{
    if (spec->hostname && sethostname(spec->hostname, strlen(spec->hostname)) < 0)
        return error_set(err, errno, "hostname: set `%s`", spec->hostname);
    if (spec->domainname && setdomainname(spec->domainname, strlen(spec->domainname)) < 0)
        return error_set(err, errno, "domainname: set `%s`", spec->domainname);
    return 0;
}
