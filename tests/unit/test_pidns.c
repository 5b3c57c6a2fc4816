/* test_pidns.c - ids across pid namespaces, against the real kernel. */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nsjoin.h"
#include "pidns.h"

#include "unit.h"

START_TEST(test_own_namespace)
{
	struct pidns ns;
	pid_t id, tid;

	ck_assert_int_eq(pidns_of(getpid(), &ns), 0);
	ck_assert(pidns_is_own(&ns));
	ck_assert_int_eq(pidns_to_ns(getpid(), &ns, &id), 0);
	ck_assert_int_eq(id, getpid());
	ck_assert_int_eq(pidns_from_ns(getpid(), &ns, &tid), 0);
	ck_assert_int_eq(tid, getpid());
	ck_assert_int_eq(pidns_of(0x3fffffff, &ns), -ESRCH);
}
END_TEST

/* A child in a new pid namespace, where it is pid 1: its host pid is
 * returned; it sleeps until killed. Needs root (CAP_SYS_ADMIN). */
static pid_t spawn_in_new_ns(pid_t *helper)
{
	int fds[2];
	pid_t inner = 0;

	ck_assert_int_eq(pipe(fds), 0);
	*helper = fork();
	if (*helper == 0) {
		pid_t p;

		if (unshare(CLONE_NEWPID) != 0)
			_exit(1);
		p = fork();
		if (p == 0) {
			pause();
			_exit(0);
		}
		if (write(fds[1], &p, sizeof(p)) != sizeof(p))
			_exit(1);
		waitpid(p, NULL, 0);
		_exit(0);
	}
	close(fds[1]);
	if (read(fds[0], &inner, sizeof(inner)) != sizeof(inner))
		inner = 0;
	close(fds[0]);
	return inner;
}

START_TEST(test_other_namespace)
{
	struct pidns ns;
	pid_t helper, inner, id, tid;
	g_autoptr(GArray) ids = g_array_new(FALSE, FALSE, sizeof(pid_t));
	g_autoptr(GArray) seen = NULL;
	pid_t self = getpid();

	if (geteuid() != 0) {
		printf("SKIP: test_other_namespace needs root\n");
		return;
	}
	inner = spawn_in_new_ns(&helper);
	ck_assert_int_gt(inner, 0);
	ck_assert_int_eq(pidns_of(inner, &ns), 0);
	ck_assert(!pidns_is_own(&ns));
	ck_assert_int_eq(ns.level, 1);
	ck_assert_int_eq(pidns_to_ns(inner, &ns, &id), 0);
	ck_assert_int_eq(id, 1);
	ck_assert_int_eq(pidns_from_ns(1, &ns, &tid), 0);
	ck_assert_int_eq(tid, inner);
	/* the host is invisible from inside */
	ck_assert_int_eq(pidns_to_ns(self, &ns, &id), -ESRCH);
	ck_assert_int_eq(pidns_from_ns(self, &ns, &tid) == 0 && tid == self, 0);
	g_array_append_val(ids, self);
	g_array_append_val(ids, inner);
	seen = pidns_translate(ids, &ns);
	ck_assert_uint_eq(seen->len, 1);
	ck_assert_int_eq(g_array_index(seen, pid_t, 0), 1);
	kill(inner, SIGKILL);
	waitpid(helper, NULL, 0);
}
END_TEST

/* Processes born into a registered namespace join its group; a removed
 * group or a dead init ends that. */
START_TEST(test_nsjoin)
{
	struct group_tree *tree = group_tree_new(2, 8);
	struct nsjoin *j = nsjoin_new();
	struct group *g = NULL;
	pid_t helper, inner, helper2, other;

	/* the host's own namespace never registers: every task would join */
	ck_assert_int_eq(group_mkdir(tree, group_root(tree), "c", 0755, &g), 0);
	ck_assert_int_eq(nsjoin_add(j, tree, getpid(), g), -EINVAL);
	ck_assert_ptr_null(nsjoin_find(j, tree, getpid()));
	ck_assert_int_eq(nsjoin_add(j, tree, 0x3fffffff, g), -ESRCH);
	if (geteuid() != 0) {
		printf("SKIP: test_nsjoin needs root for namespaces\n");
		goto out;
	}
	inner = spawn_in_new_ns(&helper);
	other = spawn_in_new_ns(&helper2);
	ck_assert_int_gt(inner, 0);
	ck_assert_int_gt(other, 0);
	ck_assert_int_eq(nsjoin_add(j, tree, inner, g), 0);
	ck_assert_uint_eq(nsjoin_count(j), 1);
	ck_assert_ptr_eq(nsjoin_find(j, tree, inner), g);
	ck_assert_ptr_null(nsjoin_find(j, tree, other));
	ck_assert_ptr_null(nsjoin_find(j, tree, getpid()));
	/* the group goes: the entry with it */
	ck_assert_int_eq(group_rmdir(tree, g), 0);
	ck_assert_ptr_null(nsjoin_find(j, tree, inner));
	ck_assert_uint_eq(nsjoin_count(j), 0);
	/* init dies: the entry is dropped at the next registration */
	ck_assert_int_eq(group_mkdir(tree, group_root(tree), "d", 0755, &g), 0);
	ck_assert_int_eq(nsjoin_add(j, tree, inner, g), 0);
	kill(inner, SIGKILL);
	waitpid(helper, NULL, 0);
	ck_assert_int_eq(nsjoin_add(j, tree, other, g), 0);
	ck_assert_uint_eq(nsjoin_count(j), 1);
	ck_assert_ptr_eq(nsjoin_find(j, tree, other), g);
	kill(other, SIGKILL);
	waitpid(helper2, NULL, 0);
out:
	nsjoin_free(j);
	group_tree_free(tree);
}
END_TEST

static int checks, forced;

/* The kernel's counters never show the process in its group. */
static int never_there(void *data, pid_t pid, unsigned int gid, bool force)
{
	checks++;
	ck_assert_int_eq(pid, 4242);
	if (force)
		forced++;
	return force;
}

/* An exec'd process the runtime never attaches is moved after
 * NSJOIN_WAIT_PASSES; one whose group went is dropped unasked. */
START_TEST(test_nsjoin_settle)
{
	struct group_tree *tree = group_tree_new(2, 8);
	struct nsjoin *j = nsjoin_new();
	struct group *g = NULL;

	ck_assert_int_eq(group_mkdir(tree, group_root(tree), "c", 0755, &g), 0);
	nsjoin_joined(j, g, 4242);
	for (int i = 0; i < NSJOIN_WAIT_PASSES + 3; i++)
		nsjoin_settle(j, tree, never_there, NULL);
	ck_assert_int_eq(checks, NSJOIN_WAIT_PASSES);
	ck_assert_int_eq(forced, 1);
	nsjoin_joined(j, g, 4242);
	ck_assert_int_eq(group_rmdir(tree, g), 0);
	nsjoin_settle(j, tree, never_there, NULL);
	nsjoin_settle(j, tree, never_there, NULL);
	ck_assert_int_eq(checks, NSJOIN_WAIT_PASSES);
	nsjoin_free(j);
	group_tree_free(tree);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pidns");
	TCase *tc = tcase_create("namespaces");

	tcase_add_test(tc, test_own_namespace);
	tcase_add_test(tc, test_other_namespace);
	tcase_add_test(tc, test_nsjoin);
	tcase_add_test(tc, test_nsjoin_settle);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
