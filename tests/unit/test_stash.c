/* test_stash.c - checkpoints that a kill at any moment cannot tear. */
#include <check.h>
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#include "stash.h"

#include "unit.h"

static int fd;

static void setup(void)
{
	fd = memfd_create("test-stash", 0);
	ck_assert_int_ge(fd, 0);
}

static void teardown(void)
{
	close(fd);
}

static void check_current(const char *want)
{
	int err = -1;
	g_autoptr(GBytes) b = stash_read(fd, &err);
	size_t len;
	const char *data;

	ck_assert_int_eq(err, 0);
	ck_assert_ptr_nonnull(b);
	data = g_bytes_get_data(b, &len);
	ck_assert_uint_eq(len, strlen(want));
	ck_assert(memcmp(data, want, len) == 0);
}

START_TEST(test_empty_is_no_checkpoint)
{
	int err = -1;

	ck_assert_ptr_null(stash_read(fd, &err));
	ck_assert_int_eq(err, 0);
}
END_TEST

START_TEST(test_newest_wins_whatever_the_sizes)
{
	const char *texts[] = {"one", "a longer second one", "3",
			       "and a fourth, longer than all before it", ""};

	for (unsigned int i = 0; i < G_N_ELEMENTS(texts); i++) {
		ck_assert_int_eq(stash_write(fd, texts[i], strlen(texts[i])),
				 0);
		check_current(texts[i]);
	}
}
END_TEST

/* A writer killed after its data but before the header: the previous
 * checkpoint is still the current one, whole. */
START_TEST(test_torn_write_keeps_previous)
{
	char garbage[64];

	ck_assert_int_eq(stash_write(fd, "first", 5), 0);
	ck_assert_int_eq(stash_write(fd, "second", 6), 0);
	memset(garbage, 'x', sizeof(garbage));
	/* where the next write would go: before "second" if it fits, which
	 * it does not here, so past it */
	ck_assert_int_eq(pwrite(fd, garbage, sizeof(garbage), 4096 + 5 + 6),
			 (ssize_t)sizeof(garbage));
	check_current("second");
}
END_TEST

START_TEST(test_damage_is_refused)
{
	int err = 0;

	ck_assert_int_eq(stash_write(fd, "precious", 8), 0);
	ck_assert_int_eq(pwrite(fd, "X", 1, 4096), 1);
	ck_assert_ptr_null(stash_read(fd, &err));
	ck_assert_int_eq(err, -EBADMSG);
	/* not even a header */
	ck_assert_int_eq(ftruncate(fd, 0), 0);
	ck_assert_int_eq(pwrite(fd, "garbage!", 8, 0), 8);
	ck_assert_ptr_null(stash_read(fd, &err));
	ck_assert_int_eq(err, -EBADMSG);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("stash");
	TCase *tc = tcase_create("stash");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_empty_is_no_checkpoint);
	tcase_add_test(tc, test_newest_wins_whatever_the_sizes);
	tcase_add_test(tc, test_torn_write_keeps_previous);
	tcase_add_test(tc, test_damage_is_refused);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
