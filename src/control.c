/* control.c - writes and directory operations, applied to the engine. */
#include <errno.h>
#include <linux/capability.h>

#include "control.h"
#include "kcount.h"
#include "owner.h"
#include "parse.h"
#include "pidns.h"
#include "procfs.h"

static int write_usage(struct sampler *s, unsigned int gid, const char *buf,
		       size_t len)
{
	int err = parse_usage_reset(buf, len);

	if (err)
		return err;
	err = engine_reset(sampler_lock(s), gid, sampler_now_ns());
	sampler_unlock(s);
	return err;
}

static int write_flag(struct sampler *s, unsigned int gid, enum cg_file f,
		      const char *buf, size_t len)
{
	struct group *g;
	bool value;
	int err = parse_flag(buf, len, &value);

	if (err)
		return err;
	g = group_by_id(engine_tree(sampler_lock(s)), gid);
	if (g && f == CGF_NOTIFY_ON_RELEASE)
		g->notify_on_release = value;
	else if (g)
		g->clone_children = value;
	if (g)
		group_touch(g);
	sampler_unlock(s);
	return g ? 0 : -ENODEV;
}

/* A pid written by a process in a container names a task of its own
 * pid namespace; one it cannot see does not exist for it. */
static int host_pid(const struct writer *w, int *pid)
{
	struct pidns ns;

	if (*pid == 0 || pidns_of(w->pid, &ns) || pidns_is_own(&ns))
		return 0;
	return pidns_from_ns(*pid, &ns, pid);
}

static int write_pid(struct sampler *s, unsigned int gid, bool whole,
		     const char *buf, size_t len, const struct writer *w)
{
	int pid, err = parse_pid(buf, len, &pid);

	if (err)
		return err;
	err = host_pid(w, &pid);
	if (err)
		return err;
	err = engine_attach(sampler_lock(s), gid, pid, whole, w,
			    sampler_now_ns());
	sampler_unlock(s);
	return err;
}

static int write_release_agent(struct sampler *s, const char *buf, size_t len,
			       const struct writer *w)
{
	struct group_tree *tree;
	char *path;
	int err;

	/* the kernel's check since CVE-2022-0492: CAP_SYS_ADMIN in the
	 * initial user namespace, whatever the uid, of the opener */
	if (!w->sys_admin)
		return -EPERM;
	err = parse_release_agent(buf, len, &path);
	if (err)
		return err;
	tree = engine_tree(sampler_lock(s));
	g_free(tree->release_agent);
	tree->release_agent = path;
	sampler_unlock(s);
	return 0;
}

int control_write(struct sampler *s, unsigned int gid, enum cg_file f,
		  const char *buf, size_t len, const struct writer *w)
{
	if (len == 0)
		return 0;
	if (len > PARSE_MAX_WRITE)
		return -E2BIG;
	switch (f) {
	case CGF_USAGE:
		return write_usage(s, gid, buf, len);
	case CGF_NOTIFY_ON_RELEASE:
	case CGF_CLONE_CHILDREN:
		return write_flag(s, gid, f, buf, len);
	case CGF_TASKS:
		return write_pid(s, gid, false, buf, len, w);
	case CGF_PROCS:
		return write_pid(s, gid, true, buf, len, w);
	case CGF_RELEASE_AGENT:
		return write_release_agent(s, buf, len, w);
	default:
		return -EINVAL; /* read-only files, as root */
	}
}

int control_mkdir(struct sampler *s, unsigned int parent, const char *name,
		  mode_t mode, const struct writer *w, unsigned int *gid)
{
	struct group_tree *tree = engine_tree(sampler_lock(s));
	struct group *p = group_by_id(tree, parent);
	struct group *g = NULL;
	int err = p ? group_mkdir(tree, p, name, mode, &g) : -ENOENT;

	if (!err) {
		/* the creator's, directory and files, as cgroup_mkdir */
		owner_init(g, w->uid, w->gid);
		*gid = g->id;
	} else if (err == -ENOSPC) {
		g_warning("mkdir %s: the kernel's counters have room for no "
			  "more groups (--max-groups=%u)",
			  name, tree->kmax - GROUP_ID_REUSE_AFTER - 1);
	}
	sampler_unlock(s);
	return err;
}

int control_rmdir(struct sampler *s, unsigned int parent, const char *name)
{
	struct engine *e = sampler_lock(s);
	struct group_tree *tree = engine_tree(e);
	struct group *p = group_by_id(tree, parent);
	struct group *g = p ? group_child(p, name) : NULL;
	int err = -ENOENT;

	if (g) {
		/* exits already queued must not keep the group busy */
		engine_drain(e);
		/* what the kernel counted for it since the last pass goes to
		 * its parent before its slots are forgotten */
		kcount_charge_group(tree, g);
		err = group_rmdir(tree, g);
		/* the kernel checks the parent for release after an rmdir */
		if (!err && group_releasable(p))
			g_ptr_array_add(engine_tasks(e)->released,
					group_path(p));
	} else if (p && files_lookup(name, !p->parent) != CGF_DIR) {
		err = -ENOTDIR;
	}
	sampler_unlock(s);
	return err;
}

int control_rename(struct sampler *s, unsigned int parent, const char *name,
		   unsigned int new_parent, const char *new_name)
{
	struct group_tree *tree = engine_tree(sampler_lock(s));
	struct group *p = group_by_id(tree, parent);
	struct group *np = group_by_id(tree, new_parent);
	struct group *g = p ? group_child(p, name) : NULL;
	int err = -ENOENT;

	if (g && np)
		err = group_rename(tree, g, np, new_name);
	else if (p && files_lookup(name, !p->parent) != CGF_DIR)
		err = -ENOTDIR;
	sampler_unlock(s);
	return err;
}

int control_setattr(struct sampler *s, unsigned int gid, enum cg_file f,
		    const struct owner_change *c)
{
	struct group *g = group_by_id(engine_tree(sampler_lock(s)), gid);

	if (g)
		owner_set(g, f, c);
	sampler_unlock(s);
	return g ? 0 : -ENOENT;
}
