/* Mounting containerd's rootfs entries; see rootfs.h. */
#include "rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <libmount.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#define PROPAGATION (MS_SHARED | MS_PRIVATE | MS_SLAVE | MS_UNBINDABLE)

int rootfs_parse_options(char *const *options, size_t count, unsigned long *flags,
                         unsigned long *propagation, char **data)
{
    /* libmount knows every fstab keyword (ro, nosuid, rbind, ...) and their negations; what it
     * does not know is filesystem data (lowerdir=..., mode=...). */
    size_t len = 1;
    for (size_t i = 0; i < count; i++)
        len += strlen(options[i]) + 1;
    char *optstr = calloc(1, len);
    if (optstr == NULL)
        return -1;
    for (size_t i = 0; i < count; i++) {
        if (i)
            strcat(optstr, ",");
        strcat(optstr, options[i]);
    }
    char *vfs = NULL, *fs = NULL;
    unsigned long f = 0;
    int ret = -1;
    if (mnt_split_optstr(optstr, NULL, &vfs, &fs, 0, 0) == 0 &&
        (vfs == NULL || mnt_optstr_get_flags(vfs, &f, mnt_get_builtin_optmap(MNT_LINUX_MAP)) == 0)) {
        *flags = f & ~(unsigned long)PROPAGATION & ~(unsigned long)MS_REC;
        if (f & MS_BIND)
            *flags |= f & MS_REC; /* rbind */
        *propagation = f & (PROPAGATION | MS_REC);
        if (!(f & PROPAGATION))
            *propagation = 0;
        *data = fs ? fs : strdup("");
        fs = NULL;
        ret = *data ? 0 : -1;
    } else {
        errno = EINVAL;
    }
    free(vfs);
    free(fs);
    free(optstr);
    return ret;
}

int rootfs_compact_lowerdir(const char *data, char **dir, char **compacted)
{
    *dir = *compacted = NULL;
    const char *lower = strstr(data, "lowerdir=");
    if (lower == NULL || (lower != data && lower[-1] != ','))
        return 0;
    lower += strlen("lowerdir=");
    size_t lower_len = strcspn(lower, ",");
    /* The longest common prefix of the layers, cut back to a '/'. */
    size_t common = strcspn(lower, ":,");
    for (const char *p = lower; p < lower + lower_len;) {
        size_t n = strcspn(p, ":,");
        size_t i = 0;
        while (i < common && i < n && p[i] == lower[i])
            i++;
        common = i;
        p += n + (p[n] == ':');
    }
    while (common > 0 && lower[common - 1] != '/')
        common--;
    if (common <= 1)
        return 0;
    *dir = strndup(lower, common);
    *compacted = malloc(strlen(data) + 1);
    if (*dir == NULL || *compacted == NULL) {
        free(*dir);
        free(*compacted);
        *dir = *compacted = NULL;
        return -1;
    }
    char *out = *compacted;
    size_t head = (size_t)(lower - data);
    memcpy(out, data, head);
    out += head;
    for (const char *p = lower; p < lower + lower_len;) {
        size_t n = strcspn(p, ":,");
        memcpy(out, p + common, n - common);
        out += n - common;
        p += n;
        if (*p == ':')
            *out++ = *p++;
    }
    strcpy(out, lower + lower_len);
    return 0;
}

/* mount(2) data is limited to a page; an overlay of many layers is longer. Like containerd, name
 * the layers relative to their common directory and mount from there: the shim has no threads,
 * so changing its working directory for the call is safe. */
static int mount_one(const Containerd__Types__Mount *m, const char *target, char *errbuf,
                     size_t errlen)
{
    unsigned long flags = 0, propagation = 0;
    char *data = NULL, *dir = NULL, *compacted = NULL;
    if (rootfs_parse_options(m->options, m->n_options, &flags, &propagation, &data) < 0) {
        snprintf(errbuf, errlen, "mount `%s` (%s) on `%s`: bad options", m->source, m->type, target);
        return -1;
    }
    const char *type = m->type && *m->type && strcmp(m->type, "bind") != 0 ? m->type : NULL;
    long page = sysconf(_SC_PAGESIZE);
    int cwd = -1, ret = -1;
    if (type && strcmp(type, "overlay") == 0 && (long)strlen(data) >= page - 512) {
        if (rootfs_compact_lowerdir(data, &dir, &compacted) < 0)
            goto out;
        if (dir && ((cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0 || chdir(dir) < 0)) {
            snprintf(errbuf, errlen, "mount overlay on `%s`: enter `%s`: %s", target, dir,
                     strerror(errno));
            goto out;
        }
    }
    const char *opts = compacted ? compacted : data;
    if ((long)strlen(opts) >= page) {
        snprintf(errbuf, errlen, "mount `%s` (%s) on `%s`: options are longer than a page",
                 m->source, m->type, target);
        errno = E2BIG;
        goto out;
    }
    if (mount(m->source, target, type, flags, *opts ? opts : NULL) < 0) {
        snprintf(errbuf, errlen, "mount `%s` (%s) on `%s`: %s", m->source, m->type, target,
                 strerror(errno));
        goto out;
    }
    if (propagation && mount(NULL, target, NULL, propagation, NULL) < 0) {
        snprintf(errbuf, errlen, "set propagation of `%s`: %s", target, strerror(errno));
        goto out;
    }
    /* A read-only bind mount takes a remount: MS_RDONLY is ignored on the bind itself. */
    if ((flags & (MS_BIND | MS_RDONLY)) == (MS_BIND | MS_RDONLY) &&
        mount(NULL, target, NULL, flags | MS_REMOUNT, NULL) < 0) {
        snprintf(errbuf, errlen, "remount `%s` read-only: %s", target, strerror(errno));
        goto out;
    }
    ret = 0;
out:
    if (cwd >= 0) {
        int saved = errno;
        if (fchdir(cwd) < 0)
            ret = -1;
        close(cwd);
        errno = saved;
    }
    free(data);
    free(dir);
    free(compacted);
    return ret;
}

int rootfs_mount(const char *target, Containerd__Types__Mount *const *mounts, size_t count,
                 char *errbuf, size_t errlen)
{
    if (count == 0)
        return 0;
    if (mkdir(target, 0711) < 0 && errno != EEXIST) {
        snprintf(errbuf, errlen, "create `%s`: %s", target, strerror(errno));
        return -1;
    }
    for (size_t i = 0; i < count; i++) {
        if (mount_one(mounts[i], target, errbuf, errlen) < 0) {
            int saved = errno;
            char ignored[256];
            rootfs_unmount(target, ignored, sizeof(ignored));
            errno = saved;
            return -1;
        }
    }
    return 0;
}

int rootfs_unmount(const char *target, char *errbuf, size_t errlen)
{
    /* Until EINVAL (nothing mounted there) or ENOENT; EBUSY is retried briefly, then the mount
     * is detached so the bundle can still be removed. */
    for (int busy = 0;;) {
        if (umount2(target, UMOUNT_NOFOLLOW) == 0)
            continue;
        if (errno == EINVAL || errno == ENOENT)
            return 0;
        if (errno == EBUSY && ++busy < 20) {
            usleep(25000);
            continue;
        }
        if (errno == EBUSY && umount2(target, MNT_DETACH | UMOUNT_NOFOLLOW) == 0)
            continue;
        snprintf(errbuf, errlen, "unmount `%s`: %s", target, strerror(errno));
        return -1;
    }
}
