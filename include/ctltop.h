/* ctltop.h - cpuacctctl top: a live, sorted view of the groups. */
#ifndef CPUACCTFS_CTLTOP_H
#define CPUACCTFS_CTLTOP_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "ctlclient.h"

enum top_sort { TOP_CPU, TOP_USER, TOP_SYS, TOP_TASKS, TOP_NAME };

struct top_opts {
	const char *mount;
	bool batch;
	unsigned int frames; /* 0: until quit */
	int64_t delay_ns;
	enum top_sort sort;
};

/* "cpu", "user", "sys", "tasks", "name"; false if none of those. */
bool top_sort_parse(const char *name, enum top_sort *sort);

/* What the header shows besides the table. */
struct top_head {
	const char *backend;
	unsigned int interval_ms;
	double lag_ms;
	int64_t delay_ns;
};

/* One screen: header and rows from two answers (prev may be NULL: all
 * rates 0), sorted; at most max_rows rows (0: all), lines cut at width
 * columns (0: never). */
void top_render(const struct ctl_groups *prev, const struct ctl_groups *cur,
		const struct top_head *head, enum top_sort sort,
		unsigned int width, unsigned int max_rows, GString *out);

/* Run it: 0, or 1 after printing why to stderr. */
int ctl_top(const struct top_opts *o);

#endif
