/* ctltime.c - parsing durations and times, formatting times. */
#include <errno.h>
#include <glib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ctltime.h"
#include "history.h"

#define NS_PER_S 1000000000LL

static const struct {
	const char *name;
	double ns;
} units[] = {
    {"ms", 1e6},   {"s", 1e9},	  {"sec", 1e9},	  {"m", 60e9},
    {"min", 60e9}, {"h", 3600e9}, {"d", 86400e9},
};

int ctl_parse_duration(const char *text, int64_t *ns)
{
	char *end;
	double v, scale = 1e9;

	if (!text || !g_ascii_isdigit(*text))
		return -EINVAL; /* no sign, no blank, no "inf" */
	v = g_ascii_strtod(text, &end);
	if (end == text || !isfinite(v))
		return -EINVAL;
	if (*end) {
		unsigned int i;

		for (i = 0; i < G_N_ELEMENTS(units); i++)
			if (strcmp(end, units[i].name) == 0)
				break;
		if (i == G_N_ELEMENTS(units))
			return -EINVAL;
		scale = units[i].ns;
	}
	v *= scale;
	/* ten years is more than any history holds */
	if (v > 3650 * 86400e9)
		return -EINVAL;
	*ns = (int64_t)llround(v);
	return 0;
}

int ctl_parse_when(const char *text, int64_t now_wall_ns, int64_t *wall_ns)
{
	g_autoptr(GDateTime) dt = NULL;
	int64_t age;

	if (ctl_parse_duration(text, &age) == 0) {
		*wall_ns = now_wall_ns - age;
		return 0;
	}
	/* RFC 3339 wants an offset: without one the time is ambiguous */
	if (!text || !strchr(text, 'T') ||
	    !(g_str_has_suffix(text, "Z") || g_str_has_suffix(text, "z") ||
	      strchr(strchr(text, 'T'), '+') || strchr(strchr(text, 'T'), '-')))
		return -EINVAL;
	dt = g_date_time_new_from_iso8601(text, NULL);
	if (!dt)
		return -EINVAL;
	*wall_ns = g_date_time_to_unix(dt) * NS_PER_S +
		   (int64_t)g_date_time_get_microsecond(dt) * 1000;
	return 0;
}

char *ctl_format_time(int64_t wall_ns)
{
	int64_t s = wall_ns / NS_PER_S, ms = (wall_ns % NS_PER_S) / 1000000;
	g_autoptr(GDateTime) dt = NULL;
	g_autofree char *base = NULL;

	if (ms < 0) {
		s--;
		ms += 1000;
	}
	dt = g_date_time_new_from_unix_utc(s);
	if (!dt)
		return g_strdup("?");
	base = g_date_time_format(dt, "%Y-%m-%dT%H:%M:%S");
	return g_strdup_printf("%s.%03dZ", base, (int)ms);
}

double ctl_pct(uint64_t a, uint64_t b, int64_t dt_ns)
{
	if (dt_ns <= 0)
		return 0.0;
	return (double)hist_growth(a, b) * 100.0 / (double)dt_ns;
}
