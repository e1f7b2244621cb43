// SPDX-License-Identifier: MIT
/*
 * Deliberate behaviours for the harness's own tests: every way a test in a
 * provider library can end. Linked only into rdmagate-harness-selftest.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rdmagate/harness.h>

struct answer {
	int value;
};

static void answer_setup(struct answer *self)
{
	self->value = 42;
}

/* A setup that cannot build what its tests need. */
static void broken_setup(struct answer *self)
{
	self->value = 41;
	RG_ASSERT_EQ(self->value, 42);
}

/* A setup whose environment is missing, as v_open() without its device. */
static void absent_setup(struct answer *self)
{
	(void)self;
	rg_error("device %s: not present", rg_device());
}

RG_FIXTURE_DECLARE(answer, struct answer);
RG_FIXTURE(answer, answer_setup);
RG_FIXTURE_DECLARE(broken, struct answer);
RG_FIXTURE(broken, broken_setup);
RG_FIXTURE_DECLARE(absent, struct answer);
RG_FIXTURE(absent, absent_setup);

RG_TEST(selftest, pass)
{
	RG_EXPECT_EQ(1 + 1, 2);
}

RG_TEST(selftest, pass_printing)
{
	/* Output of a test must not corrupt the KTAP stream on stdout. */
	puts("ok 99 this line is not KTAP");
	RG_EXPECT(1);
}

RG_TEST(selftest, assert_fails)
{
	int answer = 41;

	RG_EXPECT_EQ(answer, 42);
}

RG_TEST(selftest, assert_errno)
{
	int err = ENOENT;
	const char *text = "hello";

	RG_EXPECT_ERRNO(err, EINVAL);
	RG_EXPECT_STR_EQ(text, "world");
}

RG_TEST(selftest, segfault)
{
	raise(SIGSEGV);
}

RG_TEST(selftest, abort)
{
	abort();
}

RG_TEST(selftest, spin, .timeout_s = 1)
{
	volatile unsigned long n = 0;

	for (;;)
		n++;
}

RG_TEST(selftest, sleep_long, .timeout_s = 120)
{
	sleep(60);
}

RG_TEST(selftest, exit_early)
{
	exit(0);
}

RG_TEST(selftest, unsupported)
{
	rg_unsupported("device lacks %s", "type 2 memory windows");
}

/* The one rule: an unsupported errno is UNSUPPORTED, any other a FAIL. */
RG_TEST(selftest, require_supported)
{
	rg_unsupported_or_fail(EOPNOTSUPP, "ibv_alloc_mw(type %d)", 2);
}

/* A negative errno (rdma-core 33's rxe returns them) breaks the contract. */
RG_TEST(selftest, require_negative)
{
	rg_unsupported_or_fail(-EOPNOTSUPP, "ibv_alloc_mw(type %d)", 2);
}

RG_TEST(selftest, require_refused)
{
	rg_unsupported_or_fail(EINVAL, "ibv_alloc_mw(type %d)", 2);
}

RG_TEST(selftest, skip)
{
	rg_skip("stack lacks %s", "ibv_wr_start");
}

RG_TEST(selftest, error)
{
	rg_error("environment: %s", "no /dev/infiniband");
}

RG_TEST(selftest, fork_child_left, .timeout_s = 5)
{
	/* A server left behind must not keep the harness waiting. */
	if (fork() == 0) {
		sleep(60);
		_exit(0);
	}
}

RG_TEST(selftest, param)
{
	const char *value = rg_param("greeting");

	if (!value)
		rg_fail("no parameter 'greeting'");
	RG_EXPECT_STR_EQ(value, "hello");
	RG_EXPECT_STR_EQ(rg_device(), "selftest0");
}

/* A negative test: the call failed, and how it failed is observed. */
RG_TEST(selftest, observe)
{
	rg_observe_errno("open", "open of a bad path", EINVAL);
	rg_observe("completion", "the bad work request's completion",
		   "remote access error");
}

/* The same observation as a provider that returns -ENOMEM would give it. */
RG_TEST(selftest, observe_negative)
{
	rg_observe_errno("post_send", "post_send of one request too many",
			 -ENOMEM);
}

/* One test failing two ways (the plan's "how"), for the known-defect rule. */
RG_TEST(selftest, fail_two_ways)
{
	const char *how = rg_param("how");
	int delivered = 300;

	if (how && !strcmp(how, "assert"))
		RG_ASSERT_EQ(delivered, 600);
	if (how && !strcmp(how, "expect"))
		RG_EXPECT_EQ(delivered,
			     600); /* non-fatal: the rg_fail follows */
	rg_fail("a 3-entry SGE list of 600 bytes delivered %d bytes",
		delivered);
}

/* A data check failing (the plan's "how": the macro or rg_fail_data), after
 * an ordinary expectation that held. */
RG_TEST(selftest, data_check_fails)
{
	const char *how = rg_param("how");
	unsigned char buf[4] = { 1, 2, 3, 5 };

	RG_EXPECT_EQ(buf[0], 1);
	if (how && !strcmp(how, "fail"))
		rg_fail_data("%d bytes did not arrive as sent", 1);
	RG_EXPECT_DATA(!memcmp(buf, "\1\2\3\4", 4));
}

RG_TEST_F(selftest, fixture_data, answer)
{
	RG_EXPECT_EQ(self->value, 42);
}

RG_TEST_F(selftest, fixture_broken, broken)
{
	rg_fail("the body of a test whose fixture failed ran");
}

RG_TEST_F(selftest, fixture_absent, absent)
{
	rg_fail("the body of a test whose fixture failed ran");
}

/* Each ordered comparison prints both values; the fatal one ends the test. */
RG_TEST(selftest, assert_order)
{
	int below = -1, count = 7;
	unsigned int big = 4000000000u;

	RG_EXPECT_GE(below, 0);
	RG_EXPECT_LT(big, 5u);
	RG_EXPECT_LT(count, 8); /* holds */
	RG_ASSERT_LE(count, 3);
	RG_EXPECT_GT(count, 7); /* not reached */
}
