// SPDX-License-Identifier: MIT
/*
 * rdmagate-harness: run the tests a plan selects, each in its own child,
 * and write results as they happen. Usage and exit codes: harness/README.md.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

#define MAX_FILTERS 64

enum { EXIT_ASEXPECTED = 0, EXIT_UNEXPECTED = 1, EXIT_USAGE = 2, EXIT_INFRA = 3 };

struct options {
	const char *plan;
	const char *results;
	const char *junit;
	bool list;
	char *filters[MAX_FILTERS];
	size_t n_filters;
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: rdmagate-harness --plan PLAN.json --results RESULTS.jsonl [--junit JUNIT.xml] [--filter GLOB]...\n"
		"       rdmagate-harness --list [--filter GLOB]...\n"
		"Runs each test of the plan in its own child process with a timeout.\n"
		"KTAP v1 goes to stdout; one JSON line per finished test to RESULTS.\n"
		"exit: 0 all as expected, 1 FAIL/TIMEOUT/CRASH, 2 usage or plan error, 3 ERROR\n");
}

static int parse_options(int argc, char **argv, struct options *opt)
{
	static const struct option longopts[] = {
		{ "plan", required_argument, NULL, 'p' },
		{ "results", required_argument, NULL, 'r' },
		{ "junit", required_argument, NULL, 'j' },
		{ "filter", required_argument, NULL, 'f' },
		{ "list", no_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'p': opt->plan = optarg; break;
		case 'r': opt->results = optarg; break;
		case 'j': opt->junit = optarg; break;
		case 'l': opt->list = true; break;
		case 'f':
			if (opt->n_filters == MAX_FILTERS) {
				fprintf(stderr, "rdmagate-harness: too many --filter\n");
				return -1;
			}
			opt->filters[opt->n_filters++] = optarg;
			break;
		case 'h': usage(stdout); exit(EXIT_ASEXPECTED);
		default: return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "rdmagate-harness: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	if (!opt->list && (!opt->plan || !opt->results)) {
		fprintf(stderr, "rdmagate-harness: --plan and --results are required (or --list)\n");
		return -1;
	}
	return 0;
}

static bool listed(const struct options *opt, const struct rg_suite *suite,
		   const struct rg_test *test)
{
	size_t i;

	if (!opt->n_filters)
		return true;
	for (i = 0; i < opt->n_filters; i++)
		if (rg_test_matches(suite, test, opt->filters[i]))
			return true;
	return false;
}

static int list_tests(const struct options *opt)
{
	const struct rg_suite *suite;
	size_t t;

	for (suite = rg_suites(); suite; suite = suite->next)
		for (t = 0; t < suite->n_tests; t++)
			if (listed(opt, suite, &suite->tests[t]))
				printf("%s.%s\n", suite->name, suite->tests[t].name);
	return EXIT_ASEXPECTED;
}

static size_t count_suites(const struct rg_plan *plan)
{
	size_t i, n = 0;

	for (i = 0; i < plan->n_tests; i++)
		n += i == 0 || plan->tests[i].suite != plan->tests[i - 1].suite;
	return n;
}

static bool as_expected(enum rg_outcome outcome)
{
	return outcome == RG_PASS || outcome == RG_UNSUPPORTED || outcome == RG_SKIP ||
	       outcome == RG_XFAIL;
}

/* Run every selected test, writing each result before the next starts. */
static int run_plan(const struct rg_plan *plan, int fd, struct rg_result *results)
{
	size_t i, number = 0, suite_number = 0, suite_start = 0;
	bool suite_ok = true, failed = false, errored = false;

	rg_ktap_begin(count_suites(plan));
	for (i = 0; i < plan->n_tests; i++) {
		const struct rg_selected *sel = &plan->tests[i];

		if (i == 0 || sel->suite != plan->tests[i - 1].suite) {
			for (suite_start = i; suite_start < plan->n_tests &&
			     plan->tests[suite_start].suite == sel->suite; suite_start++)
				;
			rg_ktap_suite_begin(sel->suite->name, suite_start - i);
			number = 0;
			suite_ok = true;
		}
		rg_isolate_run(sel, &results[i], plan);
		rg_expect_apply(sel, &results[i], plan->capture);
		if (rg_jsonl_write(fd, &results[i], plan))
			return EXIT_INFRA;
		rg_coverage_flush();
		rg_ktap_test(&results[i], ++number);
		suite_ok &= as_expected(results[i].outcome);
		failed |= !as_expected(results[i].outcome) && results[i].outcome != RG_ERROR;
		errored |= results[i].outcome == RG_ERROR;
		if (i + 1 == plan->n_tests || plan->tests[i + 1].suite != sel->suite)
			rg_ktap_suite_end(sel->suite->name, ++suite_number, suite_ok);
	}
	if (failed)
		return EXIT_UNEXPECTED;
	return errored ? EXIT_INFRA : EXIT_ASEXPECTED;
}

int main(int argc, char **argv)
{
	struct options opt = { 0 };
	struct rg_result *results;
	struct rg_plan plan;
	int fd, ret;

	if (parse_options(argc, argv, &opt)) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (opt.list)
		return list_tests(&opt);
	if (rg_registry_load()) {
		fprintf(stderr, "rdmagate-harness: CUnit registry: %s\n", CU_get_error_msg());
		return EXIT_INFRA;
	}
	if (rg_plan_load(opt.plan, opt.filters, opt.n_filters, &plan))
		return EXIT_USAGE;
	results = calloc(plan.n_tests ? plan.n_tests : 1, sizeof(*results));
	fd = rg_jsonl_open(opt.results);
	if (!results || fd < 0) {
		ret = EXIT_INFRA;
		goto out;
	}
	ret = run_plan(&plan, fd, results);
	if (opt.junit && rg_junit_write(opt.junit, results, plan.n_tests))
		ret = EXIT_INFRA;
	close(fd);
out:
	free(results);
	rg_plan_free(&plan);
	CU_cleanup_registry();
	return ret;
}
