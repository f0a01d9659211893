/* rootfs_prepare() through a recording syscall table: no root needed. Path resolution and the
 * mkdir/mknod/symlink work run for real in a temporary rootfs (mknod of devices is faked with a
 * regular file); mount, pivot_root and the rest are recorded with their arguments, and an errno
 * can be injected at the Nth call of one kind. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "rootfs.h"
#include "util.h"

/* ---- the recorder ---------------------------------------------------------------------------- */

enum op {
    OP_MOUNT, OP_UMOUNT2, OP_MKDIRAT, OP_MKNODAT, OP_UNLINKAT, OP_FCHMODAT, OP_SYMLINKAT,
    OP_FCHOWNAT, OP_OPEN_TREE, OP_MOVE_MOUNT, OP_MOUNT_SETATTR, OP_FSOPEN, OP_FSCONFIG, OP_FSMOUNT,
    OP_PIVOT_ROOT, OP_FCHDIR, OP_CHDIR, OP_COUNT
};

struct call {
    enum op op;
    char source[512];  /* mount source, or for *at calls the name; "/proc/self/fd/N" resolved */
    char target[512];  /* mount target or the dirfd's path, "/proc/self/fd/N" resolved */
    char fstype[64];
    char data[128];
    unsigned long flags;
    struct mount_attr attr;
    dev_t dev;
};

static struct {
    struct call calls[2048];
    size_t n;
    size_t count[OP_COUNT];
    enum op fail_op;
    size_t fail_at; /* 1-based index among calls of fail_op; 0: never */
    int fail_errno;
} rec;

/* "/proc/self/fd/N" as the path it stands for; anything else as it is. */
static void resolve(const char *path, char *out, size_t size)
{
    out[0] = '\0';
    if (path == NULL)
        return;
    if (strncmp(path, "/proc/self/fd/", 14) == 0) {
        ssize_t n = readlink(path, out, size - 1);
        out[n < 0 ? 0 : n] = '\0';
        return;
    }
    snprintf(out, size, "%s", path);
}

static void fd_path(int fd, char *out, size_t size)
{
    char link[64];
    if (fd == AT_FDCWD) {
        snprintf(out, size, "AT_FDCWD");
        return;
    }
    snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
    resolve(link, out, size);
}

static struct call *record(enum op op)
{
    assert_true(rec.n < sizeof(rec.calls) / sizeof(rec.calls[0]));
    struct call *c = &rec.calls[rec.n++];
    memset(c, 0, sizeof(*c));
    c->op = op;
    return c;
}

/* Whether this call is the one to fail; sets errno. */
static bool injected(enum op op)
{
    rec.count[op]++;
    if (rec.fail_at != 0 && rec.fail_op == op && rec.count[op] == rec.fail_at) {
        errno = rec.fail_errno;
        return true;
    }
    return false;
}

static int r_mount(const char *source, const char *target, const char *fstype, unsigned long flags,
                   const void *data)
{
    struct call *c = record(OP_MOUNT);
    resolve(source, c->source, sizeof(c->source));
    resolve(target, c->target, sizeof(c->target));
    snprintf(c->fstype, sizeof(c->fstype), "%s", fstype ? fstype : "");
    snprintf(c->data, sizeof(c->data), "%s", data ? (const char *)data : "");
    c->flags = flags;
    return injected(OP_MOUNT) ? -1 : 0;
}

static int r_umount2(const char *target, int flags)
{
    struct call *c = record(OP_UMOUNT2);
    snprintf(c->target, sizeof(c->target), "%s", target);
    c->flags = (unsigned long)flags;
    return injected(OP_UMOUNT2) ? -1 : 0;
}

static int r_openat2(int dirfd, const char *path, struct open_how *how, size_t size)
{
    return sys_real.openat2(dirfd, path, how, size);
}

static int r_mkdirat(int dirfd, const char *path, mode_t mode)
{
    struct call *c = record(OP_MKDIRAT);
    fd_path(dirfd, c->target, sizeof(c->target));
    snprintf(c->source, sizeof(c->source), "%s", path);
    return injected(OP_MKDIRAT) ? -1 : mkdirat(dirfd, path, mode);
}

static int r_mknodat(int dirfd, const char *path, mode_t mode, dev_t dev)
{
    struct call *c = record(OP_MKNODAT);
    fd_path(dirfd, c->target, sizeof(c->target));
    snprintf(c->source, sizeof(c->source), "%s", path);
    c->flags = mode;
    c->dev = dev;
    if (injected(OP_MKNODAT))
        return -1;
    /* Devices need privilege: a regular file stands in for them. */
    return mknodat(dirfd, path, S_ISFIFO(mode) ? mode : S_IFREG | (mode & 0777), 0);
}

static int r_unlinkat(int dirfd, const char *path, int flags)
{
    struct call *c = record(OP_UNLINKAT);
    fd_path(dirfd, c->target, sizeof(c->target));
    snprintf(c->source, sizeof(c->source), "%s", path);
    return injected(OP_UNLINKAT) ? -1 : unlinkat(dirfd, path, flags);
}

static int r_fchmodat(int dirfd, const char *path, mode_t mode, int flags)
{
    struct call *c = record(OP_FCHMODAT);
    resolve(path, c->source, sizeof(c->source));
    c->flags = mode;
    return injected(OP_FCHMODAT) ? -1 : fchmodat(dirfd, path, mode, flags);
}

static int r_symlinkat(const char *target, int dirfd, const char *linkpath)
{
    struct call *c = record(OP_SYMLINKAT);
    snprintf(c->data, sizeof(c->data), "%s", target);
    fd_path(dirfd, c->target, sizeof(c->target));
    snprintf(c->source, sizeof(c->source), "%s", linkpath);
    return injected(OP_SYMLINKAT) ? -1 : symlinkat(target, dirfd, linkpath);
}

static int r_fchownat(int dirfd, const char *path, uid_t uid, gid_t gid, int flags)
{
    struct call *c = record(OP_FCHOWNAT);
    fd_path(dirfd, c->target, sizeof(c->target));
    c->flags = ((unsigned long)uid << 32) | gid;
    return injected(OP_FCHOWNAT) ? -1 : 0;
}

static int r_open_tree(int dirfd, const char *path, unsigned flags)
{
    struct call *c = record(OP_OPEN_TREE);
    snprintf(c->source, sizeof(c->source), "%s", path);
    c->flags = flags;
    return injected(OP_OPEN_TREE) ? -1 : open("/", O_PATH | O_CLOEXEC);
}

static int r_move_mount(int from_dirfd, const char *from_path, int to_dirfd, const char *to_path,
                        unsigned flags)
{
    struct call *c = record(OP_MOVE_MOUNT);
    fd_path(to_dirfd, c->target, sizeof(c->target));
    c->flags = flags;
    return injected(OP_MOVE_MOUNT) ? -1 : 0;
}

static int r_mount_setattr(int dirfd, const char *path, unsigned flags, struct mount_attr *attr,
                           size_t size)
{
    struct call *c = record(OP_MOUNT_SETATTR);
    fd_path(dirfd, c->target, sizeof(c->target));
    c->flags = flags;
    c->attr = *attr;
    return injected(OP_MOUNT_SETATTR) ? -1 : 0;
}

static int r_fsopen(const char *fsname, unsigned flags)
{
    struct call *c = record(OP_FSOPEN);
    snprintf(c->fstype, sizeof(c->fstype), "%s", fsname);
    return injected(OP_FSOPEN) ? -1 : open("/dev/null", O_RDONLY | O_CLOEXEC);
}

static int r_fsconfig(int fd, unsigned cmd, const char *key, const void *value, int aux)
{
    struct call *c = record(OP_FSCONFIG);
    c->flags = cmd;
    snprintf(c->source, sizeof(c->source), "%s", key ? key : "");
    snprintf(c->data, sizeof(c->data), "%s", value ? (const char *)value : "");
    return injected(OP_FSCONFIG) ? -1 : 0;
}

static int r_fsmount(int fd, unsigned flags, unsigned attr_flags)
{
    struct call *c = record(OP_FSMOUNT);
    c->flags = attr_flags;
    return injected(OP_FSMOUNT) ? -1 : open("/", O_PATH | O_CLOEXEC);
}

static int r_pivot_root(const char *new_root, const char *put_old)
{
    struct call *c = record(OP_PIVOT_ROOT);
    snprintf(c->source, sizeof(c->source), "%s", new_root);
    snprintf(c->target, sizeof(c->target), "%s", put_old);
    return injected(OP_PIVOT_ROOT) ? -1 : 0;
}

static int r_fchdir(int fd)
{
    struct call *c = record(OP_FCHDIR);
    fd_path(fd, c->target, sizeof(c->target));
    return injected(OP_FCHDIR) ? -1 : 0;
}

static int r_chdir(const char *path)
{
    struct call *c = record(OP_CHDIR);
    snprintf(c->target, sizeof(c->target), "%s", path);
    return injected(OP_CHDIR) ? -1 : 0;
}

static const struct sys_ops recorder = {
    .mount = r_mount, .umount2 = r_umount2, .openat2 = r_openat2, .mkdirat = r_mkdirat,
    .mknodat = r_mknodat, .unlinkat = r_unlinkat, .fchmodat = r_fchmodat,
    .symlinkat = r_symlinkat, .fchownat = r_fchownat, .open_tree = r_open_tree,
    .move_mount = r_move_mount, .mount_setattr = r_mount_setattr, .fsopen = r_fsopen,
    .fsconfig = r_fsconfig, .fsmount = r_fsmount, .pivot_root = r_pivot_root,
    .fchdir = r_fchdir, .chdir = r_chdir,
};

/* ---- fixtures -------------------------------------------------------------------------------- */

struct fixture {
    char tmp[64];
    char root[96];
    char src[96];     /* a host directory to bind */
    char srcfile[96]; /* a host file to bind */
    struct ctr_spec spec;
    struct rootfs_context ctx;
};

static void mkpath(const struct fixture *f, const char *rel, bool dir)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", f->root, rel);
    if (dir) {
        assert_int_equal(mkdir(path, 0755), 0);
    } else {
        int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        close(fd);
    }
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    strcpy(f->tmp, "/tmp/test_mount.XXXXXX");
    assert_non_null(mkdtemp(f->tmp));
    snprintf(f->root, sizeof(f->root), "%s/root", f->tmp);
    snprintf(f->src, sizeof(f->src), "%s/src", f->tmp);
    snprintf(f->srcfile, sizeof(f->srcfile), "%s/srcfile", f->tmp);
    assert_int_equal(mkdir(f->root, 0755), 0);
    assert_int_equal(mkdir(f->src, 0755), 0);
    int fd = open(f->srcfile, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
    assert_true(fd >= 0);
    close(fd);
    mkpath(f, "proc", true);
    mkpath(f, "dev", true);
    mkpath(f, "sys", true);

    memset(&rec, 0, sizeof(rec));
    f->ctx = (struct rootfs_context){
        .sys = &recorder, .spec = &f->spec, .rootfs = f->root, .console_fd = -1,
    };
    *state = f;
    return 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    nftw(f->tmp, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

static void set_mounts(struct fixture *f, struct spec_mount *mounts, size_t n)
{
    f->spec.mounts = mounts;
    f->spec.mounts_count = n;
}

static void run_ok(struct fixture *f)
{
    ctr_error *err = NULL;
    int rc = rootfs_prepare(&f->ctx, &err);
    if (rc != 0)
        fail_msg("rootfs_prepare: %s", ctr_error_message(err));
    assert_null(err);
}

/* The index of the first call of `op` at or after `from` whose target is root-relative `rel`
 * (absolute `rel` is taken as is); -1 if none. */
static long find(const struct fixture *f, size_t from, enum op op, const char *rel)
{
    char want[512];
    if (rel[0] == '/' || strcmp(rel, ".") == 0)
        snprintf(want, sizeof(want), "%s", rel);
    else
        snprintf(want, sizeof(want), "%s/%s", f->root, rel);
    for (size_t i = from; i < rec.n; i++)
        if (rec.calls[i].op == op && strcmp(rec.calls[i].target, want) == 0)
            return (long)i;
    return -1;
}

static const struct call *must_find(const struct fixture *f, size_t from, enum op op,
                                    const char *rel, long *index)
{
    long i = find(f, from, op, rel);
    if (i < 0)
        fail_msg("no call of kind %d on `%s`", (int)op, rel);
    if (index)
        *index = i;
    return &rec.calls[i];
}

/* ---- tests ----------------------------------------------------------------------------------- */

static void test_mounts_follow_config_order(void **state)
{
    struct fixture *f = *state;
    struct spec_mount mounts[] = {
        {.destination = "/proc", .type = "proc", .source = "proc",
         .flags = MS_NOSUID | MS_NODEV | MS_NOEXEC},
        {.destination = "/dev", .type = "tmpfs", .source = "tmpfs", .flags = MS_NOSUID,
         .data = "mode=755,size=65536k"},
        {.destination = "/run/lock", .type = "tmpfs", .source = "tmpfs", .data = "size=1m"},
    };
    set_mounts(f, mounts, 3);
    run_ok(f);

    /* First "/" rslave, then the rootfs bound onto itself. */
    assert_int_equal(rec.calls[0].op, OP_MOUNT);
    assert_string_equal(rec.calls[0].target, "/");
    assert_int_equal(rec.calls[0].flags, MS_SLAVE | MS_REC);
    assert_string_equal(rec.calls[1].source, f->root);
    assert_string_equal(rec.calls[1].target, f->root);
    assert_int_equal(rec.calls[1].flags, MS_BIND | MS_REC);

    long a, b, c;
    const struct call *proc = must_find(f, 0, OP_MOUNT, "proc", &a);
    assert_string_equal(proc->fstype, "proc");
    assert_int_equal(proc->flags, MS_NOSUID | MS_NODEV | MS_NOEXEC);
    const struct call *dev = must_find(f, 0, OP_MOUNT, "dev", &b);
    assert_string_equal(dev->fstype, "tmpfs");
    assert_string_equal(dev->data, "mode=755,size=65536k");
    const struct call *run = must_find(f, 0, OP_MOUNT, "run/lock", &c);
    assert_string_equal(run->data, "size=1m");
    assert_true(a < b && b < c);

    /* Missing destinations were created inside the root. */
    char path[256];
    struct stat st;
    snprintf(path, sizeof(path), "%s/run/lock", f->root);
    assert_int_equal(stat(path, &st), 0);
    assert_true(S_ISDIR(st.st_mode));

    /* Devices come after every mount, and the pivot last of all. */
    const struct call *null = must_find(f, 0, OP_MKNODAT, "dev", NULL);
    assert_true(null - rec.calls > c);
    assert_true(S_ISCHR(null->flags));
}

static void test_pivot_root_sequence(void **state)
{
    struct fixture *f = *state;
    f->spec.root_readonly = true;
    f->spec.linux_.rootfs_propagation = MS_PRIVATE | MS_REC;
    run_ok(f);

    /* Whatever rootfsPropagation says, "/" is rslave while the container is set up: nothing
     * mounted before the pivot may propagate to the host. */
    assert_int_equal(rec.calls[0].flags, MS_SLAVE | MS_REC);
    long i;
    const struct call *c = must_find(f, 0, OP_FCHDIR, f->root, &i);
    (void)c;
    assert_true((size_t)i + 8 == rec.n);
    const struct call *s = &rec.calls[i + 1];
    assert_int_equal(s->op, OP_PIVOT_ROOT);
    assert_string_equal(s->source, ".");
    assert_string_equal(s->target, ".");
    s++;
    /* Back to the old root, stacked on the new one, so "." below names it and not the
     * container's tree. */
    assert_int_equal(s->op, OP_FCHDIR);
    assert_string_equal(s->target, "/");
    s++;
    assert_int_equal(s->op, OP_MOUNT);
    assert_string_equal(s->target, ".");
    assert_int_equal(s->flags, MS_SLAVE | MS_REC);
    s++;
    assert_int_equal(s->op, OP_UMOUNT2);
    assert_string_equal(s->target, ".");
    assert_int_equal(s->flags, MNT_DETACH);
    s++;
    assert_int_equal(s->op, OP_CHDIR);
    assert_string_equal(s->target, "/");
    s++;
    /* root.readonly, then rootfsPropagation, both on the new "/". */
    assert_int_equal(s->op, OP_MOUNT);
    assert_string_equal(s->target, "/");
    assert_int_equal(s->flags & (MS_REMOUNT | MS_BIND | MS_RDONLY), MS_REMOUNT | MS_BIND | MS_RDONLY);
    s++;
    assert_int_equal(s->op, OP_MOUNT);
    assert_string_equal(s->target, "/");
    assert_int_equal(s->flags, MS_PRIVATE | MS_REC);
}

static void test_bind_ro_is_bind_then_remount(void **state)
{
    struct fixture *f = *state;
    struct spec_mount mounts[] = {
        {.destination = "/data", .source = f->src, .is_bind = true, .flags = MS_BIND | MS_RDONLY},
        {.destination = "/etc/hosts", .source = f->srcfile, .is_bind = true,
         .flags = MS_BIND | MS_NOSUID},
    };
    set_mounts(f, mounts, 2);
    run_ok(f);

    long i;
    const struct call *bind = must_find(f, 0, OP_MOUNT, "data", &i);
    assert_string_equal(bind->source, f->src);
    assert_int_equal(bind->flags, MS_BIND);
    const struct call *remount = must_find(f, (size_t)i + 1, OP_MOUNT, "data", NULL);
    assert_int_equal(remount->flags & (MS_REMOUNT | MS_BIND | MS_RDONLY),
                     MS_REMOUNT | MS_BIND | MS_RDONLY);
    assert_string_equal(remount->source, "");

    /* A file source gets an empty file as its target. */
    bind = must_find(f, 0, OP_MOUNT, "etc/hosts", &i);
    assert_string_equal(bind->source, f->srcfile);
    char path[256];
    struct stat st;
    snprintf(path, sizeof(path), "%s/etc/hosts", f->root);
    assert_int_equal(stat(path, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    remount = must_find(f, (size_t)i + 1, OP_MOUNT, "etc/hosts", NULL);
    assert_int_equal(remount->flags & (MS_REMOUNT | MS_NOSUID | MS_RDONLY), MS_REMOUNT | MS_NOSUID);
}

static void test_rbind_rro_uses_mount_setattr(void **state)
{
    struct fixture *f = *state;
    struct spec_mount mounts[] = {
        {.destination = "/data", .source = f->src, .is_bind = true, .flags = MS_BIND | MS_REC,
         .recursive = {.set = MOUNT_ATTR_RDONLY}},
    };
    set_mounts(f, mounts, 1);
    run_ok(f);

    long i;
    const struct call *bind = must_find(f, 0, OP_MOUNT, "data", &i);
    assert_int_equal(bind->flags, MS_BIND | MS_REC);
    assert_int_equal(find(f, (size_t)i + 1, OP_MOUNT, "data"), -1); /* no remount needed */
    const struct call *attr = must_find(f, 0, OP_MOUNT_SETATTR, "data", NULL);
    assert_int_equal(attr->flags, AT_EMPTY_PATH | AT_RECURSIVE);
    assert_int_equal(attr->attr.attr_set, MOUNT_ATTR_RDONLY);
    assert_true(attr - rec.calls > i);
}

static void test_propagation_after_mount(void **state)
{
    struct fixture *f = *state;
    struct spec_mount mounts[] = {
        {.destination = "/shared", .type = "tmpfs", .source = "tmpfs",
         .propagation = MS_SHARED | MS_REC},
        {.destination = "/atime", .type = "tmpfs", .source = "tmpfs",
         .recursive = {.set = MOUNT_ATTR_NOATIME | MOUNT_ATTR_NOSUID}},
    };
    set_mounts(f, mounts, 2);
    run_ok(f);

    long i, j;
    must_find(f, 0, OP_MOUNT, "shared", &i);
    const struct call *p = must_find(f, (size_t)i + 1, OP_MOUNT, "shared", &j);
    assert_int_equal(p->flags, MS_SHARED | MS_REC);
    assert_string_equal(p->fstype, "");
    assert_true(j > i);
    /* An atime mode in mount_setattr needs all the atime bits cleared too. */
    const struct call *a = must_find(f, 0, OP_MOUNT_SETATTR, "atime", NULL);
    assert_int_equal(a->attr.attr_set, MOUNT_ATTR_NOATIME | MOUNT_ATTR_NOSUID);
    assert_int_equal(a->attr.attr_clr, MOUNT_ATTR__ATIME);
}

static void test_failure_names_the_mount(void **state)
{
    struct fixture *f = *state;
    struct spec_mount mounts[] = {
        {.destination = "/proc", .type = "proc", .source = "proc"},
        {.destination = "/run", .type = "tmpfs", .source = "tmpfs"},
        {.destination = "/never", .type = "tmpfs", .source = "tmpfs"},
    };
    set_mounts(f, mounts, 3);
    /* mount(2) calls: "/" rslave, the rootfs bind, mounts[0], mounts[1]. */
    rec.fail_op = OP_MOUNT;
    rec.fail_at = 4;
    rec.fail_errno = EPERM;
    ctr_error *err = NULL;
    assert_int_equal(rootfs_prepare(&f->ctx, &err), -1);
    assert_int_equal(ctr_error_code(err), EPERM);
    assert_string_equal(ctr_error_message(err),
                        "mount `tmpfs` on `/run` (mounts[1]): Operation not permitted");
    ctr_error_free(err);
    assert_int_equal(find(f, 0, OP_MOUNT, "never"), -1);
    for (size_t i = 0; i < rec.n; i++)
        assert_int_not_equal(rec.calls[i].op, OP_PIVOT_ROOT);
}

static void test_bind_failure_names_the_source(void **state)
{
    struct fixture *f = *state;
    struct spec_mount mounts[] = {
        {.destination = "/data", .source = "/no/such/source", .is_bind = true, .flags = MS_BIND},
    };
    set_mounts(f, mounts, 1);
    ctr_error *err = NULL;
    assert_int_equal(rootfs_prepare(&f->ctx, &err), -1);
    assert_int_equal(ctr_error_code(err), ENOENT);
    assert_non_null(strstr(ctr_error_message(err),
                           "mount `/no/such/source` on `/data` (mounts[0])"));
    ctr_error_free(err);
}

static void test_masked_paths(void **state)
{
    struct fixture *f = *state;
    mkpath(f, "proc/kcore", false);
    mkpath(f, "proc/acpi", true);
    char *masked[] = {"/proc/kcore", "/proc/acpi", "/proc/missing", NULL};
    f->spec.linux_.masked_paths = (struct string_list){.items = masked, .count = 3};
    run_ok(f);

    const struct call *file = must_find(f, 0, OP_MOUNT, "proc/kcore", NULL);
    assert_string_equal(file->source, "/dev/null");
    assert_int_equal(file->flags, MS_BIND);
    const struct call *dir = must_find(f, 0, OP_MOUNT, "proc/acpi", NULL);
    assert_string_equal(dir->fstype, "tmpfs");
    assert_true(dir->flags & MS_RDONLY);
    assert_int_equal(find(f, 0, OP_MOUNT, "proc/missing"), -1);
}

static void test_masked_path_through_symlink_stays_inside(void **state)
{
    struct fixture *f = *state;
    char link[256];
    snprintf(link, sizeof(link), "%s/proc/evil", f->root);
    assert_int_equal(symlink("/etc/passwd", link), 0);
    char *masked[] = {"/proc/evil", NULL};
    f->spec.linux_.masked_paths = (struct string_list){.items = masked, .count = 1};
    run_ok(f);
    /* The root has no /etc/passwd: nothing to mask, and above all not the host's. */
    for (size_t i = 0; i < rec.n; i++)
        assert_string_not_equal(rec.calls[i].target, "/etc/passwd");
}

static void test_readonly_paths(void **state)
{
    struct fixture *f = *state;
    mkpath(f, "proc/sys", true);
    char *ro[] = {"/proc/sys", "/proc/missing", NULL};
    f->spec.linux_.readonly_paths = (struct string_list){.items = ro, .count = 2};
    run_ok(f);

    long i;
    const struct call *bind = must_find(f, 0, OP_MOUNT, "proc/sys", &i);
    char want[256];
    snprintf(want, sizeof(want), "%s/proc/sys", f->root);
    assert_string_equal(bind->source, want);
    assert_int_equal(bind->flags, MS_BIND | MS_REC);
    const struct call *remount = must_find(f, (size_t)i + 1, OP_MOUNT, "proc/sys", NULL);
    assert_int_equal(remount->flags & (MS_REMOUNT | MS_BIND | MS_RDONLY),
                     MS_REMOUNT | MS_BIND | MS_RDONLY);
    assert_int_equal(find(f, 0, OP_MOUNT, "proc/missing"), -1);
}

static void test_default_devices_and_links(void **state)
{
    struct fixture *f = *state;
    /* The image's /dev/null is a symlink to a host file: replaced, never followed. */
    char link[256];
    snprintf(link, sizeof(link), "%s/dev/null", f->root);
    assert_int_equal(symlink("/etc/passwd", link), 0);
    struct spec_mount mounts[] = {
        {.destination = "/dev/pts", .type = "devpts", .source = "devpts"},
    };
    set_mounts(f, mounts, 1);
    run_ok(f);

    const struct call *rm = must_find(f, 0, OP_UNLINKAT, "dev", NULL);
    assert_string_equal(rm->source, "null");
    size_t nodes = 0;
    for (size_t i = 0; i < rec.n; i++) {
        const struct call *c = &rec.calls[i];
        if (c->op != OP_MKNODAT)
            continue;
        nodes++;
        assert_true(S_ISCHR(c->flags));
        if (strcmp(c->source, "null") == 0)
            assert_int_equal(c->dev, makedev(1, 3));
        if (strcmp(c->source, "tty") == 0)
            assert_int_equal(c->dev, makedev(5, 0));
    }
    assert_int_equal(nodes, 6);
    struct stat st;
    assert_int_equal(lstat(link, &st), 0);
    assert_false(S_ISLNK(st.st_mode));
    /* Modes are set by fd after mknod, whatever the umask. */
    const struct call *chmod = NULL;
    for (size_t i = 0; i < rec.n && chmod == NULL; i++)
        if (rec.calls[i].op == OP_FCHMODAT)
            chmod = &rec.calls[i];
    assert_non_null(chmod);
    assert_int_equal(chmod->flags, 0666);

    char target[64];
    snprintf(link, sizeof(link), "%s/dev/ptmx", f->root);
    ssize_t n = readlink(link, target, sizeof(target) - 1);
    assert_true(n > 0);
    target[n] = '\0';
    assert_string_equal(target, "pts/ptmx");
    snprintf(link, sizeof(link), "%s/dev/stderr", f->root);
    n = readlink(link, target, sizeof(target) - 1);
    assert_true(n > 0);
    target[n] = '\0';
    assert_string_equal(target, "/proc/self/fd/2");
}

static void test_devices_in_user_namespace_are_bound(void **state)
{
    struct fixture *f = *state;
    f->ctx.in_user_ns = true;
    run_ok(f);
    /* No device node is made: empty files stand in as bind targets. */
    for (size_t i = 0; i < rec.n; i++)
        if (rec.calls[i].op == OP_MKNODAT)
            assert_true(S_ISREG(rec.calls[i].flags));
    const struct call *null = must_find(f, 0, OP_MOUNT, "dev/null", NULL);
    assert_string_equal(null->source, "/dev/null");
    assert_int_equal(null->flags, MS_BIND);
    const struct call *tty = must_find(f, 0, OP_MOUNT, "dev/tty", NULL);
    assert_string_equal(tty->source, "/dev/tty");
}

static void test_configured_devices(void **state)
{
    struct fixture *f = *state;
    struct spec_device devices[] = {
        {.path = "/dev/net/tun", .type = 'c', .major = 10, .minor = 200,
         .file_mode = {true, 0600}, .uid = {true, 1000}, .gid = {true, 1000}},
    };
    f->spec.linux_.devices = devices;
    f->spec.linux_.devices_count = 1;
    run_ok(f);
    const struct call *tun = must_find(f, 0, OP_MKNODAT, "dev/net", NULL);
    assert_string_equal(tun->source, "tun");
    assert_int_equal(tun->dev, makedev(10, 200));
    const struct call *chown = must_find(f, 0, OP_FCHOWNAT, "dev/net/tun", NULL);
    assert_int_equal(chown->flags, (1000UL << 32) | 1000);
}

static void test_configured_device_conflict_is_an_error(void **state)
{
    struct fixture *f = *state;
    mkpath(f, "dev/fuse", false);
    struct spec_device devices[] = {{.path = "/dev/fuse", .type = 'c', .major = 10, .minor = 229}};
    f->spec.linux_.devices = devices;
    f->spec.linux_.devices_count = 1;
    ctr_error *err = NULL;
    assert_int_equal(rootfs_prepare(&f->ctx, &err), -1);
    assert_string_equal(ctr_error_message(err),
                        "linux.devices[0]: a different file already exists at `/dev/fuse`: File exists");
    ctr_error_free(err);
}

static void test_bound_dev_gets_no_devices(void **state)
{
    struct fixture *f = *state;
    struct spec_mount mounts[] = {
        {.destination = "/dev", .source = "/dev", .is_bind = true, .flags = MS_BIND | MS_REC},
    };
    set_mounts(f, mounts, 1);
    run_ok(f);
    for (size_t i = 0; i < rec.n; i++) {
        assert_int_not_equal(rec.calls[i].op, OP_MKNODAT);
        assert_int_not_equal(rec.calls[i].op, OP_SYMLINKAT);
    }
}

static void test_console_is_bound_from_its_fd(void **state)
{
    struct fixture *f = *state;
    int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0)
        skip();
    f->ctx.console_fd = master; /* any character device will do for the recorder */
    run_ok(f);
    const struct call *console = must_find(f, 0, OP_MOUNT, "dev/console", NULL);
    assert_string_equal(console->source, "/dev/ptmx");
    assert_int_equal(console->flags, MS_BIND);
    close(master);
}

static void test_sysfs_without_netns_binds_the_hosts(void **state)
{
    struct fixture *f = *state;
    struct spec_mount mounts[] = {
        {.destination = "/sys", .type = "sysfs", .source = "sysfs",
         .flags = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC},
    };
    set_mounts(f, mounts, 1);
    rec.fail_op = OP_MOUNT;
    rec.fail_at = 3;
    rec.fail_errno = EPERM;
    run_ok(f);
    long i;
    const struct call *fresh = must_find(f, 0, OP_MOUNT, "sys", &i);
    assert_string_equal(fresh->fstype, "sysfs");
    const struct call *bind = must_find(f, (size_t)i + 1, OP_MOUNT, "sys", NULL);
    assert_string_equal(bind->source, "/sys");
    assert_int_equal(bind->flags, MS_BIND | MS_REC);
    const struct call *attr = must_find(f, 0, OP_MOUNT_SETATTR, "sys", NULL);
    assert_int_equal(attr->flags, AT_EMPTY_PATH | AT_RECURSIVE);
    assert_int_equal(attr->attr.attr_set,
                     MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);

    /* With a network namespace of its own, EPERM is a real error. */
    memset(&rec, 0, sizeof(rec));
    rec.fail_op = OP_MOUNT;
    rec.fail_at = 3;
    rec.fail_errno = EPERM;
    f->ctx.new_net_ns = true;
    ctr_error *err = NULL;
    assert_int_equal(rootfs_prepare(&f->ctx, &err), -1);
    assert_string_equal(ctr_error_message(err),
                        "mount `sysfs` on `/sys` (mounts[0]): Operation not permitted");
    ctr_error_free(err);
}

static void test_cgroup_hybrid(void **state)
{
    struct fixture *f = *state;
    struct cgroup_hierarchy h[] = {
        {.name = "memory", .controllers = "memory", .dir = "/sys/fs/cgroup/memory/ctr/x"},
        {.name = "cpu,cpuacct", .controllers = "cpu,cpuacct", .dir = "/sys/fs/cgroup/cpu,cpuacct/ctr/x"},
        {.name = "unified", .v2 = true, .dir = "/sys/fs/cgroup/unified/ctr/x"},
    };
    struct cgroup cg = {.layout = CGROUP_LAYOUT_HYBRID, .hierarchies = h, .count = 3, .v2_dir_fd = -1};
    f->ctx.cgroup = &cg;
    struct spec_mount mounts[] = {
        {.destination = "/sys/fs/cgroup", .type = "cgroup", .source = "cgroup",
         .flags = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC},
    };
    set_mounts(f, mounts, 1);
    run_ok(f);

    long i;
    const struct call *tmpfs = must_find(f, 0, OP_MOUNT, "sys/fs/cgroup", &i);
    assert_string_equal(tmpfs->fstype, "tmpfs");
    assert_false(tmpfs->flags & MS_RDONLY);
    const struct call *mem = must_find(f, 0, OP_MOUNT, "sys/fs/cgroup/memory", &i);
    assert_string_equal(mem->source, h[0].dir);
    assert_int_equal(mem->flags, MS_BIND);
    const struct call *ro = must_find(f, (size_t)i + 1, OP_MOUNT, "sys/fs/cgroup/memory", NULL);
    assert_true(ro->flags & MS_REMOUNT && ro->flags & MS_RDONLY);
    must_find(f, 0, OP_MOUNT, "sys/fs/cgroup/unified", NULL);
    char link[256], target[64];
    snprintf(link, sizeof(link), "%s/sys/fs/cgroup/cpuacct", f->root);
    ssize_t n = readlink(link, target, sizeof(target) - 1);
    assert_true(n > 0);
    target[n] = '\0';
    assert_string_equal(target, "cpu,cpuacct");
    /* Last, the tmpfs itself goes read-only. */
    const struct call *top = NULL;
    for (size_t k = 0; k < rec.n; k++)
        if (find(f, k, OP_MOUNT, "sys/fs/cgroup") == (long)k)
            top = &rec.calls[k];
    assert_true(top->flags & MS_REMOUNT && top->flags & MS_RDONLY);

    /* In a cgroup namespace: fresh mounts, named by their controllers. */
    memset(&rec, 0, sizeof(rec));
    f->ctx.new_cgroup_ns = true;
    run_ok(f);
    const struct call *cpu = must_find(f, 0, OP_MOUNT, "sys/fs/cgroup/cpu,cpuacct", NULL);
    assert_string_equal(cpu->fstype, "cgroup");
    assert_string_equal(cpu->data, "cpu,cpuacct");
    assert_true(cpu->flags & MS_RDONLY);
    const struct call *uni = must_find(f, 0, OP_MOUNT, "sys/fs/cgroup/unified", NULL);
    assert_string_equal(uni->fstype, "cgroup2");
}

static void test_cgroup_failure_names_the_hierarchy(void **state)
{
    struct fixture *f = *state;
    struct cgroup_hierarchy h[] = {
        {.name = "memory", .controllers = "memory", .dir = "/sys/fs/cgroup/memory/ctr/x"},
    };
    struct cgroup cg = {.layout = CGROUP_LAYOUT_V1, .hierarchies = h, .count = 1, .v2_dir_fd = -1};
    f->ctx.cgroup = &cg;
    struct spec_mount mounts[] = {
        {.destination = "/sys/fs/cgroup", .type = "cgroup", .source = "cgroup", .flags = MS_RDONLY},
    };
    set_mounts(f, mounts, 1);
    /* mount(2) calls: "/" rslave, the rootfs bind, the tmpfs, the bind of memory. */
    rec.fail_op = OP_MOUNT;
    rec.fail_at = 4;
    rec.fail_errno = EPERM;
    ctr_error *err = NULL;
    assert_int_equal(rootfs_prepare(&f->ctx, &err), -1);
    assert_string_equal(ctr_error_message(err), "mount `cgroup` on `/sys/fs/cgroup` (mounts[0]): "
                                                "cgroup `memory`: Operation not permitted");
    ctr_error_free(err);
}

static void test_relative_bind_source_is_in_the_bundle(void **state)
{
    struct fixture *f = *state;
    f->ctx.bundle = f->tmp;
    struct spec_mount mounts[] = {
        {.destination = "/data", .source = "src", .is_bind = true, .flags = MS_BIND},
    };
    set_mounts(f, mounts, 1);
    run_ok(f);
    const struct call *bind = must_find(f, 0, OP_MOUNT, "data", NULL);
    assert_string_equal(bind->source, f->src);
}

static void test_cgroup_v2(void **state)
{
    struct fixture *f = *state;
    struct cgroup_hierarchy h[] = {{.name = "", .v2 = true, .dir = "/sys/fs/cgroup/ctr/x"}};
    struct cgroup cg = {.layout = CGROUP_LAYOUT_V2, .hierarchies = h, .count = 1, .v2_dir_fd = -1};
    f->ctx.cgroup = &cg;
    struct spec_mount mounts[] = {
        {.destination = "/sys/fs/cgroup", .type = "cgroup", .source = "cgroup", .flags = MS_RDONLY},
    };
    set_mounts(f, mounts, 1);
    run_ok(f);
    long i;
    const struct call *bind = must_find(f, 0, OP_MOUNT, "sys/fs/cgroup", &i);
    assert_string_equal(bind->source, h[0].dir);
    const struct call *ro = must_find(f, (size_t)i + 1, OP_MOUNT, "sys/fs/cgroup", NULL);
    assert_true(ro->flags & MS_REMOUNT && ro->flags & MS_RDONLY);

    memset(&rec, 0, sizeof(rec));
    f->ctx.new_cgroup_ns = true;
    run_ok(f);
    const struct call *fresh = must_find(f, 0, OP_MOUNT, "sys/fs/cgroup", NULL);
    assert_string_equal(fresh->fstype, "cgroup2");
    assert_int_equal(fresh->flags, MS_RDONLY);
}

static void test_long_data_goes_through_fsconfig(void **state)
{
    struct fixture *f = *state;
    char data[6000];
    size_t used = (size_t)snprintf(data, sizeof(data), "size=1m");
    while (used < 5000)
        used += (size_t)snprintf(data + used, sizeof(data) - used, ",mode=0755");
    struct spec_mount mounts[] = {
        {.destination = "/big", .type = "tmpfs", .source = "tmpfs", .flags = MS_NOSUID, .data = data},
    };
    set_mounts(f, mounts, 1);
    run_ok(f);
    assert_int_equal(find(f, 0, OP_MOUNT, "big"), -1);
    size_t opens = 0, sets = 0;
    for (size_t i = 0; i < rec.n; i++) {
        if (rec.calls[i].op == OP_FSOPEN) {
            opens++;
            assert_string_equal(rec.calls[i].fstype, "tmpfs");
        }
        if (rec.calls[i].op == OP_FSCONFIG && strcmp(rec.calls[i].source, "mode") == 0)
            sets++;
        if (rec.calls[i].op == OP_FSMOUNT)
            assert_int_equal(rec.calls[i].flags, MOUNT_ATTR_NOSUID);
    }
    assert_int_equal(opens, 1);
    assert_true(sets > 400);
    const struct call *move = must_find(f, 0, OP_MOVE_MOUNT, "big", NULL);
    assert_int_equal(move->flags, MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
}

static void test_idmap_needs_a_bind_and_mappings(void **state)
{
    struct fixture *f = *state;
    struct spec_mount mounts[] = {
        {.destination = "/t", .type = "tmpfs", .source = "tmpfs", .idmap = true},
    };
    set_mounts(f, mounts, 1);
    ctr_error *err = NULL;
    assert_int_equal(rootfs_prepare(&f->ctx, &err), -1);
    assert_string_equal(ctr_error_message(err),
                        "mount `tmpfs` on `/t` (mounts[0]): idmap is only supported on bind mounts: "
                        "Invalid argument");
    ctr_error_free(err);
    err = NULL;

    struct spec_mount binds[] = {
        {.destination = "/data", .source = f->src, .is_bind = true, .flags = MS_BIND, .idmap = true},
    };
    set_mounts(f, binds, 1);
    assert_int_equal(rootfs_prepare(&f->ctx, &err), -1);
    assert_non_null(strstr(ctr_error_message(err), "idmap needs uidMappings and gidMappings"));
    ctr_error_free(err);
}

static void test_root_destination_is_refused(void **state)
{
    struct fixture *f = *state;
    struct spec_mount mounts[] = {{.destination = "/", .type = "tmpfs", .source = "tmpfs"}};
    set_mounts(f, mounts, 1);
    ctr_error *err = NULL;
    assert_int_equal(rootfs_prepare(&f->ctx, &err), -1);
    assert_int_equal(ctr_error_code(err), EINVAL);
    ctr_error_free(err);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_mounts_follow_config_order),
        T(test_pivot_root_sequence),
        T(test_bind_ro_is_bind_then_remount),
        T(test_rbind_rro_uses_mount_setattr),
        T(test_propagation_after_mount),
        T(test_failure_names_the_mount),
        T(test_bind_failure_names_the_source),
        T(test_masked_paths),
        T(test_masked_path_through_symlink_stays_inside),
        T(test_readonly_paths),
        T(test_default_devices_and_links),
        T(test_devices_in_user_namespace_are_bound),
        T(test_configured_devices),
        T(test_configured_device_conflict_is_an_error),
        T(test_bound_dev_gets_no_devices),
        T(test_console_is_bound_from_its_fd),
        T(test_sysfs_without_netns_binds_the_hosts),
        T(test_cgroup_hybrid),
        T(test_cgroup_failure_names_the_hierarchy),
        T(test_relative_bind_source_is_in_the_bundle),
        T(test_cgroup_v2),
        T(test_long_data_goes_through_fsconfig),
        T(test_idmap_needs_a_bind_and_mappings),
        T(test_root_destination_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
