/* linux.resources.devices: the rules as the config gives them, followed by the devices every
 * container may use whatever its config says, in both the forms the kernel takes: v1's
 * devices.allow/deny lines (here) and v2's eBPF program (cgroup_bpf.c, from the same list).
 */
#include "cgroup_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>


/* runtime-spec "Default devices" (/dev/null, zero, full, random, urandom, tty, console, ptmx),
 * /dev/pts/N, and mknod of any node (using one needs a rule of its own), allowed after the
 * config's rules as runc does: a config cannot take them away, and needs no rule for them. */
#define DEV(t, ma, mi, acc)                                                                        \
    {                                                                                              \
        .allow = true, .type = t, .major = {(ma) >= 0, (ma)}, .minor = {(mi) >= 0, (mi)},          \
        .access = acc                                                                              \
    }
static const struct spec_device_rule default_rules[] = {
    DEV('c', -1, -1, "m"),    DEV('b', -1, -1, "m"), /* mknod */
    DEV('c', 1, 3, "rwm"),    DEV('c', 1, 5, "rwm"), /* /dev/null, /dev/zero */
    DEV('c', 1, 7, "rwm"),    DEV('c', 1, 8, "rwm"), /* /dev/full, /dev/random */
    DEV('c', 1, 9, "rwm"),    DEV('c', 5, 0, "rwm"), /* /dev/urandom, /dev/tty */
    DEV('c', 5, 1, "rwm"),    DEV('c', 5, 2, "rwm"), /* /dev/console, /dev/ptmx */
    DEV('c', 136, -1, "rwm"),                        /* /dev/pts/N */
};
#undef DEV

static int check_rule(const struct spec_device_rule *rule, ctr_error **err)
{
    char type = rule->type ? rule->type : 'a';
    if (type != 'a' && type != 'c' && type != 'b')
        return error_set(err, EINVAL, "device type `%c` has no cgroup rule (a, c or b)", type);
    if (rule->access[strspn(rule->access, "rwm")] != '\0')
        return error_set(err, EINVAL, "device access `%s` is not made of r, w and m",
                         rule->access);
    return 0;
}

int cgroup_device_rules(const struct spec_resources *res, struct spec_device_rule **rules,
                        size_t *count, ctr_error **err)
{
    size_t n = res->devices_count + ARRAY_SIZE(default_rules);
    _cleanup_free_ struct spec_device_rule *all = calloc(n, sizeof(*all));
    if (all == NULL)
        return error_set(err, ENOMEM, "linux.resources.devices");
    for (size_t i = 0; i < res->devices_count; i++) {
        if (check_rule(&res->devices[i], err) < 0)
            return error_wrap(err, "linux.resources.devices[%zu]", i);
        all[i] = res->devices[i];
    }
    memcpy(all + res->devices_count, default_rules, sizeof(default_rules));
    *rules = steal_pointer(&all);
    *count = n;
    return 0;
}

int cgroup_v1_device_lines(const struct spec_device_rule *rule, char lines[2][48], ctr_error **err)
{
    if (check_rule(rule, err) < 0)
        return -1;
    char type = rule->type ? rule->type : 'a';
    const char *access = rule->access[0] ? rule->access : "rwm";
    /* A negative number is a wildcard too: runc's configs write -1 for "any". */
    char major[24] = "*", minor[24] = "*";
    bool any_device = true;
    if (rule->major.set && rule->major.value >= 0) {
        snprintf(major, sizeof(major), "%" PRId64, rule->major.value);
        any_device = false;
    }
    if (rule->minor.set && rule->minor.value >= 0) {
        snprintf(minor, sizeof(minor), "%" PRId64, rule->minor.value);
        any_device = false;
    }
    bool all_access = strchr(access, 'r') && strchr(access, 'w') && strchr(access, 'm');
    if (type == 'a' && any_device && all_access) {
        snprintf(lines[0], sizeof(lines[0]), "a *:* rwm");
        return 1;
    }
    /* The kernel reads "a" as every device with every access whatever follows it, so a
     * narrower "all types" rule is spelled as its char and block halves. */
    if (type == 'a') {
        snprintf(lines[0], sizeof(lines[0]), "c %s:%s %s", major, minor, access);
        snprintf(lines[1], sizeof(lines[1]), "b %s:%s %s", major, minor, access);
        return 2;
    }
    snprintf(lines[0], sizeof(lines[0]), "%c %s:%s %s", type, major, minor, access);
    return 1;
}

int cgroup_v1_devices(struct cgroup_journal *journal, const char *dir,
                      const struct spec_resources *res, ctr_error **err)
{
    _cleanup_free_ struct spec_device_rule *rules = NULL;
    size_t count = 0;
    if (cgroup_device_rules(res, &rules, &count, err) < 0 ||
        cgroup_journal_devices(journal, dir, err) < 0)
        return -1;
    /* An allow-list: start from nothing, as the spec's device rules assume. (On an update the
     * container is denied its devices between this write and the allows below: v1 has no way
     * to swap a whole list at once.) */
    if (cgroup_write(dir, "devices.deny", "a", "linux.resources.devices", err) < 0)
        return -1;
    char field[FIELD_MAX], lines[2][48];
    for (size_t i = 0; i < count; i++) {
        if (i < res->devices_count)
            snprintf(field, sizeof(field), "linux.resources.devices[%zu]", i);
        else
            snprintf(field, sizeof(field), "default device rules");
        int n = cgroup_v1_device_lines(&rules[i], lines, err);
        if (n < 0)
            return error_wrap(err, "%s", field);
        for (int k = 0; k < n; k++)
            if (cgroup_write(dir, rules[i].allow ? "devices.allow" : "devices.deny", lines[k],
                             field, err) < 0)
                return -1;
    }
    return 0;
}
