/* config.json as typed C structs (OCI runtime-spec 1.2, plus the Linux fields of 1.3).
 *
 * Everything hangs off one arena owned by struct ctr_spec, so the whole tree is freed at once.
 * Optional scalars carry a `has_*`/`set` flag; absent strings are NULL; arrays are a pointer and a
 * count. Names from the spec (namespace types, capabilities, rlimits, seccomp actions...) are
 * already converted to their kernel/library values here, so the code that applies them never
 * parses a string. Validation errors name the JSON path (`linux.namespaces[2].type`).
 */
#ifndef LIBCTR_SPEC_H
#define LIBCTR_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "error.h"
#include "util.h"

typedef struct {
    bool set;
    int64_t value;
} opt_int64;

typedef struct {
    bool set;
    uint64_t value;
} opt_uint64;

typedef struct {
    bool set;
    bool value;
} opt_bool;

struct string_list {
    char **items; /* NULL-terminated as well, so it can be passed to execve */
    size_t count;
};

/* ---- process ----------------------------------------------------------------------------------- */

struct spec_rlimit {
    int resource; /* RLIMIT_* */
    uint64_t soft, hard;
};

/* Capability sets as bit masks: bit n is capability number n (CAP_CHOWN = 0...). */
struct spec_capabilities {
    uint64_t bounding, effective, inheritable, permitted, ambient;
    /* Which of the five arrays the config listed: an absent set is left empty, as the spec says. */
    bool has_bounding, has_effective, has_inheritable, has_permitted, has_ambient;
};

struct spec_user {
    uid_t uid;
    gid_t gid;
    opt_uint64 umask;
    gid_t *additional_gids;
    size_t additional_gids_count;
};

struct spec_scheduler {
    bool set;
    int policy;      /* SCHED_* */
    int32_t nice;
    int32_t priority;
    uint64_t flags;  /* SCHED_FLAG_* */
    uint64_t runtime, deadline, period;
};

struct spec_io_priority {
    bool set;
    int class;       /* IOPRIO_CLASS_RT/BE/IDLE (1/2/3) */
    int priority;    /* 0..7 */
};

struct spec_cpu_affinity {
    char *initial;   /* cpu list strings, "0-3,7"; NULL when absent */
    char *final;
};

struct spec_process {
    bool terminal;
    bool has_console_size;
    unsigned console_height, console_width;
    struct spec_user user;
    struct string_list args;
    struct string_list env;
    char *cwd;
    struct spec_capabilities capabilities;
    bool has_capabilities;
    struct spec_rlimit *rlimits;
    size_t rlimits_count;
    bool no_new_privileges;
    opt_int64 oom_score_adj;
    char *apparmor_profile;
    char *selinux_label;
    struct spec_scheduler scheduler;
    struct spec_io_priority io_priority;
    struct spec_cpu_affinity exec_cpu_affinity;
};

/* ---- mounts ------------------------------------------------------------------------------------ */

struct spec_id_mapping {
    uint32_t container_id, host_id, size;
};

/* The recursive mount attributes of the spec's `r*` options, for mount_setattr(2). */
struct spec_mount_attr {
    uint64_t set, clear;   /* MOUNT_ATTR_* */
    uint64_t propagation;  /* MS_SHARED/MS_SLAVE/MS_PRIVATE/MS_UNBINDABLE, 0 when not given */
};

struct spec_mount {
    char *destination;  /* absolute inside the container */
    char *type;         /* NULL when absent: a bind mount if options say bind/rbind */
    char *source;
    struct string_list options; /* as written in config.json */
    /* Derived from options (libmount for the standard ones, our table for the OCI extras): */
    unsigned long flags;        /* MS_* to set, including MS_BIND/MS_REC for bind/rbind */
    unsigned long clear_flags;  /* MS_* explicitly cleared by "rw", "suid", "dev", "exec"... */
    unsigned long propagation;  /* MS_SHARED/MS_SLAVE/MS_PRIVATE/MS_UNBINDABLE (| MS_REC) or 0 */
    char *data;                 /* filesystem-specific options, comma-joined, or NULL */
    struct spec_mount_attr recursive; /* rro, rnosuid, ... (applied with AT_RECURSIVE) */
    bool is_bind;
    bool tmpcopyup;             /* "tmpcopyup": copy the image's content into a new tmpfs */
    bool idmap, recursive_idmap;/* "idmap" / "ridmap" */
    struct spec_id_mapping *uid_mappings, *gid_mappings;
    size_t uid_mappings_count, gid_mappings_count;
};

/* ---- hooks ------------------------------------------------------------------------------------- */

struct spec_hook {
    char *path;
    struct string_list args;
    struct string_list env;
    opt_int64 timeout; /* seconds, > 0 when set */
};

struct spec_hook_list {
    struct spec_hook *items;
    size_t count;
};

struct spec_hooks {
    struct spec_hook_list prestart, create_runtime, create_container, start_container, poststart,
        poststop;
};

/* ---- linux: namespaces and devices --------------------------------------------------------------- */

enum spec_namespace_type {
    NS_PID,
    NS_NETWORK,
    NS_MOUNT,
    NS_IPC,
    NS_UTS,
    NS_USER,
    NS_CGROUP,
    NS_TIME,
    NS_TYPE_COUNT
};

struct spec_namespace {
    bool present;  /* listed in linux.namespaces */
    char *path;    /* join this one instead of creating a new one; NULL = create */
    size_t index;  /* its position in linux.namespaces, for messages */
};

struct spec_time_offset {
    bool set;
    int64_t secs;
    uint32_t nanosecs;
};

struct spec_device {
    char *path;
    char type;        /* 'c', 'b', 'u' (unbuffered char) or 'p' (fifo) */
    int64_t major, minor;
    opt_uint64 file_mode; /* permission bits; 0666 when absent */
    opt_uint64 uid, gid;
};

struct spec_net_device {
    char *host_name;      /* the key in linux.netDevices */
    char *name;           /* the name inside the container; host_name when absent */
};

/* ---- linux: resources (cgroups) ---------------------------------------------------------------- */

struct spec_device_rule {
    bool allow;
    char type;          /* 'a', 'c' or 'b'; 'a' when absent */
    opt_int64 major, minor; /* absent = wildcard */
    char access[4];     /* subset of "rwm"; "rwm" when absent */
};

struct spec_memory {
    opt_int64 limit, reservation, swap, kernel, kernel_tcp;
    opt_uint64 swappiness;
    opt_bool disable_oom_killer, use_hierarchy, check_before_update;
};

struct spec_cpu {
    opt_uint64 shares;
    opt_int64 quota;
    opt_uint64 burst;
    opt_uint64 period;
    opt_int64 realtime_runtime;
    opt_uint64 realtime_period;
    char *cpus, *mems;
    opt_int64 idle;
};

struct spec_weight_device {
    int64_t major, minor;
    opt_uint64 weight, leaf_weight; /* uint16 in the spec */
};

struct spec_throttle_device {
    int64_t major, minor;
    uint64_t rate;
};

struct spec_block_io {
    opt_uint64 weight, leaf_weight;
    struct spec_weight_device *weight_devices;
    size_t weight_devices_count;
    struct spec_throttle_device *throttle_read_bps, *throttle_write_bps, *throttle_read_iops,
        *throttle_write_iops;
    size_t throttle_read_bps_count, throttle_write_bps_count, throttle_read_iops_count,
        throttle_write_iops_count;
};

struct spec_hugepage_limit {
    char *page_size; /* "2MB", "1GB" */
    uint64_t limit;
};

struct spec_net_priority {
    char *name;
    uint32_t priority;
};

struct spec_rdma_limit {
    char *device;
    opt_uint64 hca_handles, hca_objects; /* uint32 in the spec */
};

struct spec_unified_entry {
    char *key, *value;
};

struct spec_resources {
    struct spec_device_rule *devices;
    size_t devices_count;
    bool has_memory, has_cpu, has_block_io, has_pids, has_network;
    struct spec_memory memory;
    struct spec_cpu cpu;
    struct spec_block_io block_io;
    opt_int64 pids_limit;
    struct spec_hugepage_limit *hugepage_limits;
    size_t hugepage_limits_count;
    opt_uint64 net_class_id; /* uint32 */
    struct spec_net_priority *net_priorities;
    size_t net_priorities_count;
    struct spec_rdma_limit *rdma;
    size_t rdma_count;
    struct spec_unified_entry *unified;
    size_t unified_count;
};

/* ---- linux: seccomp ---------------------------------------------------------------------------- */

struct spec_seccomp_arg {
    unsigned index;    /* 0..5 */
    uint64_t value, value_two;
    int op;            /* enum scmp_compare (SCMP_CMP_*) */
};

struct spec_seccomp_rule {
    struct string_list names;
    uint32_t action;       /* SCMP_ACT_* with the errno/trace value folded in */
    struct spec_seccomp_arg *args;
    size_t args_count;
};

struct spec_seccomp {
    uint32_t default_action;  /* SCMP_ACT_*, errno folded in */
    uint32_t *architectures;  /* SCMP_ARCH_* */
    size_t architectures_count;
    /* SECCOMP_FILTER_FLAG_* named in `flags`, mapped to libseccomp attributes when applied. */
    bool flag_log, flag_spec_allow, flag_wait_killable_recv, flag_tsync;
    char *listener_path;
    char *listener_metadata;
    struct spec_seccomp_rule *syscalls;
    size_t syscalls_count;
    bool uses_notify;         /* some action is SCMP_ACT_NOTIFY: listenerPath is required */
};

/* ---- linux: the rest ----------------------------------------------------------------------------- */

struct spec_personality {
    bool set;
    unsigned long domain;  /* PER_LINUX or PER_LINUX32 */
};

struct spec_intel_rdt {
    bool set;
    char *clos_id;
    char *l3_cache_schema;
    char *mem_bw_schema;
    struct string_list schemata;
    bool enable_monitoring;
};

struct spec_memory_policy {
    bool set;
    int mode;          /* MPOL_* */
    char *nodes;       /* node list, "0-3" */
    unsigned flags;    /* MPOL_F_* */
};

struct spec_sysctl {
    char *key, *value;
};

struct spec_linux {
    struct spec_namespace namespaces[NS_TYPE_COUNT];
    struct spec_id_mapping *uid_mappings, *gid_mappings;
    size_t uid_mappings_count, gid_mappings_count;
    struct spec_time_offset time_monotonic, time_boottime;
    struct spec_device *devices;
    size_t devices_count;
    struct spec_net_device *net_devices;
    size_t net_devices_count;
    char *cgroups_path;
    bool has_resources;
    struct spec_resources resources;
    unsigned long rootfs_propagation; /* MS_* | MS_REC, 0 when absent */
    struct string_list masked_paths;
    struct string_list readonly_paths;
    char *mount_label;
    struct spec_sysctl *sysctl;
    size_t sysctl_count;
    bool has_seccomp;
    struct spec_seccomp seccomp;
    struct spec_personality personality;
    struct spec_intel_rdt intel_rdt;
    struct spec_memory_policy memory_policy;
};

/* ---- the whole configuration ------------------------------------------------------------------- */

struct spec_annotation {
    char *key, *value;
};

struct ctr_spec {
    struct arena *arena;
    json_t *json;          /* the parsed document, kept for hooks' state and annotations */
    char *oci_version;
    char *root_path;       /* as written; relative to the bundle when not absolute */
    bool root_readonly;
    bool has_process;
    struct spec_process process;
    char *hostname;
    char *domainname;
    struct spec_mount *mounts;
    size_t mounts_count;
    struct spec_hooks hooks;
    struct spec_annotation *annotations;
    size_t annotations_count;
    bool has_linux;
    struct spec_linux linux_;
};

/* ---- parsing entry points (spec.c) --------------------------------------------------------------- */

/* Parses a `process` object (config.json's, or the process.json of `exec`) into `out`, with the
 * arena of `spec`. `where` is the JSON path prefix used in errors ("process"). */
int spec_parse_process(struct ctr_spec *spec, json_t *json, const char *where,
                       struct spec_process *out, ctr_error **err);

/* Parses a `linux.resources` object (also the body of `update --resources`). */
int spec_parse_resources(struct ctr_spec *spec, json_t *json, const char *where,
                         struct spec_resources *out, ctr_error **err);

/* Checks the cross-field rules of the spec that no single field shows (e.g. hostname needs a UTS
 * namespace, uidMappings need a user namespace, sysctls need the namespace they belong to). */
int spec_validate(const struct ctr_spec *spec, ctr_error **err);

/* Parses a mount's option strings into the derived fields of `mount`. */
int spec_parse_mount_options(struct ctr_spec *spec, struct spec_mount *mount, const char *where,
                             ctr_error **err);

/* Spec names for messages: "pid", "network", ... */
const char *spec_namespace_name(enum spec_namespace_type type);

/* The names the parser takes, for the features document (features.c), so that it reports what
 * the parser really accepts: each returns the i-th name, NULL past the last. */
const char *spec_hook_name(size_t i);
/* The OCI extras ("rbind", "rro", "idmap"...), then libmount's flags the parser looks up. */
const char *spec_mount_option_name(size_t i);
const char *spec_seccomp_action_name(size_t i);
const char *spec_seccomp_operator_name(size_t i);
const char *spec_seccomp_flag_name(size_t i);

#endif
