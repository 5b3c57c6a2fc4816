/* ctllimit.c - limits on the groups below a group, set over the control
 * socket: the tree itself must read like the kernel's, file for file, so
 * the host sets them here rather than in a file of the tree. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ctlcmd.h"
#include "ctllimit.h"
#include "ctlproto.h"
#include "engine.h"

#define LIMIT_WORD "limit"

bool ctllimit_is_request(const char *line)
{
	size_t n = strlen(LIMIT_WORD);

	return strncmp(line, LIMIT_WORD, n) == 0 &&
	       (line[n] == ' ' || !line[n]);
}

int ctllimit_parse(const char *text, unsigned int dflt, unsigned int *max)
{
	unsigned long v;
	char *end;

	if (strcmp(text, "max") == 0) {
		*max = GROUP_NO_LIMIT;
		return 0;
	}
	if (strcmp(text, "default") == 0) {
		*max = dflt;
		return 0;
	}
	if (*text < '0' || *text > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(text, &end, 10);
	if (errno || *end || v >= GROUP_NO_LIMIT)
		return -EINVAL;
	*max = v;
	return 0;
}

/* The group at path in the engine's tree (engine lock held). */
static struct group *tree_lookup(struct group_tree *tree, const char *path)
{
	g_auto(GStrv) parts = g_strsplit(path, "/", -1);
	struct group *g = group_root(tree);

	for (int i = 0; g && parts[i]; i++)
		if (*parts[i] && strcmp(parts[i], ".") != 0)
			g = group_child(g, parts[i]);
	return g;
}

static void err(GString *out, const char *msg, const char *path)
{
	g_string_printf(out, "err %s%s\n" CTL_END "\n", msg, path ? path : "");
}

static void answer(GString *out, const struct group *g)
{
	g_string_printf(out, "ok\n");
	if (g->max_descendants == GROUP_NO_LIMIT)
		g_string_append_printf(out, "limit max %u\n", g->ndescendants);
	else
		g_string_append_printf(out, "limit %u %u\n", g->max_descendants,
				       g->ndescendants);
	g_string_append(out, CTL_END "\n");
}

void ctllimit_run(struct sampler *s, const char *line, bool root, GString *out)
{
	g_auto(GStrv) argv = g_strsplit(line, " ", -1);
	int argc = g_strv_length(argv);
	g_autofree char *path = NULL;
	struct group_tree *tree;
	struct group *g;
	unsigned int max = 0;

	if (argc < 2 || argc > 3 || !(path = ctl_unescape(argv[1])))
		return err(out, "malformed limit request", NULL);
	if (argc == 3 && !root)
		return err(out, "permission denied: only root may set limits",
			   NULL);
	tree = engine_tree(sampler_lock(s));
	g = tree_lookup(tree, path);
	if (g && argc == 3 &&
	    ctllimit_parse(argv[2], tree->default_max_descendants, &max)) {
		sampler_unlock(s);
		return err(out, "a limit is a number of groups, max or default",
			   NULL);
	}
	if (g && argc == 3)
		group_set_max_descendants(g, max);
	if (g)
		answer(out, g);
	else
		err(out, "no group ", *path ? path : "/");
	sampler_unlock(s);
}
