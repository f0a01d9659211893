/* `linux.seccomp` (config-linux.md, "Seccomp"): actions, architectures and operators are
 * libseccomp's names and become libseccomp's values here. Syscall names are kept as strings and
 * resolved when the filter is built: profiles list syscalls newer than the running kernel and
 * libseccomp, and runc and crun skip the ones they cannot resolve. */
#include "spec.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <seccomp.h>

#include "spec_json.h"
#include "util.h"

/* The action names; ERRNO and TRACE carry a value, folded in by action_value(). */
enum action_kind { ACT_PLAIN, ACT_ERRNO, ACT_TRACE };

static const struct jname actions[] = {
    {"SCMP_ACT_KILL", SCMP_ACT_KILL},
    {"SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS},
    {"SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD},
    {"SCMP_ACT_TRAP", SCMP_ACT_TRAP},
    {"SCMP_ACT_ERRNO", SCMP_ACT_ERRNO(0)},
    {"SCMP_ACT_TRACE", SCMP_ACT_TRACE(0)},
    {"SCMP_ACT_ALLOW", SCMP_ACT_ALLOW},
    {"SCMP_ACT_LOG", SCMP_ACT_LOG},
    {"SCMP_ACT_NOTIFY", SCMP_ACT_NOTIFY},
};

static const struct jname operators[] = {
    {"SCMP_CMP_NE", SCMP_CMP_NE}, {"SCMP_CMP_LT", SCMP_CMP_LT},
    {"SCMP_CMP_LE", SCMP_CMP_LE}, {"SCMP_CMP_EQ", SCMP_CMP_EQ},
    {"SCMP_CMP_GE", SCMP_CMP_GE}, {"SCMP_CMP_GT", SCMP_CMP_GT},
    {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
};

enum filter_flag { FLAG_TSYNC, FLAG_LOG, FLAG_SPEC_ALLOW, FLAG_WAIT_KILLABLE_RECV };

static const struct jname filter_flags[] = {
    {"SECCOMP_FILTER_FLAG_TSYNC", FLAG_TSYNC},
    {"SECCOMP_FILTER_FLAG_LOG", FLAG_LOG},
    {"SECCOMP_FILTER_FLAG_SPEC_ALLOW", FLAG_SPEC_ALLOW},
    {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", FLAG_WAIT_KILLABLE_RECV},
};

static enum action_kind action_kind(uint32_t action)
{
    if (action == SCMP_ACT_ERRNO(0))
        return ACT_ERRNO;
    if (action == SCMP_ACT_TRACE(0))
        return ACT_TRACE;
    return ACT_PLAIN;
}

const char *spec_seccomp_action_name(size_t i)
{
    return i < ARRAY_SIZE(actions) ? actions[i].name : NULL;
}

const char *spec_seccomp_operator_name(size_t i)
{
    return i < ARRAY_SIZE(operators) ? operators[i].name : NULL;
}

const char *spec_seccomp_flag_name(size_t i)
{
    return i < ARRAY_SIZE(filter_flags) ? filter_flags[i].name : NULL;
}

/* Reads the action `action_key` and its errno `errno_key` of `json`. "Some actions like
 * SCMP_ACT_ERRNO and SCMP_ACT_TRACE allow to specify the errno code to return. When the action
 * doesn't support an errno, the runtime MUST print and error and fail. The default is EPERM." The
 * value lives in the 16 data bits of the seccomp return value (SECCOMP_RET_DATA). */
static int parse_action(json_t *json, const struct jpath *path, const char *action_key,
                        const char *errno_key, uint32_t *out, ctr_error **err)
{
    long action;
    uint64_t errno_ret = EPERM;
    if (jget_name(json, path, action_key, J_REQUIRED, actions, ARRAY_SIZE(actions),
                  "seccomp action", &action, err) < 0)
        return -1;
    int r = jget_uint64(json, path, errno_key, J_OPTIONAL, UINT16_MAX, &errno_ret, err);
    if (r < 0)
        return -1;
    enum action_kind kind = action_kind((uint32_t)action);
    if (r > 0 && kind == ACT_PLAIN) {
        struct jpath at = JPATH_KEY(path, errno_key);
        return jpath_error(err, &at, "not allowed with %s (only SCMP_ACT_ERRNO and SCMP_ACT_TRACE "
                           "return a value)",
                           json_string_value(json_object_get(json, action_key)));
    }
    *out = kind == ACT_ERRNO   ? SCMP_ACT_ERRNO((uint32_t)errno_ret)
           : kind == ACT_TRACE ? SCMP_ACT_TRACE((uint32_t)errno_ret)
                               : (uint32_t)action;
    return 0;
}

/* "SCMP_ARCH_X86_64" -> libseccomp's token for "x86_64". */
static int parse_architectures(struct ctr_spec *spec, json_t *json, const struct jpath *path,
                               struct spec_seccomp *out, ctr_error **err)
{
    json_t *array = NULL;
    int r = jget_array(json, path, "architectures", J_OPTIONAL, &array, err);
    if (r <= 0)
        return r;
    struct jpath at = JPATH_KEY(path, "architectures");
    size_t count = json_array_size(array);
    out->architectures = spec_alloc(spec, count, sizeof(*out->architectures), &at, err);
    if (out->architectures == NULL)
        return -1;
    for (size_t i = 0; i < count; i++) {
        struct jpath item = JPATH_INDEX(&at, i);
        const char *name;
        char lower[32];
        if (jval_borrow_string(json_array_get(array, i), &item, &name, err) < 0)
            return -1;
        uint32_t token = 0;
        size_t len = strlen(name);
        if (strncmp(name, "SCMP_ARCH_", 10) == 0 && len - 10 < sizeof(lower)) {
            for (size_t j = 10; j <= len; j++)
                lower[j - 10] = (char)tolower((unsigned char)name[j]);
            token = seccomp_arch_resolve_name(lower);
        }
        if (token == 0)
            return jpath_error(err, &item, "unknown seccomp architecture \"%s\"", name);
        out->architectures[i] = token;
        out->architectures_count++;
    }
    return 0;
}

static int parse_flags(json_t *json, const struct jpath *path, struct spec_seccomp *out,
                       ctr_error **err)
{
    json_t *array = NULL;
    int r = jget_array(json, path, "flags", J_OPTIONAL, &array, err);
    if (r <= 0)
        return r;
    struct jpath at = JPATH_KEY(path, "flags");
    for (size_t i = 0; i < json_array_size(array); i++) {
        struct jpath item = JPATH_INDEX(&at, i);
        long flag;
        if (jval_name(json_array_get(array, i), &item, filter_flags, ARRAY_SIZE(filter_flags),
                      "seccomp flag", &flag, err) < 0)
            return -1;
        switch ((enum filter_flag)flag) {
        case FLAG_TSYNC:
            out->flag_tsync = true;
            break;
        case FLAG_LOG:
            out->flag_log = true;
            break;
        case FLAG_SPEC_ALLOW:
            out->flag_spec_allow = true;
            break;
        case FLAG_WAIT_KILLABLE_RECV:
            out->flag_wait_killable_recv = true;
            break;
        }
    }
    return 0;
}

/* args[]: index (0..5, the six syscall arguments), value and op REQUIRED, valueTwo OPTIONAL. */
static int parse_args(struct ctr_spec *spec, json_t *json, const struct jpath *path,
                      struct spec_seccomp_rule *rule, ctr_error **err)
{
    json_t *array = NULL;
    int r = jget_array(json, path, "args", J_OPTIONAL, &array, err);
    if (r <= 0)
        return r;
    struct jpath at = JPATH_KEY(path, "args");
    size_t count = json_array_size(array);
    rule->args = spec_alloc(spec, count, sizeof(*rule->args), &at, err);
    if (rule->args == NULL)
        return -1;
    for (size_t i = 0; i < count; i++) {
        struct jpath item = JPATH_INDEX(&at, i);
        struct spec_seccomp_arg *arg = &rule->args[i];
        json_t *entry = json_array_get(array, i);
        uint64_t index;
        long op;
        if (jval_object(entry, &item, err) < 0 ||
            jget_uint64(entry, &item, "index", J_REQUIRED, 5, &index, err) < 0 ||
            jget_uint64(entry, &item, "value", J_REQUIRED, UINT64_MAX, &arg->value, err) < 0 ||
            jget_uint64(entry, &item, "valueTwo", J_OPTIONAL, UINT64_MAX, &arg->value_two, err) < 0 ||
            jget_name(entry, &item, "op", J_REQUIRED, operators, ARRAY_SIZE(operators),
                      "seccomp operator", &op, err) < 0)
            return -1;
        arg->index = (unsigned)index;
        arg->op = (int)op;
        rule->args_count++;
    }
    return 0;
}

/* syscalls[]: names ("MUST contain at least one entry") and action REQUIRED. */
static int parse_rule(struct ctr_spec *spec, json_t *json, const struct jpath *at,
                      struct spec_seccomp_rule *rule, ctr_error **err)
{
    if (jval_object(json, at, err) < 0 ||
        jget_string_list(spec, json, at, "names", J_REQUIRED, &rule->names, err) < 0)
        return -1;
    struct jpath names_at = JPATH_KEY(at, "names");
    if (rule->names.count == 0)
        return jpath_error(err, &names_at, "must have at least one entry");
    for (size_t i = 0; i < rule->names.count; i++) {
        if (rule->names.items[i][0] == '\0') {
            struct jpath item = JPATH_INDEX(&names_at, i);
            return jpath_error(err, &item, "must not be empty");
        }
    }
    if (parse_action(json, at, "action", "errnoRet", &rule->action, err) < 0 ||
        parse_args(spec, json, at, rule, err) < 0)
        return -1;
    return 0;
}

int spec_parse_seccomp(struct ctr_spec *spec, json_t *json, const struct jpath *path,
                       struct spec_seccomp *out, ctr_error **err)
{
    json_t *array = NULL;
    if (jval_object(json, path, err) < 0 ||
        parse_action(json, path, "defaultAction", "defaultErrnoRet", &out->default_action, err) < 0)
        return -1;
    /* The runtime itself still has to hand the listener fd over after loading the filter: with
     * every syscall going to a notifier that does not exist yet, it would hang (runc refuses it
     * for the same reason). */
    if (out->default_action == SCMP_ACT_NOTIFY) {
        struct jpath at = JPATH_KEY(path, "defaultAction");
        return jpath_error(err, &at, "SCMP_ACT_NOTIFY cannot be the default action");
    }
    if (parse_architectures(spec, json, path, out, err) < 0 || parse_flags(json, path, out, err) < 0 ||
        jget_abs_path(spec, json, path, "listenerPath", J_OPTIONAL, &out->listener_path, err) < 0 ||
        jget_string(spec, json, path, "listenerMetadata", J_OPTIONAL, &out->listener_metadata,
                    err) < 0)
        return -1;
    /* "This field MUST NOT be set if listenerPath is not set." */
    if (out->listener_metadata && !out->listener_path) {
        struct jpath at = JPATH_KEY(path, "listenerMetadata");
        return jpath_error(err, &at, "must not be set without listenerPath");
    }

    int r = jget_array(json, path, "syscalls", J_OPTIONAL, &array, err);
    if (r <= 0)
        return r;
    struct jpath at = JPATH_KEY(path, "syscalls");
    size_t count = json_array_size(array);
    out->syscalls = spec_alloc(spec, count, sizeof(*out->syscalls), &at, err);
    if (out->syscalls == NULL)
        return -1;
    for (size_t i = 0; i < count; i++) {
        struct jpath item = JPATH_INDEX(&at, i);
        struct spec_seccomp_rule *rule = &out->syscalls[i];
        if (parse_rule(spec, json_array_get(array, i), &item, rule, err) < 0)
            return -1;
        if (rule->action == SCMP_ACT_NOTIFY)
            out->uses_notify = true;
        out->syscalls_count++;
    }
    return 0;
}
