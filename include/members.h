/* members.h - a group's tasks as of now: the lists of a snapshot with
 * the fork and exit events it does not show yet laid over them, by the
 * engine's rules (a process joins its creator's group, a thread its
 * leader's; a task that exited is gone).
 */
#ifndef CPUACCTFS_MEMBERS_H
#define CPUACCTFS_MEMBERS_H

#include <stdbool.h>

#include <glib.h>

/* tids and tgids: sorted pid_t, tgids unique, as a snapshot holds them;
 * events: struct pc_event in arrival order. Returns false when none of
 * the events touches these lists (use them as they are); else true,
 * with new sorted lists in *tids_now and *tgids_now. */
bool members_now(const GArray *tids, const GArray *tgids, const GArray *events,
		 GArray **tids_now, GArray **tgids_now);

#endif
