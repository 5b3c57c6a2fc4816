/* log.h - where the daemon's messages go.
 *
 * Everything logs through GLib (g_warning, g_message, g_debug); this
 * module only decides the destination: stderr in the foreground,
 * syslog once daemonized.
 */
#ifndef CPUACCTFS_LOG_H
#define CPUACCTFS_LOG_H

#include <stdbool.h>

void log_setup(bool to_syslog, bool debug);

#endif
