/* test_owner.c - owners and modes (owner.h), and when a group becomes
 * releasable (group_releasable, the task table's released paths). */
#include <check.h>
#include <string.h>
#include <sys/stat.h>

#include "owner.h"
#include "snapshot.h"
#include "tasks.h"

#include "unit.h"

static struct group_tree *tree;
static struct task_table *tt;

static void setup(void)
{
	tree = group_tree_new(2, 8);
	tt = tasks_new();
}

static void teardown(void)
{
	tasks_free(tt);
	group_tree_free(tree);
}

static struct group *mk(struct group *parent, const char *name)
{
	struct group *g = NULL;

	ck_assert_int_eq(group_mkdir(tree, parent, name, 0755, &g), 0);
	return g;
}

static struct file_attr attr(const struct group *g, enum cg_file f)
{
	return owner_of(g->uid, g->gid, g->mode, g->files, f);
}

START_TEST(test_root_made_group_costs_nothing)
{
	struct group *g = mk(group_root(tree), "g");
	struct file_attr a;

	owner_init(g, 0, 0);
	ck_assert_ptr_null(g->files);
	a = attr(g, CGF_TASKS);
	ck_assert_uint_eq(a.uid, 0);
	ck_assert_uint_eq(a.mode, 0644);
	ck_assert_uint_eq(attr(g, CGF_STAT).mode, 0444);
	ck_assert_uint_eq(attr(g, CGF_DIR).mode, 0755);
}
END_TEST

START_TEST(test_user_made_group_is_theirs)
{
	struct group *g = mk(group_root(tree), "g");

	owner_init(g, 1000, 100);
	for (int f = CGF_DIR; f < CGF_COUNT; f++) {
		struct file_attr a = attr(g, f);

		ck_assert_uint_eq(a.uid, 1000);
		ck_assert_uint_eq(a.gid, 100);
	}
	ck_assert_uint_eq(attr(g, CGF_USAGE).mode, 0644);
	ck_assert_uint_eq(attr(g, CGF_USAGE_ALL).mode, 0444);
}
END_TEST

START_TEST(test_chown_dir_leaves_files)
{
	struct group *g = mk(group_root(tree), "g");
	struct owner_change c = {
	    .set_uid = true, .uid = 7, .set_gid = true, .gid = 8};
	uint64_t gen = g->gen;

	owner_set(g, CGF_DIR, &c);
	ck_assert_uint_eq(g->uid, 7);
	ck_assert_uint_eq(g->gid, 8);
	ck_assert_uint_eq(g->mode, 0755);
	ck_assert_uint_eq(attr(g, CGF_TASKS).uid, 0);
	ck_assert_uint_gt(g->gen, gen); /* the next snapshot shows it */
}
END_TEST

START_TEST(test_chmod_one_file)
{
	struct group *g = mk(group_root(tree), "g");
	struct owner_change c = {.set_mode = true, .mode = S_IFREG | 04666};

	owner_set(g, CGF_TASKS, &c);
	ck_assert_uint_eq(attr(g, CGF_TASKS).mode, 04666); /* no type bits */
	ck_assert_uint_eq(attr(g, CGF_PROCS).mode, 0644);
	ck_assert_uint_eq(attr(g, CGF_TASKS).uid, 0);
	c = (struct owner_change){.set_gid = true, .gid = 5};
	owner_set(g, CGF_PROCS, &c);
	ck_assert_uint_eq(attr(g, CGF_PROCS).gid, 5);
	ck_assert_uint_eq(attr(g, CGF_PROCS).mode, 0644);
	ck_assert_uint_eq(attr(g, CGF_TASKS).mode, 04666);
}
END_TEST

START_TEST(test_snapshot_copies)
{
	struct group *g = mk(group_root(tree), "g");
	struct owner_change c = {.set_mode = true, .mode = 0600};
	struct snapshot *snap;
	const struct snap_group *sg;

	owner_init(g, 42, 43);
	owner_set(g, CGF_TASKS, &c);
	snap = snapshot_build(tree, tt, NULL, 1, 0);
	c.mode = 0644;
	owner_set(g, CGF_TASKS, &c); /* later changes are not in it */
	sg = snapshot_group(snap, g->id);
	ck_assert_uint_eq(sg->uid, 42);
	ck_assert_uint_eq(sg->gid, 43);
	ck_assert_uint_eq(
	    owner_of(sg->uid, sg->gid, sg->mode, sg->files, CGF_TASKS).mode,
	    0600);
	snapshot_unref(snap);
}
END_TEST

START_TEST(test_path)
{
	struct group *a = mk(group_root(tree), "a");
	struct group *b = mk(a, "b c");
	g_autofree char *pr = group_path(group_root(tree));
	g_autofree char *pa = group_path(a);
	g_autofree char *pb = group_path(b);

	ck_assert_str_eq(pr, "/");
	ck_assert_str_eq(pa, "/a");
	ck_assert_str_eq(pb, "/a/b c");
}
END_TEST

static const char *released(unsigned int i)
{
	ck_assert_uint_gt(tt->released->len, i);
	return tt->released->pdata[i];
}

START_TEST(test_released_on_last_leave)
{
	struct group *a = mk(group_root(tree), "a");
	struct group *b = mk(a, "b");
	struct proc *p;
	struct task *t1, *t2;

	a->notify_on_release = b->notify_on_release = true;
	p = tasks_add_proc(tt, 10, b);
	t1 = p->threads->pdata[0];
	t2 = tasks_add_thread(tt, p, 11, b);
	tasks_move(tt, t1, group_root(tree));
	ck_assert_uint_eq(tt->released->len, 0); /* t2 stays */
	tasks_remove_thread(tt, t2);
	/* b is released; a, which keeps b, is not */
	ck_assert_uint_eq(tt->released->len, 1);
	ck_assert_str_eq(released(0), "/a/b");
}
END_TEST

START_TEST(test_not_released_without_flag_or_with_child)
{
	struct group *a = mk(group_root(tree), "a");
	struct group *b = mk(a, "b");
	struct proc *p = tasks_add_proc(tt, 10, a);

	a->notify_on_release = true;
	tasks_move(tt, p->threads->pdata[0], b); /* a keeps child b */
	tasks_move(tt, p->threads->pdata[0], group_root(tree)); /* no flag */
	ck_assert_uint_eq(tt->released->len, 0);
	ck_assert(!group_releasable(a));
	ck_assert_int_eq(group_rmdir(tree, b), 0);
	ck_assert(group_releasable(a)); /* control_rmdir notes it then */
}
END_TEST

int main(void)
{
	Suite *s = suite_create("owner");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_root_made_group_costs_nothing);
	tcase_add_test(tc, test_user_made_group_is_theirs);
	tcase_add_test(tc, test_chown_dir_leaves_files);
	tcase_add_test(tc, test_chmod_one_file);
	tcase_add_test(tc, test_snapshot_copies);
	tcase_add_test(tc, test_path);
	tcase_add_test(tc, test_released_on_last_leave);
	tcase_add_test(tc, test_not_released_without_flag_or_with_child);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
