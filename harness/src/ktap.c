// SPDX-License-Identifier: MIT
/*
 * KTAP v1 on stdout, one block per suite, flushed per test so a person or
 * the runner (over a VM console) follows the run live.
 */
#include <stdio.h>

#include "internal.h"

void rg_ktap_begin(size_t n_suites)
{
	printf("KTAP version 1\n1..%zu\n", n_suites);
	fflush(stdout);
}

void rg_ktap_suite_begin(const char *suite, size_t n_tests)
{
	printf("    KTAP version 1\n    # Subtest: %s\n    1..%zu\n", suite,
	       n_tests);
	fflush(stdout);
}

void rg_ktap_test(const struct rg_result *res, size_t number)
{
	const char *name = res->test->name;

	switch (res->outcome) {
	case RG_PASS:
		printf("    ok %zu %s\n", number, name);
		break;
	case RG_SKIP:
		printf("    ok %zu %s # SKIP %s\n", number, name, res->reason);
		break;
	case RG_UNSUPPORTED:
		printf("    ok %zu %s # SKIP UNSUPPORTED: %s\n", number, name,
		       res->reason);
		break;
	case RG_XFAIL:
		printf("    ok %zu %s # XFAIL %s\n", number, name, res->reason);
		break;
	case RG_FAIL:
		printf("    not ok %zu %s\n", number, name);
		break;
	default:
		printf("    not ok %zu %s # %s %s\n", number, name,
		       rg_outcome_name(res->outcome), res->reason);
		break;
	}
	if (res->outcome != RG_PASS && *res->message)
		printf("    # %s: %s\n", name, res->message);
	fflush(stdout);
}

void rg_ktap_suite_end(const char *suite, size_t number, bool ok)
{
	printf("%s %zu %s\n", ok ? "ok" : "not ok", number, suite);
	fflush(stdout);
}
