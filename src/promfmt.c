/* promfmt.c - the metrics text. */
#include <inttypes.h>

#include "promfmt.h"

void promfmt_label(GString *out, const char *value)
{
	g_string_append_c(out, '"');
	for (const char *p = value; *p; p++) {
		if (*p == '\\')
			g_string_append(out, "\\\\");
		else if (*p == '"')
			g_string_append(out, "\\\"");
		else if (*p == '\n')
			g_string_append(out, "\\n");
		else
			g_string_append_c(out, *p);
	}
	g_string_append_c(out, '"');
}

/* ns as seconds, exactly: 1500000001 -> 1.500000001 */
static void seconds(GString *out, uint64_t ns)
{
	g_string_append_printf(out, "%" PRIu64 ".%09" PRIu64 "\n",
			       ns / 1000000000, ns % 1000000000);
}

static void head(GString *out, const char *name, const char *type,
		 const char *help)
{
	g_string_append_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help,
			       name, type);
}

static void sample_start(GString *out, const char *name,
			 const struct ctl_group *g)
{
	g_string_append_printf(out, "%s{group=", name);
	promfmt_label(out, g->path);
}

static void per_cpu(GString *out, const struct ctl_groups *gs, const char *name,
		    const char *mode, size_t field)
{
	for (guint i = 0; i < gs->groups->len; i++) {
		const struct ctl_group *g = gs->groups->pdata[i];
		const uint64_t *v =
		    *(uint64_t *const *)((const char *)g + field);

		for (unsigned int cpu = 0; cpu < gs->ncpu; cpu++) {
			sample_start(out, name, g);
			g_string_append_printf(out, ",cpu=\"%u\"", cpu);
			if (mode)
				g_string_append_printf(out, ",mode=\"%s\"",
						       mode);
			g_string_append(out, "} ");
			seconds(out, v[cpu]);
		}
	}
}

static void gauge(GString *out, const struct ctl_groups *gs, const char *name,
		  gboolean procs)
{
	for (guint i = 0; i < gs->groups->len; i++) {
		const struct ctl_group *g = gs->groups->pdata[i];

		sample_start(out, name, g);
		g_string_append_printf(out, "} %u\n",
				       procs ? g->procs : g->threads);
	}
}

void promfmt_groups(const struct ctl_groups *gs, double lag_s, GString *out)
{
	head(out, "cpuacct_usage_seconds_total", "counter",
	     "CPU time of the group's tasks on each CPU by mode, from their "
	     "tick counts (cpuacct.usage_percpu_user and _sys).");
	per_cpu(out, gs, "cpuacct_usage_seconds_total", "user",
		G_STRUCT_OFFSET(struct ctl_group, cpu_user));
	per_cpu(out, gs, "cpuacct_usage_seconds_total", "system",
		G_STRUCT_OFFSET(struct ctl_group, cpu_sys));
	head(out, "cpuacct_runtime_seconds_total", "counter",
	     "CPU time the scheduler charged to the group's tasks on each "
	     "CPU (cpuacct.usage_percpu).");
	per_cpu(out, gs, "cpuacct_runtime_seconds_total", NULL,
		G_STRUCT_OFFSET(struct ctl_group, cpu_usage));
	head(out, "cpuacct_tasks", "gauge",
	     "Threads in the group (its tasks file).");
	gauge(out, gs, "cpuacct_tasks", FALSE);
	head(out, "cpuacct_processes", "gauge",
	     "Processes in the group (its cgroup.procs file).");
	gauge(out, gs, "cpuacct_processes", TRUE);
	head(out, "cpuacctfs_lag_seconds", "gauge",
	     "How old the daemon's newest numbers were when read.");
	g_string_append_printf(out, "cpuacctfs_lag_seconds %.6f\n", lag_s);
}
