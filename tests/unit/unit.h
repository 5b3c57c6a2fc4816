/* unit.h - what every unit test program shares. */
#ifndef CPUACCTFS_UNIT_H
#define CPUACCTFS_UNIT_H

#include <check.h>
#include <stdlib.h>

/* Run a suite as the program's whole job: CK_VERBOSITY and CK_FORK come
 * from the environment (check.sh asks for verbose lines), the exit
 * status says whether every test passed. */
static inline int unit_run(Suite *suite)
{
	SRunner *runner = srunner_create(suite);
	int failed;

	srunner_run_all(runner, CK_ENV);
	failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
