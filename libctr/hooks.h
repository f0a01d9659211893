/* OCI hooks (config.md "POSIX-platform Hooks"): each hook is run with the container's state JSON
 * on its stdin, its own args and env, and an optional timeout. */
#ifndef LIBCTR_HOOKS_H
#define LIBCTR_HOOKS_H

#include <sys/types.h>

#include <jansson.h>

#include "error.h"
#include "spec.h"

/* The state document the spec defines (runtime.md "State"), as hooks and `state` see it. */
json_t *hooks_state_document(const struct ctr_spec *spec, const char *id, const char *status,
                             pid_t pid, const char *bundle);

/* The same document as compact JSON (malloc'd), what hooks read on their stdin; NULL when out of
 * memory. */
char *hooks_state_text(const struct ctr_spec *spec, const char *id, const char *status, pid_t pid,
                       const char *bundle);

/* Runs the hooks of `list` in order; the first failure stops and is returned, naming the hook
 * (`hooks.createRuntime[1]` and its path) and showing the start of what it printed. */
int hooks_run(const struct spec_hook_list *list, const char *name, const char *state_json,
              ctr_error **err);

/* Runs every hook of `list` even when some fail (poststart, poststop: the spec wants a warning,
 * not an error); each failure is passed to `warn`. */
void hooks_run_warning(const struct spec_hook_list *list, const char *name, const char *state_json,
                       void (*warn)(void *data, const char *message), void *warn_data);

#endif
