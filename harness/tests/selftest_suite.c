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

static void test_pass(void)
{
	CU_ASSERT_EQUAL(1 + 1, 2);
}

static void test_pass_printing(void)
{
	/* Output of a test must not corrupt the KTAP stream on stdout. */
	puts("ok 99 this line is not KTAP");
	CU_ASSERT_TRUE(1);
}

static void test_assert_fails(void)
{
	int answer = 41;

	CU_ASSERT_EQUAL(answer, 42);
}

static void test_segfault(void)
{
	raise(SIGSEGV);
}

static void test_abort(void)
{
	abort();
}

static void test_spin(void)
{
	volatile unsigned long n = 0;

	for (;;)
		n++;
}

static void test_sleep_long(void)
{
	sleep(60);
}

static void test_exit_early(void)
{
	exit(0);
}

static void test_unsupported(void)
{
	rg_unsupported("device lacks %s", "type 2 memory windows");
}

static void test_skip(void)
{
	rg_skip("stack lacks %s", "ibv_wr_start");
}

static void test_error(void)
{
	rg_error("environment: %s", "no /dev/infiniband");
}

static void test_fork_child_left(void)
{
	/* A server left behind must not keep the harness waiting. */
	if (fork() == 0) {
		sleep(60);
		_exit(0);
	}
	CU_PASS("forked");
}

static void test_param(void)
{
	const char *value = rg_param("greeting");

	if (!value)
		rg_fail("no parameter 'greeting'");
	CU_ASSERT_STRING_EQUAL(value, "hello");
	CU_ASSERT_STRING_EQUAL(rg_device(), "selftest0");
}

/* A negative test: the call failed, and how it failed is observed. */
static void test_observe(void)
{
	rg_observe_errno("open", EINVAL);
	rg_observe("completion", "remote access error");
}

RG_SUITE(selftest, NULL, NULL,
	 RG_TEST(pass),
	 RG_TEST(pass_printing),
	 RG_TEST(assert_fails),
	 RG_TEST(segfault),
	 RG_TEST(abort),
	 RG_TEST(spin, .timeout_s = 1),
	 RG_TEST(sleep_long, .timeout_s = 120),
	 RG_TEST(exit_early),
	 RG_TEST(unsupported),
	 RG_TEST(skip),
	 RG_TEST(error),
	 RG_TEST(fork_child_left, .timeout_s = 5),
	 RG_TEST(param),
	 RG_TEST(observe))
