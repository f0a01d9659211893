/* The exec trampoline: a tiny static program (no libc) that the container's init (and an exec'd
 * process) executes from a sealed memfd, and that only execs the container's real program.
 *
 * Why (CVE-2019-5736): the runtime's process that finally execs the container's program runs the
 * runtime's own binary until that exec. If the program is "#!/proc/self/exe" (or an ELF whose
 * interpreter is /proc/self/exe), the kernel resolves /proc/self/exe in that process and would run
 * the host's ctr-run inside the container, where a container process could then open it through
 * /proc/PID/exe and overwrite it. Going through this trampoline, /proc/self/exe at the final exec
 * is the sealed memfd: at worst the trampoline runs again, finds its arguments wrong and exits 127.
 *
 *     argv: [0] "ctr-exec"  [1] the handshake socket's fd number
 *           [2] an fd holding a seccomp BPF program to load, or "-"  [3] its seccomp(2) flags
 *           [4] the program's path  [5...] the program's argv
 *
 * With no_new_privs, the container's seccomp filter is loaded here, as the last thing before the
 * final execve, so the filter only ever sees that execve (runc's order): a profile need not allow
 * what the runtime itself does before it.
 *
 * The handshake socket stays open across the trampoline's own exec so that a failure of the final
 * exec is still reported to the runtime (as SYNC_INIT_ERROR with its errno); it is made
 * close-on-exec just before the final exec, whose success the runtime sees as end of stream.
 */
#include <asm/unistd.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "sync.h"

#if defined(__x86_64__)
__asm__(".text\n"
        ".global _start\n"
        "_start:\n"
        "  xor %rbp, %rbp\n"
        "  mov %rsp, %rdi\n"
        "  and $-16, %rsp\n"
        "  call trampoline_main\n"
        "  hlt\n");

static long syscall3(long n, long a, long b, long c)
{
    long ret;
    __asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
    return ret;
}

static long syscall6(long n, long a, long b, long c, long d, long e, long f)
{
    long ret;
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
}
#elif defined(__aarch64__)
__asm__(".text\n"
        ".global _start\n"
        "_start:\n"
        "  mov x0, sp\n"
        "  bl trampoline_main\n");

static long syscall6(long n, long a, long b, long c, long d, long e, long f)
{
    register long x8 __asm__("x8") = n;
    register long x0 __asm__("x0") = a;
    register long x1 __asm__("x1") = b;
    register long x2 __asm__("x2") = c;
    register long x3 __asm__("x3") = d;
    register long x4 __asm__("x4") = e;
    register long x5 __asm__("x5") = f;
    __asm__ volatile("svc 0"
                     : "+r"(x0)
                     : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
                     : "memory");
    return x0;
}

static long syscall3(long n, long a, long b, long c)
{
    return syscall6(n, a, b, c, 0, 0, 0);
}
#else
#error "the exec trampoline has no entry point for this architecture"
#endif

_Noreturn static void leave(int status)
{
    for (;;)
        syscall3(__NR_exit_group, status, 0, 0);
}

static long parse_number(const char *text)
{
    long n = 0;
    if (text == NULL || *text == '\0')
        return -1;
    for (; *text; text++) {
        if (*text < '0' || *text > '9' || n > 100000000)
            return -1;
        n = n * 10 + (*text - '0');
    }
    return n;
}

/* BPF_MAXINSNS: the kernel's limit for one filter. */
static struct sock_filter program[4096];

/* Reads the BPF program from `fd` (then closes it) and loads it. */
static long load_filter(long fd, long flags)
{
    char *at = (char *)program;
    long total = 0, n;
    while ((n = syscall3(__NR_read, fd, (long)(at + total), (long)sizeof(program) - total)) > 0)
        total += n;
    syscall3(__NR_close, fd, 0, 0);
    if (n < 0 || total == 0 || total % (long)sizeof(struct sock_filter) != 0)
        return n < 0 ? n : -22; /* EINVAL */
    struct sock_fprog prog = {.len = (unsigned short)(total / (long)sizeof(struct sock_filter)),
                              .filter = program};
    return syscall3(__NR_seccomp, SECCOMP_SET_MODE_FILTER, flags, (long)&prog);
}

/* `head`, then `path` in backquotes if given, into msg->text; the runtime adds the errno's
 * description. Returns the text's size with its NUL. */
static size_t describe(struct sync_msg *msg, const char *head, const char *path)
{
    size_t n = 0;
    for (; *head && n < SYNC_TEXT_MAX - 3; head++)
        msg->text[n++] = *head;
    if (path) {
        msg->text[n++] = '`';
        for (; *path && n < SYNC_TEXT_MAX - 3; path++)
            msg->text[n++] = *path;
        msg->text[n++] = '`';
    }
    msg->text[n++] = '\0';
    return n;
}

__attribute__((used)) _Noreturn void trampoline_main(long *stack);

__attribute__((used)) _Noreturn void trampoline_main(long *stack)
{
    long argc = stack[0];
    char **argv = (char **)(stack + 1);
    char **envp = argv + argc + 1;
    /* Anything else (e.g. "#!/proc/self/exe" landing here) is refused. */
    if (argc < 6)
        leave(127);
    long sync_fd = parse_number(argv[1]);
    long filter_fd = argv[2][0] == '-' ? -1 : parse_number(argv[2]);
    long filter_flags = parse_number(argv[3]);
    if (sync_fd < 3 || (argv[2][0] != '-' && filter_fd < 3) || filter_flags < 0)
        leave(127);
    const char *path = argv[4];
    static struct sync_msg msg;
    size_t len = offsetof(struct sync_msg, text);
    long ret = syscall3(__NR_fcntl, sync_fd, F_SETFD, FD_CLOEXEC);
    if (ret == 0 && filter_fd >= 0 && (ret = load_filter(filter_fd, filter_flags)) < 0) {
        len += describe(&msg, "linux.seccomp: load the filter", 0);
    } else {
        if (ret == 0)
            ret = syscall3(__NR_execve, (long)path, (long)(argv + 5), (long)envp);
        len += describe(&msg, "exec ", path);
    }
    msg.type = SYNC_INIT_ERROR;
    msg.code = (int32_t)-ret;
    msg.value = SYNC_ERROR_WITH_ERRNO_TEXT;
    syscall6(__NR_sendto, sync_fd, (long)&msg, (long)len, MSG_NOSIGNAL, 0, 0);
    leave(127);
}
