/* The `start` and `delete` actions containerd runs before and after a shim's life. Both are
 * idempotent: containerd retries them. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <libctr/libctr.h>

#include "options.h"
#include "rootfs.h"
#include "sha256.h"
#include "shim.h"
#include "task.pb-c.h"

/* containerd's fixed socket directory (defaults.DefaultStateDir + "/s"), whatever its config. */
#define SOCKET_DIR "/run/containerd/s"

char *shim_state_root(const char *namespace)
{
    char *root = NULL;
    return asprintf(&root, "%s/%s", SHIM_STATE_ROOT, namespace) < 0 ? NULL : root;
}

static int bind_unix(int fd, const char *path)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
    return bind(fd, (struct sockaddr *)&addr, sizeof(addr));
}

static bool can_connect(const char *path)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    bool ok = fd >= 0 && connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

/* Written to a temporary name and renamed: containerd may read it at any time. */
static int write_file_atomic(const char *path, const char *text)
{
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof(tmp), ".%s", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    size_t len = strlen(text);
    bool ok = write(fd, text, len) == (ssize_t)len;
    close(fd);
    if (!ok || rename(tmp, path) < 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

/* containerd's own name for the shim's socket: sha256 of ADDRESS/NAMESPACE/ID (filepath.Join). */
static void socket_path(const struct shim_options *opts, char *path, size_t len)
{
    char joined[PATH_MAX], hex[65];
    const char *address = opts->address ? opts->address : "";
    size_t n = strlen(address);
    while (n > 1 && address[n - 1] == '/')
        n--;
    snprintf(joined, sizeof(joined), "%.*s/%s/%s", (int)n, address, opts->namespace, opts->id);
    sha256_hex(joined, strlen(joined), hex);
    snprintf(path, len, "%s/%s", SOCKET_DIR, hex);
}

/* Like containerd's shims: one more than containerd's, so the OOM killer takes a shim first. The
 * daemon sets its own: it inherited containerd's score through `start`, which then need not wait
 * for it. */
static void raise_oom_score(void)
{
    char value[32] = "";
    int fd = open("/proc/self/oom_score_adj", O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return;
    ssize_t n = read(fd, value, sizeof(value) - 1);
    if (n > 0) {
        int score = atoi(value) + 1;
        snprintf(value, sizeof(value), "%d", score > 1000 ? 1000 : score);
        if (pwrite(fd, value, strlen(value), 0) < 0) {
            /* best effort, as containerd's shims treat it */
        }
    }
    close(fd);
}

/* The daemon is `start` forked, not executed again: it has its libraries loaded and relocated
 * already, which saves containerd's first call the 2-5 ms an exec costs (measured on the test
 * machine; containerd sends Create as soon as `start` has answered). `start` holds next to
 * nothing by then (its flags, the socket, a few variables on the stack), so the daemon carries
 * nothing of it. It gets a new session, its OOM score, /dev/null for stdio (containerd reads
 * `start`'s output to its end, which must come when `start` exits) and the listening socket as
 * fd 3. */
static int become_daemon(int listen_fd)
{
    setsid();
    raise_oom_score();
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0)
        return -1;
    if (listen_fd != 3 && (dup2(listen_fd, 3) < 0 || fcntl(3, F_SETFD, FD_CLOEXEC) < 0))
        return -1;
    syscall(SYS_close_range, 4, ~0U, 0);
    return 3;
}

int action_start(const struct shim_options *opts, struct shim_socket *daemon_socket)
{
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    char address[sizeof(path) + 8];
    socket_path(opts, path, sizeof(path));
    snprintf(address, sizeof(address), "unix://%s", path);

    int fd = -1;
    if (mkdir("/run/containerd", 0711) < 0 && errno != EEXIST)
        goto fail;
    if (mkdir(SOCKET_DIR, 0711) < 0 && errno != EEXIST)
        goto fail;
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        goto fail;
    if (bind_unix(fd, path) < 0) {
        if (errno != EADDRINUSE)
            goto fail;
        /* A shim of this container already serves it: a repeated `start` reports it. */
        if (can_connect(path)) {
            close(fd);
            fd = -1;
            if (write_file_atomic("address", address) < 0)
                goto fail;
            fputs(address, stdout);
            return 0;
        }
        if (unlink(path) < 0 || bind_unix(fd, path) < 0)
            goto fail;
    }
    struct stat st;
    if (chmod(path, 0600) < 0 || listen(fd, 64) < 0 || lstat(path, &st) < 0 ||
        write_file_atomic("address", address) < 0)
        goto fail_socket;

    /* containerd may write runtime options on stdin; read them to the end so it never blocks. */
    char ignored[4096];
    while (read(STDIN_FILENO, ignored, sizeof(ignored)) > 0)
        ;
    pid_t pid = fork();
    if (pid < 0)
        goto fail_socket;
    if (pid == 0) {
        if ((daemon_socket->fd = become_daemon(fd)) < 0)
            _exit(127);
        snprintf(daemon_socket->path, sizeof(daemon_socket->path), "%s", path);
        daemon_socket->dev = st.st_dev;
        daemon_socket->ino = st.st_ino;
        return 0;
    }
    close(fd);
    fputs(address, stdout);
    return 0;

fail_socket:;
    int saved = errno;
    unlink(path);
    errno = saved;
fail:
    fprintf(stderr, "start shim for %s: socket %s: %s\n", opts->id, path, strerror(errno));
    if (fd >= 0)
        close(fd);
    return -1;
}

void remove_socket_of(const char *bundle)
{
    char file[PATH_MAX], address[256] = "";
    snprintf(file, sizeof(file), "%s/address", bundle);
    int fd = open(file, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, address, sizeof(address) - 1) : -1;
    if (fd >= 0)
        close(fd);
    if (n <= 0 || strncmp(address, "unix://", 7) != 0)
        return;
    address[n] = '\0';
    address[strcspn(address, "\n")] = '\0';
    if (!can_connect(address + 7))
        unlink(address + 7);
}

int action_delete(const struct shim_options *opts)
{
    char cwd[PATH_MAX];
    const char *bundle = opts->bundle;
    if (bundle == NULL && (bundle = getcwd(cwd, sizeof(cwd))) == NULL) {
        fprintf(stderr, "delete %s: no bundle: %s\n", opts->id, strerror(errno));
        return -1;
    }
    /* Whatever the dead shim left: the container (killed), its rootfs mount, its socket. Each
     * step goes on after a failure, reported on stderr (containerd logs it as warnings). */
    pid_t pid = 0;
    char *root = shim_state_root(opts->namespace);
    struct stat st;
    if (root && stat(root, &st) == 0) {
        struct ctr_context_options copts = {.size = sizeof(copts), .state_root = root};
        ctr_context *ctx = NULL;
        ctr_container *c = NULL;
        ctr_error *err = NULL;
        if (ctr_context_new(&copts, &ctx, &err) < 0) {
            fprintf(stderr, "%s\n", ctr_error_message(err));
        } else if (ctr_container_load(ctx, opts->id, &c, &err) == 0) {
            pid = ctr_container_pid(c);
            if (ctr_container_delete(c, 1, &err) < 0)
                fprintf(stderr, "%s\n", ctr_error_message(err));
        } else if (ctr_error_code(err) != ENOENT) {
            fprintf(stderr, "%s\n", ctr_error_message(err));
        }
        ctr_error_free(err);
        ctr_context_free(ctx);
    }
    free(root);
    char rootfs[PATH_MAX], errbuf[512];
    snprintf(rootfs, sizeof(rootfs), "%s/rootfs", bundle);
    if (rootfs_unmount(rootfs, errbuf, sizeof(errbuf)) < 0)
        fprintf(stderr, "%s\n", errbuf);
    remove_socket_of(bundle);

    /* What containerd reports for a task whose shim died: killed (128 + SIGKILL), now. */
    Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    timestamp_now(&ts);
    Containerd__Task__V2__DeleteResponse resp = CONTAINERD__TASK__V2__DELETE_RESPONSE__INIT;
    resp.pid = (uint32_t)(pid > 0 ? pid : 0);
    resp.exit_status = 128 + SIGKILL;
    resp.exited_at = &ts;
    uint8_t buf[64];
    size_t len = containerd__task__v2__delete_response__pack(&resp, buf);
    return fwrite(buf, 1, len, stdout) == len ? 0 : -1;
}
