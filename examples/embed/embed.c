/* embed: run an OCI bundle from your own program with libctr.
 *
 *     cc embed.c -o embed $(pkg-config --cflags --libs libctr)
 *     ./embed BUNDLE [ID]        (as root)
 *
 * The container shares this program's stdin, stdout and stderr. embed prints one line when the
 * container is gone and exits with the container's exit status (128 + n if signal n killed it),
 * or 125 when libctr itself failed.
 */
#include <libctr/libctr.h>
#include <stdio.h>
#include <unistd.h>

/* libctr prints nothing: errors come back as objects the caller reports and frees. */
static int report(const char *what, ctr_error *err)
{
    fprintf(stderr, "embed: %s: %s\n", what, ctr_error_message(err));
    ctr_error_free(err);
    return 125;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s BUNDLE [ID]\n", argv[0]);
        return 125;
    }
    char generated_id[32];
    snprintf(generated_id, sizeof generated_id, "embed-%d", (int)getpid());
    const char *id = argc == 3 ? argv[2] : generated_id;

    /* No state root: the container lives only in this process, nothing is recorded on disk. */
    struct ctr_context_options context_opts = {.size = sizeof context_opts};
    struct ctr_create_options opts = {
        .size = sizeof opts,   /* lets the library grow the struct without breaking us */
        .bundle = argv[1],     /* config.json is loaded from here */
        .stdio = {-1, -1, -1}, /* keep our own stdin, stdout and stderr */
    };
    ctr_context *context = NULL;
    ctr_container *container = NULL;
    ctr_error *err = NULL;
    int status = 0;

    if (ctr_context_new(&context_opts, &context, &err) < 0)
        return report("context", err);
    if (ctr_container_create(context, id, &opts, &container, &err) < 0) {
        ctr_context_free(context);
        return report("create", err);
    }
    if (ctr_container_start(container, &err) < 0 ||
        ctr_container_wait(container, &status, &err) < 0) {
        int rc = report(id, err);
        ctr_container_destroy(container, NULL); /* still remove what was made */
        ctr_context_free(context);
        return rc;
    }
    int rc = ctr_container_destroy(container, &err) < 0 ? report("destroy", err) : status;
    ctr_context_free(context);
    if (rc == status)
        printf("container %s exited with status %d\n", id, status);
    return rc;
}
