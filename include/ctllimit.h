/* ctllimit.h - the control socket's "limit" request: how many groups may
 * be made below a group (a tenant's bound on the daemon's memory).
 *
 *   limit PATH           "limit MAX NOW" (MAX: a number or "max")
 *   limit PATH VALUE     set it first; VALUE: a number, "max" (none) or
 *                        "default" (the daemon's --max-descendants)
 *
 * Unlike the other requests it changes the tree, so it takes the engine
 * lock, for one group, briefly; setting is for root only, not for the
 * --ctl-group.
 */
#ifndef CPUACCTFS_CTLLIMIT_H
#define CPUACCTFS_CTLLIMIT_H

#include <glib.h>
#include <stdbool.h>

#include "sampler.h"

/* Whether line is a limit request (then ctllimit_run answers it). */
bool ctllimit_is_request(const char *line);

/* Answer one limit request into out (ok/err, data, end line). root:
 * whether the peer may set limits. */
void ctllimit_run(struct sampler *s, const char *line, bool root, GString *out);

/* VALUE of a request: a number, "max" or "default"; -EINVAL otherwise. */
int ctllimit_parse(const char *text, unsigned int dflt, unsigned int *max);

#endif
