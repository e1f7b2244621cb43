// SPDX-License-Identifier: MIT
/*
 * rdmagate-harness: run the tests a plan selects, each in its own child,
 * and write results as they happen. Usage and exit codes: harness/README.md.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#define MAX_FILTERS 64

/* 0, 1 and 3 are the verdicts of outcomes.h; 2 is the harness's own. */
enum { EXIT_USAGE = 2 };

struct options {
	const char *plan;
	const char *results;
	bool list;
	char *filters[MAX_FILTERS];
	size_t n_filters;
};

static void usage(FILE *out)
{
	fprintf(out, "usage: rdmagate-harness --plan PLAN.json --results "
		     "RESULTS.jsonl [--filter GLOB]...\n"
		     "       rdmagate-harness --list [--filter GLOB]...\n"
		     "Runs each test of the plan in its own child process with "
		     "a timeout.\n"
		     "KTAP v1 goes to stdout; one JSON line per finished test "
		     "to RESULTS.\n"
		     "exit: 0 all as expected, 1 FAIL/TIMEOUT/CRASH, 2 usage "
		     "or plan error, 3 ERROR\n");
}

static int parse_options(int argc, char **argv, struct options *opt)
{
	static const struct option longopts[] = {
		{ "plan", required_argument, NULL, 'p' },
		{ "results", required_argument, NULL, 'r' },
		{ "filter", required_argument, NULL, 'f' },
		{ "list", no_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			opt->plan = optarg;
			break;
		case 'r':
			opt->results = optarg;
			break;
		case 'l':
			opt->list = true;
			break;
		case 'f':
			if (opt->n_filters == MAX_FILTERS) {
				fprintf(stderr, "rdmagate-harness: too many "
						"--filter\n");
				return -1;
			}
			opt->filters[opt->n_filters++] = optarg;
			break;
		case 'h':
			usage(stdout);
			exit(RG_AS_EXPECTED);
		default:
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "rdmagate-harness: unexpected argument '%s'\n",
			argv[optind]);
		return -1;
	}
	if (!opt->list && (!opt->plan || !opt->results)) {
		fprintf(stderr, "rdmagate-harness: --plan and --results are "
				"required (or --list)\n");
		return -1;
	}
	return 0;
}

/* --results is opened with O_TRUNC: naming the plan (by any path or link)
 * would destroy it before a line is written. */
static bool results_is_plan(const struct options *opt)
{
	struct stat plan, results;

	if (stat(opt->plan, &plan) || stat(opt->results, &results))
		return false;
	return plan.st_dev == results.st_dev && plan.st_ino == results.st_ino;
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
	const struct rg_test *test;

	for (suite = rg_suites(); suite; suite = suite->next)
		for (test = suite->tests; test; test = test->next)
			if (listed(opt, suite, test))
				printf("%s.%s\n", suite->name, test->name);
	return RG_AS_EXPECTED;
}

static size_t count_suites(const struct rg_plan *plan)
{
	size_t i, n = 0;

	for (i = 0; i < plan->n_tests; i++)
		n += i == 0 || plan->tests[i].suite != plan->tests[i - 1].suite;
	return n;
}

/* The run's verdict: unexpected beats infrastructure beats as expected. */
static enum rg_verdict worse(enum rg_verdict a, enum rg_verdict b)
{
	if (a == RG_UNEXPECTED || b == RG_UNEXPECTED)
		return RG_UNEXPECTED;
	return a == RG_INFRA || b == RG_INFRA ? RG_INFRA : RG_AS_EXPECTED;
}

/* Run every selected test, writing each result before the next starts;
 * return the run's verdict, which is the exit code. */
static int run_plan(const struct rg_plan *plan, int fd)
{
	struct rg_result res;
	size_t i, number = 0, suite_number = 0, suite_start = 0;
	enum rg_verdict verdict = RG_AS_EXPECTED, run = RG_AS_EXPECTED;
	bool suite_ok = true;

	rg_ktap_begin(count_suites(plan));
	for (i = 0; i < plan->n_tests; i++) {
		const struct rg_selected *sel = &plan->tests[i];

		if (i == 0 || sel->suite != plan->tests[i - 1].suite) {
			for (suite_start = i;
			     suite_start < plan->n_tests &&
			     plan->tests[suite_start].suite == sel->suite;
			     suite_start++)
				;
			rg_ktap_suite_begin(sel->suite->name, suite_start - i);
			number = 0;
			suite_ok = true;
		}
		if (sel->not_run) {
			rg_expect_not_run(sel, &res);
		} else {
			rg_isolate_run(sel, &res, plan);
			rg_expect_apply(sel, &res, plan->capture);
		}
		if (rg_jsonl_write(fd, &res, plan))
			return RG_INFRA;
		rg_coverage_flush();
		rg_ktap_test(&res, ++number);
		verdict = rg_outcome_verdict(res.outcome);
		suite_ok &= verdict == RG_AS_EXPECTED;
		run = worse(run, verdict);
		if (i + 1 == plan->n_tests ||
		    plan->tests[i + 1].suite != sel->suite)
			rg_ktap_suite_end(sel->suite->name, ++suite_number,
					  suite_ok);
	}
	return run;
}

int main(int argc, char **argv)
{
	struct options opt = { 0 };
	struct rg_plan plan;
	int fd, ret;

	if (parse_options(argc, argv, &opt)) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (rg_registry_check())
		return RG_INFRA;
	if (opt.list)
		return list_tests(&opt);
	if (results_is_plan(&opt)) {
		fprintf(stderr,
			"rdmagate-harness: --results %s: is the plan itself; "
			"results go to a file of their own\n",
			opt.results);
		return EXIT_USAGE;
	}
	if (rg_registry_load()) {
		fprintf(stderr, "rdmagate-harness: CUnit registry: %s\n",
			CU_get_error_msg());
		return RG_INFRA;
	}
	if (rg_plan_load(opt.plan, opt.filters, opt.n_filters, &plan))
		return EXIT_USAGE;
	fd = rg_jsonl_open(opt.results);
	if (fd < 0) {
		ret = RG_INFRA;
		goto out;
	}
	ret = run_plan(&plan, fd);
	close(fd);
out:
	rg_plan_free(&plan);
	CU_cleanup_registry();
	return ret;
}
