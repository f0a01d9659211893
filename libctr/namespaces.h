/* Namespaces of the container: which ones clone3 can create directly, joining existing ones by
 * path, the user namespace's id maps, and the cgroup and time namespaces that must be created
 * later (after the init joined its cgroup; before any process entered the time namespace).
 */
#ifndef LIBCTR_NAMESPACES_H
#define LIBCTR_NAMESPACES_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"
#include "spec.h"

/* CLONE_NEW* flag of a namespace type. */
int namespace_clone_flag(enum spec_namespace_type type);

/* The CLONE_NEW* flags of the namespaces to create (not joined by path), leaving out the
 * cgroup and time namespaces (see namespaces_unshare_late). */
int namespaces_new_flags(const struct spec_linux *linux_);

/* True when some namespace is joined by path. */
bool namespaces_any_joined(const struct spec_linux *linux_);

/* Opens every namespace linux.namespaces joins by path and checks each is a namespace (nsfs),
 * in the caller, so a bad path is reported before anything is created. fds[type] gets an
 * O_CLOEXEC fd or -1; errors name `linux.namespaces[i].path`. */
int namespaces_open_paths(const struct spec_linux *linux_, int fds[NS_TYPE_COUNT], ctr_error **err);
void namespaces_close_fds(int fds[NS_TYPE_COUNT]);

/* Opens the namespaces of a running process (`exec`), through the procfs handle `procfd`
 * (procfs.h): every type the container's config has. paths[type] gets the /proc path, for
 * messages. */
int namespaces_open_of_process(int procfd, const struct spec_linux *linux_, pid_t pid,
                               int fds[NS_TYPE_COUNT], char paths[NS_TYPE_COUNT][48],
                               ctr_error **err);

/* setns() into each opened namespace: the user namespace first, as its credentials decide what
 * the other setns calls may do. paths[type] names it in errors. */
int namespaces_join(int fds[NS_TYPE_COUNT], const char *const paths[NS_TYPE_COUNT],
                    ctr_error **err);

/* Writes /proc/PID/uid_map and gid_map from linux.uidMappings/gidMappings, through the procfs
 * handle `procfd` (procfs.h). */
int namespaces_write_id_maps(int procfd, pid_t pid, const struct spec_linux *linux_,
                             ctr_error **err);

/* In the init, once it is in its cgroup: a new cgroup namespace, rooted at that cgroup. */
int namespaces_unshare_cgroup(const struct spec_linux *linux_, ctr_error **err);

/* In the init: a new time namespace with linux.timeOffsets written (through the procfs handle
 * `procfd`) before the init enters it. */
int namespaces_unshare_time(int procfd, const struct spec_linux *linux_, ctr_error **err);

/* hostname and domainname (spec_validate made sure the UTS namespace is the container's own). */
int namespaces_set_uts(const struct ctr_spec *spec, ctr_error **err);

#endif
