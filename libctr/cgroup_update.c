/* `update`: new resources for a running container. The backends write through cgroup_set(),
 * which first records the value each file had in an undo journal; when a later write fails, the
 * journal is played back in reverse, so the container keeps the limits it had and the error names
 * the one the kernel refused. Reverse order also undoes orderings the kernel insists on (v1's
 * memory limit <= memory+swap limit holds at every step going forward, hence backward too).
 */
#include "cgroup_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

struct journal_entry {
    char *dir, *file;
    char *value;  /* what to write back; for the device list, the whole devices.list */
    bool devices; /* v1 device list: restored as deny-all, then one allow per line */
};

struct cgroup_journal {
    struct journal_entry *entries;
    size_t count, cap;
};

static void journal_free(struct cgroup_journal *journal)
{
    for (size_t i = 0; i < journal->count; i++) {
        free(journal->entries[i].dir);
        free(journal->entries[i].file);
        free(journal->entries[i].value);
    }
    free(journal->entries);
}

/* Takes ownership of `value`. */
static int record(struct cgroup_journal *journal, const char *dir, const char *file, char *value,
                  bool devices, ctr_error **err)
{
    _cleanup_free_ char *owned = value;
    if (journal->count == journal->cap) {
        size_t cap = journal->cap ? journal->cap * 2 : 16;
        struct journal_entry *grown = realloc(journal->entries, cap * sizeof(*grown));
        if (grown == NULL)
            return error_set(err, ENOMEM, "update %s/%s", dir, file);
        journal->entries = grown;
        journal->cap = cap;
    }
    struct journal_entry *e = &journal->entries[journal->count];
    *e = (struct journal_entry){strdup(dir), strdup(file), steal_pointer(&owned), devices};
    if (e->dir == NULL || e->file == NULL) {
        free(e->dir);
        free(e->file);
        free(e->value);
        return error_set(err, ENOMEM, "update %s/%s", dir, file);
    }
    journal->count++;
    return 0;
}

/* The line of `content` that starts with `key` and a blank, or NULL; malloc'd. */
static char *line_of(const char *content, const char *key)
{
    const char *line = cgroup_find_line(content, key);
    return line ? strndup(line, strcspn(line, "\n")) : NULL;
}

/* What a file reads is mostly what it takes back; where not, the part it takes. */
static char *restorable(const char *file, const char *content)
{
    if (strcmp(file, "memory.oom_control") == 0) {
        _cleanup_free_ char *line = line_of(content, "oom_kill_disable");
        return line ? strdup(line + strlen("oom_kill_disable ")) : NULL;
    }
    /* "default 100" then one line per device: the default is the part written without a key. */
    if (strcmp(file, "io.weight") == 0 || strcmp(file, "io.bfq.weight") == 0) {
        char *line = line_of(content, "default");
        return line ? line : strdup(content);
    }
    size_t len = strcspn(content, "\n");
    /* An empty cpuset list (v2: "inherit the parent's") is written back as a blank line. */
    return len == 0 ? strdup("\n") : strndup(content, len);
}

/* Reads `file` for the journal; *content NULL (and 0) when the file is missing, which the write
 * that follows reports in its own words. */
static int read_old(const char *dir, const char *file, char **content, ctr_error **err)
{
    ctr_error *e = NULL;
    *content = NULL;
    if (cgroup_read(dir, file, content, &e) == 0)
        return 0;
    if (ctr_error_code(e) == ENOENT) {
        ctr_error_free(e);
        return 0;
    }
    error_pass(err, e);
    return error_wrap(err, "update: read the current value");
}

int cgroup_set(struct cgroup_journal *journal, const char *dir, const char *file,
               const char *value, const char *field, ctr_error **err)
{
    if (journal != NULL) {
        _cleanup_free_ char *content = NULL;
        if (read_old(dir, file, &content, err) < 0)
            return -1;
        char *old = content ? restorable(file, content) : NULL;
        if (content && old == NULL)
            return error_set(err, ENOMEM, "update %s/%s", dir, file);
        if (old && record(journal, dir, file, old, false, err) < 0)
            return -1;
    }
    return cgroup_write(dir, file, value, field, err);
}

int cgroup_set_keyed(struct cgroup_journal *journal, const char *dir, const char *file,
                     const char *key, const char *value, const char *reset, const char *field,
                     ctr_error **err)
{
    if (journal != NULL) {
        _cleanup_free_ char *content = NULL;
        if (read_old(dir, file, &content, err) < 0)
            return -1;
        if (content != NULL) {
            char *old = line_of(content, key);
            if (old == NULL && (old = strdup(reset)) == NULL)
                return error_set(err, ENOMEM, "update %s/%s", dir, file);
            if (record(journal, dir, file, old, false, err) < 0)
                return -1;
        }
    }
    return cgroup_write(dir, file, value, field, err);
}

int cgroup_journal_devices(struct cgroup_journal *journal, const char *dir, ctr_error **err)
{
    if (journal == NULL)
        return 0;
    char *list = NULL;
    if (cgroup_read(dir, "devices.list", &list, err) < 0)
        return error_wrap(err, "update: read the current device rules");
    return record(journal, dir, "devices.list", list, true, err);
}

static int restore_devices(const struct journal_entry *e, ctr_error **err)
{
    if (cgroup_write(e->dir, "devices.deny", "a", NULL, err) < 0)
        return -1;
    _cleanup_free_ char *copy = strdup(e->value);
    if (copy == NULL)
        return error_set(err, ENOMEM, "restore %s/devices.list", e->dir);
    char *save = NULL;
    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        /* devices.list shows an allow-all cgroup as "a *:* rwm", which devices.allow takes
         * as "a". */
        const char *rule = strcmp(line, "a *:* rwm") == 0 ? "a" : line;
        if (cgroup_write(e->dir, "devices.allow", rule, NULL, err) < 0)
            return -1;
    }
    return 0;
}

/* Writes the recorded values back, newest first; goes on past a failure, reports the first. */
static int undo(struct cgroup_journal *journal, ctr_error **err)
{
    int ret = 0;
    for (size_t i = journal->count; i-- > 0;) {
        const struct journal_entry *e = &journal->entries[i];
        ctr_error *failed = NULL;
        if ((e->devices ? restore_devices(e, &failed)
                        : cgroup_write(e->dir, e->file, e->value, NULL, &failed)) == 0)
            continue;
        if (ret == 0)
            error_pass(err, failed);
        else
            ctr_error_free(failed);
        ret = -1;
    }
    return ret;
}

/* ---- update ---------------------------------------------------------------------------------- */

/* memory.checkBeforeUpdate: "rejecting the new limit" when it is below the current usage, which
 * the kernel would otherwise meet by reclaiming or OOM-killing the container's processes. */
static int check_memory_usage(const struct cgroup_plan *plan, const struct spec_memory *m,
                              ctr_error **err)
{
    const struct cgroup_hierarchy *h = plan->target[CGROUP_CTRL_MEMORY];
    if (!m->check_before_update.set || !m->check_before_update.value || !m->limit.set ||
        m->limit.value < 0 || h == NULL)
        return 0;
    const char *file = h->v2 ? "memory.current" : "memory.usage_in_bytes";
    _cleanup_free_ char *usage = NULL;
    if (cgroup_read(h->dir, file, &usage, err) < 0)
        return error_wrap(err, "linux.resources.memory.checkBeforeUpdate");
    uint64_t current = strtoull(usage, NULL, 10);
    if (current > (uint64_t)m->limit.value)
        return error_set(err, EBUSY,
                         "linux.resources.memory.limit: %" PRId64 " is below the current usage "
                         "(%s/%s: %" PRIu64 "), refused as memory.checkBeforeUpdate asks",
                         m->limit.value, h->dir, file, current);
    return 0;
}

static int apply_all(const struct cgroup *cg, const struct spec_resources *res,
                     struct cgroup_plan *plan, struct cgroup_journal *journal, ctr_error **err)
{
    if (plan->enable_count > 0 &&
        cgroup_v2_enable(plan->v2->mount_point, cg->path, (const char *const *)plan->enable,
                         plan->enable_count, NULL, err) < 0)
        return -1;
    if (check_memory_usage(plan, &res->memory, err) < 0)
        return -1;
    for (int c = 0; c < CGROUP_CTRL_COUNT; c++)
        if (c != CGROUP_CTRL_DEVICES && plan->target[c] &&
            cgroup_apply(journal, plan->target[c], c, res, err) < 0)
            return -1;
    if (res->unified_count > 0 && cgroup_v2_apply_unified(journal, plan->v2->dir, res, err) < 0)
        return -1;
    /* Devices last: the v2 filter swap undoes itself when it fails, and has nothing to undo
     * once it succeeded. */
    const struct cgroup_hierarchy *devices = plan->target[CGROUP_CTRL_DEVICES];
    return devices ? cgroup_apply(journal, devices, CGROUP_CTRL_DEVICES, res, err) : 0;
}

int cgroup_update(const struct cgroup *cgroup, const struct spec_resources *resources,
                  ctr_error **err)
{
    _cleanup_(cgroup_plan_free) struct cgroup_plan plan = {0};
    if (cgroup_plan_resources(cgroup, resources, &plan, err) < 0)
        return error_wrap(err, "update cgroup %s", cgroup->path);
    /* No rules given: the device rules stay as they are (create's are the defaults). */
    if (resources->devices_count == 0)
        plan.target[CGROUP_CTRL_DEVICES] = NULL;

    struct cgroup_journal journal = {0};
    int ret = apply_all(cgroup, resources, &plan, &journal, err);
    if (ret < 0 && journal.count > 0) {
        ctr_error *restore_error = NULL;
        _cleanup_free_ char *message = NULL;
        const char *what = err && *err ? ctr_error_message(*err) : "";
        int n = undo(&journal, &restore_error) == 0
                    ? asprintf(&message, "%s (the values changed before it were restored)", what)
                    : asprintf(&message, "%s; restoring the previous values failed too: %s",
                               what, ctr_error_message(restore_error));
        if (n >= 0)
            error_from_message(err, err && *err ? ctr_error_code(*err) : 0, message);
        ctr_error_free(restore_error);
    }
    journal_free(&journal);
    return ret < 0 ? error_wrap(err, "update cgroup %s", cgroup->path) : 0;
}
