/* adopt.h - a container's init joins its group with what it ran so far.
 *
 * The kernel's group of a container counts its init from its first
 * instruction: runc makes the group and puts init in it before init
 * runs the runtime's set-up. A cpuacctfs group is made by the
 * createRuntime hook, when init has run that set-up already, in the
 * root group. Adopting moves the whole process into the group, as a
 * write to cgroup.procs does, and adds what it ran until then to the
 * group and its ancestors below the root (the root counted it already:
 * its total does not change). With the in-kernel counters, so is what
 * its creators ran since a runtime put the first of them in a kernel
 * cgroup, if they exited (runc's first two init stages: they run in the
 * kernel's group and are gone before any hook; bpfacct_lineage). The
 * adopted process's pid namespace is
 * registered too, so that exec'd processes join the group (nsjoin.h).
 */
#ifndef CPUACCTFS_ADOPT_H
#define CPUACCTFS_ADOPT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "engine.h"
#include "sampler.h"

struct adopt_result {
	uint64_t ns;	    /* runtime added to the group (0: just moved) */
	uint64_t before_ns; /* of which its dead creators' (runc's stages) */
	bool exec_join;	    /* its pid namespace was registered */
};

/* Adopt process pid into group gid (not the root) if its serial is
 * serial (0: any). Only a process of
 * the root group has its past runtime added: one already in a group
 * is moved with its time left where it was. 0 or -errno: -ESRCH (no
 * such process), -EINVAL (the root, a kernel thread), -ENODEV (no such
 * group). */
int adopt_process(struct sampler *s, unsigned int gid, uint64_t serial,
		  pid_t pid, struct adopt_result *res);

/* The same under the engine lock (for tests). */
int adopt_locked(struct engine *e, unsigned int gid, uint64_t serial, pid_t pid,
		 int64_t t_ns, struct adopt_result *res);

#endif
