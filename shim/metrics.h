/* Stats: libctr's counters (runc's `events --stats` JSON) as the protobuf containerd decodes,
 * io.containerd.cgroups.v1.Metrics (what `ctr task metrics` prints). */
#ifndef SHIM_METRICS_H
#define SHIM_METRICS_H

#include <stddef.h>
#include <stdint.h>

/* Packs the Metrics message for `json` into a malloc'd buffer. */
int metrics_from_stats_json(const char *json, uint8_t **data, size_t *len);

#endif
