#include "intelrdt.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "util.h"

int intelrdt_check(const struct spec_intel_rdt *rdt, ctr_error **err)
{
    if (!rdt->set)
        return 0;
    struct statfs st;
    if (statfs(INTELRDT_ROOT, &st) < 0 || st.f_type != RDTGROUP_SUPER_MAGIC)
        return error_set(err, ENODEV, "linux.intelRdt: resctrl is not mounted at " INTELRDT_ROOT);
    return 0;
}

void intelrdt_free(struct intelrdt *groups)
{
    if (groups == NULL)
        return;
    free(groups->root);
    free(groups->clos);
    free(groups->mon);
    free(groups);
}

/* A group name from the config or state.json: "/" for the root (CLOS only), else one path
 * component, never a way out of the resctrl mount. */
static bool valid_group(const char *name, bool root_allowed)
{
    if (name == NULL || name[0] == '\0')
        return false;
    if (strcmp(name, "/") == 0)
        return root_allowed;
    return strchr(name, '/') == NULL && strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
}

static char *clos_path(const struct intelrdt *g)
{
    char *path = NULL;
    if (strcmp(g->clos, "/") == 0)
        return strdup(g->root);
    return asprintf(&path, "%s/%s", g->root, g->clos) < 0 ? NULL : path;
}

static char *mon_path(const struct intelrdt *g)
{
    _cleanup_free_ char *clos = clos_path(g);
    char *path = NULL;
    if (clos == NULL || asprintf(&path, "%s/mon_groups/%s", clos, g->mon) < 0)
        return NULL;
    return path;
}

/* resctrl explains a refused write in info/last_cmd_status. */
static int write_error(const struct intelrdt *g, int errnum, const char *what, const char *path,
                       ctr_error **err)
{
    char status_path[512], status[256] = "";
    snprintf(status_path, sizeof(status_path), "%s/info/last_cmd_status", g->root);
    _cleanup_close_ int fd = open(status_path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, status, sizeof(status) - 1) : -1;
    if (n > 0) {
        status[n] = '\0';
        status[strcspn(status, "\n")] = '\0';
    }
    if (n > 0 && strcmp(status, "ok") != 0)
        return error_set(err, errnum, "linux.intelRdt: %s: write `%s` (resctrl: %s)", what, path,
                         status);
    return error_set(err, errnum, "linux.intelRdt: %s: write `%s`", what, path);
}

/* One write(2) per line: resctrl parses each write as a whole, and an error names the line. */
static int write_line(const struct intelrdt *g, const char *dir, const char *file,
                      const char *line, const char *what, ctr_error **err)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, file);
    _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
    _cleanup_free_ char *text = NULL;
    if (asprintf(&text, "%s\n", line) < 0)
        return error_set(err, ENOMEM, "linux.intelRdt");
    if (fd < 0 || write(fd, text, strlen(text)) < 0)
        return write_error(g, errno, what, path, err);
    return 0;
}

/* ---- comparing a schema with a group's schemata ---------------------------------------------- */

/* The value of domain `domain` ("0") in `list` ("0=7f0;1=1f"), without leading zeros, or NULL. */
static const char *domain_value(const char *list, const char *domain, size_t domain_len,
                                size_t *value_len)
{
    for (const char *p = list; p && *p; p = strchr(p, ';') ? strchr(p, ';') + 1 : NULL) {
        while (isspace((unsigned char)*p))
            p++;
        const char *eq = strchr(p, '=');
        const char *end = p + strcspn(p, ";\n");
        if (eq == NULL || eq > end)
            continue;
        const char *name_end = eq;
        while (name_end > p && isspace((unsigned char)name_end[-1]))
            name_end--;
        if ((size_t)(name_end - p) != domain_len || strncmp(p, domain, domain_len) != 0)
            continue;
        const char *value = eq + 1;
        /* Leading zeros (and spaces) are padding: "07f0" is "7f0", "0" stays "0". */
        while (*value == ' ' ||
               (*value == '0' && value + 1 < end && isxdigit((unsigned char)value[1])))
            value++;
        size_t len = (size_t)(end - value);
        while (len && isspace((unsigned char)value[len - 1]))
            len--;
        *value_len = len;
        return value;
    }
    return NULL;
}

/* Whether every domain of `line` ("L3:0=7f0;1=1f") has the same value in the group's schemata
 * `file` (the kernel right-aligns resource names and pads values with zeros). */
static bool schema_matches(const char *file, const char *line)
{
    const char *colon = strchr(line, ':');
    if (colon == NULL)
        return false;
    size_t name_len = (size_t)(colon - line);
    const char *current = NULL;
    for (const char *p = file; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        while (*p == ' ')
            p++;
        if (strncmp(p, line, name_len) == 0 && p[name_len] == ':') {
            current = p + name_len + 1;
            break;
        }
    }
    if (current == NULL)
        return false;
    for (const char *d = colon + 1; *d; d = strchr(d, ';') ? strchr(d, ';') + 1 : "") {
        size_t domain_len = strcspn(d, "=;");
        if (d[domain_len] != '=')
            return false;
        size_t want_len = 0, have_len = 0;
        const char *want = domain_value(d, d, domain_len, &want_len);
        const char *have = domain_value(current, d, domain_len, &have_len);
        if (want == NULL || have == NULL || want_len != have_len ||
            strncasecmp(want, have, want_len) != 0)
            return false;
    }
    return true;
}

static int check_schema(const struct intelrdt *g, const char *dir, const char *field,
                        const char *line, ctr_error **err)
{
    _cleanup_free_ char *file = NULL;
    size_t len = 0;
    char path[512];
    snprintf(path, sizeof(path), "%s/schemata", dir);
    if (read_file_at(AT_FDCWD, path, &file, &len, err) < 0)
        return error_wrap(err, "linux.intelRdt");
    if (!schema_matches(file, line))
        return error_set(err, EEXIST,
                         "linux.intelRdt.%s `%s`: the existing group `%s` has another schema",
                         field, line, g->clos);
    return 0;
}

/* ---- apply, join, destroy -------------------------------------------------------------------- */

static int set_schemata(const struct intelrdt *g, const struct spec_intel_rdt *rdt, const char *dir,
                        bool existed, ctr_error **err)
{
    /* config-linux.md: l3CacheSchema, then memBwSchema, then the schemata lines, in that order;
     * for a closID group that exists already the first two must match what it has. */
    const struct {
        const char *field, *line;
    } schemas[] = {{"l3CacheSchema", rdt->l3_cache_schema}, {"memBwSchema", rdt->mem_bw_schema}};
    for (size_t i = 0; i < ARRAY_SIZE(schemas); i++) {
        if (schemas[i].line == NULL)
            continue;
        int rc = existed ? check_schema(g, dir, schemas[i].field, schemas[i].line, err)
                         : write_line(g, dir, "schemata", schemas[i].line, schemas[i].field, err);
        if (rc < 0)
            return -1;
    }
    for (size_t i = 0; i < rdt->schemata.count; i++) {
        char what[32];
        snprintf(what, sizeof(what), "schemata[%zu]", i);
        if (write_line(g, dir, "schemata", rdt->schemata.items[i], what, err) < 0)
            return -1;
    }
    return 0;
}

static int add_task(const struct intelrdt *g, const char *dir, pid_t pid, const char *what,
                    ctr_error **err)
{
    char text[32];
    snprintf(text, sizeof(text), "%d", (int)pid);
    return write_line(g, dir, "tasks", text, what, err);
}

int intelrdt_join(const struct intelrdt *g, pid_t pid, ctr_error **err)
{
    _cleanup_free_ char *clos = clos_path(g);
    _cleanup_free_ char *mon = g->mon ? mon_path(g) : NULL;
    if (clos == NULL || (g->mon && mon == NULL))
        return error_set(err, ENOMEM, "linux.intelRdt");
    /* A task enters a MON group only from its parent CTRL_MON group. */
    if (add_task(g, clos, pid, "join the CLOS group", err) < 0 ||
        (mon && add_task(g, mon, pid, "join the monitoring group", err) < 0))
        return -1;
    return 0;
}

/* mkdir of a resctrl group: "created" tells whether we made it (it may exist already). */
static int make_group(const char *path, bool *created, const char *what, ctr_error **err)
{
    *created = false;
    if (mkdir(path, 0755) == 0) {
        *created = true;
        return 0;
    }
    if (errno == EEXIST)
        return 0;
    return error_set(err, errno, "linux.intelRdt: %s `%s`", what, path);
}

static int apply(struct intelrdt *g, const struct spec_intel_rdt *rdt, pid_t pid,
                 bool *clos_created, bool *mon_created, ctr_error **err)
{
    _cleanup_free_ char *dir = clos_path(g);
    if (dir == NULL)
        return error_set(err, ENOMEM, "linux.intelRdt");
    bool has_schema = rdt->l3_cache_schema || rdt->mem_bw_schema || rdt->schemata.count;
    bool existed = true;
    if (rdt->clos_id == NULL || (has_schema && strcmp(g->clos, "/") != 0)) {
        /* No closID: the container's own group, named after it. A closID with a schema: made
         * if missing. */
        if (make_group(dir, clos_created, "create the CLOS group", err) < 0)
            return -1;
        existed = !*clos_created;
        g->remove_clos = rdt->clos_id == NULL && *clos_created;
    } else {
        /* A closID and no schema: the group must have been set up beforehand. */
        struct stat st;
        int missing = stat(dir, &st) < 0 ? errno : S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
        if (missing)
            return error_set(err, missing, "linux.intelRdt.closID `%s`: no such group in %s",
                             g->clos, g->root);
    }
    /* A group named by closID that exists already is checked, not rewritten; the container's
     * own group (no closID) is set up even if a stale one was found. */
    if (has_schema && set_schemata(g, rdt, dir, existed && rdt->clos_id != NULL, err) < 0)
        return -1;
    if (add_task(g, dir, pid, "join the CLOS group", err) < 0)
        return -1;
    if (!rdt->enable_monitoring)
        return 0;
    _cleanup_free_ char *mon = mon_path(g);
    if (mon == NULL)
        return error_set(err, ENOMEM, "linux.intelRdt");
    /* "If creation of the MON group fails (e.g. the maximum number of MON groups is reached) the
     * runtime MUST return an error": one left from another container of this id is one too. */
    if (mkdir(mon, 0755) < 0)
        return error_set(err, errno, "linux.intelRdt.enableMonitoring: create `%s`", mon);
    *mon_created = true;
    return add_task(g, mon, pid, "join the monitoring group", err);
}

int intelrdt_apply(const char *root, const struct spec_intel_rdt *rdt, const char *id, pid_t pid,
                   struct intelrdt **out, ctr_error **err)
{
    struct intelrdt *g = calloc(1, sizeof(*g));
    if (g == NULL)
        return error_set(err, ENOMEM, "linux.intelRdt");
    g->root = strdup(root);
    g->clos = strdup(rdt->clos_id ? rdt->clos_id : id);
    g->mon = rdt->enable_monitoring ? strdup(id) : NULL;
    if (!g->root || !g->clos || (rdt->enable_monitoring && !g->mon)) {
        intelrdt_free(g);
        return error_set(err, ENOMEM, "linux.intelRdt");
    }
    bool clos_created = false, mon_created = false;
    if (apply(g, rdt, pid, &clos_created, &mon_created, err) < 0) {
        /* Undo what was made here, and only that. */
        _cleanup_free_ char *mon = mon_created ? mon_path(g) : NULL;
        _cleanup_free_ char *clos = clos_created ? clos_path(g) : NULL;
        if (mon)
            rmdir(mon);
        if (clos)
            rmdir(clos);
        intelrdt_free(g);
        return -1;
    }
    *out = g;
    return 0;
}

int intelrdt_destroy(struct intelrdt *g, ctr_error **err)
{
    int ret = 0;
    _cleanup_free_ char *mon = g->mon ? mon_path(g) : NULL;
    _cleanup_free_ char *clos = g->remove_clos ? clos_path(g) : NULL;
    /* Tasks still in a removed group go back to its parent: nothing is left behind. */
    if (mon && rmdir(mon) < 0 && errno != ENOENT)
        ret = error_set(err, errno, "linux.intelRdt: remove the monitoring group `%s`", mon);
    if (ret == 0 && clos && rmdir(clos) < 0 && errno != ENOENT)
        ret = error_set(err, errno, "linux.intelRdt: remove the CLOS group `%s`", clos);
    intelrdt_free(g);
    return ret;
}

json_t *intelrdt_to_json(const struct intelrdt *g)
{
    json_t *json = json_pack("{s:s, s:b}", "closID", g->clos, "removeGroup", g->remove_clos);
    if (json && g->mon)
        json_object_set_new(json, "monGroup", json_string(g->mon));
    return json;
}

int intelrdt_from_json(json_t *json, struct intelrdt **out, ctr_error **err)
{
    const char *clos = NULL, *mon = NULL;
    int remove = 0;
    if (json_unpack(json, "{s:s, s:b, s?s}", "closID", &clos, "removeGroup", &remove, "monGroup",
                    &mon) < 0 ||
        !valid_group(clos, true) || (mon && !valid_group(mon, false)))
        return error_set(err, EINVAL, "state.json: intelRdt: invalid");
    struct intelrdt *g = calloc(1, sizeof(*g));
    if (g == NULL)
        return error_set(err, ENOMEM, "intelRdt");
    g->root = strdup(INTELRDT_ROOT);
    g->clos = strdup(clos);
    g->remove_clos = remove && strcmp(clos, "/") != 0;
    g->mon = mon ? strdup(mon) : NULL;
    if (!g->root || !g->clos || (mon && !g->mon)) {
        intelrdt_free(g);
        return error_set(err, ENOMEM, "intelRdt");
    }
    *out = g;
    return 0;
}
