// SPDX-License-Identifier: MIT
/*
 * The registry of suites: filled by RG_SUITE constructors before main(),
 * then handed to CUnit so the assertion machinery knows every test.
 */
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

static struct rg_suite *suites_head;

void rg_register_suite(struct rg_suite *suite)
{
	struct rg_suite **tail = &suites_head;

	/* Keep link order, so tests run in the order the suites were linked. */
	while (*tail)
		tail = &(*tail)->next;
	suite->next = NULL;
	*tail = suite;
}

struct rg_suite *rg_suites(void)
{
	return suites_head;
}

int rg_registry_load(void)
{
	struct rg_suite *suite;
	CU_pSuite cu_suite;
	size_t i;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return -1;
	for (suite = suites_head; suite; suite = suite->next) {
		cu_suite = CU_add_suite(suite->name, suite->init,
					suite->cleanup);
		if (!cu_suite)
			return -1;
		for (i = 0; i < suite->n_tests; i++)
			if (!CU_add_test(cu_suite, suite->tests[i].name,
					 suite->tests[i].fn))
				return -1;
	}
	return 0;
}

bool rg_test_matches(const struct rg_suite *suite, const struct rg_test *test,
		     const char *glob)
{
	char id[256];

	snprintf(id, sizeof(id), "%s.%s", suite->name, test->name);
	return fnmatch(glob, id, 0) == 0;
}
