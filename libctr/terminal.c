#include "terminal.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/magic.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "procfs.h"
#include "util.h"

int terminal_open_master(int procfd, int ptmx, int *master, ctr_error **err)
{
    struct stat st;
    struct statfs sfs;
    if (fstat(ptmx, &st) < 0 || fstatfs(ptmx, &sfs) < 0)
        return error_set(err, errno, "stat the container's /dev/pts/ptmx");
    if (sfs.f_type != DEVPTS_SUPER_MAGIC || !S_ISCHR(st.st_mode) || major(st.st_rdev) != 5 ||
        minor(st.st_rdev) != 2)
        return error_set(err, EPERM, "the container's /dev/pts/ptmx is not a devpts ptmx");
    /* Reopen the node we were given (each open is a new pty) through its fd's magic link in the
     * runtime's verified procfs, not the container's /proc, which a mount could shadow. */
    _cleanup_close_ int fds = procfs_open(procfd, "self/fd", O_PATH | O_DIRECTORY, err);
    if (fds < 0)
        return error_wrap(err, "reopen the container's /dev/pts/ptmx");
    char name[16];
    snprintf(name, sizeof(name), "%d", ptmx);
    *master = openat(fds, name, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (*master < 0)
        return error_set(err, errno, "open the container's /dev/pts/ptmx");
    return 0;
}

int terminal_open_slave(int master, int *slave, ctr_error **err)
{
    int unlock = 0;
    if (ioctl(master, TIOCSPTLCK, &unlock) < 0)
        return error_set(err, errno, "unlock the pty");
    *slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (*slave < 0)
        return error_set(err, errno, "open the pty's slave");
    return 0;
}

int terminal_set_size(int fd, const struct spec_process *process, ctr_error **err)
{
    if (!process->has_console_size)
        return 0;
    struct winsize ws = {.ws_row = (unsigned short)process->console_height,
                         .ws_col = (unsigned short)process->console_width};
    if (ioctl(fd, TIOCSWINSZ, &ws) < 0)
        return error_set(err, errno, "process.consoleSize: set %ux%u", process->console_height,
                         process->console_width);
    return 0;
}

int terminal_become_controlling(int slave, ctr_error **err)
{
    if (setsid() < 0)
        return error_set(err, errno, "setsid for the terminal");
    if (ioctl(slave, TIOCSCTTY, 0) < 0)
        return error_set(err, errno, "make the pty the controlling terminal");
    for (int i = 0; i < 3; i++)
        if (dup2(slave, i) < 0)
            return error_set(err, errno, "dup2 the pty onto fd %d", i);
    return 0;
}

int terminal_connect(const char *path, int *fd, ctr_error **err)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(addr.sun_path))
        return error_set(err, ENAMETOOLONG, "console socket `%s`", path);
    strcpy(addr.sun_path, path);
    *fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (*fd < 0)
        return error_set(err, errno, "console socket `%s`: socket", path);
    if (connect(*fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        int saved = errno;
        close(*fd);
        *fd = -1;
        return error_set(err, saved, "connect to console socket `%s`", path);
    }
    return 0;
}

int terminal_send_fd(int sock, int fd, ctr_error **err)
{
    char data = 'F';
    struct iovec iov = {.iov_base = &data, .iov_len = 1};
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } control;
    memset(&control, 0, sizeof(control));
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                         .msg_controllen = sizeof(control.buf)};
    struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
    ssize_t n;
    do
        n = sendmsg(sock, &msg, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return error_set(err, errno, "send the pty master");
    return 0;
}
