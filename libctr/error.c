#include "error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A message must still be deliverable when memory is short: fall back to a static one, marked
 * by a NULL message pointer and reported by ctr_error_message(). */
static struct ctr_error out_of_memory = {ENOMEM, NULL};

static void replace(ctr_error **err, int code, char *message)
{
    if (*err != NULL)
        ctr_error_free(*err);
    ctr_error *e = message ? malloc(sizeof(*e)) : NULL;
    if (e == NULL) {
        free(message);
        *err = &out_of_memory;
        return;
    }
    e->code = code;
    e->message = message;
    *err = e;
}

/* The message as formatted, followed by ": strerror(code)" when `describe`. */
__attribute__((format(printf, 4, 0))) static int set_formatted(ctr_error **err, int code,
                                                                bool describe, const char *fmt,
                                                                va_list ap)
{
    if (err == NULL)
        return -1;
    char *what = NULL;
    if (vasprintf(&what, fmt, ap) < 0)
        what = NULL;
    char *message = what;
    if (what != NULL && describe) {
        const char *desc = strerrordesc_np(code);
        if (asprintf(&message, "%s: %s", what, desc ? desc : "unknown error") < 0)
            message = NULL;
        free(what);
    }
    replace(err, code, message);
    return -1;
}

int error_set(ctr_error **err, int errnum, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    set_formatted(err, errnum, errnum != 0, fmt, ap);
    va_end(ap);
    return -1;
}

int error_invalid(ctr_error **err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    set_formatted(err, EINVAL, false, fmt, ap);
    va_end(ap);
    return -1;
}

int error_wrap(ctr_error **err, const char *fmt, ...)
{
    if (err == NULL || *err == NULL || *err == &out_of_memory)
        return -1;
    char *prefix = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&prefix, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -1;
    char *message = NULL;
    if (asprintf(&message, "%s: %s", prefix, (*err)->message) >= 0) {
        free((*err)->message);
        (*err)->message = message;
    }
    free(prefix);
    return -1;
}

int error_pass(ctr_error **err, ctr_error *e)
{
    if (err == NULL) {
        ctr_error_free(e);
        return -1;
    }
    if (*err != e)
        ctr_error_free(*err);
    *err = e;
    return -1;
}

int error_from_message(ctr_error **err, int code, const char *message)
{
    if (err == NULL)
        return -1;
    replace(err, code, strdup(message));
    return -1;
}

CTR_API int ctr_error_code(const ctr_error *err)
{
    return err ? err->code : 0;
}

CTR_API const char *ctr_error_message(const ctr_error *err)
{
    if (err == NULL)
        return "";
    return err->message ? err->message : "out of memory while reporting an error";
}

CTR_API void ctr_error_free(ctr_error *err)
{
    if (err == NULL || err == &out_of_memory)
        return;
    free(err->message);
    free(err);
}
