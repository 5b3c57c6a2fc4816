/* test_pace.c - the sampler's timer stretched while nothing changes. */
#include <check.h>

#include "pace.h"
#include "unit.h"

static struct pace p;

static void setup(void)
{
	pace_init(&p, 100);
}

/* Passes with nothing new outside the root until a second went by. */
static unsigned int quiet_second(void)
{
	unsigned int ms = 0;

	for (int i = 0; i < PACE_QUIET_MS / 100; i++)
		ms = pace_after_pass(
		    &p, i % 2 ? ENGINE_WORK_ROOT : ENGINE_WORK_NONE, 0, 100);
	return ms;
}

START_TEST(test_stretched_after_a_quiet_second)
{
	ck_assert(!pace_stretched(&p));
	for (int i = 0; i < PACE_QUIET_MS / 100 - 1; i++)
		ck_assert_uint_eq(pace_after_pass(&p, ENGINE_WORK_ROOT, 0, 100),
				  100);
	ck_assert_uint_eq(pace_after_pass(&p, ENGINE_WORK_NONE, 0, 100),
			  PACE_IDLE_MS);
	ck_assert(pace_stretched(&p));
	/* and stays so */
	ck_assert_uint_eq(
	    pace_after_pass(&p, ENGINE_WORK_ROOT, 0, PACE_IDLE_MS),
	    PACE_IDLE_MS);
}
END_TEST

START_TEST(test_a_group_change_brings_the_interval_back)
{
	ck_assert_uint_eq(quiet_second(), PACE_IDLE_MS);
	ck_assert_uint_eq(pace_after_pass(&p, ENGINE_WORK_ALL, 0, PACE_IDLE_MS),
			  100);
	ck_assert(!pace_stretched(&p));
	/* a change half way through a quiet second starts it again */
	for (int i = 0; i < 5; i++)
		pace_after_pass(&p, ENGINE_WORK_NONE, 0, 100);
	pace_after_pass(&p, ENGINE_WORK_ALL, 0, 100);
	for (int i = 0; i < PACE_QUIET_MS / 100 - 1; i++)
		ck_assert_uint_eq(pace_after_pass(&p, ENGINE_WORK_NONE, 0, 100),
				  100);
}
END_TEST

START_TEST(test_events_beyond_a_trickle)
{
	ck_assert_uint_eq(quiet_second(), PACE_IDLE_MS);
	/* the host's trickle, over a stretched period */
	ck_assert_uint_eq(pace_after_pass(&p, ENGINE_WORK_ROOT,
					  PACE_QUIET_EVENTS, PACE_IDLE_MS),
			  PACE_IDLE_MS);
	ck_assert_uint_eq(pace_after_events(&p, PACE_BURST_EVENTS),
			  PACE_IDLE_MS);
	/* a burst between passes */
	ck_assert_uint_eq(pace_after_events(&p, PACE_BURST_EVENTS + 1), 100);
	ck_assert_uint_eq(quiet_second(), PACE_IDLE_MS);
	/* more than the trickle's rate over a pass */
	ck_assert_uint_eq(pace_after_pass(&p, ENGINE_WORK_ROOT,
					  PACE_QUIET_EVENTS + 1, PACE_IDLE_MS),
			  100);
	/* the same rate at the interval */
	ck_assert_uint_eq(pace_after_pass(&p, ENGINE_WORK_NONE,
					  PACE_QUIET_EVENTS / 10 + 1, 100),
			  100);
	ck_assert_uint_eq(p.quiet_ms, 0);
}
END_TEST

START_TEST(test_a_command_brings_the_interval_back)
{
	ck_assert_uint_eq(quiet_second(), PACE_IDLE_MS);
	ck_assert_uint_eq(pace_after_command(&p), 100);
	ck_assert(!pace_stretched(&p));
}
END_TEST

START_TEST(test_long_interval_never_stretched)
{
	pace_init(&p, 2000);
	for (int i = 0; i < 5; i++)
		ck_assert_uint_eq(
		    pace_after_pass(&p, ENGINE_WORK_NONE, 0, 2000), 2000);
	ck_assert(!pace_stretched(&p));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pace");
	TCase *tc = tcase_create("pace");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_stretched_after_a_quiet_second);
	tcase_add_test(tc, test_a_group_change_brings_the_interval_back);
	tcase_add_test(tc, test_events_beyond_a_trickle);
	tcase_add_test(tc, test_a_command_brings_the_interval_back);
	tcase_add_test(tc, test_long_interval_never_stretched);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
