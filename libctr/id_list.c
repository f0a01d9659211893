/* The "0-3,7" lists; see id_list.h. */
#include "id_list.h"

/* A number at *p below ID_LIST_MAX; on failure *p is where it went wrong. */
static int read_id(const char **p, unsigned long *id, struct id_list_fault *fault)
{
    if (**p < '0' || **p > '9') {
        fault->kind = ID_LIST_NO_NUMBER;
        return -1;
    }
    unsigned long value = 0;
    while (**p >= '0' && **p <= '9') {
        value = value * 10 + (unsigned long)(**p - '0');
        if (value >= ID_LIST_MAX) {
            fault->kind = ID_LIST_TOO_BIG;
            return -1;
        }
        (*p)++;
    }
    *id = value;
    return 0;
}

int id_list_walk(const char *list, void (*range)(unsigned long lo, unsigned long hi, void *data),
                 void *data, struct id_list_fault *fault)
{
    const char *p = list;
    if (*p == '\0') {
        fault->kind = ID_LIST_EMPTY;
        fault->offset = 0;
        return -1;
    }
    for (;;) {
        unsigned long lo, hi;
        if (read_id(&p, &lo, fault) < 0)
            goto at_p;
        hi = lo;
        if (*p == '-') {
            p++;
            if (read_id(&p, &hi, fault) < 0)
                goto at_p;
            if (hi < lo) {
                *fault = (struct id_list_fault){.kind = ID_LIST_REVERSED, .lo = lo, .hi = hi};
                return -1;
            }
        }
        if (range)
            range(lo, hi, data);
        if (*p == '\0')
            return 0;
        if (*p != ',') {
            fault->kind = ID_LIST_SEPARATOR;
            goto at_p;
        }
        p++;
    }
at_p:
    fault->offset = (size_t)(p - list);
    return -1;
}
