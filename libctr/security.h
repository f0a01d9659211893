/* The last steps of the init (and of an exec'd process) before execve: identity, limits,
 * capabilities and seccomp. Each function applies one part of `process` / `linux` and names
 * what it could not apply.
 */
#ifndef LIBCTR_SECURITY_H
#define LIBCTR_SECURITY_H

#include "error.h"
#include "spec.h"

/* caps.c ------------------------------------------------------------------------------------- */

/* Fails (naming the capability and the set) when the configuration asks for a capability this
 * process does not have in its bounding set, so nothing is created for a config that cannot run. */
int caps_check_grantable(const struct spec_capabilities *caps, ctr_error **err);

/* Sets PR_SET_KEEPCAPS so the permitted set survives the uid change done next. */
int caps_keep_across_setuid(ctr_error **err);

/* Applies the five sets exactly as configured (after the uid/gid change). */
int caps_apply(const struct spec_capabilities *caps, ctr_error **err);

/* seccomp.c ---------------------------------------------------------------------------------- */

/* Builds the filter from linux.seccomp with libseccomp and loads it into this process. When the
 * config uses SCMP_ACT_NOTIFY, *listener_fd gets the notification fd (else -1); a caller with no
 * seccomp agent to hand it to may pass NULL, and the fd is closed. */
int seccomp_apply_spec(const struct spec_seccomp *seccomp, int *listener_fd, ctr_error **err);

/* Builds the same filter without loading it and writes it to `fd` in libseccomp's PFC text form
 * (pseudo filter code), for tests and for debugging a profile. */
int seccomp_export_spec(const struct spec_seccomp *seccomp, int fd, ctr_error **err);

/* Builds the filter and writes it to `fd` as the raw BPF program the kernel loads, with the
 * seccomp(2) flags to load it with in *flags: for the exec trampoline, which loads it last thing
 * before the final execve when no_new_privs is set (so the filter only ever sees that execve, as
 * runc's does). Refused for filters with SCMP_ACT_NOTIFY, whose listener the runtime hands on. */
int seccomp_export_bpf_spec(const struct spec_seccomp *seccomp, int fd, unsigned *flags,
                            ctr_error **err);

/* config-linux.md "Seccomp", listenerPath: connects to the seccomp agent's socket and sends it
 * the container process state (ociVersion, fds ["seccompFd"], pid: the process the filter is on,
 * metadata: listenerMetadata, state: `state`) as JSON with `listener_fd` attached (SCM_RIGHTS),
 * then closes the connection. An agent that cannot be reached is an error naming listenerPath. */
int seccomp_send_listener(const struct spec_seccomp *seccomp, const char *oci_version, pid_t pid,
                          json_t *state, int listener_fd, ctr_error **err);

/* process.c ---------------------------------------------------------------------------------- */

int process_set_rlimits(const struct spec_process *process, ctr_error **err);
/* oom_score_adj through the procfs handle `procfd` (procfs.h; lowering it needs
 * CAP_SYS_RESOURCE: the error says so). */
int process_set_oom_score_adj(int procfd, const struct spec_process *process, ctr_error **err);
int process_set_scheduler(const struct spec_process *process, ctr_error **err);
int process_set_io_priority(const struct spec_process *process, ctr_error **err);
int process_set_personality(const struct spec_linux *linux_, ctr_error **err);
int process_set_memory_policy(const struct spec_linux *linux_, ctr_error **err);
/* Sets the CPU affinity from a cpu list string ("0-3,7"); `field` names it in errors. */
int process_set_cpu_affinity(const char *cpus, const char *field, ctr_error **err);
/* setgroups(additionalGids), setresgid, setresuid. `allow_setgroups` is false in a user
 * namespace whose setgroups file says "deny". */
int process_set_user(const struct spec_user *user, bool allow_setgroups, ctr_error **err);
/* umask (0022 when absent, as runc and crun do) and the working directory. */
int process_set_umask_and_cwd(const struct spec_process *process, ctr_error **err);

/* Finds args[0] the way execvp would, but with the PATH of the container's env (or the
 * default "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"); *path gets a
 * malloc'd path for execve (relative only when args[0] or a PATH entry is). Executability is
 * checked with the current credentials, so call it after process_set_user() (as runc does).
 * Errors use runc's wording, which managers recognise: `exec: "x": executable file not found
 * in $PATH`, or name the path that is not executable (EACCES). */
int process_find_executable(const struct spec_process *process, char **path, ctr_error **err);

#endif
