/* The `process` object (config.md, "Process", "POSIX process", "Linux Process", "User"), also the
 * whole of exec's process.json. Names are converted here: capabilities with libcap-ng, rlimits,
 * scheduler policies and flags, I/O priority classes with small tables (no library has them). */
#include "spec.h"

#include <inttypes.h>
#include <linux/ioprio.h>
#include <linux/sched.h>
#include <sched.h>
#include <stdint.h>
#include <string.h>
#include <sys/resource.h>

#include <cap-ng.h>

#include "spec_json.h"
#include "util.h"

/* (uid_t)-1 and (gid_t)-1 mean "leave unchanged" to setresuid(2)/setresgid(2): accepting them
 * would run the process with the runtime's own (root) ids. */
#define MAX_ID (UINT32_MAX - 1)

/* ---- user ---------------------------------------------------------------------------------------- */

/* config.md, "POSIX-platform User": uid and gid REQUIRED, umask and additionalGids OPTIONAL. */
static int parse_user(struct ctr_spec *spec, json_t *process, const struct jpath *path,
                      struct spec_user *user, ctr_error **err)
{
    json_t *json = NULL, *gids = NULL;
    uint64_t value;
    int r = jget_object(process, path, "user", J_OPTIONAL, &json, err);
    if (r <= 0)
        return r;
    struct jpath at = JPATH_KEY(path, "user");
    if (jget_uint64(json, &at, "uid", J_REQUIRED, MAX_ID, &value, err) < 0)
        return -1;
    user->uid = (uid_t)value;
    if (jget_uint64(json, &at, "gid", J_REQUIRED, MAX_ID, &value, err) < 0)
        return -1;
    user->gid = (gid_t)value;
    /* umask(2) keeps only the permission bits: anything above 0777 is a mistake. */
    if (jget_opt_uint64(json, &at, "umask", 0777, &user->umask, err) < 0)
        return -1;

    r = jget_array(json, &at, "additionalGids", J_OPTIONAL, &gids, err);
    if (r <= 0)
        return r;
    struct jpath gids_at = JPATH_KEY(&at, "additionalGids");
    user->additional_gids_count = json_array_size(gids);
    user->additional_gids = spec_alloc(spec, user->additional_gids_count, sizeof(gid_t), &gids_at,
                                       err);
    if (user->additional_gids == NULL)
        return -1;
    for (size_t i = 0; i < user->additional_gids_count; i++) {
        struct jpath item = JPATH_INDEX(&gids_at, i);
        if (jval_uint64(json_array_get(gids, i), &item, MAX_ID, &value, err) < 0)
            return -1;
        user->additional_gids[i] = (gid_t)value;
    }
    return 0;
}

/* ---- capabilities -------------------------------------------------------------------------------- */

/* "CAP_CHOWN" -> 0. libcap-ng knows the names without the prefix ("chown"); numbers and other
 * spellings are refused, as runc refuses them. */
static int capability_number(const char *name)
{
    char lower[64];
    if (strncmp(name, "CAP_", 4) != 0 || name[4] == '\0' || strlen(name + 4) >= sizeof(lower))
        return -1;
    size_t i = 0;
    for (const char *p = name + 4; *p; p++) {
        if (!((*p >= 'A' && *p <= 'Z') || *p == '_'))
            return -1;
        lower[i++] = *p == '_' ? '_' : (char)(*p - 'A' + 'a');
    }
    lower[i] = '\0';
    int cap = capng_name_to_capability(lower);
    return cap >= 0 && cap < 64 ? cap : -1;
}

static int parse_capability_set(json_t *caps, const struct jpath *path, const char *key,
                                uint64_t *set, bool *present, ctr_error **err)
{
    json_t *array = NULL;
    int r = jget_array(caps, path, key, J_OPTIONAL, &array, err);
    if (r <= 0)
        return r;
    struct jpath at = JPATH_KEY(path, key);
    for (size_t i = 0; i < json_array_size(array); i++) {
        struct jpath item = JPATH_INDEX(&at, i);
        const char *name;
        if (jval_borrow_string(json_array_get(array, i), &item, &name, err) < 0)
            return -1;
        int cap = capability_number(name);
        if (cap < 0)
            return jpath_error(err, &item, "unknown capability \"%s\"", name);
        *set |= UINT64_C(1) << cap;
    }
    *present = true;
    return 0;
}

/* config.md, "Linux Process": an object of five optional arrays; an absent one stays empty. */
static int parse_capabilities(json_t *process, const struct jpath *path,
                              struct spec_process *out, ctr_error **err)
{
    json_t *json = NULL;
    int r = jget_object(process, path, "capabilities", J_OPTIONAL, &json, err);
    if (r <= 0)
        return r;
    struct jpath at = JPATH_KEY(path, "capabilities");
    struct spec_capabilities *c = &out->capabilities;
    out->has_capabilities = true;
    if (parse_capability_set(json, &at, "bounding", &c->bounding, &c->has_bounding, err) < 0 ||
        parse_capability_set(json, &at, "effective", &c->effective, &c->has_effective, err) < 0 ||
        parse_capability_set(json, &at, "inheritable", &c->inheritable, &c->has_inheritable,
                             err) < 0 ||
        parse_capability_set(json, &at, "permitted", &c->permitted, &c->has_permitted, err) < 0 ||
        parse_capability_set(json, &at, "ambient", &c->ambient, &c->has_ambient, err) < 0)
        return -1;
    return 0;
}

/* ---- rlimits ------------------------------------------------------------------------------------- */

/* getrlimit(2)'s resources. */
static const struct jname rlimit_names[] = {
    {"RLIMIT_AS", RLIMIT_AS},         {"RLIMIT_CORE", RLIMIT_CORE},
    {"RLIMIT_CPU", RLIMIT_CPU},       {"RLIMIT_DATA", RLIMIT_DATA},
    {"RLIMIT_FSIZE", RLIMIT_FSIZE},   {"RLIMIT_LOCKS", RLIMIT_LOCKS},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK}, {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
    {"RLIMIT_NICE", RLIMIT_NICE},     {"RLIMIT_NOFILE", RLIMIT_NOFILE},
    {"RLIMIT_NPROC", RLIMIT_NPROC},   {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO}, {"RLIMIT_RTTIME", RLIMIT_RTTIME},
    {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING}, {"RLIMIT_STACK", RLIMIT_STACK},
};

/* config.md, "POSIX process": type, soft and hard REQUIRED; "If rlimits contains duplicated entries
 * with same type, the runtime MUST generate an error". */
static int parse_rlimits(struct ctr_spec *spec, json_t *process, const struct jpath *path,
                         struct spec_process *out, ctr_error **err)
{
    json_t *array = NULL;
    int r = jget_array(process, path, "rlimits", J_OPTIONAL, &array, err);
    if (r <= 0)
        return r;
    struct jpath at = JPATH_KEY(path, "rlimits");
    size_t count = json_array_size(array);
    out->rlimits = spec_alloc(spec, count, sizeof(*out->rlimits), &at, err);
    if (out->rlimits == NULL)
        return -1;
    for (size_t i = 0; i < count; i++) {
        struct jpath item = JPATH_INDEX(&at, i);
        struct spec_rlimit *rl = &out->rlimits[i];
        json_t *json = json_array_get(array, i);
        long resource;
        if (jval_object(json, &item, err) < 0 ||
            jget_name(json, &item, "type", J_REQUIRED, rlimit_names, ARRAY_SIZE(rlimit_names),
                      "rlimit", &resource, err) < 0 ||
            jget_uint64(json, &item, "soft", J_REQUIRED, UINT64_MAX, &rl->soft, err) < 0 ||
            jget_uint64(json, &item, "hard", J_REQUIRED, UINT64_MAX, &rl->hard, err) < 0)
            return -1;
        rl->resource = (int)resource;
        for (size_t j = 0; j < i; j++) {
            if (out->rlimits[j].resource == rl->resource) {
                struct jpath type_at = JPATH_KEY(&item, "type");
                return jpath_error(err, &type_at, "duplicate rlimit \"%s\" (also at index %zu)",
                                   json_string_value(json_object_get(json, "type")), j);
            }
        }
        /* setrlimit(2) fails with EINVAL then: say so now, with the field. */
        if (rl->soft > rl->hard) {
            struct jpath soft_at = JPATH_KEY(&item, "soft");
            return jpath_error(err, &soft_at, "must not be above hard (%" PRIu64 "), got %" PRIu64,
                               rl->hard, rl->soft);
        }
        out->rlimits_count++;
    }
    return 0;
}

/* ---- scheduler and I/O priority ------------------------------------------------------------------ */

enum { SCHED_ISO_UNSUPPORTED = -1 };

static const struct jname sched_policies[] = {
    {"SCHED_OTHER", SCHED_OTHER}, {"SCHED_FIFO", SCHED_FIFO},
    {"SCHED_RR", SCHED_RR},       {"SCHED_BATCH", SCHED_BATCH},
    {"SCHED_ISO", SCHED_ISO_UNSUPPORTED}, {"SCHED_IDLE", SCHED_IDLE},
    {"SCHED_DEADLINE", SCHED_DEADLINE},
};

static const struct jname sched_flags[] = {
    {"SCHED_FLAG_RESET_ON_FORK", SCHED_FLAG_RESET_ON_FORK},
    {"SCHED_FLAG_RECLAIM", SCHED_FLAG_RECLAIM},
    {"SCHED_FLAG_DL_OVERRUN", SCHED_FLAG_DL_OVERRUN},
    {"SCHED_FLAG_KEEP_POLICY", SCHED_FLAG_KEEP_POLICY},
    {"SCHED_FLAG_KEEP_PARAMS", SCHED_FLAG_KEEP_PARAMS},
    {"SCHED_FLAG_UTIL_CLAMP_MIN", SCHED_FLAG_UTIL_CLAMP_MIN},
    {"SCHED_FLAG_UTIL_CLAMP_MAX", SCHED_FLAG_UTIL_CLAMP_MAX},
};

/* config.md, "Linux Process", scheduler: policy REQUIRED, the rest default to 0. */
static int parse_scheduler(json_t *process, const struct jpath *path, struct spec_scheduler *out,
                           ctr_error **err)
{
    json_t *json = NULL, *flags = NULL;
    int64_t value;
    long policy;
    int r = jget_object(process, path, "scheduler", J_OPTIONAL, &json, err);
    if (r <= 0)
        return r;
    struct jpath at = JPATH_KEY(path, "scheduler");
    if (jget_name(json, &at, "policy", J_REQUIRED, sched_policies, ARRAY_SIZE(sched_policies),
                  "scheduling policy", &policy, err) < 0)
        return -1;
    if (policy == SCHED_ISO_UNSUPPORTED) {
        /* The spec lists it, but Linux reserved the number and never implemented it. */
        struct jpath policy_at = JPATH_KEY(&at, "policy");
        return jpath_error(err, &policy_at, "\"SCHED_ISO\" is not implemented by Linux");
    }
    out->set = true;
    out->policy = (int)policy;
    value = 0;
    if (jget_int64(json, &at, "nice", J_OPTIONAL, -20, 19, &value, err) < 0)
        return -1;
    out->nice = (int32_t)value;
    value = 0;
    if (jget_int64(json, &at, "priority", J_OPTIONAL, INT32_MIN, INT32_MAX, &value, err) < 0)
        return -1;
    out->priority = (int32_t)value;
    if (jget_uint64(json, &at, "runtime", J_OPTIONAL, UINT64_MAX, &out->runtime, err) < 0 ||
        jget_uint64(json, &at, "deadline", J_OPTIONAL, UINT64_MAX, &out->deadline, err) < 0 ||
        jget_uint64(json, &at, "period", J_OPTIONAL, UINT64_MAX, &out->period, err) < 0)
        return -1;

    r = jget_array(json, &at, "flags", J_OPTIONAL, &flags, err);
    if (r <= 0)
        return r;
    struct jpath flags_at = JPATH_KEY(&at, "flags");
    for (size_t i = 0; i < json_array_size(flags); i++) {
        struct jpath item = JPATH_INDEX(&flags_at, i);
        long flag;
        if (jval_name(json_array_get(flags, i), &item, sched_flags, ARRAY_SIZE(sched_flags),
                      "scheduler flag", &flag, err) < 0)
            return -1;
        out->flags |= (uint64_t)flag;
    }
    return 0;
}

static const struct jname ioprio_classes[] = {
    {"IOPRIO_CLASS_RT", IOPRIO_CLASS_RT},
    {"IOPRIO_CLASS_BE", IOPRIO_CLASS_BE},
    {"IOPRIO_CLASS_IDLE", IOPRIO_CLASS_IDLE},
};

/* config.md, "Linux Process", ioPriority: class and priority (0..7) REQUIRED. */
static int parse_io_priority(json_t *process, const struct jpath *path,
                             struct spec_io_priority *out, ctr_error **err)
{
    json_t *json = NULL;
    long class;
    int64_t priority;
    int r = jget_object(process, path, "ioPriority", J_OPTIONAL, &json, err);
    if (r <= 0)
        return r;
    struct jpath at = JPATH_KEY(path, "ioPriority");
    if (jget_name(json, &at, "class", J_REQUIRED, ioprio_classes, ARRAY_SIZE(ioprio_classes),
                  "I/O priority class", &class, err) < 0 ||
        jget_int64(json, &at, "priority", J_REQUIRED, 0, 7, &priority, err) < 0)
        return -1;
    *out = (struct spec_io_priority){.set = true, .class = (int)class, .priority = (int)priority};
    return 0;
}

/* ---- the rest ------------------------------------------------------------------------------------ */

/* config.md, execCPUAffinity: CPU lists; an empty one means "the default", like an absent one. */
static int parse_exec_cpu_affinity(struct ctr_spec *spec, json_t *process,
                                   const struct jpath *path, struct spec_cpu_affinity *out,
                                   ctr_error **err)
{
    json_t *json = NULL;
    int r = jget_object(process, path, "execCPUAffinity", J_OPTIONAL, &json, err);
    if (r <= 0)
        return r;
    struct jpath at = JPATH_KEY(path, "execCPUAffinity");
    if (jget_id_list(spec, json, &at, "initial", "CPU list", &out->initial, err) < 0 ||
        jget_id_list(spec, json, &at, "final", "CPU list", &out->final, err) < 0)
        return -1;
    return 0;
}

/* config.md, consoleSize: height and width REQUIRED; they end up in a struct winsize, whose fields
 * are unsigned short. */
static int parse_console_size(json_t *process, const struct jpath *path, struct spec_process *out,
                              ctr_error **err)
{
    json_t *json = NULL;
    uint64_t height, width;
    int r = jget_object(process, path, "consoleSize", J_OPTIONAL, &json, err);
    if (r <= 0)
        return r;
    struct jpath at = JPATH_KEY(path, "consoleSize");
    if (jget_uint64(json, &at, "height", J_REQUIRED, UINT16_MAX, &height, err) < 0 ||
        jget_uint64(json, &at, "width", J_REQUIRED, UINT16_MAX, &width, err) < 0)
        return -1;
    out->has_console_size = true;
    out->console_height = (unsigned)height;
    out->console_width = (unsigned)width;
    return 0;
}

int spec_parse_process_at(struct ctr_spec *spec, json_t *json, const struct jpath *path,
                          struct spec_process *out, ctr_error **err)
{
    /* Counts and capability bits accumulate: start from nothing (exec reuses its struct). */
    *out = (struct spec_process){0};
    if (jval_object(json, path, err) < 0 ||
        jget_bool(json, path, "terminal", J_OPTIONAL, &out->terminal, err) < 0 ||
        parse_console_size(json, path, out, err) < 0 ||
        jget_abs_path(spec, json, path, "cwd", J_REQUIRED, &out->cwd, err) < 0 ||
        jget_env(spec, json, path, "env", &out->env, err) < 0 ||
        jget_string_list(spec, json, path, "args", J_REQUIRED, &out->args, err) < 0)
        return -1;
    /* "at least one entry is REQUIRED (non-Windows)": it is execvp's file. */
    if (out->args.count == 0) {
        struct jpath at = JPATH_KEY(path, "args");
        return jpath_error(err, &at, "must have at least one entry");
    }
    if (parse_rlimits(spec, json, path, out, err) < 0 ||
        jget_string(spec, json, path, "apparmorProfile", J_OPTIONAL, &out->apparmor_profile,
                    err) < 0 ||
        parse_capabilities(json, path, out, err) < 0 ||
        jget_bool(json, path, "noNewPrivileges", J_OPTIONAL, &out->no_new_privileges, err) < 0 ||
        jget_opt_int64(json, path, "oomScoreAdj", -1000, 1000, &out->oom_score_adj, err) < 0 ||
        parse_scheduler(json, path, &out->scheduler, err) < 0 ||
        jget_string(spec, json, path, "selinuxLabel", J_OPTIONAL, &out->selinux_label, err) < 0 ||
        parse_io_priority(json, path, &out->io_priority, err) < 0 ||
        parse_exec_cpu_affinity(spec, json, path, &out->exec_cpu_affinity, err) < 0 ||
        parse_user(spec, json, path, &out->user, err) < 0)
        return -1;
    return 0;
}
