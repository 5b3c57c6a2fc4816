/* promfmt.h - every group's counters in the Prometheus text format
 * (version 0.0.4), as node_exporter's textfile collector reads it. */
#ifndef CPUACCTFS_PROMFMT_H
#define CPUACCTFS_PROMFMT_H

#include <glib.h>

#include "ctlclient.h"

/* A label value with \, " and newline escaped, in quotes. */
void promfmt_label(GString *out, const char *value);

/* All metrics; lag_s: how old the daemon's numbers were when read. */
void promfmt_groups(const struct ctl_groups *gs, double lag_s, GString *out);

#endif
