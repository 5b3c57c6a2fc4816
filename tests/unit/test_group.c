/* test_group.c - the tree, the charge path and the hierarchy sums. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "group.h"

#include "unit.h"

static struct group_tree *tree;

static void setup(void)
{
	tree = group_tree_new(4, 8);
}

static void teardown(void)
{
	group_tree_free(tree);
}

static struct group *mk(struct group *parent, const char *name)
{
	struct group *g = NULL;

	ck_assert_int_eq(group_mkdir(tree, parent, name, 0755, &g), 0);
	return g;
}

START_TEST(test_root)
{
	struct group *root = group_root(tree);

	ck_assert_uint_eq(root->id, 0);
	ck_assert_ptr_null(root->parent);
	ck_assert_uint_eq(root->mode, 0555);
	ck_assert_ptr_eq(group_by_id(tree, 0), root);
	ck_assert_ptr_null(group_by_id(tree, 1));
}
END_TEST

START_TEST(test_charge_walks_to_root)
{
	struct group *a = mk(group_root(tree), "a");
	struct group *b = mk(a, "b");

	group_charge(b, 2, 100, 30);
	ck_assert_uint_eq(b->usage[2], 130);
	ck_assert_uint_eq(b->user[2], 100);
	ck_assert_uint_eq(b->sys[2], 30);
	ck_assert_uint_eq(a->usage[2], 130);
	ck_assert_uint_eq(group_root(tree)->usage[2], 130);
	ck_assert_uint_eq(group_sum(a, a->usage), 130);
	ck_assert_uint_eq(a->usage[0], 0);
}
END_TEST

/* An adopted init's past: the root had it already, its chain gains it. */
START_TEST(test_transfer_below_root)
{
	struct group *a = mk(group_root(tree), "a");
	struct group *b = mk(a, "b");

	group_charge(group_root(tree), 1, 40, 10);
	group_transfer_usage(b, 1, 50);
	ck_assert_uint_eq(b->usage[1], 50);
	ck_assert_uint_eq(a->usage[1], 50);
	ck_assert_uint_eq(group_root(tree)->usage[1], 50);
	ck_assert_uint_eq(b->user[1] + b->sys[1], 0);
	group_transfer_usage(group_root(tree), 1, 7);
	ck_assert_uint_eq(group_root(tree)->usage[1], 50);
}
END_TEST

START_TEST(test_parent_is_sum_of_children)
{
	struct group *p = mk(group_root(tree), "p");
	struct group *c1 = mk(p, "c1");
	struct group *c2 = mk(p, "c2");

	for (unsigned int i = 0; i < 1000; i++) {
		group_charge(c1, i % 4, i, 2 * i);
		group_charge(c2, (i * 7) % 4, 3 * i, i / 3);
	}
	for (unsigned int cpu = 0; cpu < 4; cpu++) {
		ck_assert_uint_eq(p->usage[cpu],
				  c1->usage[cpu] + c2->usage[cpu]);
		ck_assert_uint_eq(p->user[cpu], c1->user[cpu] + c2->user[cpu]);
		ck_assert_uint_eq(p->sys[cpu], c1->sys[cpu] + c2->sys[cpu]);
	}
}
END_TEST

START_TEST(test_reset_only_self)
{
	struct group *p = mk(group_root(tree), "p");
	struct group *c = mk(p, "c");

	struct hist_point pt;

	group_charge(c, 1, 10, 5);
	group_record(c, 100);
	group_reset(c, 1);
	ck_assert_uint_eq(group_sum(c, c->usage), 0);
	ck_assert_uint_eq(group_sum(c, c->user), 0);
	ck_assert_uint_eq(group_sum(c, c->sys), 0);
	ck_assert_uint_eq(group_sum(p, p->usage), 15);
	/* the history keeps the time used before the reset */
	group_charge(c, 1, 1, 0);
	group_record(c, 200);
	ck_assert(history_latest(c->history, &pt));
	ck_assert_uint_eq(pt.usage_ns, 16);
}
END_TEST

START_TEST(test_rmdir_keeps_past_in_parent)
{
	struct group *p = mk(group_root(tree), "p");
	struct group *c = mk(p, "c");
	unsigned int id = c->id;

	group_charge(c, 0, 7, 0);
	ck_assert_int_eq(group_rmdir(tree, c), 0);
	ck_assert_ptr_null(group_by_id(tree, id));
	ck_assert_uint_eq(p->usage[0], 7);
	/* ids are never reused */
	c = mk(p, "c");
	ck_assert_uint_ne(c->id, id);
	ck_assert_uint_eq(c->usage[0], 0);
}
END_TEST

START_TEST(test_rmdir_busy)
{
	struct group *p = mk(group_root(tree), "p");
	struct group *c = mk(p, "c");

	ck_assert_int_eq(group_rmdir(tree, p), -EBUSY);
	c->ntasks = 1;
	ck_assert_int_eq(group_rmdir(tree, c), -EBUSY);
	c->ntasks = 0;
	ck_assert_int_eq(group_rmdir(tree, c), 0);
	ck_assert_int_eq(group_rmdir(tree, group_root(tree)), -EBUSY);
}
END_TEST

START_TEST(test_mkdir_errors)
{
	struct group *g = NULL;

	mk(group_root(tree), "x");
	ck_assert_int_eq(group_mkdir(tree, group_root(tree), "x", 0755, &g),
			 -EEXIST);
	ck_assert_int_eq(group_mkdir(tree, group_root(tree), "a\nb", 0755, &g),
			 -EINVAL);
}
END_TEST

/* cgroup v2's cgroup.max.descendants: every ancestor's limit counts,
 * and a rmdir makes room again. */
START_TEST(test_max_descendants)
{
	struct group *a = mk(group_root(tree), "a");
	struct group *b = mk(a, "b");
	struct group *g = NULL;

	group_set_max_descendants(a, 3);
	mk(b, "c");
	mk(a, "d");
	ck_assert_uint_eq(a->ndescendants, 3);
	ck_assert_uint_eq(group_root(tree)->ndescendants, 4);
	ck_assert_int_eq(group_mkdir(tree, b, "e", 0755, &g), -EAGAIN);
	ck_assert_int_eq(group_mkdir(tree, a, "e", 0755, &g), -EAGAIN);
	mk(group_root(tree), "elsewhere");
	ck_assert_int_eq(group_rmdir(tree, group_child(a, "d")), 0);
	ck_assert_uint_eq(a->ndescendants, 2);
	mk(b, "e");
	/* lowered below what exists: only new groups are refused */
	group_set_max_descendants(b, 1);
	ck_assert_uint_eq(b->ndescendants, 2);
	ck_assert_int_eq(group_mkdir(tree, b, "f", 0755, &g), -EAGAIN);
	group_set_max_descendants(a, GROUP_NO_LIMIT);
	group_set_max_descendants(b, GROUP_NO_LIMIT);
	mk(b, "f");
}
END_TEST

START_TEST(test_flags_inherited)
{
	struct group *p = mk(group_root(tree), "p");
	struct group *c;

	p->notify_on_release = true;
	p->clone_children = true;
	c = mk(p, "c");
	ck_assert(c->notify_on_release);
	ck_assert(c->clone_children);
}
END_TEST

START_TEST(test_rename)
{
	struct group *p = mk(group_root(tree), "p");
	struct group *q = mk(group_root(tree), "q");
	struct group *a = mk(p, "a");

	mk(p, "b");
	ck_assert_int_eq(group_rename(tree, a, p, "b"), -EEXIST);
	ck_assert_int_eq(group_rename(tree, a, q, "z"), -EIO);
	ck_assert_int_eq(group_rename(tree, a, p, "z"), 0);
	ck_assert_ptr_eq(group_child(p, "z"), a);
	ck_assert_ptr_null(group_child(p, "a"));
}
END_TEST

START_TEST(test_record_history)
{
	struct group *g = mk(group_root(tree), "g");
	struct hist_point rec;

	for (int i = 1; i <= 20; i++) {
		group_charge(g, 0, 5, 5);
		group_record(g, i * 1000);
	}
	/* an unchanged group records nothing */
	group_record(g, 30000);
	ck_assert_uint_eq(history_len(g->history, HIST_RECENT), 8); /* bounded */
	ck_assert(history_latest(g->history, &rec));
	ck_assert_uint_eq(rec.usage_ns, 200);
	ck_assert_int_eq(rec.t_ns, 20000);
	ck_assert(history_at(g->history, HIST_RECENT, 15500, &rec));
	ck_assert_int_eq(rec.t_ns, 15000);
	ck_assert_uint_eq(rec.user_ns, 75);
}
END_TEST

START_TEST(test_is_ancestor)
{
	struct group *p = mk(group_root(tree), "p");
	struct group *c = mk(p, "c");

	ck_assert(group_is_ancestor(p, c));
	ck_assert(group_is_ancestor(group_root(tree), c));
	ck_assert(!group_is_ancestor(c, p));
}
END_TEST

/* Groups made and removed for ever keep the id space (and every array
 * by id) bounded; an id comes back only after GROUP_ID_REUSE_AFTER
 * other removals, oldest first, and serials never repeat. */
START_TEST(test_ids_reused_late)
{
	unsigned int first = 0, max_id = 0;
	uint64_t last_serial = 0;
	char name[32];

	for (int i = 0; i < 3 * GROUP_ID_REUSE_AFTER; i++) {
		struct group *g;

		snprintf(name, sizeof(name), "g%d", i);
		g = mk(group_root(tree), name);
		ck_assert_uint_gt(g->serial, last_serial);
		last_serial = g->serial;
		if (i == 0)
			first = g->id;
		/* the first id is the oldest free one when reuse starts */
		if (i == GROUP_ID_REUSE_AFTER + 1)
			ck_assert_uint_eq(g->id, first);
		if (g->id > max_id)
			max_id = g->id;
		ck_assert_ptr_eq(group_by_id(tree, g->id), g);
		ck_assert_int_eq(group_rmdir(tree, g), 0);
	}
	ck_assert_uint_le(max_id, GROUP_ID_REUSE_AFTER + 1);
	ck_assert_uint_le(tree->by_id->len, GROUP_ID_REUSE_AFTER + 2);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("group");
	TCase *tc = tcase_create("tree");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_root);
	tcase_add_test(tc, test_ids_reused_late);
	tcase_add_test(tc, test_charge_walks_to_root);
	tcase_add_test(tc, test_transfer_below_root);
	tcase_add_test(tc, test_parent_is_sum_of_children);
	tcase_add_test(tc, test_reset_only_self);
	tcase_add_test(tc, test_rmdir_keeps_past_in_parent);
	tcase_add_test(tc, test_rmdir_busy);
	tcase_add_test(tc, test_mkdir_errors);
	tcase_add_test(tc, test_max_descendants);
	tcase_add_test(tc, test_flags_inherited);
	tcase_add_test(tc, test_rename);
	tcase_add_test(tc, test_record_history);
	tcase_add_test(tc, test_is_ancestor);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
