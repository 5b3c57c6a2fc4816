/* ctlclient.h - asking a cpuacctfs daemon, and reading its answers. */
#ifndef CPUACCTFS_CTLCLIENT_H
#define CPUACCTFS_CTLCLIENT_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

/* One group of a "groups" answer. */
struct ctl_group {
	unsigned int id;
	uint64_t serial;
	unsigned int threads, procs;
	double pct1s; /* CPU % over the last second; NAN if unknown */
	uint64_t usage, user, sys;
	uint64_t *cpu_usage, *cpu_user, *cpu_sys; /* ncpu each */
	char *path;				  /* "/" or "web/db" */
	int depth;				  /* 0 for the root */
};

struct ctl_groups {
	int64_t t_wall_ns; /* when the snapshot was taken */
	unsigned int ncpu;
	GPtrArray *groups; /* struct ctl_group *, by id */
};

/* Send one request to the daemon of mount and read its answer's data
 * lines. On failure NULL and *error says what a person can do. */
GPtrArray *ctl_request(const char *mount, const char *request, char **error);

/* Parse a groups answer; NULL on a malformed one. */
struct ctl_groups *ctl_groups_parse(GPtrArray *lines);
void ctl_groups_free(struct ctl_groups *gs);
/* Sort parents before children, siblings by name (tree order). */
void ctl_groups_sort_tree(struct ctl_groups *gs);
struct ctl_group *ctl_groups_find(const struct ctl_groups *gs, unsigned int id,
				  uint64_t serial);

typedef struct ctl_groups ctl_groups_t;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ctl_groups_t, ctl_groups_free)

#endif
