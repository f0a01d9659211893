#include "lsm.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "procfs.h"
#include "util.h"

/* ---- which LSM is active --------------------------------------------------------------------- */

/* As runc decides it: securityfs shows AppArmor's directory and the module says it is enabled. */
static bool apparmor_enabled(void)
{
    if (access("/sys/kernel/security/apparmor", F_OK) < 0)
        return false;
    char flag = 0;
    _cleanup_close_ int fd = open("/sys/module/apparmor/parameters/enabled", O_RDONLY | O_CLOEXEC);
    return fd >= 0 && read(fd, &flag, 1) == 1 && flag == 'Y';
}

/* selinuxfs is mounted where libselinux looks for it, with its enforce switch. */
static bool selinux_enabled(void)
{
    struct statfs st;
    return statfs("/sys/fs/selinux", &st) == 0 && st.f_type == SELINUX_MAGIC &&
           access("/sys/fs/selinux/enforce", F_OK) == 0;
}

static bool is_set(const char *label)
{
    return label != NULL && *label != '\0';
}

int lsm_check_process(const struct spec_process *process, const char *where, ctr_error **err)
{
    if (is_set(process->apparmor_profile) && !apparmor_enabled())
        return error_set(err, EOPNOTSUPP,
                         "%sprocess.apparmorProfile `%s`: AppArmor is not enabled on this host",
                         where, process->apparmor_profile);
    if (is_set(process->selinux_label) && !selinux_enabled())
        return error_set(err, EOPNOTSUPP,
                         "%sprocess.selinuxLabel `%s`: SELinux is not enabled on this host", where,
                         process->selinux_label);
    return 0;
}

int lsm_check_mount_label(const struct spec_linux *linux_, ctr_error **err)
{
    if (is_set(linux_->mount_label) && !selinux_enabled())
        return error_set(err, EOPNOTSUPP,
                         "linux.mountLabel `%s`: SELinux is not enabled on this host",
                         linux_->mount_label);
    return 0;
}

/* ---- the process's label --------------------------------------------------------------------- */

/* AppArmor's own attr/ directory (Linux 5.8), so the profile reaches AppArmor whatever LSMs are
 * stacked; the shared attr/exec on older kernels. "exec": the profile changes at the next execve
 * (aa_change_onexec, as runc's ApplyProfile does). */
static int set_apparmor_profile(int procfd, const char *profile, ctr_error **err)
{
    _cleanup_free_ char *text = NULL;
    if (asprintf(&text, "exec %s", profile) < 0)
        return error_set(err, ENOMEM, "process.apparmorProfile");
    ctr_error *own_dir = NULL;
    if (procfs_write(procfd, "self/attr/apparmor/exec", text, strlen(text), &own_dir) == 0)
        return 0;
    if (ctr_error_code(own_dir) != ENOENT)
        return error_pass(err, own_dir);
    ctr_error_free(own_dir);
    return procfs_write(procfd, "self/attr/exec", text, strlen(text), err);
}

int lsm_set_exec_label(int procfd, const struct spec_process *process, ctr_error **err)
{
    if (is_set(process->apparmor_profile) &&
        set_apparmor_profile(procfd, process->apparmor_profile, err) < 0)
        return error_wrap(err, "process.apparmorProfile `%s`", process->apparmor_profile);
    /* SELinux's setexeccon(): the context of the next execve. */
    if (is_set(process->selinux_label) &&
        procfs_write(procfd, "self/attr/exec", process->selinux_label,
                     strlen(process->selinux_label), err) < 0)
        return error_wrap(err, "process.selinuxLabel `%s`", process->selinux_label);
    return 0;
}

/* ---- mounts ---------------------------------------------------------------------------------- */

/* Whether the comma-separated `data` has an option that sets the filesystem's context already
 * (the kernel refuses context= together with fscontext= or defcontext=). */
static bool has_context_option(const char *data)
{
    static const char *const keys[] = {"context=", "fscontext=", "defcontext=", "rootcontext="};
    for (const char *p = data; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
        for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
            if (strncmp(p, keys[i], strlen(keys[i])) == 0)
                return true;
    return false;
}

int lsm_mount_data(const char *type, const char *data, const char *mount_label, char **out,
                   ctr_error **err)
{
    /* The kernel's own filesystems label themselves (genfscon): context= would be refused or
     * would hide the policy's labels, and runc leaves them alone too. */
    static const char *const unlabelled[] = {"proc", "sysfs", "cgroup", "cgroup2", "mqueue"};
    bool label = is_set(mount_label) && !has_context_option(data);
    for (size_t i = 0; label && i < ARRAY_SIZE(unlabelled); i++)
        if (strcmp(type, unlabelled[i]) == 0)
            label = false;
    *out = NULL;
    int n = 0;
    if (label)
        /* Quoted: an MLS range has commas ("s0:c715,c811"). */
        n = asprintf(out, "%s%scontext=\"%s\"", data ? data : "", data ? "," : "", mount_label);
    else if (data)
        n = (*out = strdup(data)) ? 0 : -1;
    if (n < 0) {
        *out = NULL;
        return error_set(err, ENOMEM, "mount data for `%s`", type);
    }
    return 0;
}
