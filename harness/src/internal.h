/* SPDX-License-Identifier: MIT */
/* Shared between the harness's own files; suites never include it. */
#ifndef RDMAGATE_INTERNAL_H
#define RDMAGATE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <json-c/json.h>
#include <rdmagate/harness.h>

/* A suite: the tests registered under its name, in registration order. */
struct rg_suite {
	const char *name;
	struct rg_test *tests;
	struct rg_test **tail;
	size_t n_tests;
	struct rg_suite *next;
};

const char *rg_outcome_name(enum rg_outcome outcome);
int rg_outcome_parse(const char *name, enum rg_outcome *outcome);
enum rg_verdict rg_outcome_verdict(enum rg_outcome outcome);

#define RG_TEXT_MAX 1024

struct rg_result {
	const struct rg_suite *suite;
	const struct rg_test *test;
	enum rg_outcome outcome;
	enum rg_outcome raw_outcome;
	enum rg_outcome expected;
	int signal; /* CRASH only */
	double duration_s;
	char reason[RG_TEXT_MAX];
	char message[RG_TEXT_MAX];
	char observed[RG_TEXT_MAX];
	/* A FAIL's message id: what failed without the values it saw (the
	 * assertion's expression, rg_fail's format), for a profile to name. */
	char failure[RG_TEXT_MAX];
	bool data_check; /* the failure is a data check (RG_EXPECT_DATA) */
};

/* A selected test with what the plan says of it. */
struct rg_selected {
	const struct rg_suite *suite;
	const struct rg_test *test;
	enum rg_outcome expected;
	const char *expected_reason;
	const char *expected_observed;
	const char *expected_failure; /* an expected FAIL's message id */
	bool not_run; /* a known defect whose run harms the machine */
	unsigned int timeout_s;
};

struct rg_plan {
	struct json_object *root; /* owns every string below */
	const char *path;
	const char *stack;
	const char *device;
	unsigned int timeout_s;
	bool capture; /* raw outcomes: a profile is being captured */
	struct rg_selected *tests;
	size_t n_tests;
};

/* registry.c */
/* 0, or -1 after printing the test id defined twice and its two files */
int rg_registry_check(void);
struct rg_suite *rg_suites(void);
int rg_registry_load(void);
bool rg_test_matches(const struct rg_suite *suite, const struct rg_test *test,
		     const char *glob);

/* plan.c: 0, or -1 after printing one line naming the file and field */
int rg_plan_load(const char *path, char **filters, size_t n_filters,
		 struct rg_plan *plan);
void rg_plan_free(struct rg_plan *plan);

/* report.c: the child's side of the pipe;
 * "OUTCOME\nreason\nmessage\nobserved\nfailure\ndata\n" (data: "1" when
 * the failure is a data check) */
void rg_report_setup(int fd, const struct rg_plan *plan);
/* The failure's message id, and whether it is a data check; the first one
 * set is kept (the first failure is the cause, as in the message). */
void rg_failure_id(bool data, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* While a fixture is being set up, a FAIL is reported as ERROR. */
void rg_report_fixture(const struct rg_fixture *fixture);
void rg_report(enum rg_outcome outcome, const char *reason,
	       const char *message);

/* isolate.c: run one test in its own child and fill in the raw result;
 * rg_run_current is what CUnit runs there (fixture setup, then the body) */
void rg_run_current(void);
void rg_isolate_run(const struct rg_selected *sel, struct rg_result *res,
		    const struct rg_plan *plan);

/* expect.c */
void rg_expect_apply(const struct rg_selected *sel, struct rg_result *res,
		     bool capture);
void rg_expect_not_run(const struct rg_selected *sel, struct rg_result *res);

/* assert.c: a call that reported an error as a negative number, where the
 * verbs contract is a positive errno (returned, or in errno) */
void rg_contract_violation(const char *file, int line, bool fatal,
			   const char *id, const char *what, int err);

/* writers */
int rg_jsonl_open(const char *path);
int rg_jsonl_write(int fd, const struct rg_result *res,
		   const struct rg_plan *plan);
void rg_ktap_begin(size_t n_suites);
void rg_ktap_suite_begin(const char *suite, size_t n_tests);
void rg_ktap_test(const struct rg_result *res, size_t number);
void rg_ktap_suite_end(const char *suite, size_t number, bool ok);

/* coverage: the preloaded interposer's counts written out (if there is one) */
void rg_coverage_flush(void);

#endif
