#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

static int mkdir_parents(const char *path)
{
    _cleanup_free_ char *copy = strdup(path);
    if (copy == NULL)
        return -1;
    for (char *p = copy + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(copy, 0711) < 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return 0;
}

int state_root_open(const char *root, int *fd, ctr_error **err)
{
    if (mkdir(root, 0700) < 0 && errno != EEXIST) {
        if (errno != ENOENT || mkdir_parents(root) < 0 || (mkdir(root, 0700) < 0 && errno != EEXIST))
            return error_set(err, errno, "create state directory `%s`", root);
    }
    *fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (*fd < 0)
        return error_set(err, errno, "open state directory `%s`", root);
    return 0;
}

int state_dir_lock(int dirfd, const char *id, bool exclusive, ctr_error **err)
{
    while (flock(dirfd, exclusive ? LOCK_EX : LOCK_SH) < 0)
        if (errno != EINTR)
            return error_set(err, errno, "lock the state of container `%s`", id);
    return 0;
}

int state_dir_create(int rootfd, const char *id, int *dirfd, ctr_error **err)
{
    if (mkdirat(rootfd, id, 0700) < 0) {
        if (errno == EEXIST)
            return error_set(err, EEXIST, "container `%s` already exists", id);
        return error_set(err, errno, "create the state of container `%s`", id);
    }
    *dirfd = openat(rootfd, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (*dirfd < 0 || state_dir_lock(*dirfd, id, true, err) < 0) {
        int saved = errno;
        if (*dirfd >= 0)
            close(*dirfd);
        unlinkat(rootfd, id, AT_REMOVEDIR);
        return error_set(err, saved, "open the state of container `%s`", id);
    }
    return 0;
}

int state_dir_open(int rootfd, const char *id, bool exclusive, int *dirfd, ctr_error **err)
{
    *dirfd = openat(rootfd, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (*dirfd < 0) {
        if (errno == ENOENT)
            return error_set(err, ENOENT, "container `%s` does not exist", id);
        return error_set(err, errno, "open the state of container `%s`", id);
    }
    if (state_dir_lock(*dirfd, id, exclusive, err) < 0) {
        close(*dirfd);
        *dirfd = -1;
        return -1;
    }
    return 0;
}

int state_dir_remove(int rootfd, const char *id, ctr_error **err)
{
    _cleanup_close_ int dirfd = openat(rootfd, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (dirfd < 0)
        return errno == ENOENT ? 0 : error_set(err, errno, "open the state of container `%s`", id);
    DIR *dir = fdopendir(dup(dirfd));
    if (dir == NULL)
        return error_set(err, errno, "list the state of container `%s`", id);
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL) {
        if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0)
            continue;
        if (unlinkat(dirfd, entry->d_name, 0) < 0 && errno != ENOENT) {
            int saved = errno;
            closedir(dir);
            return error_set(err, saved, "remove `%s` from the state of container `%s`",
                             entry->d_name, id);
        }
    }
    closedir(dir);
    if (unlinkat(rootfd, id, AT_REMOVEDIR) < 0 && errno != ENOENT)
        return error_set(err, errno, "remove the state of container `%s`", id);
    return 0;
}

static int store_file(int dirfd, const char *name, const char *data, size_t len, ctr_error **err)
{
    _cleanup_close_ int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || write_all(fd, data, len) < 0)
        return error_set(err, errno, "write `%s` in the state directory", name);
    return 0;
}

int state_write(int dirfd, const char *id, json_t *state, ctr_error **err)
{
    _cleanup_free_ char *text = json_dumps(state, JSON_COMPACT);
    if (text == NULL)
        return error_set(err, ENOMEM, "serialise the state of container `%s`", id);
    if (store_file(dirfd, "state.json.tmp", text, strlen(text), err) < 0)
        return error_wrap(err, "container `%s`", id);
    if (renameat(dirfd, "state.json.tmp", dirfd, "state.json") < 0)
        return error_set(err, errno, "replace the state.json of container `%s`", id);
    return 0;
}

int state_read(int dirfd, const char *id, json_t **state, ctr_error **err)
{
    _cleanup_free_ char *text = NULL;
    size_t len = 0;
    if (read_file_at(dirfd, "state.json", &text, &len, err) < 0)
        return error_wrap(err, "container `%s`", id);
    json_error_t jerr;
    *state = json_loadb(text, len, 0, &jerr);
    if (*state == NULL || !json_is_object(*state)) {
        json_decref(*state);
        *state = NULL;
        return error_set(err, EINVAL, "container `%s`: state.json is corrupt: %s", id, jerr.text);
    }
    return 0;
}

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int state_list(int rootfd, char ***ids, size_t *count, ctr_error **err)
{
    DIR *dir = fdopendir(dup(rootfd));
    if (dir == NULL)
        return error_set(err, errno, "list the state directory");
    rewinddir(dir);
    size_t n = 0, cap = 8;
    char **list = calloc(cap + 1, sizeof(*list));
    struct dirent *entry = NULL;
    while (list && (entry = readdir(dir)) != NULL) {
        if (entry->d_name[0] == '.' || entry->d_type != DT_DIR)
            continue;
        if (n == cap) {
            char **bigger = realloc(list, (cap * 2 + 1) * sizeof(*list));
            if (bigger == NULL)
                break;
            list = bigger;
            cap *= 2;
        }
        list[n] = strdup(entry->d_name);
        if (list[n] == NULL)
            break;
        list[++n] = NULL;
    }
    bool failed = list == NULL || entry != NULL;
    closedir(dir);
    if (failed) {
        for (size_t i = 0; list && i < n; i++)
            free(list[i]);
        free(list);
        return error_set(err, ENOMEM, "list the state directory");
    }
    qsort(list, n, sizeof(*list), compare_strings);
    *ids = list;
    *count = n;
    return 0;
}

unsigned long long process_start_time(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    /* proc(5): the command (field 2) may hold spaces and ')': count fields after the last ')'. */
    char *p = strrchr(buf, ')');
    if (p == NULL || p[1] != ' ' || p[2] == 'Z' || p[2] == 'X')
        return 0;
    for (int field = 2; p && field < 22; field++)
        p = strchr(p + 1, ' ');
    return p ? strtoull(p + 1, NULL, 10) : 0;
}
