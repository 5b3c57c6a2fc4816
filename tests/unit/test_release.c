/* test_release.c - the release agent's thread: what the agent gets, and
 * that it is reaped without anyone waiting for it. */
#include <check.h>
#include <sys/wait.h>
#include <errno.h>
#include <stdbool.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "release.h"

#include "unit.h"

static char *dir;

static void setup(void)
{
	dir = g_dir_make_tmp("test_release.XXXXXX", NULL);
	ck_assert_ptr_nonnull(dir);
}

static void teardown(void)
{
	g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", dir);

	ck_assert_int_eq(system(cmd), 0);
	g_free(dir);
}

/* An agent that logs its arguments, environment, cwd, open descriptors
 * and pid to dir/log, then exits. */
static char *make_agent(void)
{
	char *path = g_build_filename(dir, "agent", NULL);
	g_autofree char *text = g_strdup_printf(
	    "#!/bin/sh\n"
	    "{ echo \"argc=$# arg=$1\"; tr '\\0' ' ' </proc/$$/environ; echo;"
	    " pwd; ls -l /proc/$$/fd | grep -c pipe:; echo $$; } >%s/log.tmp\n"
	    "mv %s/log.tmp %s/log\n",
	    dir, dir, dir);

	ck_assert(g_file_set_contents(path, text, -1, NULL));
	ck_assert_int_eq(g_chmod(path, 0755), 0);
	return path;
}

/* The agent's log once it is complete (5 s at most). */
static char **wait_log(void)
{
	g_autofree char *log = g_build_filename(dir, "log", NULL);
	char *text = NULL;

	for (int i = 0; i < 500 && !text; i++) {
		if (!g_file_get_contents(log, &text, NULL, NULL))
			g_usleep(10000);
	}
	ck_assert_ptr_nonnull(text);
	{
		char **lines = g_strsplit(text, "\n", -1);

		g_free(text);
		return lines;
	}
}

static bool gone(pid_t pid)
{
	g_autofree char *stat = g_strdup_printf("/proc/%d/stat", pid);

	return access(stat, F_OK) != 0;
}

START_TEST(test_agent_runs_as_the_kernel_runs_it)
{
	g_autofree char *agent = make_agent();
	struct release *r = release_new();
	int fds[2];
	char **lines;
	pid_t pid;
	bool reaped = false;

	/* a descriptor without close-on-exec must not reach the agent */
	ck_assert_int_eq(pipe(fds), 0);
	release_queue(r, agent, "/a/b c");
	lines = wait_log();
	ck_assert_str_eq(lines[0], "argc=1 arg=/a/b c");
	ck_assert_str_eq(lines[1],
			 "HOME=/ PATH=/sbin:/bin:/usr/sbin:/usr/bin ");
	ck_assert_str_eq(lines[2], "/");
	ck_assert_str_eq(lines[3], "0");
	pid = atoi(lines[4]);
	ck_assert_int_gt(pid, 0);
	/* reaped by the thread, no zombie left: /proc/PID goes */
	for (int i = 0; i < 300 && !reaped; i++) {
		reaped = gone(pid);
		if (!reaped)
			g_usleep(10000);
	}
	ck_assert(reaped);
	g_strfreev(lines);
	release_free(r);
	close(fds[0]);
	close(fds[1]);
}
END_TEST

START_TEST(test_spawn_missing_agent)
{
	pid_t pid;
	int err = release_spawn("/nonexistent/agent", "/a", &pid), status;

	/* POSIX lets posix_spawn report a failed exec either way: glibc
	 * returns the errno, under valgrind the child exits 127 */
	if (err == 0) {
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 127);
	} else {
		ck_assert_int_eq(err, -ENOENT);
	}
}
END_TEST

START_TEST(test_collect_without_agent_queues_nothing)
{
	GPtrArray *paths = g_ptr_array_new_with_free_func(g_free);

	g_ptr_array_add(paths, g_strdup("/a"));
	release_collect(NULL, "/bin/true", paths);
	ck_assert_uint_eq(paths->len, 0);
	g_ptr_array_add(paths, g_strdup("/a"));
	release_collect(NULL, "", paths);
	ck_assert_uint_eq(paths->len, 0);
	g_ptr_array_free(paths, TRUE);
}
END_TEST

START_TEST(test_free_with_agent_running)
{
	struct release *r = release_new();

	release_queue(r, "/bin/sleep", "1");
	g_usleep(100000);
	release_free(r); /* does not wait for it */
}
END_TEST

int main(void)
{
	Suite *s = suite_create("release");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_agent_runs_as_the_kernel_runs_it);
	tcase_add_test(tc, test_spawn_missing_agent);
	tcase_add_test(tc, test_collect_without_agent_queues_nothing);
	tcase_add_test(tc, test_free_with_agent_running);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
