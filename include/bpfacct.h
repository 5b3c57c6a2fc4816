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
 * counting on in the maps an earlier server made (holder.h), if given
 * and every one of ours is there with its name and size. NULL when it cannot, and *why says
 * why in a sentence (g_free it). */
struct bpfacct *bpfacct_open(unsigned int ncpu, unsigned int max_groups,
			     const struct kept_maps *kept, char **why);

/* Whether the earlier server's maps are in use: their slots and the
 * tasks' groups are what it left, plus what ran since. */
bool bpfacct_reused(const struct bpfacct *b);

/* The fds that keep counting alive after this process: the maps, and
 * the links that attach the programs (at most max_links; the count). */
unsigned int bpfacct_kept(const struct bpfacct *b, struct kept_maps *maps,
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

/* Tasks of the root group born into the pid namespace whose inode is
 * ino start in group gid (0: no longer), in the kernel, from birth. */
int bpfacct_set_nsgroup(struct bpfacct *b, uint64_t ino, unsigned int gid);

/* Where thread tid came from: the thread that created it (0 if tid was
 * attached to a kernel cgroup itself, born before the program, or more
 * than KORIGIN_DEPTH generations from such an attach), and
 * the runtime charged of it so far. 0 or -errno (-ESRCH: gone). */
int bpfacct_origin(struct bpfacct *b, pid_t tid, uint32_t *creator,
		   uint64_t *charged);

/* What a kernel group made for a container counted before its task was
 * born: from creator back through threads that exited, the time each
 * ran, up to one a runtime put in a kernel cgroup (runc's first init
 * stage, from that moment on). 1 with *ns when the chain reached such a
 * thread; 0 when it ends at a live thread (it may still exit: ask again)
 * or one never seen. */
int bpfacct_chain(struct bpfacct *b, uint32_t creator, uint64_t *ns);

#endif
