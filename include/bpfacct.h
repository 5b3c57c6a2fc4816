/* bpfacct.h - the in-kernel counter program: load, attach, membership.
 *
 * The program (src/bpf/cpuacct.bpf.c) charges every task's runtime and
 * ticks to its group's slot on the CPU it ran on, as the kernel's cpuacct
 * charges its groups. Here it is loaded and attached, its slots are
 * mapped for reading (kcount.h reads them), and tasks are put in groups:
 * new tasks inherit their creator's group in the kernel, so only moves
 * come from here.
 */
#ifndef CPUACCTFS_BPFACCT_H
#define CPUACCTFS_BPFACCT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "bpfacct_abi.h"
#include "holder.h"

struct bpfacct;

/* Load and attach with room for max_groups group ids on ncpu CPUs,
 * counting on in maps (holder.h: slots, member, charged) an earlier
 * server made if given and they fit. NULL when it cannot, and *why says
 * why in a sentence (g_free it). */
struct bpfacct *bpfacct_open(unsigned int ncpu, unsigned int max_groups,
			     const int maps[KEPT_NMAPS], char **why);

/* Whether the earlier server's maps are in use: their slots and the
 * tasks' groups are what it left, plus what ran since. */
bool bpfacct_reused(const struct bpfacct *b);

/* The fds that keep counting alive after this process: the maps, and
 * the links that attach the programs (at most max_links; the count). */
unsigned int bpfacct_kept(const struct bpfacct *b, int maps[KEPT_NMAPS],
			  int *links, unsigned int max_links);
void bpfacct_close(struct bpfacct *b);

/* max_groups * ncpu slots, slot gid * ncpu + cpu; valid until close. */
const struct kslot *bpfacct_slots(const struct bpfacct *b);

/* Thread tid (in our pid namespace) belongs to group gid from now on
 * (0: the root). 0, or -errno (-ESRCH: it is gone). */
int bpfacct_set_group(struct bpfacct *b, pid_t tid, unsigned int gid);

/* The group the program counts thread tid in: 0 (the root) or its id;
 * -errno if it cannot be asked (-ESRCH: gone). */
int bpfacct_group_of(struct bpfacct *b, pid_t tid);

#endif
