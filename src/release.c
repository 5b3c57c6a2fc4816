/* release.c - the release agent's thread (release.h). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include "release.h"

/* While agents run, how often the thread looks for their exit. */
#define REAP_INTERVAL_US 50000

struct job {
	char *agent;
	char *path;
};

struct release {
	GAsyncQueue *jobs; /* struct job *, or &stop */
	GThread *thread;
	GArray *children; /* pid_t of agents not reaped yet */
};

static struct job stop;

static void job_free(struct job *j)
{
	g_free(j->agent);
	g_free(j->path);
	g_free(j);
}

/* The kernel's minimal environment, and a child that shares nothing of
 * ours it could misuse: default signals, its own session, no open
 * files but /dev/null (our fds include /dev/fuse), in /. */
int release_spawn(const char *agent, const char *path, pid_t *pid)
{
	char *argv[] = {(char *)agent, (char *)path, NULL};
	char *envp[] = {"HOME=/", "PATH=/sbin:/bin:/usr/sbin:/usr/bin", NULL};
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, all;
	int err;

	sigemptyset(&none);
	sigfillset(&all);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK |
					    POSIX_SPAWN_SETSIGDEF |
					    POSIX_SPAWN_SETSID);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	posix_spawn_file_actions_addchdir_np(&fa, "/");
	err = posix_spawn(pid, agent, &fa, &attr, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	return -err;
}

static void run(struct release *r, const struct job *j)
{
	pid_t pid;
	int err = release_spawn(j->agent, j->path, &pid);

	if (err) {
		g_message("release agent %s %s: %s", j->agent, j->path,
			  g_strerror(-err));
		return;
	}
	g_array_append_val(r->children, pid);
}

static void reap(struct release *r)
{
	for (unsigned int i = r->children->len; i-- > 0;) {
		pid_t pid = g_array_index(r->children, pid_t, i);
		pid_t rc = waitpid(pid, NULL, WNOHANG);

		if (rc == pid || (rc < 0 && errno != EINTR))
			g_array_remove_index_fast(r->children, i);
	}
}

static gpointer release_main(gpointer data)
{
	struct release *r = data;
	struct job *j;

	for (;;) {
		j = r->children->len
			? g_async_queue_timeout_pop(r->jobs, REAP_INTERVAL_US)
			: g_async_queue_pop(r->jobs);
		if (j == &stop)
			break;
		if (j) {
			run(r, j);
			job_free(j);
		}
		reap(r);
	}
	reap(r);
	return NULL;
}

struct release *release_new(void)
{
	struct release *r = g_new0(struct release, 1);

	r->jobs = g_async_queue_new();
	r->children = g_array_new(FALSE, FALSE, sizeof(pid_t));
	r->thread = g_thread_new("release", release_main, r);
	return r;
}

void release_free(struct release *r)
{
	struct job *j;

	if (!r)
		return;
	g_async_queue_push(r->jobs, &stop);
	g_thread_join(r->thread);
	while ((j = g_async_queue_try_pop(r->jobs)))
		job_free(j);
	g_async_queue_unref(r->jobs);
	g_array_free(r->children, TRUE);
	g_free(r);
}

void release_queue(struct release *r, const char *agent, const char *path)
{
	struct job *j = g_new(struct job, 1);

	j->agent = g_strdup(agent);
	j->path = g_strdup(path);
	g_async_queue_push(r->jobs, j);
}

void release_collect(struct release *r, const char *agent, GPtrArray *paths)
{
	if (r && agent && *agent)
		for (unsigned int i = 0; i < paths->len; i++)
			release_queue(r, agent, paths->pdata[i]);
	g_ptr_array_set_size(paths, 0);
}
