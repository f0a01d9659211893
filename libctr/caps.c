/* process.capabilities: checking that the runtime can grant them, and applying the five sets with
 * libcap-ng after the uid/gid change.
 *
 * Order in the init (see security.h): caps_keep_across_setuid(), process_set_user(), caps_apply().
 * The kernel rules that decide whether the sets can be applied are checked before anything is
 * changed, so a config the kernel would refuse with a bare EPERM from capset(2) or prctl(2) fails
 * with a message naming the capability and the set instead.
 */
#include "security.h"

#include <cap-ng.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <sys/prctl.h>

#include <linux/capability.h>

/* Capability numbers are bits of a uint64_t in spec.h; the kernel defines fewer than 64. */
enum { CAP_BITS = 64 };

#define CAP_BIT(cap) (UINT64_C(1) << (cap))

struct cap_set_view {
    const char *field; /* the key under process.capabilities */
    capng_type_t type;
    uint64_t mask; /* 0 when the config does not list the set: an absent set is empty */
};

/* The sets in the order the spec lists them, so a message names the first set that holds a cap. */
static void cap_sets(const struct spec_capabilities *caps, struct cap_set_view sets[5])
{
    sets[0] = (struct cap_set_view){"bounding", CAPNG_BOUNDING_SET,
                                    caps->has_bounding ? caps->bounding : 0};
    sets[1] = (struct cap_set_view){"effective", CAPNG_EFFECTIVE,
                                    caps->has_effective ? caps->effective : 0};
    sets[2] = (struct cap_set_view){"inheritable", CAPNG_INHERITABLE,
                                    caps->has_inheritable ? caps->inheritable : 0};
    sets[3] = (struct cap_set_view){"permitted", CAPNG_PERMITTED,
                                    caps->has_permitted ? caps->permitted : 0};
    sets[4] =
        (struct cap_set_view){"ambient", CAPNG_AMBIENT, caps->has_ambient ? caps->ambient : 0};
}

/* "CAP_SYS_RESOURCE", as the spec spells it (libcap-ng says "sys_resource"). */
static const char *cap_name(unsigned cap, char buf[static 48])
{
    const char *name = capng_capability_to_name(cap);
    if (name == NULL) {
        snprintf(buf, 48, "capability %u", cap);
        return buf;
    }
    snprintf(buf, 48, "CAP_%s", name);
    for (char *p = buf + 4; *p; p++)
        *p = (char)toupper((unsigned char)*p);
    return buf;
}

static const char *first_set_with(const struct cap_set_view sets[5], unsigned cap)
{
    for (size_t s = 0; s < 5; s++)
        if (sets[s].mask & CAP_BIT(cap))
            return sets[s].field;
    return "?";
}

int caps_check_grantable(const struct spec_capabilities *caps, ctr_error **err)
{
    struct cap_set_view sets[5];
    cap_sets(caps, sets);
    uint64_t wanted = 0;
    for (size_t s = 0; s < 5; s++)
        wanted |= sets[s].mask;

    for (unsigned cap = 0; cap < CAP_BITS; cap++) {
        if (!(wanted & CAP_BIT(cap)))
            continue;
        /* EINVAL: a capability this kernel does not know, which cannot be granted either. */
        int in_bounding = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
        if (in_bounding < 0 && errno != EINVAL)
            return error_set(err, errno, "process.capabilities: read the bounding set");
        if (in_bounding == 1)
            continue;
        char name[48];
        return error_set(err, 0,
                         "process.capabilities.%s: %s is not in the runtime's bounding set, so it "
                         "cannot be granted",
                         first_set_with(sets, cap), cap_name(cap, name));
    }
    return 0;
}

int caps_keep_across_setuid(ctr_error **err)
{
    if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
        return error_set(err, errno, "prctl(PR_SET_KEEPCAPS)");
    return 0;
}

/* This process's current sets, as masks. */
struct cap_state {
    uint64_t effective, permitted, inheritable, bounding;
};

static uint64_t capng_mask(capng_type_t which)
{
    uint64_t mask = 0;
    for (unsigned cap = 0; cap < CAP_BITS; cap++)
        if (capng_have_capability(which, cap) == 1)
            mask |= CAP_BIT(cap);
    return mask;
}

static int read_current_caps(struct cap_state *cur, ctr_error **err)
{
    /* libcap-ng caches the thread id it was first used in; after the clone of the container's
     * init (which runs no atfork handler) that is the parent's, and capget/capset would act on
     * it. 0 means "the calling thread". */
    capng_setpid(0);
    errno = 0;
    if (capng_get_caps_process() != 0)
        return error_set(err, errno ? errno : EIO,
                         "process.capabilities: read this process's capabilities");
    cur->effective = capng_mask(CAPNG_EFFECTIVE);
    cur->permitted = capng_mask(CAPNG_PERMITTED);
    cur->inheritable = capng_mask(CAPNG_INHERITABLE);
    cur->bounding = 0;
    for (unsigned cap = 0; cap < CAP_BITS; cap++)
        if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1)
            cur->bounding |= CAP_BIT(cap);
    return 0;
}

/* The first capability in `mask` that is not in `allowed`, or -1. */
static int first_missing(uint64_t mask, uint64_t allowed)
{
    uint64_t missing = mask & ~allowed;
    return missing ? __builtin_ctzll(missing) : -1;
}

/* The rules of capset(2) and PR_CAP_AMBIENT_RAISE (capabilities(7)), checked up front. */
static int check_kernel_rules(const struct cap_set_view sets[5], const struct cap_state *cur,
                              ctr_error **err)
{
    uint64_t bounding = sets[0].mask, effective = sets[1].mask, inheritable = sets[2].mask,
             permitted = sets[3].mask, ambient = sets[4].mask;
    char name[48];
    int cap;

    if ((cap = first_missing(permitted, cur->permitted)) >= 0)
        return error_set(err, EPERM,
                         "process.capabilities.permitted: %s is not in the runtime's permitted "
                         "set, so it cannot be granted",
                         cap_name((unsigned)cap, name));
    if ((cap = first_missing(effective, permitted)) >= 0)
        return error_set(err, EINVAL,
                         "process.capabilities.effective: %s is not in the permitted set, and the "
                         "kernel only lets a process use the capabilities it holds in permitted",
                         cap_name((unsigned)cap, name));
    /* A new inheritable capability must be in the bounding set (as it is once dropped to the
     * configured one) unless the process already had it; without CAP_SETPCAP it must also be
     * permitted. */
    uint64_t may_inherit = cur->inheritable | (cur->bounding & bounding);
    if ((cap = first_missing(inheritable, may_inherit)) >= 0)
        return error_set(err, EINVAL,
                         "process.capabilities.inheritable: %s is not in the bounding set, and the "
                         "kernel only adds inheritable capabilities that are in it",
                         cap_name((unsigned)cap, name));
    if (!(cur->permitted & CAP_BIT(CAP_SETPCAP)) &&
        (cap = first_missing(inheritable, cur->inheritable | cur->permitted)) >= 0)
        return error_set(
            err, EPERM,
            "process.capabilities.inheritable: %s is neither inheritable nor permitted "
            "now, and adding it needs CAP_SETPCAP, which the runtime does not have",
            cap_name((unsigned)cap, name));
    if ((cur->bounding & ~bounding) && !(cur->permitted & CAP_BIT(CAP_SETPCAP)))
        return error_set(err, EPERM,
                         "process.capabilities.bounding: dropping %s from the bounding set needs "
                         "CAP_SETPCAP, which the runtime does not have",
                         cap_name((unsigned)__builtin_ctzll(cur->bounding & ~bounding), name));
    if ((cap = first_missing(ambient, permitted & inheritable)) >= 0)
        return error_set(err, EINVAL,
                         "process.capabilities.ambient: %s must also be in the permitted and the "
                         "inheritable sets for the kernel to make it ambient",
                         cap_name((unsigned)cap, name));
    return 0;
}

/* setresuid() away from uid 0 clears the effective set even with PR_SET_KEEPCAPS, but dropping
 * from the bounding set and adding inheritable capabilities need CAP_SETPCAP in effective: take
 * it back from permitted (check_kernel_rules() has made sure the sets need no more than that). */
static int make_setpcap_effective(const struct cap_state *cur, ctr_error **err)
{
    if ((cur->effective & CAP_BIT(CAP_SETPCAP)) || !(cur->permitted & CAP_BIT(CAP_SETPCAP)))
        return 0;
    /* read_current_caps() loaded the current sets into libcap-ng. */
    errno = 0;
    if (capng_update(CAPNG_ADD, CAPNG_EFFECTIVE, CAP_SETPCAP) != 0 ||
        capng_apply(CAPNG_SELECT_CAPS) != 0)
        return error_set(err, errno ? errno : EPERM,
                         "process.capabilities: make CAP_SETPCAP effective");
    return 0;
}

int caps_apply(const struct spec_capabilities *caps, ctr_error **err)
{
    struct cap_set_view sets[5];
    cap_sets(caps, sets);
    struct cap_state cur = {0};
    if (read_current_caps(&cur, err) < 0)
        return -1;
    if (check_kernel_rules(sets, &cur, err) < 0)
        return -1;

    if (make_setpcap_effective(&cur, err) < 0)
        return -1;

    /* Start from nothing, so every set (inheritable included) holds exactly what the config
     * lists. CVE-2022-29162: inheritable capabilities the config did not ask for must not
     * survive into the container. */
    capng_clear(CAPNG_SELECT_ALL);
    for (size_t s = 0; s < 5; s++) {
        for (unsigned cap = 0; cap < CAP_BITS; cap++) {
            if (!(sets[s].mask & CAP_BIT(cap)))
                continue;
            if (capng_update(CAPNG_ADD, sets[s].type, cap) != 0) {
                char name[48];
                return error_set(err, EINVAL,
                                 "process.capabilities.%s: %s is not known to the kernel",
                                 sets[s].field, cap_name(cap, name));
            }
        }
    }

    /* The bounding set first, while CAP_SETPCAP is still effective. */
    if (cur.bounding & ~sets[0].mask) {
        errno = 0;
        if (capng_apply(CAPNG_SELECT_BOUNDS) != 0)
            return error_set(
                err, errno ? errno : EPERM,
                "process.capabilities.bounding: drop capabilities from the bounding set");
    }
    errno = 0;
    if (capng_apply(CAPNG_SELECT_CAPS) != 0)
        return error_set(err, errno ? errno : EPERM,
                         "process.capabilities: set the effective, permitted and inheritable sets");
    /* Clears the ambient set, then raises the configured ones: the kernel needs them already in
     * permitted and inheritable, which the capset above has done. */
    errno = 0;
    if (capng_apply(CAPNG_SELECT_AMBIENT) != 0)
        return error_set(err, errno ? errno : EPERM,
                         "process.capabilities.ambient: raise the ambient set");

    /* Only the uid change needed it; the container's own setuid calls must not keep
     * capabilities. */
    if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
        return error_set(err, errno, "prctl(PR_SET_KEEPCAPS, 0)");
    return 0;
}
