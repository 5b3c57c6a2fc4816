/* targets.h - fuzz targets: every parser of untrusted bytes and every
 * writable file's path into the tree, each checking what must hold for
 * any input (abort() otherwise), driven by libFuzzer (fuzz_main.c, make
 * fuzz) and by a seeded random driver (tests/unit/test_fuzz.c, make check).
 */
#ifndef CPUACCTFS_FUZZ_TARGETS_H
#define CPUACCTFS_FUZZ_TARGETS_H

#include <stddef.h>
#include <stdint.h>

struct fuzz_target {
	const char *name;
	void (*run)(const uint8_t *data, size_t len);
	const char *const *seeds; /* valid inputs to mutate, NULL-ended */
};

extern const struct fuzz_target fuzz_targets[];
extern const unsigned int fuzz_ntargets;

/* One input for libFuzzer: the first byte picks the target. */
void fuzz_one(const uint8_t *data, size_t len);

#endif
