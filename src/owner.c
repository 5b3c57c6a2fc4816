/* owner.c - owners and modes of groups and their files (owner.h). */
#include <glib.h>

#include "owner.h"

G_STATIC_ASSERT(CGF_COUNT == GROUP_FILES);

/* Every file root's with the mode of the table (the common case, which
 * costs nothing): only then may a group's array be left NULL. */
static struct file_attr *files_new(uid_t uid, gid_t gid)
{
	struct file_attr *files = g_new0(struct file_attr, GROUP_FILES);

	for (int f = CGF_DIR + 1; f < CGF_COUNT; f++)
		files[f] = (struct file_attr){uid, gid, files_info(f)->mode};
	return files;
}

void owner_init(struct group *g, uid_t uid, gid_t gid)
{
	g->uid = uid;
	g->gid = gid;
	g_clear_pointer(&g->files, g_free);
	if (uid || gid)
		g->files = files_new(uid, gid);
}

struct file_attr owner_of(uid_t uid, gid_t gid, mode_t mode,
			  const struct file_attr *files, enum cg_file f)
{
	if (f == CGF_DIR)
		return (struct file_attr){uid, gid, mode};
	if (files)
		return files[f];
	return (struct file_attr){0, 0, files_info(f)->mode};
}

static void apply(struct file_attr *a, const struct owner_change *c)
{
	if (c->set_uid)
		a->uid = c->uid;
	if (c->set_gid)
		a->gid = c->gid;
	if (c->set_mode)
		a->mode = c->mode & 07777;
}

void owner_set(struct group *g, enum cg_file f, const struct owner_change *c)
{
	struct file_attr dir = {g->uid, g->gid, g->mode};

	if (f == CGF_DIR) {
		apply(&dir, c);
		g->uid = dir.uid;
		g->gid = dir.gid;
		g->mode = dir.mode;
	} else {
		if (!g->files)
			g->files = files_new(0, 0);
		apply(&g->files[f], c);
	}
	group_touch(g);
}
