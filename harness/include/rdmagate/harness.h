/* SPDX-License-Identifier: MIT */
/*
 * rdmagate harness: what a suite needs to declare tests and report outcomes.
 * How to write a test: harness/README.md.
 *
 * Each test runs in its own child process. A test passes by returning with no
 * failed assertion; it ends early with one of the rg_* reports below.
 */
#ifndef RDMAGATE_HARNESS_H
#define RDMAGATE_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <CUnit/CUnit.h>

#include <rdmagate/outcomes.h>

/* What a fixture's tests get: a zeroed object of size bytes, set up in the
 * test's own process before the body runs. No teardown: the process ends
 * with the test and the kernel releases what it held. */
struct rg_fixture {
	const char *name;
	size_t size;
	void (*setup)(void *data);
};

struct rg_test {
	const char *suite;
	const char *name;
	void (*run)(void *data); /* the body, given the fixture's data */
	const struct rg_fixture *fixture; /* NULL: none */
	unsigned int timeout_s;		  /* 0: the plan's default */
	const char *file;		  /* where it is written, for errors */
	struct rg_test *next; /* registry link, set by rg_register() */
};

/* Called by RG_TEST's constructor: tests run in registration order. A
 * second test with the same suite and name (in another file) is refused:
 * the harness then exits 3 at startup naming both files. */
void rg_register(struct rg_test *test);

/*
 * RG_FIXTURE_DECLARE(device, struct vdev) in a header names a fixture and its
 * type; RG_FIXTURE(device, v_open) in one .c file defines it with its setup,
 * a void fn(type *). A setup that fails (rg_fail, rg_error, an assertion)
 * ends the test as ERROR: the test could not run, which says nothing about
 * the call under test.
 */
#define RG_FIXTURE_DECLARE(fname, type)                                        \
	typedef type rg_fixture_data_##fname;                                  \
	extern const struct rg_fixture rg_fixture_##fname

#define RG_FIXTURE(fname, setup_fn)                                            \
	static void rg_setup_##fname(void *data)                               \
	{                                                                      \
		rg_fixture_data_##fname *self = data;                          \
		setup_fn(self);                                                \
	}                                                                      \
	const struct rg_fixture rg_fixture_##fname = {                         \
		.name = #fname,                                                \
		.size = sizeof(rg_fixture_data_##fname),                       \
		.setup = rg_setup_##fname,                                     \
	}

#define RG__REGISTER(sname, tname, fix, ...)                                   \
	static struct rg_test rg_test_##tname = { .suite = #sname,             \
						  .name = #tname,              \
						  .run = rg_run_##tname,       \
						  .fixture = fix,              \
						  .file = __FILE__,            \
						  __VA_ARGS__ };               \
	__attribute__((constructor)) static void rg_register_##tname(void)     \
	{                                                                      \
		rg_register(&rg_test_##tname);                                 \
	}

/*
 * A test is one declaration, followed by its body:
 *   RG_TEST(api, wc_status_str) { ... }
 *   RG_TEST(cm, reject, .timeout_s = 60) { ... }
 *   RG_TEST_F(verbs, bad_lkey, rc_pair) { ... self->a.qp ... }
 * Its id is suite.name. RG_TEST_F's body gets its fixture's data as self.
 */
#define RG_TEST(sname, tname, ...)                                             \
	static void rg_body_##tname(void);                                     \
	static void rg_run_##tname(void *data)                                 \
	{                                                                      \
		(void)data;                                                    \
		rg_body_##tname();                                             \
	}                                                                      \
	RG__REGISTER(sname, tname, NULL, __VA_ARGS__)                          \
	static void rg_body_##tname(void)

#define RG_TEST_F(sname, tname, fname, ...)                                    \
	static void rg_body_##tname(rg_fixture_data_##fname *self);            \
	static void rg_run_##tname(void *data)                                 \
	{                                                                      \
		rg_body_##tname(data);                                         \
	}                                                                      \
	RG__REGISTER(sname, tname, &rg_fixture_##fname, __VA_ARGS__)           \
	static void rg_body_##tname(rg_fixture_data_##fname *self              \
				    __attribute__((unused)))

/*
 * Assertions that print what they saw. RG_EXPECT_* records a failure and
 * goes on; RG_ASSERT_* ends the test there. The result's message reads
 *   wc.wr_id == 99: got 98, expected 99 (verbs_negative.c:30)
 *   n <= attr.max_sge: got 33, expected <= 32 (verbs_qp.c:120)
 * Operands are evaluated once, compared as C compares them (after the usual
 * arithmetic conversions); errnos print by name (EINVAL, not 22).
 */
/* op: the comparison that failed ("==", "<=", ...), for the message */
void rg__assert_int(const char *file, int line, bool fatal, const char *expr,
		    const char *op, bool is_signed, unsigned long long got,
		    unsigned long long want);
void rg__assert_errno(const char *file, int line, bool fatal, const char *expr,
		      int got, int want);
void rg__assert_str(const char *file, int line, bool fatal, const char *expr,
		    bool equal, const char *got, const char *want);
void rg__assert_ptr(const char *file, int line, bool fatal, const char *expr,
		    bool equal, const void *got, const void *want);
void rg__assert_true(const char *file, int line, bool fatal, const char *expr);
void rg__assert_data(const char *file, int line, bool fatal, const char *expr);

#define RG__SIGNED(x) ((__typeof__(x))-1 < (__typeof__(x))1)

#define RG__CMP(fatal, a, op, b, expr)                                         \
	do {                                                                   \
		__typeof__((a) + (b)) rg_a_ = (a), rg_b_ = (b);                \
		if (!(rg_a_ op rg_b_))                                         \
			rg__assert_int(__FILE__, __LINE__, fatal, expr, #op,   \
				       RG__SIGNED(rg_a_),                      \
				       (unsigned long long)rg_a_,              \
				       (unsigned long long)rg_b_);             \
	} while (0)

#define RG__ERRNO(fatal, a, b, expr)                                           \
	do {                                                                   \
		int rg_a_ = (a), rg_b_ = (b);                                  \
		if (rg_a_ != rg_b_)                                            \
			rg__assert_errno(__FILE__, __LINE__, fatal, expr,      \
					 rg_a_, rg_b_);                        \
	} while (0)

#define RG__STR(fatal, a, op, b, equal, expr)                                  \
	do {                                                                   \
		const char *rg_a_ = (a), *rg_b_ = (b);                         \
		if (!rg_a_ || !rg_b_ || !(strcmp(rg_a_, rg_b_) op 0))          \
			rg__assert_str(__FILE__, __LINE__, fatal, expr, equal, \
				       rg_a_, rg_b_);                          \
	} while (0)

#define RG__PTR(fatal, a, op, b, equal, expr)                                  \
	do {                                                                   \
		const void *rg_a_ = (a), *rg_b_ = (b);                         \
		if (!(rg_a_ op rg_b_))                                         \
			rg__assert_ptr(__FILE__, __LINE__, fatal, expr, equal, \
				       rg_a_, rg_b_);                          \
	} while (0)

#define RG__TRUE(fatal, cond, expr)                                            \
	do {                                                                   \
		if (!(cond))                                                   \
			rg__assert_true(__FILE__, __LINE__, fatal, expr);      \
	} while (0)

#define RG__DATA(fatal, cond, expr)                                            \
	do {                                                                   \
		if (!(cond))                                                   \
			rg__assert_data(__FILE__, __LINE__, fatal, expr);      \
	} while (0)

/* The expression is spelled here, before its macros (EINVAL, NULL) expand. */
#define RG_EXPECT(cond) RG__TRUE(false, cond, #cond)
#define RG_ASSERT(cond) RG__TRUE(true, cond, #cond)
#define RG_EXPECT_EQ(a, b) RG__CMP(false, a, ==, b, #a " == " #b)
#define RG_ASSERT_EQ(a, b) RG__CMP(true, a, ==, b, #a " == " #b)
#define RG_EXPECT_NE(a, b) RG__CMP(false, a, !=, b, #a " != " #b)
#define RG_ASSERT_NE(a, b) RG__CMP(true, a, !=, b, #a " != " #b)
#define RG_EXPECT_LT(a, b) RG__CMP(false, a, <, b, #a " < " #b)
#define RG_ASSERT_LT(a, b) RG__CMP(true, a, <, b, #a " < " #b)
#define RG_EXPECT_LE(a, b) RG__CMP(false, a, <=, b, #a " <= " #b)
#define RG_ASSERT_LE(a, b) RG__CMP(true, a, <=, b, #a " <= " #b)
#define RG_EXPECT_GT(a, b) RG__CMP(false, a, >, b, #a " > " #b)
#define RG_ASSERT_GT(a, b) RG__CMP(true, a, >, b, #a " > " #b)
#define RG_EXPECT_GE(a, b) RG__CMP(false, a, >=, b, #a " >= " #b)
#define RG_ASSERT_GE(a, b) RG__CMP(true, a, >=, b, #a " >= " #b)
#define RG_EXPECT_ERRNO(err, want)                                             \
	RG__ERRNO(false, err, want, #err " == " #want)
#define RG_EXPECT_STR_EQ(a, b) RG__STR(false, a, ==, b, true, #a " == " #b)
#define RG_EXPECT_STR_NE(a, b) RG__STR(false, a, !=, b, false, #a " != " #b)
#define RG_EXPECT_PTR_EQ(a, b) RG__PTR(false, a, ==, b, true, #a " == " #b)
#define RG_EXPECT_NULL(p) RG__PTR(false, p, ==, NULL, true, #p " == NULL")
#define RG_ASSERT_NULL(p) RG__PTR(true, p, ==, NULL, true, #p " == NULL")
#define RG_EXPECT_NOT_NULL(p) RG__PTR(false, p, !=, NULL, false, #p " != NULL")
#define RG_ASSERT_NOT_NULL(p) RG__PTR(true, p, !=, NULL, false, #p " != NULL")
/*
 * A data check: the bytes a call moved are not the bytes sent. Wrong on any
 * device, so its failure is marked as one ("data_check" in results.jsonl):
 * a run no profile judges still fails on it. rg_fail_data() is the same as
 * rg_fail() for a check the condition alone cannot say.
 *	RG_EXPECT_DATA(v_check(buf, 300, 85));
 */
#define RG_EXPECT_DATA(cond) RG__DATA(false, cond, #cond)
#define RG_ASSERT_DATA(cond) RG__DATA(true, cond, #cond)

/* End the running test now with this outcome; the reason says why. */
_Noreturn void rg_unsupported(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
_Noreturn void rg_skip(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
_Noreturn void rg_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
_Noreturn void rg_fail(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
_Noreturn void rg_fail_data(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

/*
 * A call the device may lack failed with err, a positive errno as the verbs
 * contract gives it (returned, or in errno): the test ends UNSUPPORTED when
 * rg_unsupported_errno(err) (outcomes.h, the one rule), else FAIL naming the
 * errno. A negative err (a provider returning -EOPNOTSUPP) breaks the
 * contract and is a FAIL saying so; a call documented to return a negative
 * errno (ibv_query_gid_table) is given -ret. The reason reads
 * "<what>: <strerror>", what formatted from fmt:
 *	if (!mw)
 *		rg_unsupported_or_fail(errno, "ibv_alloc_mw(type %d)", 2);
 */
#define rg_unsupported_or_fail(err, ...)                                       \
	rg__unsupported_or_fail(__FILE__, __LINE__, err, __VA_ARGS__)
_Noreturn void rg__unsupported_or_fail(const char *file, int line, int err,
				       const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/*
 * What a call did, for tests of bad input. id is short and stable (it keys
 * the profile's "observed" and must stay when the prose changes); what is
 * the human text for messages:
 *   rg_observe_errno("post_send", "post_send with one SGE too many", err)
 * records "post_send=EINVAL". A test's observations, joined by "; ", are its
 * result's "observed" field; a profile that names them ("observed" in the
 * expectation) turns any other value into a FAIL. Without one, the test's
 * own assertions decide (e.g. that the call failed at all).
 */
void rg_observe(const char *id, const char *what, const char *value);
/* err is a positive errno (or 0); a negative one breaks the verbs contract
 * and fails the test (after recording it), as rg_unsupported_or_fail does. */
#define rg_observe_errno(id, what, err)                                        \
	rg__observe_errno(__FILE__, __LINE__, id, what, err)
void rg__observe_errno(const char *file, int line, const char *id,
		       const char *what, int err);

/* EINVAL for 22, "errno-N" when unknown: the name a profile states. */
const char *rg_errno_name(int err, char *buf, size_t size);

/* A plan parameter ("params" in the plan), or NULL when absent. */
const char *rg_param(const char *key);
/* The device under test ("none" when the plan names none). */
const char *rg_device(void);

#endif
