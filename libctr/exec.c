#include "exec.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/memfd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util.h"

/* exec_trampoline_blob.c, generated at build time from the static trampoline. */
extern const unsigned char exec_trampoline[];
extern const size_t exec_trampoline_size;

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U /* Linux 6.3: ask for an executable memfd where vm.memfd_noexec is 1 */
#endif

int exec_trampoline_create(int *memfd, ctr_error **err)
{
    int fd = memfd_create("ctr-exec", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
    if (fd < 0 && errno == EINVAL) /* kernels before 6.3 do not know MFD_EXEC */
        fd = memfd_create("ctr-exec", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0)
        return error_set(err, errno, "memfd for the exec trampoline");
    /* Sealed: nothing, not even a process that gets hold of the fd, can change what it runs. */
    if (write_all(fd, exec_trampoline, exec_trampoline_size) < 0 ||
        fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0) {
        int saved = errno;
        close(fd);
        return error_set(err, saved, "seal the exec trampoline");
    }
    *memfd = fd;
    return 0;
}

void exec_through_trampoline(int memfd, int sync_fd, int filter_fd, unsigned filter_flags,
                             const char *path, char *const argv[], char *const envp[])
{
    size_t argc = 0;
    while (argv[argc])
        argc++;
    char **args = calloc(argc + 6, sizeof(*args));
    char sync_text[16], filter_text[16], flags_text[16];
    if (args == NULL)
        return;
    snprintf(sync_text, sizeof(sync_text), "%d", sync_fd);
    snprintf(filter_text, sizeof(filter_text), "%d", filter_fd);
    snprintf(flags_text, sizeof(flags_text), "%u", filter_flags);
    args[0] = "ctr-exec";
    args[1] = sync_text;
    args[2] = filter_fd >= 0 ? filter_text : "-";
    args[3] = flags_text;
    args[4] = (char *)path;
    for (size_t i = 0; i < argc; i++)
        args[5 + i] = argv[i];
    /* Both stay open across the trampoline's own exec; it closes or re-marks them. */
    int saved = 0;
    if (fcntl(sync_fd, F_SETFD, 0) < 0 || (filter_fd >= 0 && fcntl(filter_fd, F_SETFD, 0) < 0)) {
        saved = errno;
        goto out;
    }
    /* execveat on the memfd itself: never a path through the container's /proc, which a mount in
     * the config could shadow with a program of its own. (A seccomp profile loaded early, without
     * no_new_privs, must allow execveat as it must allow the runtime's other last syscalls; with
     * no_new_privs the trampoline loads the filter after this.) */
    syscall(SYS_execveat, memfd, "", args, envp, AT_EMPTY_PATH);
    saved = errno;
out:
    fcntl(sync_fd, F_SETFD, FD_CLOEXEC);
    free(args);
    errno = saved;
}
