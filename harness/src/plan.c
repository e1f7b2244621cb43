// SPDX-License-Identifier: MIT
/*
 * The plan: which tests, for which stack and device, with what expectations.
 * Every error names the plan file and the field, in one line.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define DEFAULT_TIMEOUT_S 30

static int plan_error(const struct rg_plan *plan, const char *field,
		      const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int plan_error(const struct rg_plan *plan, const char *field,
		      const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "rdmagate-harness: %s: field %s: ", plan->path, field);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -1;
}

static struct json_object *read_json(const char *path)
{
	enum json_tokener_error err = json_tokener_success;
	struct json_object *root = NULL;
	char *text = NULL;
	size_t size = 0;
	FILE *f;

	f = fopen(path, "r");
	if (!f) {
		fprintf(stderr,
			"rdmagate-harness: %s: cannot read the plan: %s\n",
			path, strerror(errno));
		return NULL;
	}
	if (getdelim(&text, &size, '\0', f) < 0) {
		fprintf(stderr, "rdmagate-harness: %s: the plan is empty\n",
			path);
		goto out;
	}
	root = json_tokener_parse_verbose(text, &err);
	if (!root)
		fprintf(stderr, "rdmagate-harness: %s: not valid JSON: %s\n",
			path, json_tokener_error_desc(err));
out:
	free(text);
	fclose(f);
	return root;
}

static int get_string(struct rg_plan *plan, const char *field, bool required,
		      const char **out)
{
	struct json_object *value;

	if (!json_object_object_get_ex(plan->root, field, &value))
		return required ? plan_error(plan, field, "missing") : 0;
	if (!json_object_is_type(value, json_type_string))
		return plan_error(plan, field, "must be a string");
	*out = json_object_get_string(value);
	return 0;
}

static int check_header(struct rg_plan *plan)
{
	struct json_object *value;

	if (!json_object_is_type(plan->root, json_type_object))
		return plan_error(plan, "(top)",
				  "the plan must be a JSON object");
	if (!json_object_object_get_ex(plan->root, "version", &value))
		return plan_error(plan, "version", "missing");
	if (!json_object_is_type(value, json_type_int) ||
	    json_object_get_int(value) != 1)
		return plan_error(plan, "version", "must be 1");
	if (get_string(plan, "stack", true, &plan->stack) ||
	    get_string(plan, "device", true, &plan->device))
		return -1;
	plan->timeout_s = DEFAULT_TIMEOUT_S;
	if (json_object_object_get_ex(plan->root, "timeout_s", &value)) {
		if (!json_object_is_type(value, json_type_int) ||
		    json_object_get_int(value) <= 0)
			return plan_error(plan, "timeout_s",
					  "must be a positive integer");
		plan->timeout_s = json_object_get_int(value);
	}
	if (json_object_object_get_ex(plan->root, "capture", &value)) {
		if (!json_object_is_type(value, json_type_boolean))
			return plan_error(plan, "capture",
					  "must be true or false");
		plan->capture = json_object_get_boolean(value);
	}
	return 0;
}

/* An optional array of strings; *out NULL when absent. */
static int get_strings(struct rg_plan *plan, const char *field,
		       struct json_object **out)
{
	struct json_object *value;
	size_t i;

	*out = NULL;
	if (!json_object_object_get_ex(plan->root, field, &value))
		return 0;
	if (!json_object_is_type(value, json_type_array))
		return plan_error(plan, field, "must be an array of strings");
	for (i = 0; i < json_object_array_length(value); i++)
		if (!json_object_is_type(json_object_array_get_idx(value, i),
					 json_type_string))
			return plan_error(plan, field,
					  "item %zu is not a string", i);
	*out = value;
	return 0;
}

static const struct rg_suite *find_suite(const char *name)
{
	const struct rg_suite *suite;

	for (suite = rg_suites(); suite; suite = suite->next)
		if (strcmp(suite->name, name) == 0)
			return suite;
	return NULL;
}

static bool in_strings(struct json_object *array, const char *name)
{
	size_t i;

	for (i = 0; i < json_object_array_length(array); i++)
		if (!strcmp(json_object_get_string(
				    json_object_array_get_idx(array, i)),
			    name))
			return true;
	return false;
}

static int check_suites(struct rg_plan *plan, struct json_object *suites)
{
	size_t i;
	const char *name;

	for (i = 0; suites && i < json_object_array_length(suites); i++) {
		name = json_object_get_string(
			json_object_array_get_idx(suites, i));
		if (!find_suite(name))
			return plan_error(plan, "suites", "no suite named '%s'",
					  name);
	}
	return 0;
}

/* Does a test pass the suite list and every glob list (plan and command)? */
static bool selected(const struct rg_suite *suite, const struct rg_test *test,
		     struct json_object *suites, struct json_object *filter,
		     char **filters, size_t n_filters)
{
	bool any;
	size_t i;

	if (suites && json_object_array_length(suites) &&
	    !in_strings(suites, suite->name))
		return false;
	if (filter && json_object_array_length(filter)) {
		any = false;
		for (i = 0; i < json_object_array_length(filter); i++)
			any |= rg_test_matches(
				suite, test,
				json_object_get_string(
					json_object_array_get_idx(filter, i)));
		if (!any)
			return false;
	}
	if (n_filters) {
		any = false;
		for (i = 0; i < n_filters; i++)
			any |= rg_test_matches(suite, test, filters[i]);
		if (!any)
			return false;
	}
	return true;
}

static int check_filter_matches(struct rg_plan *plan,
				struct json_object *filter)
{
	const struct rg_suite *suite;
	const struct rg_test *test;
	const char *glob;
	bool any;
	size_t i;

	for (i = 0; filter && i < json_object_array_length(filter); i++) {
		glob = json_object_get_string(
			json_object_array_get_idx(filter, i));
		any = false;
		for (suite = rg_suites(); suite; suite = suite->next)
			for (test = suite->tests; test; test = test->next)
				any |= rg_test_matches(suite, test, glob);
		if (!any)
			return plan_error(plan, "filter",
					  "'%s' matches no test", glob);
	}
	return 0;
}

static int select_tests(struct rg_plan *plan, char **filters, size_t n_filters)
{
	struct json_object *suites, *filter;
	const struct rg_suite *suite;
	const struct rg_test *test;
	size_t n = 0;

	if (get_strings(plan, "suites", &suites) ||
	    check_suites(plan, suites) ||
	    get_strings(plan, "filter", &filter) ||
	    check_filter_matches(plan, filter))
		return -1;
	for (suite = rg_suites(); suite; suite = suite->next)
		n += suite->n_tests;
	plan->tests = calloc(n ? n : 1, sizeof(*plan->tests));
	if (!plan->tests)
		return plan_error(plan, "(all)", "out of memory");
	for (suite = rg_suites(); suite; suite = suite->next) {
		for (test = suite->tests; test; test = test->next) {
			struct rg_selected *sel = &plan->tests[plan->n_tests];

			if (!selected(suite, test, suites, filter, filters,
				      n_filters))
				continue;
			sel->suite = suite;
			sel->test = test;
			sel->expected = RG_PASS;
			sel->timeout_s = test->timeout_s ? test->timeout_s
							 : plan->timeout_s;
			plan->n_tests++;
		}
	}
	return 0;
}

static const struct rg_test *find_test(const char *id,
				       const struct rg_suite **in)
{
	const struct rg_suite *suite;
	const struct rg_test *test;
	size_t len;

	for (suite = rg_suites(); suite; suite = suite->next) {
		len = strlen(suite->name);
		if (strncmp(id, suite->name, len) || id[len] != '.')
			continue;
		for (test = suite->tests; test; test = test->next) {
			if (!strcmp(id + len + 1, test->name)) {
				*in = suite;
				return test;
			}
		}
	}
	return NULL;
}

static int apply_one_expectation(struct rg_plan *plan, const char *id,
				 struct json_object *spec)
{
	struct json_object *outcome, *reason = NULL, *observed = NULL,
				     *failure = NULL;
	struct json_object *run = NULL;
	const struct rg_suite *suite;
	const struct rg_test *test;
	enum rg_outcome expected;
	char field[300];
	size_t i;

	snprintf(field, sizeof(field), "expect.%s", id);
	test = find_test(id, &suite);
	if (!test)
		return plan_error(plan, field, "no such test");
	if (!json_object_is_type(spec, json_type_object) ||
	    !json_object_object_get_ex(spec, "outcome", &outcome) ||
	    !json_object_is_type(outcome, json_type_string))
		return plan_error(plan, field,
				  "must be an object with a string 'outcome'");
	if (rg_outcome_parse(json_object_get_string(outcome), &expected) ||
	    (expected != RG_PASS && expected != RG_UNSUPPORTED &&
	     expected != RG_FAIL))
		return plan_error(
			plan, field,
			"outcome must be PASS, UNSUPPORTED or FAIL, not '%s'",
			json_object_get_string(outcome));
	if (json_object_object_get_ex(spec, "reason", &reason) && reason &&
	    !json_object_is_type(reason, json_type_string))
		return plan_error(plan, field, "reason must be a string");
	if (expected == RG_FAIL &&
	    (!reason || !*json_object_get_string(reason)))
		return plan_error(
			plan, field,
			"an expected FAIL (a known defect) needs its reason");
	if (json_object_object_get_ex(spec, "failure", &failure) && failure &&
	    !json_object_is_type(failure, json_type_string))
		return plan_error(plan, field, "failure must be a string");
	/* Without the failure it expects, any failure of the test would pass
	 * as the known defect. */
	if (expected == RG_FAIL &&
	    (!failure || !*json_object_get_string(failure)))
		return plan_error(plan, field,
				  "an expected FAIL needs the failure it "
				  "expects (its message id)");
	if (json_object_object_get_ex(spec, "run", &run) &&
	    !json_object_is_type(run, json_type_boolean))
		return plan_error(plan, field, "run must be true or false");
	/* Only a known defect may stay unrun: one whose run harms the machine.
	 */
	if (run && !json_object_get_boolean(run) && expected != RG_FAIL)
		return plan_error(
			plan, field,
			"run: false is for an expected FAIL (a known defect)");
	if (json_object_object_get_ex(spec, "observed", &observed) &&
	    observed && !json_object_is_type(observed, json_type_string))
		return plan_error(plan, field, "observed must be a string");
	for (i = 0; i < plan->n_tests; i++) {
		if (plan->tests[i].test != test)
			continue;
		plan->tests[i].expected = expected;
		plan->tests[i].expected_reason =
			reason ? json_object_get_string(reason) : NULL;
		plan->tests[i].expected_observed =
			observed ? json_object_get_string(observed) : NULL;
		plan->tests[i].expected_failure =
			failure ? json_object_get_string(failure) : NULL;
		plan->tests[i].not_run = run && !json_object_get_boolean(run);
	}
	return 0;
}

static int apply_expectations(struct rg_plan *plan)
{
	struct json_object *expect;

	if (!json_object_object_get_ex(plan->root, "expect", &expect))
		return 0;
	if (!json_object_is_type(expect, json_type_object))
		return plan_error(plan, "expect", "must be an object");
	json_object_object_foreach(expect, id, spec)
	{
		if (apply_one_expectation(plan, id, spec))
			return -1;
	}
	return 0;
}

static int check_params(struct rg_plan *plan)
{
	struct json_object *params;

	if (!json_object_object_get_ex(plan->root, "params", &params))
		return 0;
	if (!json_object_is_type(params, json_type_object))
		return plan_error(plan, "params", "must be an object");
	json_object_object_foreach(params, key, value)
	{
		if (!json_object_is_type(value, json_type_string))
			return plan_error(plan, "params",
					  "'%s' must be a string", key);
	}
	return 0;
}

int rg_plan_load(const char *path, char **filters, size_t n_filters,
		 struct rg_plan *plan)
{
	memset(plan, 0, sizeof(*plan));
	plan->path = path;
	plan->root = read_json(path);
	if (!plan->root)
		return -1;
	if (check_header(plan) || check_params(plan) ||
	    select_tests(plan, filters, n_filters) ||
	    apply_expectations(plan)) {
		rg_plan_free(plan);
		return -1;
	}
	return 0;
}

void rg_plan_free(struct rg_plan *plan)
{
	free(plan->tests);
	plan->tests = NULL;
	json_object_put(plan->root);
	plan->root = NULL;
}
