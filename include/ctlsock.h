/* ctlsock.h - the daemon's control socket (ctlproto.h), on its own thread.
 *
 * Only root may ask, or members of the group given to ctlsock_open (the
 * socket file is then that group's, mode 0660); every connection's peer
 * credentials are checked again (SO_PEERCRED), so a request that gets
 * through a looser file mode is still refused, with a message. Each
 * connection is answered on a thread of its own (at most
 * CTLSOCK_MAX_CLIENTS at once, each with 5 s timeouts), from published
 * snapshots only: a slow client never holds up the sampler or a FUSE
 * reader.
 */
#ifndef CPUACCTFS_CTLSOCK_H
#define CPUACCTFS_CTLSOCK_H

#include <stdbool.h>
#include <sys/types.h>

#include "sampler.h"

#define CTLSOCK_MAX_CLIENTS 16

struct ctlsock;

/* Bind MOUNT.ctl and start serving; ctl_gid < 0: root only. NULL and
 * *err = -errno on failure. */
struct ctlsock *ctlsock_open(struct sampler *s, const char *mount,
			     unsigned int interval_ms, gid_t ctl_gid,
			     bool have_gid, int *err);
void ctlsock_close(struct ctlsock *cs); /* stops, unlinks the socket */

/* Whether a peer may ask: root, or a member of gid when have_gid.
 * groups: the peer's supplementary groups. */
bool ctlsock_allowed(uid_t uid, gid_t gid, const gid_t *groups, int ngroups,
		     gid_t ctl_gid, bool have_gid);

#endif
