/* fs.c - a thin FUSE low-level layer over snapshots and control calls.
 *
 * Inode numbers are derived from (group id, file), and a group id comes
 * back only long after its group was removed (group.h), with a new
 * generation, so no inode table or lookup counts are needed. Files
 * report size 0 like cgroupfs and are opened with direct I/O, so every
 * read reaches us and is rendered from the newest snapshot.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <string.h>
#include <sys/stat.h>

#include "control.h"
#include "files.h"
#include "fs.h"
#include "owner.h"
#include "procfs.h"

#define ATTR_TIMEOUT 1.0
#define CACHE_TIMEOUT 3600.0 /* cache mode invalidates explicitly */

struct fs {
	struct sampler *sampler;
	bool cache;
	struct fuse_session *se;
	GAsyncQueue *stale; /* inode numbers to invalidate, 0 = stop */
	GThread *notifier;
	struct snapshot *shown; /* what the page cache may hold */
	GMutex files_lock;
	GHashTable *files; /* file handle -> struct open_file */
	uint64_t last_fh;
};

/* An open control file: what was rendered for it, if anything. The
 * kernel may send RELEASE while a READ of a killed reader is still being
 * answered, so handles are looked up and referenced, never trusted. */
struct open_file {
	gint refs;
	GMutex lock; /* readers sharing one file description */
	unsigned int gid;
	uint64_t serial; /* the group opened, should its id come back */
	enum cg_file file;
	GString *text;
	/* the opener's credentials, which writes are checked with, as the
	 * kernel checks them with the file's f_cred (CVE-2021-4197) */
	uid_t euid;
	bool sys_admin;
};

static void open_file_unref(struct open_file *of)
{
	if (!g_atomic_int_dec_and_test(&of->refs))
		return;
	if (of->text)
		g_string_free(of->text, TRUE);
	g_mutex_clear(&of->lock);
	g_free(of);
}

static struct open_file *open_file_get(struct fs *fs, uint64_t fh)
{
	struct open_file *of;

	g_mutex_lock(&fs->files_lock);
	of = g_hash_table_lookup(fs->files, &fh);
	if (of)
		g_atomic_int_inc(&of->refs);
	g_mutex_unlock(&fs->files_lock);
	return of;
}

static struct fs *fs_of(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

static struct sampler *sampler_of(fuse_req_t req)
{
	return fs_of(req)->sampler;
}

static double attr_timeout(fuse_req_t req)
{
	return fs_of(req)->cache ? CACHE_TIMEOUT : ATTR_TIMEOUT;
}

static void fill_stat(const struct snap_group *g, enum cg_file f,
		      struct stat *st)
{
	struct file_attr a = owner_of(g->uid, g->gid, g->mode, g->files, f);

	memset(st, 0, sizeof(*st));
	st->st_ino = files_ino(g->id, g->serial, f);
	st->st_uid = a.uid;
	st->st_gid = a.gid;
	st->st_atim.tv_sec = st->st_mtim.tv_sec = st->st_ctim.tv_sec =
	    g->ctime_ns / 1000000000LL;
	st->st_atim.tv_nsec = st->st_mtim.tv_nsec = st->st_ctim.tv_nsec =
	    g->ctime_ns % 1000000000LL;
	if (f == CGF_DIR) {
		st->st_mode = S_IFDIR | a.mode;
		st->st_nlink = 2 + g->children->len;
	} else {
		st->st_mode = S_IFREG | a.mode;
		st->st_nlink = 1;
	}
	st->st_blksize = 4096;
}

/* The group an inode belongs to, if it still exists. */
static const struct snap_group *group_of(const struct snapshot *snap,
					 fuse_ino_t ino, enum cg_file *f)
{
	const struct snap_group *g = snapshot_group(snap, files_ino_gid(ino));

	*f = files_ino_file(ino);
	if (g && !files_ino_current(ino, g->id, g->serial))
		return NULL; /* removed, its id given to a new group */
	if (g && *f != CGF_DIR && !files_exists(*f, g->id == 0))
		return NULL;
	return g;
}

/* Whether ino still names a file of a group that exists. */
static bool ino_exists(fuse_req_t req, fuse_ino_t ino)
{
	g_autoptr(snapshot_t) snap = sampler_snapshot(sampler_of(req));
	enum cg_file f;

	return group_of(snap, ino, &f) != NULL;
}

/* Task lists are as of now (the snapshot and the events it lacks),
 * the rest as of the snapshot. */
static void render(struct sampler *s, const struct snapshot *snap,
		   const struct snap_group *g, enum cg_file f,
		   const struct pidns *reader, GString *out)
{
	g_autoptr(GArray) tids = NULL;
	g_autoptr(GArray) tgids = NULL;

	if ((f != CGF_TASKS && f != CGF_PROCS) ||
	    !sampler_members(s, g->id, &tids, &tgids))
		return files_render(snap, g, f, reader, out);
	files_render_ids(f == CGF_TASKS ? tids : tgids, reader, out);
}

static void render_counters_now(struct sampler *s, unsigned int gid,
				enum cg_file f, const struct pidns *reader,
				GString *out)
{
	g_autoptr(snapshot_t) snap = sampler_counters_snapshot(s);
	const struct snap_group *g = snapshot_group(snap, gid);

	if (g)
		files_render(snap, g, f, reader, out);
}

/* cgroupfs files report size 0, and so do ours, to the host. But the
 * page cache serves only up to the size: in cache mode every read, and
 * in a container its small tools' reads (busybox cat uses sendfile(2),
 * and FUSE splices a direct I/O file from the page cache, up to i_size,
 * without asking us for the size again). So those see the length of
 * their own text, and in the default mode that answer expires at once:
 * its attributes and its dentry, or a path walk within the entry
 * timeout would reuse an older, shorter size and splice a prefix. The
 * host's size 0 expires at once too: the inode is one for all viewers,
 * and a container reader must not inherit it. Returns the timeout for
 * both. */
static double set_size(fuse_req_t req, const struct snapshot *snap,
		       const struct snap_group *g, enum cg_file f,
		       struct stat *st)
{
	g_autoptr(GString) text = NULL;
	struct pidns ns, *reader = NULL;

	if (f == CGF_DIR)
		return attr_timeout(req);
	if (!fs_of(req)->cache) {
		if (pidns_of(fuse_req_ctx(req)->pid, &ns) || pidns_is_own(&ns))
			return 0;
		reader = &ns;
	}
	text = g_string_new(NULL);
	/* the size of what a read right after will see (it may run a pass
	 * first: sampler_counters_snapshot) */
	if (files_is_counter(f) && !fs_of(req)->cache)
		render_counters_now(sampler_of(req), g->id, f, reader, text);
	else
		render(sampler_of(req), snap, g, f, reader, text);
	st->st_size = text->len;
	return fs_of(req)->cache ? CACHE_TIMEOUT : 0;
}

static void reply_entry(fuse_req_t req, const struct snapshot *snap,
			const struct snap_group *g, enum cg_file f)
{
	struct fuse_entry_param e = {
	    .ino = files_ino(g->id, g->serial, f),
	    .generation = g->serial,
	};

	fill_stat(g, f, &e.attr);
	e.attr_timeout = set_size(req, snap, g, f, &e.attr);
	e.entry_timeout = e.attr_timeout;
	fuse_reply_entry(req, &e);
}

static void fs_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	g_autoptr(snapshot_t) snap = sampler_snapshot(sampler_of(req));
	const struct snap_group *p, *child;
	enum cg_file f;

	p = group_of(snap, parent, &f);
	if (!p)
		return (void)fuse_reply_err(req, ENOENT);
	if (f != CGF_DIR)
		return (void)fuse_reply_err(req, ENOTDIR);
	child = snapshot_child(snap, p, name);
	if (child)
		return reply_entry(req, snap, child, CGF_DIR);
	f = files_lookup(name, p->id == 0);
	if (f == CGF_DIR)
		return (void)fuse_reply_err(req, ENOENT);
	reply_entry(req, snap, p, f);
}

/* A file or directory of a removed group, still open somewhere: cgroupfs
 * lets fstat succeed (reads then fail with ENODEV), so we answer with
 * what we can still tell, its kind and mode.
 *
 * In cache mode a file's attributes fail with ENODEV instead, and so
 * does the read(2) that asks for them first. Any size would be wrong:
 * the kernel's FUSE keeps the size of the newest answer, and a read
 * answered just before the removal may land after it, its short text
 * then read padded with zeros up to that size (or empty, at size 0). */
static void reply_gone_attr(fuse_req_t req, fuse_ino_t ino)
{
	enum cg_file f = files_ino_file(ino);
	struct stat st = {.st_ino = ino, .st_nlink = 1, .st_blksize = 4096};

	if (f != CGF_DIR && fs_of(req)->cache)
		return (void)fuse_reply_err(req, ENODEV);
	if (f == CGF_DIR) {
		st.st_mode = S_IFDIR | 0755;
		st.st_nlink = 2;
	} else {
		st.st_mode = S_IFREG | files_info(f)->mode;
	}
	fuse_reply_attr(req, &st, 0);
}

static void fs_getattr(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	g_autoptr(snapshot_t) snap = sampler_snapshot(sampler_of(req));
	const struct snap_group *g;
	enum cg_file f;
	struct stat st;

	g = group_of(snap, ino, &f);
	if (!g)
		return reply_gone_attr(req, ino);
	fill_stat(g, f, &st);
	fuse_reply_attr(req, &st, set_size(req, snap, g, f, &st));
}

/* Truncation (O_TRUNC, `>` in a shell) is accepted and changes nothing,
 * as on cgroupfs; times are not kept; owner and mode are (owner.h),
 * once the kernel has checked that the caller may change them. */
static void fs_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
		       int to_set, struct fuse_file_info *fi)
{
	int allowed = FUSE_SET_ATTR_SIZE | FUSE_SET_ATTR_ATIME |
		      FUSE_SET_ATTR_MTIME | FUSE_SET_ATTR_ATIME_NOW |
		      FUSE_SET_ATTR_MTIME_NOW | FUSE_SET_ATTR_CTIME |
		      FUSE_SET_ATTR_MODE | FUSE_SET_ATTR_UID |
		      FUSE_SET_ATTR_GID;
	struct owner_change c = {
	    .set_uid = to_set & FUSE_SET_ATTR_UID,
	    .set_gid = to_set & FUSE_SET_ATTR_GID,
	    .set_mode = to_set & FUSE_SET_ATTR_MODE,
	    .uid = attr->st_uid,
	    .gid = attr->st_gid,
	    .mode = attr->st_mode,
	};
	int err;

	if (to_set & ~allowed)
		return (void)fuse_reply_err(req, EPERM);
	if ((c.set_uid || c.set_gid || c.set_mode) && !ino_exists(req, ino))
		return (void)fuse_reply_err(req, ENOENT);
	if (c.set_uid || c.set_gid || c.set_mode) {
		err = control_setattr(sampler_of(req), files_ino_gid(ino),
				      files_ino_file(ino), &c);
		if (err)
			return (void)fuse_reply_err(req, -err);
	}
	fs_getattr(req, ino, fi);
}

struct dir_entry {
	char *name;
	struct stat st;
};

static GArray *dir_entries(const struct snapshot *snap,
			   const struct snap_group *g)
{
	GArray *list = g_array_new(FALSE, TRUE, sizeof(struct dir_entry));
	struct dir_entry ent = {0};

	ent.name = ".";
	fill_stat(g, CGF_DIR, &ent.st);
	g_array_append_val(list, ent);
	ent.name = "..";
	fill_stat(snapshot_group(snap, g->parent_id), CGF_DIR, &ent.st);
	g_array_append_val(list, ent);
	for (unsigned int i = 0; i < g->children->len; i++) {
		const struct snap_group *c = snapshot_group(
		    snap, g_array_index(g->children, unsigned int, i));

		ent.name = c->name;
		fill_stat(c, CGF_DIR, &ent.st);
		g_array_append_val(list, ent);
	}
	for (int f = CGF_DIR + 1; f < CGF_COUNT; f++) {
		if (!files_exists(f, g->id == 0))
			continue;
		ent.name = (char *)files_info(f)->name;
		fill_stat(g, f, &ent.st);
		g_array_append_val(list, ent);
	}
	return list;
}

static void fs_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	g_autoptr(snapshot_t) snap = sampler_snapshot(sampler_of(req));
	g_autoptr(GArray) list = NULL;
	g_autofree char *buf = g_malloc(size);
	const struct snap_group *g;
	enum cg_file f;
	size_t used = 0;

	g = group_of(snap, ino, &f);
	if (!g)
		return (void)fuse_reply_err(req, ENOENT);
	if (f != CGF_DIR)
		return (void)fuse_reply_err(req, ENOTDIR);
	list = dir_entries(snap, g);
	for (off_t i = off; i < (off_t)list->len; i++) {
		struct dir_entry *ent =
		    &g_array_index(list, struct dir_entry, i);
		size_t len = fuse_add_direntry(req, buf + used, size - used,
					       ent->name, &ent->st, i + 1);

		if (len > size - used)
			break;
		used += len;
	}
	fuse_reply_buf(req, buf, used);
}

/* What the kernel would keep in the file's f_cred: read at open, as
 * the opener may drop its privileges or hand the fd on before writing. */
static void take_opener(const struct fuse_ctx *ctx, struct open_file *of)
{
	if (procfs_read_euid(ctx->pid, &of->euid))
		of->euid = ctx->uid; /* the fsuid: the euid unless changed */
	if (of->file == CGF_RELEASE_AGENT)
		of->sys_admin = procfs_capable_init_ns(ctx->pid, CAP_SYS_ADMIN);
}

static void fs_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	g_autoptr(snapshot_t) snap = sampler_snapshot(sampler_of(req));
	const struct snap_group *g = NULL;
	struct open_file *of;
	enum cg_file f;

	if (!(g = group_of(snap, ino, &f)))
		return (void)fuse_reply_err(req, ENOENT);
	if (f == CGF_DIR)
		return (void)fuse_reply_err(req, EISDIR);
	if (fs_of(req)->cache)
		return (void)fuse_reply_err(req, ENOSYS); /* no opens at all */
	of = g_new0(struct open_file, 1);
	of->refs = 1;
	g_mutex_init(&of->lock);
	of->gid = files_ino_gid(ino);
	of->serial = g->serial;
	of->file = f;
	if ((fi->flags & O_ACCMODE) != O_RDONLY)
		take_opener(fuse_req_ctx(req), of);
	g_mutex_lock(&fs_of(req)->files_lock);
	fi->fh = ++fs_of(req)->last_fh;
	g_hash_table_insert(fs_of(req)->files,
			    g_memdup2(&fi->fh, sizeof(fi->fh)), of);
	g_mutex_unlock(&fs_of(req)->files_lock);
	fi->direct_io = 1;
	fuse_reply_open(req, fi);
}

/* Render once per pass over the file: a read at offset 0 starts over
 * with fresh numbers, later offsets continue what that read saw. */
static int render_open_file(struct sampler *s, struct open_file *of,
			    pid_t reader_pid)
{
	g_autoptr(snapshot_t) snap = NULL;
	const struct snap_group *g;
	struct pidns reader, *ns = NULL;

	if ((of->file == CGF_TASKS || of->file == CGF_PROCS) &&
	    !pidns_of(reader_pid, &reader))
		ns = &reader;
	snap = files_is_counter(of->file) ? sampler_counters_snapshot(s)
					  : sampler_snapshot(s);
	g = snapshot_group(snap, of->gid);
	/* removed, or even removed and its id given to a new group */
	if (!g || (of->serial && g->serial != of->serial))
		return -ENODEV;
	if (!of->text)
		of->text = g_string_sized_new(64);
	g_string_truncate(of->text, 0);
	render(s, snap, g, of->file, ns, of->text);
	return 0;
}

static void reply_slice(fuse_req_t req, const GString *text, size_t size,
			off_t off)
{
	if ((size_t)off >= text->len)
		return (void)fuse_reply_buf(req, NULL, 0);
	fuse_reply_buf(req, text->str + off,
		       MIN(size, text->len - (size_t)off));
}

/* Cache mode: the kernel asks for whole pages of a file it has no
 * handle for; the newest snapshot answers. */
static void read_uncached(fuse_req_t req, fuse_ino_t ino, size_t size,
			  off_t off)
{
	struct open_file of = {.gid = files_ino_gid(ino),
			       .file = files_ino_file(ino)};
	int err = ino_exists(req, ino) ? render_open_file(sampler_of(req), &of,
							  fuse_req_ctx(req)->pid)
				       : -ENODEV;

	/* removed meanwhile: fail as the reads after the removal do */
	if (!err && !ino_exists(req, ino))
		err = -ENODEV;

	if (err)
		fuse_reply_err(req, -err);
	else
		reply_slice(req, of.text, size, off);
	if (of.text)
		g_string_free(of.text, TRUE);
}

static void fs_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	struct open_file *of;
	int err = 0;

	if (!fi->fh)
		return read_uncached(req, ino, size, off);
	of = open_file_get(fs_of(req), fi->fh);
	if (!of) /* opened from a server before this one */
		return read_uncached(req, ino, size, off);
	g_mutex_lock(&of->lock);
	if (off == 0 || !of->text)
		err = render_open_file(sampler_of(req), of,
				       fuse_req_ctx(req)->pid);
	if (err)
		fuse_reply_err(req, -err);
	else
		reply_slice(req, of->text, size, off);
	g_mutex_unlock(&of->lock);
	open_file_unref(of);
}

static void fs_write(fuse_req_t req, fuse_ino_t ino, const char *buf,
		     size_t size, off_t off, struct fuse_file_info *fi)
{
	struct fs *fs = fs_of(req);
	struct open_file *of = fi->fh ? open_file_get(fs, fi->fh) : NULL;
	struct open_file now = {.file = files_ino_file(ino)};
	struct writer w = {.pid = fuse_req_ctx(req)->pid};
	int err;

	/* cache mode has no opens: the writer is all we know */
	if (!of)
		take_opener(fuse_req_ctx(req), &now);
	w.uid = of ? of->euid : now.euid;
	w.sys_admin = of ? of->sys_admin : now.sys_admin;
	if (of)
		open_file_unref(of);
	err = ino_exists(req, ino) ? control_write(fs->sampler,
						   files_ino_gid(ino),
						   files_ino_file(ino), buf,
						   size, &w)
				   : -ENODEV;
	if (err)
		return (void)fuse_reply_err(req, -err);
	fuse_reply_write(req, size);
	/* the kernel kept the written bytes in the file's page: drop them,
	 * from the notifier, never from a thread a reply depends on */
	if (fs->cache)
		g_async_queue_push(fs->stale, GSIZE_TO_POINTER(ino));
}

static void fs_release(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct fs *fs = fs_of(req);
	gpointer key = NULL, of = NULL;

	g_mutex_lock(&fs->files_lock);
	if (g_hash_table_steal_extended(fs->files, &fi->fh, &key, &of))
		g_free(key);
	g_mutex_unlock(&fs->files_lock);
	if (of)
		open_file_unref(of);
	fuse_reply_err(req, 0);
}

static void fs_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
		     mode_t mode)
{
	struct sampler *s = sampler_of(req);
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct writer w = {.pid = ctx->pid, .uid = ctx->uid, .gid = ctx->gid};
	g_autoptr(snapshot_t) snap = NULL;
	unsigned int gid;
	int err;

	if (!ino_exists(req, parent))
		return (void)fuse_reply_err(req, ENOENT);
	err = control_mkdir(s, files_ino_gid(parent), name, mode, &w, &gid);
	if (err)
		return (void)fuse_reply_err(req, -err);
	snap = sampler_snapshot(s);
	reply_entry(req, snap, snapshot_group(snap, gid), CGF_DIR);
}

static void fs_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	if (!ino_exists(req, parent))
		return (void)fuse_reply_err(req, ENOENT);
	fuse_reply_err(
	    req, -control_rmdir(sampler_of(req), files_ino_gid(parent), name));
}

static void fs_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
		      fuse_ino_t newparent, const char *newname,
		      unsigned int flags)
{
	if (flags)
		return (void)fuse_reply_err(req, EINVAL);
	if (!ino_exists(req, parent) || !ino_exists(req, newparent))
		return (void)fuse_reply_err(req, ENOENT);
	fuse_reply_err(req, -control_rename(sampler_of(req),
					    files_ino_gid(parent), name,
					    files_ino_gid(newparent), newname));
}

static void fs_create(fuse_req_t req, fuse_ino_t parent, const char *name,
		      mode_t mode, struct fuse_file_info *fi)
{
	fuse_reply_err(req, EACCES);
}

static void fs_mknod(fuse_req_t req, fuse_ino_t parent, const char *name,
		     mode_t mode, dev_t rdev)
{
	fuse_reply_err(req, S_ISREG(mode) ? EACCES : EPERM);
}

static void fs_eperm_name(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	fuse_reply_err(req, EPERM);
}

static void fs_symlink(fuse_req_t req, const char *link, fuse_ino_t parent,
		       const char *name)
{
	fuse_reply_err(req, EPERM);
}

static void fs_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
		    const char *newname)
{
	fuse_reply_err(req, EPERM);
}

static const struct fuse_lowlevel_ops ops = {
    .lookup = fs_lookup,
    .getattr = fs_getattr,
    .setattr = fs_setattr,
    .readdir = fs_readdir,
    .open = fs_open,
    .read = fs_read,
    .write = fs_write,
    .release = fs_release,
    .mkdir = fs_mkdir,
    .rmdir = fs_rmdir,
    .rename = fs_rename,
    .create = fs_create,
    .mknod = fs_mknod,
    .unlink = fs_eperm_name,
    .symlink = fs_symlink,
    .link = fs_link,
};

const struct fuse_lowlevel_ops *fs_ops(void)
{
	return &ops;
}

/* ---- cache mode: keeping the page cache fresh ---- */

static void queue_group(struct fs *fs, const struct snap_group *g)
{
	for (int f = CGF_DIR + 1; f < CGF_COUNT; f++)
		g_async_queue_push(
		    fs->stale, GSIZE_TO_POINTER(files_ino(g->id, g->serial, f)));
}

/* Group id changed between two snapshots: its pages, and those of the
 * group that had the id before, if another. */
static void queue_id(struct fs *fs, const struct snap_group *old,
		     const struct snap_group *now)
{
	if (now)
		queue_group(fs, now);
	if (old && (!now || old->serial != now->serial))
		queue_group(fs, old);
}

/* Runs under the engine lock after each publish: only queues. A removed
 * group's pages go too, so that a file still open reads ENODEV. */
static void on_publish(struct snapshot *snap, void *data)
{
	struct fs *fs = data;
	unsigned int n = MAX(snap->ngroups, fs->shown ? fs->shown->ngroups : 0);

	for (unsigned int id = 0; id < n; id++) {
		const struct snap_group *now = snapshot_group(snap, id);
		const struct snap_group *old =
		    fs->shown ? snapshot_group(fs->shown, id) : NULL;

		if ((now || old) &&
		    (!fs->shown || !snapshot_group_same(fs->shown, snap, id)))
			queue_id(fs, old, now);
	}
	snapshot_unref(fs->shown);
	fs->shown = snapshot_ref(snap);
}

static gpointer notifier_main(gpointer data)
{
	struct fs *fs = data;
	gpointer item;

	while ((item = g_async_queue_pop(fs->stale)) != GSIZE_TO_POINTER(1))
		fuse_lowlevel_notify_inval_inode(fs->se, GPOINTER_TO_SIZE(item),
						 0, 0);
	return NULL;
}

struct fs *fs_new(struct sampler *s, bool cache)
{
	struct fs *fs = g_new0(struct fs, 1);

	fs->sampler = s;
	fs->cache = cache;
	fs->stale = g_async_queue_new();
	g_mutex_init(&fs->files_lock);
	fs->files = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free,
					  (GDestroyNotify)open_file_unref);
	return fs;
}

void fs_start(struct fs *fs, struct fuse_session *se)
{
	fs->se = se;
	if (!fs->cache)
		return;
	fs->notifier = g_thread_new("notifier", notifier_main, fs);
	sampler_set_publish_hook(fs->sampler, on_publish, fs);
}

void fs_set_first_fh(struct fs *fs, uint64_t fh)
{
	fs->last_fh = fh;
}

void fs_stop(struct fs *fs)
{
	if (!fs->notifier)
		return;
	sampler_set_publish_hook(fs->sampler, NULL, NULL);
	/* inode 1 is the root directory, never queued: it means stop */
	g_async_queue_push(fs->stale, GSIZE_TO_POINTER(1));
	g_thread_join(fs->notifier);
	fs->notifier = NULL;
}

void fs_free(struct fs *fs)
{
	if (!fs)
		return;
	fs_stop(fs);
	snapshot_unref(fs->shown);
	g_async_queue_unref(fs->stale);
	g_hash_table_destroy(fs->files);
	g_mutex_clear(&fs->files_lock);
	g_free(fs);
}
