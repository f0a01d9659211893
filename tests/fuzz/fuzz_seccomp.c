/* libFuzzer target: linux.seccomp, from JSON to a libseccomp filter (libctr/spec_seccomp.c and
 * libctr/seccomp.c). The filter is built and exported, never loaded: as text to /dev/null
 * (seccomp_export_spec), and as the BPF program the exec trampoline loads
 * (seccomp_export_bpf_spec), which must be whole instructions.
 *
 * The input is the linux.seccomp object alone, put into a minimal config, so that mutations land
 * in the profile rather than in the rest of a config.json (fuzz_spec covers that).
 *
 *   tests/fuzz/run.sh            (builds build-fuzz with clang and runs every target)
 */
#include <fcntl.h>
#include <linux/filter.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <seccomp.h>

#include "security.h"
#include "spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char prefix[] = "{\"ociVersion\": \"1.2.0\", \"root\": {\"path\": \"rootfs\"}, "
                             "\"linux\": {\"seccomp\": ";
static const char suffix[] = "}}";

/* A known hang in libseccomp 2.5.4 (Debian 12's), found by this target, not in libctr:
 * seccomp_rule_add() never returns when a syscall gets two rules with the same action and
 * conditions on two arguments, sharing a condition on one argument whose operator is not EQ or
 * MASKED_EQ, for about a quarter of the operators and values on the other argument, e.g.
 *
 *     seccomp_rule_add(ctx, SCMP_ACT_ERRNO(1), SCMP_SYS(personality), 2,
 *                      SCMP_A0(SCMP_CMP_LT, 8), SCMP_A1(SCMP_CMP_EQ, 1));
 *     seccomp_rule_add(ctx, SCMP_ACT_ERRNO(1), SCMP_SYS(personality), 2,
 *                      SCMP_A0(SCMP_CMP_LT, 8), SCMP_A1(SCMP_CMP_EQ, 0x100000002));  // spins
 *
 * (in a sweep of 1500 random such pairs: 348 hang, none with EQ or MASKED_EQ as the shared
 * operator). runc and crun hand such profiles to libseccomp the same way, and several conditions
 * on one argument expand into such pairs (seccomp.c: one rule per combination, so the conditions
 * on the other arguments are shared). So that the fuzzer keeps looking for bugs of ours, profiles
 * that could take that path are parsed but not built: a rule comparing two or more arguments with
 * some operator other than EQ and MASKED_EQ, that expands to several libseccomp rules or shares a
 * syscall and action with another rule. tests/fuzz/corpus/seccomp/libseccomp-2.5.4-hang.json is
 * the example above as a profile: without this check, the run stops on it with a timeout. */
static bool may_hang_libseccomp(const struct spec_seccomp *seccomp)
{
    for (size_t i = 0; i < seccomp->syscalls_count; i++) {
        const struct spec_seccomp_rule *rule = &seccomp->syscalls[i];
        size_t per_index[6] = {0}, indexes = 0;
        bool several_rules = false, ranges = false;
        for (size_t a = 0; a < rule->args_count; a++) {
            const struct spec_seccomp_arg *arg = &rule->args[a];
            if (arg->index >= 6)
                continue;
            if (per_index[arg->index]++ == 0)
                indexes++;
            else
                several_rules = true;
            ranges |= arg->op != SCMP_CMP_EQ && arg->op != SCMP_CMP_MASKED_EQ;
        }
        if (indexes < 2 || !ranges)
            continue;
        if (several_rules)
            return true;
        for (size_t j = 0; j < seccomp->syscalls_count; j++) {
            const struct spec_seccomp_rule *other = &seccomp->syscalls[j];
            if (j == i || other->action != rule->action || other->args_count == 0)
                continue;
            for (size_t n = 0; n < rule->names.count; n++)
                for (size_t m = 0; m < other->names.count; m++)
                    if (strcmp(rule->names.items[n], other->names.items[m]) == 0)
                        return true;
        }
    }
    return false;
}

static void check_error(ctr_error *err)
{
    const char *message = ctr_error_message(err);
    if (message == NULL || *message == '\0' || strchr(message, '\n')) {
        fprintf(stderr, "fuzz_seccomp: bad error message: \"%s\"\n", message ? message : "(null)");
        abort();
    }
    ctr_error_free(err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int devnull = -1, bpf = -1;
    if (devnull < 0 && (devnull = open("/dev/null", O_WRONLY | O_CLOEXEC)) < 0)
        abort();
    if (bpf < 0 && (bpf = memfd_create("fuzz_seccomp_bpf", MFD_CLOEXEC)) < 0)
        abort();

    size_t len = sizeof(prefix) - 1 + size + sizeof(suffix) - 1;
    char *config = malloc(len);
    if (config == NULL)
        return 0;
    memcpy(config, prefix, sizeof(prefix) - 1);
    memcpy(config + sizeof(prefix) - 1, data, size);
    memcpy(config + sizeof(prefix) - 1 + size, suffix, sizeof(suffix) - 1);

    ctr_spec *spec = NULL;
    ctr_error *err = NULL;
    if (ctr_spec_load_data(config, len, "config.json", &spec, &err) < 0) {
        check_error(err);
    } else if (spec->linux_.has_seccomp && !may_hang_libseccomp(&spec->linux_.seccomp)) {
        if (seccomp_export_spec(&spec->linux_.seccomp, devnull, &err) < 0)
            check_error(err);
        err = NULL;
        unsigned flags;
        if (ftruncate(bpf, 0) < 0 || lseek(bpf, 0, SEEK_SET) < 0)
            abort();
        if (seccomp_export_bpf_spec(&spec->linux_.seccomp, bpf, &flags, &err) < 0) {
            check_error(err);
        } else {
            off_t length = lseek(bpf, 0, SEEK_END);
            if (length <= 0 || length % (off_t)sizeof(struct sock_filter) != 0) {
                fprintf(stderr, "fuzz_seccomp: a BPF program of %lld bytes\n", (long long)length);
                abort();
            }
        }
    }
    ctr_spec_free(spec);
    free(config);
    return 0;
}
