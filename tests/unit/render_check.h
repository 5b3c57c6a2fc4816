/* render_check.h - what a group's file reads in a snapshot, as a check. */
#ifndef CPUACCTFS_RENDER_CHECK_H
#define CPUACCTFS_RENDER_CHECK_H

#include <check.h>

#include "files.h"

static inline char *render(struct snapshot *snap, unsigned int id,
			   enum cg_file f)
{
	GString *out = g_string_new(NULL);

	files_render(snap, snapshot_group(snap, id), f, NULL, out);
	return g_string_free(out, FALSE);
}

#define ck_render(snap, id, f, want)                                           \
	do {                                                                   \
		g_autofree char *got = render(snap, id, f);                    \
		ck_assert_str_eq(got, want);                                   \
	} while (0)

#endif
