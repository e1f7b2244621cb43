// SPDX-License-Identifier: MIT
/*
 * The registry: filled by the RG_TEST constructors before main(), then
 * handed to CUnit so its assertion machinery knows every test.
 *
 * Run order: tests of a suite in the order they registered, which is the
 * order they are written in a file and, across files, the link order (the
 * order of the sources in rdmagate_add_suite); suites in the order their
 * first test registered (the order of rdmagate_add_suite calls).
 */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Constructors cannot allocate and report: a fixed table, far from full. */
#define MAX_SUITES 16

static struct rg_suite suite_table[MAX_SUITES];
static size_t n_suites;

static struct rg_suite *suite_named(const char *name)
{
	struct rg_suite *suite;
	size_t i;

	for (i = 0; i < n_suites; i++)
		if (!strcmp(suite_table[i].name, name))
			return &suite_table[i];
	if (n_suites == MAX_SUITES) {
		fprintf(stderr,
			"rdmagate-harness: more than %d suites (suite %s)\n",
			MAX_SUITES, name);
		abort();
	}
	suite = &suite_table[n_suites];
	suite->name = name;
	suite->tail = &suite->tests;
	if (n_suites)
		suite_table[n_suites - 1].next = suite;
	n_suites++;
	return suite;
}

/* The first test registered under an id already taken, and the test that
 * holds it: constructors cannot report, so rg_registry_check() does. */
static const struct rg_test *duplicate, *duplicated;

void rg_register(struct rg_test *test)
{
	struct rg_suite *suite = suite_named(test->suite);
	const struct rg_test *other;

	for (other = suite->tests; other && !duplicate; other = other->next)
		if (!strcmp(other->name, test->name)) {
			duplicate = test;
			duplicated = other;
			return;
		}
	test->next = NULL;
	*suite->tail = test;
	suite->tail = &test->next;
	suite->n_tests++;
}

int rg_registry_check(void)
{
	const char *first, *second;

	if (!duplicate)
		return 0;
	first = strrchr(duplicated->file, '/')
			? strrchr(duplicated->file, '/') + 1
			: duplicated->file;
	second = strrchr(duplicate->file, '/')
			 ? strrchr(duplicate->file, '/') + 1
			 : duplicate->file;
	fprintf(stderr,
		"rdmagate-harness: test %s.%s is defined twice (%s and %s): "
		"a test id (suite and name) must be unique\n",
		duplicate->suite, duplicate->name, first, second);
	return -1;
}

struct rg_suite *rg_suites(void)
{
	return n_suites ? &suite_table[0] : NULL;
}

int rg_registry_load(void)
{
	const struct rg_suite *suite;
	const struct rg_test *test;
	CU_pSuite cu_suite;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return -1;
	for (suite = rg_suites(); suite; suite = suite->next) {
		cu_suite = CU_add_suite(suite->name, NULL, NULL);
		if (!cu_suite)
			return -1;
		/* One entry point for all: the child knows which test it runs.
		 */
		for (test = suite->tests; test; test = test->next)
			if (!CU_add_test(cu_suite, test->name, rg_run_current))
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
