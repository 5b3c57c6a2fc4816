/* resuid RUID EUID SUID SECONDS: take these real, effective and saved uids
 * (setresuid(2)), then sleep. Not a wrapper around a command: execve(2)
 * copies the effective uid to the saved one. */
#define _GNU_SOURCE
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: resuid RUID EUID SUID SECONDS\n");
		return 2;
	}
	if (setgroups(0, NULL) ||
	    setresuid(atoi(argv[1]), atoi(argv[2]), atoi(argv[3]))) {
		perror("resuid");
		return 1;
	}
	sleep(atoi(argv[4]));
	return 0;
}
