/* linux.seccomp: the filter built with libseccomp from the typed config, and loaded.
 *
 * The behaviour follows runc and crun where the spec leaves room, because profiles (Docker's,
 * podman's) are written against them: syscall names this libseccomp does not know are skipped,
 * rules whose action is the default action are skipped, and no_new_privs is left to the caller
 * (process.noNewPrivileges), not set by libseccomp behind its back.
 */
#include "security.h"

#include <errno.h>
#include <inttypes.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* Linux syscalls take at most six arguments; arguments are numbered 0-5. */
enum { SYSCALL_ARGS = 6 };

/* The conditions of one rule can expand into several libseccomp rules (see add_rule());
 * past this many the config is surely a mistake, and the BPF program would not load anyway. */
enum { MAX_RULES_PER_SYSCALL = 1024 };

/* runc's threshold for libseccomp's binary-tree optimisation: it speeds up long profiles such as
 * Docker's, and libseccomp <= 2.5.4 mishandles it for filters with no rules. */
enum { OPTIMIZE_ABOVE_RULES = 32 };

static void cleanup_filterp(scmp_filter_ctx *ctx)
{
    if (*ctx)
        seccomp_release(*ctx);
}
#define _cleanup_filter_ _cleanup_(cleanup_filterp)

static int set_flag(scmp_filter_ctx ctx, enum scmp_filter_attr attr, const char *flag,
                    ctr_error **err)
{
    int rc = seccomp_attr_set(ctx, attr, 1);
    if (rc < 0)
        return error_set(
            err, -rc, "linux.seccomp.flags: %s (needs support in libseccomp and the kernel)", flag);
    return 0;
}

static int set_flags(scmp_filter_ctx ctx, const struct spec_seccomp *seccomp, ctr_error **err)
{
    if (seccomp->flag_log && set_flag(ctx, SCMP_FLTATR_CTL_LOG, "SECCOMP_FILTER_FLAG_LOG", err) < 0)
        return -1;
    if (seccomp->flag_spec_allow &&
        set_flag(ctx, SCMP_FLTATR_CTL_SSB, "SECCOMP_FILTER_FLAG_SPEC_ALLOW", err) < 0)
        return -1;
    if (seccomp->flag_tsync &&
        set_flag(ctx, SCMP_FLTATR_CTL_TSYNC, "SECCOMP_FILTER_FLAG_TSYNC", err) < 0)
        return -1;
    if (seccomp->flag_wait_killable_recv) {
#if SCMP_VER_MAJOR > 2 || (SCMP_VER_MAJOR == 2 && SCMP_VER_MINOR >= 6)
        if (set_flag(ctx, SCMP_FLTATR_CTL_WAITKILL, "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", err) <
            0)
            return -1;
#else
        /* The attribute arrived in libseccomp 2.6; what counts is the version built against. */
        return error_set(err, EOPNOTSUPP,
                         "linux.seccomp.flags: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV is not "
                         "supported by libseccomp %d.%d.%d (it needs 2.6 or newer)",
                         SCMP_VER_MAJOR, SCMP_VER_MINOR, SCMP_VER_MICRO);
#endif
    }
    return 0;
}

static struct scmp_arg_cmp to_cmp(const struct spec_seccomp_arg *arg)
{
    /* For SCMP_CMP_MASKED_EQ libseccomp takes the mask first and the value second, which is the
     * spec's value / valueTwo order (runc passes them the same way). The other operators only
     * read datum_a. */
    return (struct scmp_arg_cmp){
        .arg = arg->index,
        .op = (enum scmp_compare)arg->op,
        .datum_a = arg->value,
        .datum_b = arg->value_two,
    };
}

/* The k-th condition (in config order) on argument `index`. */
static const struct spec_seccomp_arg *nth_on_index(const struct spec_seccomp_rule *rule,
                                                   unsigned index, size_t k)
{
    for (size_t a = 0; a < rule->args_count; a++)
        if (rule->args[a].index == index && k-- == 0)
            return &rule->args[a];
    return NULL;
}

/* Conditions on different arguments must all hold; conditions on the same argument are
 * alternatives (profiles list each allowed value of personality(2)'s argument as its own entry,
 * and one argument cannot equal two values at once). A libseccomp rule ANDs its conditions and
 * the rules of one syscall OR, so the rule expands into one libseccomp rule per choice of one
 * condition for each argument. With one condition per argument (or none) that is a single rule;
 * with all conditions on one argument, one rule each, as runc and crun do. */
static int add_rule(scmp_filter_ctx ctx, uint32_t action, int nr,
                           const struct spec_seccomp_rule *rule, size_t i, const char *name,
                           ctr_error **err)
{
    size_t count[SYSCALL_ARGS] = {0};
    for (size_t a = 0; a < rule->args_count; a++) {
        if (rule->args[a].index >= SYSCALL_ARGS)
            return error_set(err, EINVAL,
                             "linux.seccomp.syscalls[%zu].args[%zu].index: %u is not an argument "
                             "number (0-5)",
                             i, a, rule->args[a].index);
        count[rule->args[a].index]++;
    }

    unsigned used[SYSCALL_ARGS];
    size_t nused = 0, combinations = 1;
    for (unsigned idx = 0; idx < SYSCALL_ARGS; idx++) {
        if (count[idx] == 0)
            continue;
        used[nused++] = idx;
        combinations *= count[idx];
        if (combinations > MAX_RULES_PER_SYSCALL)
            return error_set(err, E2BIG,
                             "linux.seccomp.syscalls[%zu] (\"%s\"): the argument conditions "
                             "expand to more than %d rules",
                             i, name, MAX_RULES_PER_SYSCALL);
    }

    size_t pick[SYSCALL_ARGS] = {0};
    for (;;) {
        struct scmp_arg_cmp cmp[SYSCALL_ARGS] = {{0}};
        for (size_t k = 0; k < nused; k++)
            cmp[k] = to_cmp(nth_on_index(rule, used[k], pick[k]));
        int rc = seccomp_rule_add_array(ctx, action, nr, (unsigned)nused, cmp);
        if (rc < 0)
            return error_set(err, -rc, "linux.seccomp.syscalls[%zu] (\"%s\"): add rule", i, name);
        /* The next combination, odometer style. */
        size_t k = 0;
        while (k < nused && ++pick[k] == count[used[k]])
            pick[k++] = 0;
        if (k == nused)
            return 0;
    }
}

static int add_rules(scmp_filter_ctx ctx, const struct spec_seccomp *seccomp, bool *added_notify,
                     ctr_error **err)
{
    for (size_t i = 0; i < seccomp->syscalls_count; i++) {
        const struct spec_seccomp_rule *rule = &seccomp->syscalls[i];
        /* libseccomp refuses a rule that repeats the default action; it would change nothing. */
        if (rule->action == seccomp->default_action)
            continue;
        for (size_t n = 0; n < rule->names.count; n++) {
            const char *name = rule->names.items[n];
            /* Profiles list syscalls newer than this libseccomp or kernel (runc and crun skip
             * them too); the rule's other names still apply. */
            int nr = seccomp_syscall_resolve_name(name);
            if (nr == __NR_SCMP_ERROR)
                continue;
            if (add_rule(ctx, rule->action, nr, rule, i, name, err) < 0)
                return -1;
            if (rule->action == SCMP_ACT_NOTIFY)
                *added_notify = true;
        }
    }
    return 0;
}

/* Everything but the load: shared by seccomp_apply_spec() and seccomp_export_spec(). */
static int build_filter(const struct spec_seccomp *seccomp, scmp_filter_ctx *out,
                        bool *added_notify, ctr_error **err)
{
    _cleanup_filter_ scmp_filter_ctx ctx = seccomp_init(seccomp->default_action);
    if (ctx == NULL)
        return error_set(err, EINVAL,
                         "linux.seccomp.defaultAction: create the filter with action 0x%" PRIx32,
                         seccomp->default_action);

    for (size_t i = 0; i < seccomp->architectures_count; i++) {
        int rc = seccomp_arch_add(ctx, seccomp->architectures[i]);
        /* EEXIST: the native architecture is in every new filter already. */
        if (rc < 0 && rc != -EEXIST)
            return error_set(err, -rc,
                             "linux.seccomp.architectures[%zu]: add architecture 0x%" PRIx32, i,
                             seccomp->architectures[i]);
    }

    if (set_flags(ctx, seccomp, err) < 0)
        return -1;

    /* The caller sets no_new_privs when process.noNewPrivileges says so; libseccomp would set it
     * unconditionally. */
    int rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
    if (rc < 0)
        return error_set(err, -rc, "linux.seccomp: leave no_new_privs to the caller");
    /* Report the kernel's own errno from the load (EACCES, ...), not libseccomp's ECANCELED. */
    rc = seccomp_attr_set(ctx, SCMP_FLTATR_API_SYSRAWRC, 1);
    if (rc < 0)
        return error_set(err, -rc, "linux.seccomp: ask libseccomp for the kernel's error codes");
    /* Not fatal: an older libseccomp builds a linear filter, slower but the same. */
    if (seccomp->syscalls_count > OPTIMIZE_ABOVE_RULES)
        (void)seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);

    *added_notify = seccomp->default_action == SCMP_ACT_NOTIFY;
    if (add_rules(ctx, seccomp, added_notify, err) < 0)
        return -1;
    *out = steal_pointer(&ctx);
    return 0;
}

int seccomp_apply_spec(const struct spec_seccomp *seccomp, int *listener_fd, ctr_error **err)
{
    if (listener_fd)
        *listener_fd = -1;
    _cleanup_filter_ scmp_filter_ctx ctx = NULL;
    bool added_notify;
    if (build_filter(seccomp, &ctx, &added_notify, err) < 0)
        return -1;

    int rc = seccomp_load(ctx);
    if (rc < 0) {
        if (rc == -EACCES && prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 0)
            return error_set(err, EACCES,
                             "linux.seccomp: load the filter (without no_new_privs this needs "
                             "CAP_SYS_ADMIN)");
        return error_set(err, -rc, "linux.seccomp: load the filter");
    }

    if (added_notify) {
        /* The kernel made the listener with the filter (SECCOMP_FILTER_FLAG_NEW_LISTENER); it is
         * close-on-exec, and the caller hands it to the seccomp agent. */
        int fd = seccomp_notify_fd(ctx);
        if (fd < 0)
            return error_set(err, -fd, "linux.seccomp: get the notification fd");
        if (listener_fd)
            *listener_fd = fd;
        else
            close(fd);
    }
    return 0;
}

int seccomp_export_bpf_spec(const struct spec_seccomp *seccomp, int fd, unsigned *flags,
                            ctr_error **err)
{
    _cleanup_filter_ scmp_filter_ctx ctx = NULL;
    bool added_notify;
    if (build_filter(seccomp, &ctx, &added_notify, err) < 0)
        return -1;
    if (added_notify)
        return error_set(err, EINVAL, "linux.seccomp: a filter with SCMP_ACT_NOTIFY is loaded by "
                                      "the runtime, which hands its listener on");
    int rc = seccomp_export_bpf(ctx, fd);
    if (rc < 0)
        return error_set(err, -rc, "linux.seccomp: export the filter");
    /* What seccomp_load would pass for these attributes (set_flags): the loader is the exec
     * trampoline, which has no libseccomp. */
    *flags = (seccomp->flag_log ? SECCOMP_FILTER_FLAG_LOG : 0) |
             (seccomp->flag_spec_allow ? SECCOMP_FILTER_FLAG_SPEC_ALLOW : 0);
    return 0;
}

int seccomp_export_spec(const struct spec_seccomp *seccomp, int fd, ctr_error **err)
{
    _cleanup_filter_ scmp_filter_ctx ctx = NULL;
    bool added_notify;
    if (build_filter(seccomp, &ctx, &added_notify, err) < 0)
        return -1;
    int rc = seccomp_export_pfc(ctx, fd);
    if (rc < 0)
        return error_set(err, -rc, "linux.seccomp: export the filter");
    return 0;
}

/* ---- the seccomp agent ----------------------------------------------------------------------- */

/* The whole of `text` on a stream socket, `fd` attached to the first sendmsg (config-linux.md: "If
 * more than one sendmsg(2) is used, the file descriptors MUST be sent only in the first call"). */
static int send_with_fd(int sock, const char *text, size_t len, int fd)
{
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } control;
    memset(&control, 0, sizeof(control));
    bool attached = false;
    while (len > 0) {
        struct iovec iov = {.iov_base = (void *)text, .iov_len = len};
        struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
        if (!attached) {
            mh.msg_control = control.buf;
            mh.msg_controllen = sizeof(control.buf);
            struct cmsghdr *cmsg = CMSG_FIRSTHDR(&mh);
            cmsg->cmsg_level = SOL_SOCKET;
            cmsg->cmsg_type = SCM_RIGHTS;
            cmsg->cmsg_len = CMSG_LEN(sizeof(int));
            memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
        }
        ssize_t n = sendmsg(sock, &mh, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        attached = true;
        text += n;
        len -= (size_t)n;
    }
    return 0;
}

int seccomp_send_listener(const struct spec_seccomp *seccomp, const char *oci_version, pid_t pid,
                          json_t *state, int listener_fd, ctr_error **err)
{
    const char *path = seccomp->listener_path;
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    /* spec_validate() made sure there is one when SCMP_ACT_NOTIFY is used. */
    if (strlen(path) >= sizeof(addr.sun_path))
        return error_set(err, ENAMETOOLONG, "linux.seccomp.listenerPath `%s`", path);
    strcpy(addr.sun_path, path);

    json_t *process_state = json_pack("{s:s, s:[s], s:I, s:O}", "ociVersion", oci_version, "fds",
                                      "seccompFd", "pid", (json_int_t)pid, "state", state);
    if (process_state && seccomp->listener_metadata)
        json_object_set_new(process_state, "metadata", json_string(seccomp->listener_metadata));
    _cleanup_free_ char *text = process_state ? json_dumps(process_state, JSON_COMPACT) : NULL;
    json_decref(process_state);
    if (text == NULL)
        return error_set(err, ENOMEM, "linux.seccomp: the container process state");

    /* config-linux.md: AF_UNIX, SOCK_STREAM, one state per connection, closed after it. */
    _cleanup_close_ int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (sock < 0)
        return error_set(err, errno, "linux.seccomp.listenerPath `%s`: socket", path);
    if (connect(sock, (struct sockaddr *)&addr, sizeof(addr)) < 0)
        return error_set(err, errno,
                         "linux.seccomp.listenerPath `%s`: connect to the seccomp agent", path);
    if (send_with_fd(sock, text, strlen(text), listener_fd) < 0)
        return error_set(err, errno,
                         "linux.seccomp.listenerPath `%s`: send the listener to the seccomp agent",
                         path);
    return 0;
}
