/* test_parse.c - write parsers against errnos observed on the kernel.
 *
 * Every row below was written to a throwaway group of the real cgroup
 * v1 cpuacct hierarchy (kernel 6.18) and the kernel's answer recorded.
 * For tasks, "accepted" means the kernel went on to look the id up
 * (moved the writer, or ESRCH for an id that does not exist).
 */
#include <check.h>
#include <errno.h>
#include <glib.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"

#include "unit.h"

/* The bytes of one write(), embedded NULs included. */
#define BYTES(s) s, sizeof(s) - 1

struct u64_case {
	const char *bytes;
	size_t len;
	int err;
	uint64_t value; /* when err == 0 */
};

struct pid_case {
	const char *bytes;
	size_t len;
	int err;
	int pid; /* when err == 0 */
};

/* kstrtoull(s, 0): values checked where the kernel accepts the string. */
static const struct u64_case kstrtoull_cases[] = {
    {BYTES("0"), 0, 0},
    {BYTES("0\n"), 0, 0},
    {BYTES("00"), 0, 0},
    {BYTES("+0"), 0, 0},
    {BYTES("0x0"), 0, 0},
    {BYTES("0X0"), 0, 0},
    {BYTES("0x1f"), 0, 31},
    {BYTES("0XaB"), 0, 171},
    {BYTES("07"), 0, 7},
    {BYTES("010"), 0, 8},
    {BYTES("5"), 0, 5},
    {BYTES("18446744073709551615"), 0, UINT64_MAX},
    {BYTES("0xffffffffffffffff"), 0, UINT64_MAX},
    {BYTES("01777777777777777777777"), 0, UINT64_MAX},
    {BYTES("0x"), -EINVAL, 0},
    {BYTES("0x\n"), -EINVAL, 0},
    {BYTES("0xg"), -EINVAL, 0},
    {BYTES("08"), -EINVAL, 0},
    {BYTES("-1"), -EINVAL, 0},
    {BYTES("-0"), -EINVAL, 0},
    {BYTES("+-0"), -EINVAL, 0},
    {BYTES("++0"), -EINVAL, 0},
    {BYTES("+"), -EINVAL, 0},
    {BYTES("-"), -EINVAL, 0},
    {BYTES("\n"), -EINVAL, 0},
    {BYTES("0\n\n"), -EINVAL, 0},
    {BYTES("0\r"), -EINVAL, 0},
    {BYTES("0 "), -EINVAL, 0},
    {BYTES(" 0"), -EINVAL, 0},
    {BYTES("\t0"), -EINVAL, 0},
    {BYTES("1 2"), -EINVAL, 0},
    {BYTES("1a"), -EINVAL, 0},
    {BYTES("garbage"), -EINVAL, 0},
    {BYTES("18446744073709551616"), -ERANGE, 0},
    {BYTES("0x10000000000000000"), -ERANGE, 0},
    {BYTES("02000000000000000000000"), -ERANGE, 0},
    /* Overflow is reported before the trailing garbage is seen. */
    {BYTES("99999999999999999999x"), -ERANGE, 0},
    {BYTES("0x1ffffffffffffffffg"), -ERANGE, 0},
};

/* cpuacct.usage: write_u64 without strstrip, then only zero is valid. */
static const struct u64_case usage_cases[] = {
    {BYTES("0"), 0, 0},
    {BYTES("0\n"), 0, 0},
    {BYTES("00"), 0, 0},
    {BYTES("+0"), 0, 0},
    {BYTES("0x0"), 0, 0},
    {BYTES("0X0"), 0, 0},
    {BYTES(""), 0, 0},
    /* kernfs hands over a C string: the first NUL ends it. */
    {BYTES("0\0garbage"), 0, 0},
    {BYTES("0\n\0x"), 0, 0},
    {BYTES("\0"), -EINVAL, 0},
    {BYTES("5"), -EINVAL, 0},
    {BYTES("1"), -EINVAL, 0},
    {BYTES("0x1f"), -EINVAL, 0},
    {BYTES("-1"), -EINVAL, 0},
    {BYTES("-0"), -EINVAL, 0},
    {BYTES("-+0"), -EINVAL, 0},
    {BYTES("garbage"), -EINVAL, 0},
    {BYTES("\n"), -EINVAL, 0},
    {BYTES("\n\n"), -EINVAL, 0},
    {BYTES("0\n\n"), -EINVAL, 0},
    {BYTES("0\r\n"), -EINVAL, 0},
    {BYTES("1 2"), -EINVAL, 0},
    {BYTES(" 0"), -EINVAL, 0},
    {BYTES("0 "), -EINVAL, 0},
    {BYTES("\v0\f"), -EINVAL, 0},
    {BYTES("\2400"), -EINVAL, 0},
    {BYTES("18446744073709551615"), -EINVAL, 0},
    {BYTES("18446744073709551616"), -ERANGE, 0},
    {BYTES("0x10000000000000000"), -ERANGE, 0},
    {BYTES("99999999999999999999x"), -ERANGE, 0},
};

/* notify_on_release, cgroup.clone_children: any u64, nonzero is true. */
static const struct u64_case flag_cases[] = {
    {BYTES("0"), 0, 0},
    {BYTES("1"), 0, 1},
    {BYTES("5\n"), 0, 1},
    {BYTES("+0"), 0, 0},
    {BYTES("0x0"), 0, 0},
    {BYTES("0XaB"), 0, 1},
    {BYTES("010"), 0, 1},
    {BYTES("4321\0junk"), 0, 1},
    {BYTES("18446744073709551615"), 0, 1},
    {BYTES("-1"), -EINVAL, 0},
    {BYTES("-0"), -EINVAL, 0},
    {BYTES("x"), -EINVAL, 0},
    {BYTES("\n"), -EINVAL, 0},
    {BYTES(" 1"), -EINVAL, 0},
    {BYTES("1 "), -EINVAL, 0},
    {BYTES("1\r\n"), -EINVAL, 0},
    {BYTES("08"), -EINVAL, 0},
    {BYTES("18446744073709551616"), -ERANGE, 0},
};

/* tasks, cgroup.procs: kstrtoint(strstrip(buf), 0), all errors EINVAL. */
static const struct pid_case pid_cases[] = {
    {BYTES("0"), 0, 0},
    {BYTES("+0"), 0, 0},
    {BYTES("0x0"), 0, 0},
    /* kstrtoll accepts a negative zero, so the writer is moved. */
    {BYTES("-0"), 0, 0},
    {BYTES("-00"), 0, 0},
    {BYTES("-0x0"), 0, 0},
    {BYTES("4321"), 0, 4321},
    {BYTES("4321\n"), 0, 4321},
    {BYTES(" 4321"), 0, 4321},
    {BYTES("4321 "), 0, 4321},
    {BYTES(" 4321 \n "), 0, 4321},
    {BYTES("+4321"), 0, 4321},
    {BYTES("0x10e1"), 0, 4321},
    {BYTES("0X10E1"), 0, 4321},
    {BYTES("+0x10e1"), 0, 4321},
    {BYTES("010341"), 0, 4321},
    {BYTES("004321"), 0, 2257},
    {BYTES("4321\n\n"), 0, 4321},
    {BYTES("4321\r\n"), 0, 4321},
    {BYTES("0\r"), 0, 0},
    {BYTES("\t4321\t"), 0, 4321},
    {BYTES("\v0\f"), 0, 0},
    /* The kernel's ctype marks \240 (0xa0, Latin-1 NBSP) as a space;
     * octal escapes stop after three digits. */
    {BYTES("\2404321\240"), 0, 4321},
    {BYTES("4321\0junk"), 0, 4321},
    {BYTES("0\n\0x"), 0, 0},
    {BYTES("2147483647"), 0, INT_MAX},
    {BYTES("99999999"), 0, 99999999},
    {BYTES("\2050"), -EINVAL, 0},
    {BYTES("\0004321"), -EINVAL, 0},
    {BYTES("\n"), -EINVAL, 0},
    {BYTES("\n\n"), -EINVAL, 0},
    {BYTES("-1"), -EINVAL, 0},
    {BYTES("-4321"), -EINVAL, 0},
    {BYTES("+-0"), -EINVAL, 0},
    {BYTES("-+0"), -EINVAL, 0},
    {BYTES("++0"), -EINVAL, 0},
    {BYTES("+"), -EINVAL, 0},
    {BYTES("-"), -EINVAL, 0},
    {BYTES("+ 4321"), -EINVAL, 0},
    {BYTES("- 4321"), -EINVAL, 0},
    {BYTES("0x"), -EINVAL, 0},
    {BYTES("0xg"), -EINVAL, 0},
    {BYTES("08"), -EINVAL, 0},
    {BYTES("1 2"), -EINVAL, 0},
    {BYTES("4321,"), -EINVAL, 0},
    {BYTES("4321 x"), -EINVAL, 0},
    {BYTES("4321\n0"), -EINVAL, 0},
    {BYTES("1a"), -EINVAL, 0},
    {BYTES("garbage"), -EINVAL, 0},
    {BYTES("2147483648"), -EINVAL, 0},
    {BYTES("-2147483648"), -EINVAL, 0},
    {BYTES("4294967296"), -EINVAL, 0},
    {BYTES("99999999999"), -EINVAL, 0},
    {BYTES("18446744073709551616"), -EINVAL, 0},
    {BYTES("-9223372036854775809"), -EINVAL, 0},
};

START_TEST(test_kstrtoull_table)
{
	const struct u64_case *c = &kstrtoull_cases[_i];
	g_autofree char *text = g_strndup(c->bytes, c->len);
	uint64_t value = 12345;

	ck_assert_msg(parse_kstrtoull(text, &value) == c->err, "case %d \"%s\"",
		      _i, text);
	if (c->err == 0)
		ck_assert_uint_eq(value, c->value);
	else
		ck_assert_uint_eq(value, 12345);
}
END_TEST

START_TEST(test_usage_reset_table)
{
	const struct u64_case *c = &usage_cases[_i];

	ck_assert_msg(parse_usage_reset(c->bytes, c->len) == c->err, "case %d",
		      _i);
}
END_TEST

START_TEST(test_flag_table)
{
	const struct u64_case *c = &flag_cases[_i];
	bool value = !c->value;

	ck_assert_msg(parse_flag(c->bytes, c->len, &value) == c->err, "case %d",
		      _i);
	if (c->err == 0)
		ck_assert_int_eq(value, c->value != 0);
}
END_TEST

START_TEST(test_pid_table)
{
	const struct pid_case *c = &pid_cases[_i];
	int pid = -42;

	ck_assert_msg(parse_pid(c->bytes, c->len, &pid) == c->err, "case %d",
		      _i);
	ck_assert_int_eq(pid, c->err ? -42 : c->pid);
}
END_TEST

/* A run of len bytes: fill, with prefix written over the start. */
static char *make_write(size_t len, char fill, const char *prefix)
{
	char *buf = g_malloc(len);

	memset(buf, fill, len);
	memcpy(buf, prefix, strlen(prefix));
	return buf;
}

START_TEST(test_size_limit)
{
	g_autofree char *zeros = make_write(8192, '0', "");
	g_autofree char *padded = make_write(8192, ' ', "4321");
	bool flag = false;
	int pid = -1;

	ck_assert_int_eq(parse_usage_reset(zeros, 4095), 0);
	ck_assert_int_eq(parse_usage_reset(zeros, 4096), 0);
	ck_assert_int_eq(parse_usage_reset(zeros, 4097), -E2BIG);
	ck_assert_int_eq(parse_usage_reset(zeros, 8192), -E2BIG);
	ck_assert_int_eq(parse_usage_reset(padded, 4096), -EINVAL);
	ck_assert_int_eq(parse_usage_reset(padded, 4097), -E2BIG);
	ck_assert_int_eq(parse_flag(zeros, 4096, &flag), 0);
	ck_assert_int_eq(parse_flag(zeros, 4097, &flag), -E2BIG);
	ck_assert_int_eq(parse_pid(padded, 4096, &pid), 0);
	ck_assert_int_eq(pid, 4321);
	ck_assert_int_eq(parse_pid(zeros, 4096, &pid), 0);
	ck_assert_int_eq(pid, 0);
	ck_assert_int_eq(parse_pid(padded, 4097, &pid), -E2BIG);
}
END_TEST

START_TEST(test_empty_write_changes_nothing)
{
	bool flag = true;
	int pid = 4321;

	ck_assert_int_eq(parse_usage_reset("5", 0), 0);
	ck_assert_int_eq(parse_flag("0", 0, &flag), 0);
	ck_assert(flag);
	ck_assert_int_eq(parse_pid("0", 0, &pid), 0);
	ck_assert_int_eq(pid, -1);
}
END_TEST

START_TEST(test_release_agent)
{
	g_autofree char *path = NULL;

	ck_assert_int_eq(parse_release_agent(BYTES(" /sbin/agent \n"), &path),
			 0);
	ck_assert_str_eq(path, "/sbin/agent");
}
END_TEST

START_TEST(test_release_agent_clear_and_nul)
{
	g_autofree char *cleared = NULL;
	g_autofree char *cut = NULL;

	ck_assert_int_eq(parse_release_agent(BYTES("\n"), &cleared), 0);
	ck_assert_str_eq(cleared, "");
	ck_assert_int_eq(parse_release_agent(BYTES("/a\0/b"), &cut), 0);
	ck_assert_str_eq(cut, "/a");
}
END_TEST

START_TEST(test_release_agent_limit)
{
	g_autofree char *long_path = make_write(4096, 'a', "/");
	g_autofree char *path = NULL;
	char *untouched = NULL;

	ck_assert_int_eq(parse_release_agent(long_path, 4096, &untouched),
			 -E2BIG);
	ck_assert_ptr_null(untouched);
	ck_assert_int_eq(parse_release_agent(long_path, 4095, &path), 0);
	ck_assert_uint_eq(strlen(path), 4095);
}
END_TEST

START_TEST(test_release_agent_empty_write)
{
	char *path = (char *)"unchanged";

	ck_assert_int_eq(parse_release_agent("", 0, &path), 0);
	ck_assert_ptr_null(path);
}
END_TEST

START_TEST(test_group_name)
{
	ck_assert_int_eq(parse_group_name("web"), 0);
	ck_assert_int_eq(parse_group_name("a b\tc"), 0);
	ck_assert_int_eq(parse_group_name("bad\nname"), -EINVAL);
	ck_assert_int_eq(parse_group_name("\n"), -EINVAL);
	ck_assert_int_eq(parse_group_name("name\n"), -EINVAL);
}
END_TEST

/* The kernel made groups with 256-, 300-, 1000- and 4095-byte names;
 * 4096 bytes failed with ENAMETOOLONG, 300 bytes with a newline with
 * EINVAL. */
START_TEST(test_group_name_length)
{
	static const struct {
		size_t len;
		bool newline;
		int err;
	} cases[] = {
	    {255, false, 0},
	    {256, false, 0},
	    {300, false, 0},
	    {1000, false, 0},
	    {4095, false, 0},
	    {4096, false, -ENAMETOOLONG},
	    {8000, false, -ENAMETOOLONG},
	    {300, true, -EINVAL},
	    {4095, true, -EINVAL},
	    {4096, true, -ENAMETOOLONG},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *name = make_write(cases[i].len + 1, 'n', "");

		name[cases[i].len] = '\0';
		if (cases[i].newline)
			name[0] = '\n';
		ck_assert_msg(parse_group_name(name) == cases[i].err,
			      "length %zu", cases[i].len);
	}
}
END_TEST

static Suite *parse_suite(void)
{
	Suite *suite = suite_create("parse");
	TCase *numbers = tcase_create("numbers");
	TCase *files = tcase_create("files");

	tcase_add_loop_test(numbers, test_kstrtoull_table, 0,
			    G_N_ELEMENTS(kstrtoull_cases));
	tcase_add_loop_test(numbers, test_usage_reset_table, 0,
			    G_N_ELEMENTS(usage_cases));
	tcase_add_loop_test(numbers, test_flag_table, 0,
			    G_N_ELEMENTS(flag_cases));
	tcase_add_loop_test(numbers, test_pid_table, 0,
			    G_N_ELEMENTS(pid_cases));
	tcase_add_test(files, test_size_limit);
	tcase_add_test(files, test_empty_write_changes_nothing);
	tcase_add_test(files, test_release_agent);
	tcase_add_test(files, test_release_agent_clear_and_nul);
	tcase_add_test(files, test_release_agent_limit);
	tcase_add_test(files, test_release_agent_empty_write);
	tcase_add_test(files, test_group_name);
	tcase_add_test(files, test_group_name_length);
	suite_add_tcase(suite, numbers);
	suite_add_tcase(suite, files);
	return suite;
}

int main(void)
{
	return unit_run(parse_suite());
}
