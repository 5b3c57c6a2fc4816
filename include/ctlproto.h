/* ctlproto.h - what cpuacctfs and cpuacctctl say over the control socket.
 *
 * The socket is MOUNT.ctl beside the mount point (/run/cpuacctfs.ctl for
 * /run/cpuacctfs): found from the mount path alone, outside the mounted
 * tree, which stays exactly the kernel's. One request per connection:
 * a line "COMMAND ARGS...", answered by "ok" or "err MESSAGE", lines of
 * data, and a line "." (CTL_END). Group paths travel percent-escaped
 * (bytes below '!', '%' and DEL), so a line never breaks inside one.
 */
#ifndef CPUACCTFS_CTLPROTO_H
#define CPUACCTFS_CTLPROTO_H

#include <glib.h>
#include <stdbool.h>
#include <sys/types.h>
#include <sys/un.h>

#define CTL_SUFFIX ".ctl"
#define CTL_END "."
#define CTL_LINE_MAX 4096

/* MOUNT.ctl into addr; -ENAMETOOLONG when it does not fit sun_path. */
int ctl_socket_addr(const char *mount, struct sockaddr_un *addr);

/* Percent-escape a path for a protocol line, and back; unescape
 * returns NULL on a malformed escape. */
char *ctl_escape(const char *path);
char *ctl_unescape(const char *text);

/* --ctl-group: a group name or number. */
bool ctl_parse_gid(const char *name, gid_t *gid);

#endif
