/* test_fuzz.c - every fuzz target (tests/fuzz/targets.c) on inputs
 * mutated from its seeds by a fixed-seed generator, and every input kept
 * in tests/unit/fuzz-cases (crashes found before, libFuzzer's format: the
 * first byte picks the target).
 *
 * FUZZ_ITERS (default 3000 per target) and FUZZ_SEED change the run;
 * make fuzz runs it long when libFuzzer is not available.
 */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "../fuzz/targets.h"

#include "unit.h"

/* xorshift64*: the same inputs on every machine for a seed */
static uint64_t rng_state;

static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ULL;
}

static unsigned int below(unsigned int n)
{
	return (unsigned int)(rnd() % n);
}

/* Bytes the parsers care about, more often than chance gives them. */
static uint8_t interesting(void)
{
	static const char pick[] = "0123456789 \t\n\v\r+-xX%/aAfFzZ:.TsmhdS()";

	if (below(4) == 0)
		return (uint8_t)rnd();
	if (below(16) == 0)
		return below(2) ? 0 : 0xa0;
	return (uint8_t)pick[below(sizeof(pick) - 1)];
}

static void mutate(GByteArray *b)
{
	unsigned int at = b->len ? below(b->len) : 0;
	uint8_t c;

	switch (below(7)) {
	case 0:
		if (b->len)
			b->data[at] ^= 1u << below(8);
		break;
	case 1:
	case 2:
		c = interesting();
		g_byte_array_append(b, &c, 1);
		memmove(b->data + at + 1, b->data + at, b->len - at - 1);
		b->data[at] = c;
		break;
	case 3:
		if (b->len)
			g_byte_array_remove_index(b, at);
		break;
	case 4:
		if (b->len)
			b->data[at] = interesting();
		break;
	case 5: /* a run of one byte: long numbers, long names */
		c = interesting();
		for (unsigned int i = below(2) ? below(40) : below(5000); i;
		     i--)
			g_byte_array_append(b, &c, 1);
		break;
	default: /* duplicate a slice */
		if (b->len) {
			unsigned int n = below(b->len - at) + 1;
			g_autofree uint8_t *copy = g_memdup2(b->data + at, n);

			g_byte_array_append(b, copy, n);
		}
		break;
	}
}

static unsigned int iterations(void)
{
	const char *s = getenv("FUZZ_ITERS");

	return s ? (unsigned int)strtoul(s, NULL, 10) : 3000;
}

START_TEST(test_target)
{
	const struct fuzz_target *t = &fuzz_targets[_i];
	unsigned int nseeds = 0, iters = iterations();
	const char *seed = getenv("FUZZ_SEED");

	rng_state = (seed ? strtoull(seed, NULL, 10) : 12) * 7919 + _i + 1;
	while (t->seeds[nseeds])
		nseeds++;
	for (unsigned int i = 0; i < iters; i++) {
		g_autoptr(GByteArray) b = g_byte_array_new();
		const char *s = below(8) ? t->seeds[below(nseeds)] : "";

		g_byte_array_append(b, (const uint8_t *)s, strlen(s));
		for (unsigned int m = below(8) + 1; m; m--)
			mutate(b);
		t->run(b->data, b->len);
	}
}
END_TEST

/* Inputs that once crashed or broke a check: each must pass now. */
START_TEST(test_kept_cases)
{
	g_autoptr(GDir) dir = g_dir_open(FUZZ_CASES_DIR, 0, NULL);
	const char *name;
	unsigned int n = 0;

	ck_assert_msg(dir, "no %s", FUZZ_CASES_DIR);
	while ((name = g_dir_read_name(dir))) {
		g_autofree char *path =
		    g_build_filename(FUZZ_CASES_DIR, name, NULL);
		g_autofree char *data = NULL;
		gsize len;

		if (name[0] == '.' || !g_str_has_suffix(name, ".bin"))
			continue;
		ck_assert(g_file_get_contents(path, &data, &len, NULL));
		fuzz_one((const uint8_t *)data, len);
		n++;
	}
	ck_assert_uint_gt(n, 0);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("fuzz");
	TCase *tc = tcase_create("targets");

	tcase_set_timeout(tc, 600);
	tcase_add_loop_test(tc, test_target, 0, (int)fuzz_ntargets);
	tcase_add_test(tc, test_kept_cases);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(suite());
}
