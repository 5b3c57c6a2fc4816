/* render.c - the kernel's cpuacct text formats, byte for byte.
 *
 * Consumers (OpenJDK, runc, containerd) split these files on single
 * spaces and newlines, so a stray or missing space breaks them: the
 * per-CPU lists keep the kernel's trailing space, usage_all rows do not.
 */
#include "render.h"

#include <inttypes.h>

void render_u64(GString *out, uint64_t value)
{
	g_string_append_printf(out, "%" PRIu64 "\n", value);
}

void render_percpu(GString *out, const uint64_t *values, unsigned n)
{
	for (unsigned cpu = 0; cpu < n; cpu++)
		g_string_append_printf(out, "%" PRIu64 " ", values[cpu]);
	g_string_append_c(out, '\n');
}

void render_usage_all(GString *out, const uint64_t *user, const uint64_t *sys,
		      unsigned n)
{
	g_string_append(out, "cpu user system\n");
	for (unsigned cpu = 0; cpu < n; cpu++)
		g_string_append_printf(out, "%u %" PRIu64 " %" PRIu64 "\n", cpu,
				       user[cpu], sys[cpu]);
}

void render_stat(GString *out, uint64_t user_ticks, uint64_t system_ticks)
{
	g_string_append_printf(out, "user %" PRIu64 "\nsystem %" PRIu64 "\n",
			       user_ticks, system_ticks);
}

void render_ids(GString *out, const int *ids, size_t n)
{
	for (size_t i = 0; i < n; i++)
		g_string_append_printf(out, "%d\n", ids[i]);
}

void render_flag(GString *out, bool value)
{
	g_string_append(out, value ? "1\n" : "0\n");
}

void render_line(GString *out, const char *text)
{
	g_string_append(out, text);
	g_string_append_c(out, '\n');
}
