/* AppArmor profiles and SELinux labels: process.apparmorProfile, process.selinuxLabel and
 * linux.mountLabel.
 *
 * Applied where the LSM is active. Where it is not, a config asking for one is refused before
 * anything is created, as runc and crun do: a label silently dropped would run the container
 * unconfined while its manager believes it confined. The labels are written through the
 * runtime's verified procfs handle (procfs.h), never through the container's /proc
 * (CVE-2019-16884: a /proc the container controls made runc's label write a no-op).
 */
#ifndef LIBCTR_LSM_H
#define LIBCTR_LSM_H

#include "error.h"
#include "spec.h"

/* Refuses (EOPNOTSUPP, naming the field and its value) a process label of an LSM that is not
 * active on this host. `where` prefixes the message ("" for config.json, "process.json: "). */
int lsm_check_process(const struct spec_process *process, const char *where, ctr_error **err);

/* The same for linux.mountLabel, an SELinux context. */
int lsm_check_mount_label(const struct spec_linux *linux_, ctr_error **err);

/* In the init, before its capabilities and seccomp filter are applied (either could forbid it):
 * the profile and label the next execve gives the process, written to its attr/ files below the
 * procfs root `procfd`. Nothing to do when the process asks for neither. That next execve is the
 * exec trampoline's (exec.h), which then execs the container's program under them. */
int lsm_set_exec_label(int procfd, const struct spec_process *process, ctr_error **err);

/* The data to mount a fresh filesystem of `type` with: the config's `data`, plus linux.mountLabel
 * as SELinux's context= option on the filesystems that take one (not proc, sysfs, cgroup,
 * cgroup2 or mqueue, as runc), unless the data sets a context already. *out is malloc'd, or NULL
 * when there is no data at all. */
int lsm_mount_data(const char *type, const char *data, const char *mount_label, char **out,
                   ctr_error **err);

#endif
