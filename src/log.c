/* log.c - GLib log handler writing to stderr or syslog. */
#include <glib.h>
#include <stdio.h>
#include <syslog.h>

#include "log.h"

static bool log_to_syslog;
static bool log_debug;

static int syslog_priority(GLogLevelFlags level)
{
	if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL))
		return LOG_ERR;
	if (level & G_LOG_LEVEL_WARNING)
		return LOG_WARNING;
	if (level & (G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO))
		return LOG_INFO;
	return LOG_DEBUG;
}

static void log_handler(const char *domain, GLogLevelFlags level,
			const char *message, gpointer data)
{
	if ((level & G_LOG_LEVEL_DEBUG) && !log_debug)
		return;
	if (log_to_syslog)
		syslog(syslog_priority(level), "%s", message);
	else
		fprintf(stderr, "cpuacctfs: %s\n", message);
}

void log_setup(bool to_syslog, bool debug)
{
	log_to_syslog = to_syslog;
	log_debug = debug;
	if (to_syslog)
		openlog("cpuacctfs", LOG_PID, LOG_DAEMON);
	g_log_set_default_handler(log_handler, NULL);
}
