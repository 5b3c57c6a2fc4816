/* state.h - what one server leaves for the next.
 *
 * A checkpoint holds the tree (every group on its own id, so the inode
 * numbers the kernel knows stay valid, with its flags and the release
 * agent), the per-CPU counters, what each group took of the in-kernel
 * slots (kseen), the cpuacct.stat clamp, the history, and the tasks
 * outside the root with how far their time was counted. All of it is
 * taken under the engine lock, so counters and baselines agree: the
 * next server adds what ran since, from the kernel's counters (which
 * went on counting) or from the tasks' own clocks.
 *
 * A checkpoint is parsed and checked whole before anything is applied:
 * a damaged one, or one of another version or CPU count, is refused
 * with a log line and the server starts clean.
 */
#ifndef CPUACCTFS_STATE_H
#define CPUACCTFS_STATE_H

#include <glib.h>

#include "engine.h"

#define STATE_VERSION 2

/* The engine's state now (under its lock). */
GByteArray *state_save(struct engine *e);

struct saved_state;

/* Parse and check a checkpoint for a tree of ncpu CPUs whose groups
 * keep history_len bytes of history; NULL (the reason logged) if it
 * cannot be used. */
struct saved_state *state_parse(GBytes *bytes, unsigned int ncpu,
				size_t history_len);
void state_free(struct saved_state *st);

/* Into a new engine, after its first scan: the groups, their counters
 * and history. kernel_kept: the in-kernel slots are those the saved
 * kseen refer to (else each group takes the slots as they are now).
 * False (logged, nothing applied) if the ids do not fit the in-kernel
 * counters. */
bool state_apply_groups(const struct saved_state *st, struct engine *e,
			bool kernel_kept);

/* Then the tasks (engine_members_restore). */
void state_apply_members(const struct saved_state *st, struct engine *e,
			 bool kernel_kept);

#endif
