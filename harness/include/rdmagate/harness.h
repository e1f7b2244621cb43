/* SPDX-License-Identifier: MIT */
/*
 * rdmagate harness: what a suite needs to register tests and report outcomes.
 *
 * Each test runs in its own child process. A test passes by returning with no
 * failed CUnit assertion; it ends early with one of the rg_* reports below.
 */
#ifndef RDMAGATE_HARNESS_H
#define RDMAGATE_HARNESS_H

#include <stddef.h>
#include <CUnit/CUnit.h>

struct rg_test {
	const char *name;
	void (*fn)(void);
	unsigned int timeout_s; /* 0: the plan's default */
};

struct rg_suite {
	const char *name;
	CU_InitializeFunc init;
	CU_CleanupFunc cleanup;
	const struct rg_test *tests;
	size_t n_tests;
	struct rg_suite *next; /* registry link, set by rg_register_suite() */
};

void rg_register_suite(struct rg_suite *suite);

/* RG_TEST(alloc_pd) runs test_alloc_pd; RG_TEST(big_mr, .timeout_s = 120). */
#define RG_TEST(suffix, ...)                                                   \
	{ .name = #suffix, .fn = test_##suffix, __VA_ARGS__ }

#define RG_SUITE(sname, init_fn, cleanup_fn, ...)                              \
	static const struct rg_test rg_tests_##sname[] = { __VA_ARGS__ };      \
	static struct rg_suite rg_suite_##sname = {                            \
		.name = #sname,                                                \
		.init = init_fn,                                               \
		.cleanup = cleanup_fn,                                         \
		.tests = rg_tests_##sname,                                     \
		.n_tests = sizeof(rg_tests_##sname) / sizeof(struct rg_test),  \
	};                                                                     \
	__attribute__((constructor)) static void rg_register_##sname(void)     \
	{                                                                      \
		rg_register_suite(&rg_suite_##sname);                          \
	}

/* End the running test now with this outcome; the reason says why. */
_Noreturn void rg_unsupported(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
_Noreturn void rg_skip(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
_Noreturn void rg_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
_Noreturn void rg_fail(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

/*
 * What a call did, for tests of bad input: rg_observe_errno("post_send", err)
 * records "post_send=EINVAL". A test's observations, joined by "; ", are its
 * result's "observed" field; a profile that names them ("observed" in the
 * expectation) turns any other value into a FAIL. Without one, the test's
 * own assertions decide (e.g. that the call failed at all).
 */
void rg_observe(const char *what, const char *value);
void rg_observe_errno(const char *call, int err);

/* A plan parameter ("params" in the plan), or NULL when absent. */
const char *rg_param(const char *key);
/* The device under test ("none" when the plan names none). */
const char *rg_device(void);

#endif
