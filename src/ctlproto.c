/* ctlproto.c - the control socket's address and path escaping. */
#include <errno.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ctlproto.h"

int ctl_socket_addr(const char *mount, struct sockaddr_un *addr)
{
	size_t len = strlen(mount);

	/* "/" + ".ctl" would be "/.ctl": a trailing slash is not part of
	 * the name */
	while (len > 1 && mount[len - 1] == '/')
		len--;
	if (len + strlen(CTL_SUFFIX) >= sizeof(addr->sun_path))
		return -ENAMETOOLONG;
	memset(addr, 0, sizeof(*addr));
	addr->sun_family = AF_UNIX;
	memcpy(addr->sun_path, mount, len);
	strcpy(addr->sun_path + len, CTL_SUFFIX);
	return 0;
}

static bool needs_escape(unsigned char c)
{
	return c <= ' ' || c == '%' || c == 0x7f;
}

char *ctl_escape(const char *path)
{
	GString *out = g_string_sized_new(strlen(path) + 8);

	for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
		if (needs_escape(*p))
			g_string_append_printf(out, "%%%02X", *p);
		else
			g_string_append_c(out, (char)*p);
	}
	return g_string_free(out, FALSE);
}

char *ctl_unescape(const char *text)
{
	GString *out = g_string_sized_new(strlen(text));

	for (const char *p = text; *p; p++) {
		int hi, lo;

		if (*p != '%') {
			g_string_append_c(out, *p);
			continue;
		}
		hi = g_ascii_xdigit_value(p[1]);
		lo = hi < 0 ? -1 : g_ascii_xdigit_value(p[2]);
		if (lo < 0 || (hi == 0 && lo == 0)) {
			g_string_free(out, TRUE);
			return NULL;
		}
		g_string_append_c(out, (char)(hi * 16 + lo));
		p += 2;
	}
	return g_string_free(out, FALSE);
}

bool ctl_parse_gid(const char *name, gid_t *gid)
{
	struct group *gr = getgrnam(name);
	char *end;

	if (gr) {
		*gid = gr->gr_gid;
		return true;
	}
	*gid = (gid_t)strtoul(name, &end, 10);
	return *name && !*end;
}
