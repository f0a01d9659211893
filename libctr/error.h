/* The error object every fallible function fills (see DESIGN.md, "Errors").
 * Functions return -1 after calling error_set()/error_wrap(), so a failure reads as
 *     return error_set(err, errno, "open `%s`", path);
 * and each layer on the way up adds what it was doing:
 *     return error_wrap(err, "mounts[%zu]", i);
 */
#ifndef LIBCTR_ERROR_H
#define LIBCTR_ERROR_H

#include "libctr/libctr.h"

struct ctr_error {
    int code;      /* errno, or 0 when not a system error */
    char *message; /* "what: object: strerror" */
};

/* Sets *err (when err is not NULL) to the formatted message, followed by ": strerror(errnum)"
 * when errnum is not 0. Returns -1. An error already in *err is replaced. */
int error_set(ctr_error **err, int errnum, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* A request the library refuses as invalid (a field of config.json, a process.json, resources):
 * code EINVAL, so callers can tell it from a system failure (the shim answers InvalidArgument),
 * and the formatted message alone, which names the field. Returns -1. */
int error_invalid(ctr_error **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prefixes the message in *err with "formatted: ". Returns -1. */
int error_wrap(ctr_error **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Hands an error `e` caught locally (in a ctr_error of the function's own, to look at it before
 * deciding) to the caller's *err, replacing what was there as error_set does, or frees it when
 * the caller passed no err. Returns -1. */
int error_pass(ctr_error **err, ctr_error *e);

/* Builds an error from a code and a ready message (used to rebuild a child's error). */
int error_from_message(ctr_error **err, int code, const char *message);

#endif
