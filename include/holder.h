/* holder.h - the process that keeps the mount alive.
 *
 * It mounts, holds the connection's /dev/fuse file and the files a
 * server leaves for the next (the recorded INIT, the state checkpoint,
 * the in-kernel counters' maps and links), and runs the server as a
 * child: again at once when it dies, with the binary now on disk when
 * asked to reload (SIGHUP), and stops it and unmounts when asked to
 * stop (SIGTERM, SIGINT). It does nothing else, so it has little reason
 * to die itself; the kernel keeps the connection for as long as it
 * holds the file.
 *
 * The server learns what it inherits from CPUACCTFS_HOLDER (see
 * holder_env_parse) and talks back on a socket: "ready" once it serves,
 * and the fds of the in-kernel counters to keep (SCM_RIGHTS). A
 * reload's server says "prepared" and waits for "go" (holder_wait_go).
 */
#ifndef CPUACCTFS_HOLDER_H
#define CPUACCTFS_HOLDER_H

#include <stdbool.h>
#include <sys/types.h>

#define HOLDER_ENV "CPUACCTFS_HOLDER"

/* A server that exits with this asks to be started again (a reload). */
#define HOLDER_EXIT_RESTART 75

#define HOLDER_MAX_MAPS 16
#define HOLDER_MAX_LINKS 16
#define KEPT_NAME_MAX 16 /* a BPF object's name, NUL included */

/* In-kernel maps an earlier server made, by name. */
struct kept_maps {
	unsigned int n;
	char name[HOLDER_MAX_MAPS][KEPT_NAME_MAX];
	int fd[HOLDER_MAX_MAPS];
};

/* What a server inherits (-1: nothing). */
struct holder_env {
	int fuse_fd;
	int init_fd;
	int state_fd;
	int sock_fd;
	unsigned int generation; /* 1 for the first server of the mount */
	bool handover;		 /* a reload's: prepare, then holder_wait_go */
	struct kept_maps maps;	 /* in-kernel maps an earlier server made */
};

struct holder_config {
	char **argv; /* the server's command line (argv[0] aside) */
	const char *mountpoint;
	int fuse_fd; /* of the mounted connection */
	bool foreground;
	const char *pidfile; /* or NULL */
};

/* Run the server until the mount is stopped; the exit status. With
 * !foreground, the caller's parent process waits on ready_fd (see
 * main.c) and holder_run writes one byte there: 0 once the first server
 * serves, 1 if it could not. */
int holder_run(const struct holder_config *cfg, int ready_fd);

/* In a server: what the holder passed, or false if there is no holder
 * (the variable is removed from the environment, so children never see
 * it). */
bool holder_env_parse(struct holder_env *env);

/* In a server: tell the holder we serve (sock from holder_env). */
void holder_send_ready(int sock);

/* In a reload's server, prepared to serve: say so, and wait until the
 * server before us has saved its state and gone. False if the holder
 * says nothing of the kind (we are not needed). */
bool holder_wait_go(int sock);

/* In a server: hand the holder the in-kernel maps and links to keep
 * (replacing what it kept). */
void holder_send_kept(int sock, const struct kept_maps *maps,
		      const int *links, unsigned int nlinks);

#endif
