/* parse.c - the kernel's parsers for writes to cpuacct control files.
 *
 * Each write is first turned into what kernfs hands a cgroup handler:
 * a NUL-terminated copy, so an embedded NUL ends the string early.
 * The number parsers then follow lib/kstrtox.c, including its quirks
 * (overflow wins over trailing garbage, "0x" with no hex digit is an
 * octal zero followed by garbage, "-0" is a valid signed zero).
 */
#include "parse.h"

#include <errno.h>
#include <glib.h>
#include <limits.h>
#include <string.h>

/* kernfs sets no per-name limit below the path one: the kernel creates
 * a group with a 4095-byte name (checked on 6.18), so only a name that
 * cannot form a path at all is too long. */
#define GROUP_NAME_MAX (PATH_MAX - 1)

/* The kernel's isspace(): its ctype table also marks Latin-1 NBSP. */
static bool kernel_isspace(unsigned char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r') || c == 0xa0;
}

/* The value of one digit in any base up to 16; 16 when not a digit. */
static unsigned digit_value(unsigned char c)
{
	unsigned char lower = c | 0x20;

	if (c >= '0' && c <= '9')
		return c - '0';
	if (lower >= 'a' && lower <= 'f')
		return lower - 'a' + 10;
	return 16;
}

/* Base 0: "0x" switches to hex only when a hex digit follows it. */
static const char *skip_radix_prefix(const char *s, unsigned *base)
{
	if (s[0] != '0') {
		*base = 10;
		return s;
	}
	if ((s[1] | 0x20) == 'x' && digit_value(s[2]) < 16) {
		*base = 16;
		return s + 2;
	}
	*base = 8;
	return s;
}

/* kstrtoull() minus the '+': the part kstrtoll() reuses after a '-'. */
static int parse_unsigned_body(const char *s, uint64_t *value)
{
	unsigned base, digit;
	uint64_t acc = 0;
	bool overflow = false;
	const char *p = skip_radix_prefix(s, &base);
	const char *digits = p;

	for (; (digit = digit_value(*p)) < base; p++) {
		if (acc > (UINT64_MAX - digit) / base)
			overflow = true;
		acc = acc * base + digit;
	}
	/* The kernel reports overflow before looking at what follows. */
	if (overflow)
		return -ERANGE;
	if (p == digits)
		return -EINVAL;
	if (*p == '\n')
		p++;
	if (*p)
		return -EINVAL;
	*value = acc;
	return 0;
}

int parse_kstrtoull(const char *s, uint64_t *value)
{
	if (s[0] == '+')
		s++;
	return parse_unsigned_body(s, value);
}

/* kstrtoint(s, 0): a '-' may not be followed by a '+'. */
static int parse_kstrtoint(const char *s, int *value)
{
	uint64_t magnitude;
	int err;

	if (s[0] != '-') {
		err = parse_kstrtoull(s, &magnitude);
		if (err)
			return err;
		if (magnitude > INT_MAX)
			return -ERANGE;
		*value = (int)magnitude;
		return 0;
	}
	err = parse_unsigned_body(s + 1, &magnitude);
	if (err)
		return err;
	if (magnitude > (uint64_t)INT_MAX + 1)
		return -ERANGE;
	*value = (int)-(int64_t)magnitude;
	return 0;
}

/* What kernfs checks before any handler runs. */
static int check_write_len(size_t len, size_t max)
{
	return len > max ? -E2BIG : 0;
}

/* The handler's view of the bytes: a copy that ends at the first NUL. */
static char *copy_write(const char *buf, size_t len)
{
	return g_strndup(buf, len);
}

/* The kernel's strstrip(): trims in place, returns the first kept byte. */
static char *strip_spaces(char *s)
{
	size_t end = strlen(s);

	while (end > 0 && kernel_isspace(s[end - 1]))
		end--;
	s[end] = '\0';
	while (kernel_isspace(*s))
		s++;
	return s;
}

/* cpuacct.usage, notify_on_release, cgroup.clone_children: write_u64. */
static int parse_write_u64(const char *buf, size_t len, uint64_t *value)
{
	g_autofree char *text = NULL;
	int err = check_write_len(len, PARSE_MAX_WRITE);

	if (err)
		return err;
	text = copy_write(buf, len);
	return parse_kstrtoull(text, value);
}

int parse_usage_reset(const char *buf, size_t len)
{
	uint64_t value;
	int err;

	if (len == 0)
		return 0;
	err = parse_write_u64(buf, len, &value);
	if (err)
		return err;
	return value == 0 ? 0 : -EINVAL;
}

int parse_flag(const char *buf, size_t len, bool *value)
{
	uint64_t number;
	int err;

	if (len == 0)
		return 0;
	err = parse_write_u64(buf, len, &number);
	if (err)
		return err;
	*value = number != 0;
	return 0;
}

int parse_pid(const char *buf, size_t len, int *pid)
{
	g_autofree char *text = NULL;
	int value;
	int err = check_write_len(len, PARSE_MAX_WRITE);

	if (err)
		return err;
	if (len == 0) {
		*pid = -1;
		return 0;
	}
	text = copy_write(buf, len);
	/* The kernel folds ERANGE and negative ids into one EINVAL. */
	if (parse_kstrtoint(strip_spaces(text), &value) || value < 0)
		return -EINVAL;
	*pid = value;
	return 0;
}

int parse_release_agent(const char *buf, size_t len, char **path)
{
	g_autofree char *text = NULL;
	/* release_agent's limit is PATH_MAX - 1, so the path always fits. */
	int err = check_write_len(len, PARSE_MAX_WRITE - 1);

	if (err)
		return err;
	if (len == 0) {
		*path = NULL;
		return 0;
	}
	text = copy_write(buf, len);
	*path = g_strdup(strip_spaces(text));
	return 0;
}

int parse_group_name(const char *name)
{
	/* getname() rejects the path before cgroup_mkdir() sees a name. */
	if (strlen(name) > GROUP_NAME_MAX)
		return -ENAMETOOLONG;
	if (strchr(name, '\n'))
		return -EINVAL;
	return 0;
}
