// SPDX-License-Identifier: MIT
/*
 * The profile's expectation turns a raw outcome into the final one: the
 * device doing something other than expected is a FAIL, in both directions.
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"

static void mismatch(const struct rg_selected *sel, struct rg_result *res)
{
	char message[RG_TEXT_MAX];
	const char *why = sel->expected_reason ? sel->expected_reason : "";

	snprintf(message, sizeof(message),
		 "the profile expects %s%s%s%s, the test reported %s%s%s",
		 rg_outcome_name(sel->expected), *why ? " (" : "", why,
		 *why ? ")" : "", rg_outcome_name(res->raw_outcome),
		 *res->reason ? ": " : "", res->reason);
	snprintf(res->message, sizeof(res->message), "%s", message);
	snprintf(res->reason, sizeof(res->reason), "unexpected %s",
		 rg_outcome_name(res->raw_outcome));
	res->outcome = RG_FAIL;
}

/* The call failed as it should, but not in the way this device does. */
static void observed_mismatch(const struct rg_selected *sel,
			      struct rg_result *res)
{
	char words[RG_TEXT_MAX]; /* the test's observations in words */

	snprintf(words, sizeof(words), "%s", res->message);
	snprintf(res->message, sizeof(res->message),
		 "the profile expects %s, the test observed %s%s%s%s",
		 sel->expected_observed,
		 *res->observed ? res->observed : "nothing", *words ? " (" : "",
		 words, *words ? ")" : "");
	snprintf(res->reason, sizeof(res->reason), "unexpected %s",
		 *res->observed ? res->observed : "observation");
	res->outcome = RG_FAIL;
}

/* The profile states the reason of an UNSUPPORTED: another reason (another
 * call refused, a capability bit gone) is a change to look at. */
static void reason_mismatch(const struct rg_selected *sel,
			    struct rg_result *res)
{
	char got[RG_TEXT_MAX];

	snprintf(got, sizeof(got), "%s", res->reason);
	snprintf(res->message, sizeof(res->message),
		 "the profile expects UNSUPPORTED (%s), the test reported "
		 "UNSUPPORTED: %s",
		 sel->expected_reason, got);
	snprintf(res->reason, sizeof(res->reason),
		 "unexpected UNSUPPORTED reason");
	res->outcome = RG_FAIL;
}

/* The known defect is one failure (its message id); another failure of the
 * same test is a regression the defect must not hide. */
static void failure_mismatch(const struct rg_selected *sel,
			     struct rg_result *res)
{
	char got[RG_TEXT_MAX];

	snprintf(got, sizeof(got), "%s", res->message);
	snprintf(res->message, sizeof(res->message),
		 "the profile expects the known defect '%s' (%s), the test "
		 "failed with '%s': %s",
		 sel->expected_failure,
		 sel->expected_reason ? sel->expected_reason : "", res->failure,
		 got);
	snprintf(res->reason, sizeof(res->reason),
		 "another failure than the known defect");
}

void rg_expect_apply(const struct rg_selected *sel, struct rg_result *res,
		     bool capture)
{
	res->expected = sel->expected;
	res->outcome = res->raw_outcome;
	if (capture)
		return; /* the device's behaviour is what is being recorded */
	switch (res->raw_outcome) {
	case RG_PASS:
	case RG_UNSUPPORTED:
		if (res->raw_outcome != sel->expected)
			mismatch(sel, res);
		else if (res->raw_outcome == RG_PASS &&
			 sel->expected_observed &&
			 strcmp(sel->expected_observed, res->observed))
			observed_mismatch(sel, res);
		else if (res->raw_outcome == RG_UNSUPPORTED &&
			 sel->expected_reason &&
			 strcmp(sel->expected_reason, res->reason))
			reason_mismatch(sel, res);
		return;
	case RG_FAIL:
		/* A known defect of this device and stack, named in the
		 * profile by the failure it expects. */
		if (sel->expected != RG_FAIL)
			return;
		if (sel->expected_failure &&
		    !strcmp(sel->expected_failure, res->failure))
			res->outcome = RG_XFAIL;
		else
			failure_mismatch(sel, res);
		return;
	default:
		/* SKIP, TIMEOUT, CRASH and ERROR say more than any
		 * expectation could. */
		return;
	}
}

/* A known defect the profile says not to run (it oopses or hangs the
 * kernel, and what runs after it would pay): XFAIL, saying so, not run. */
void rg_expect_not_run(const struct rg_selected *sel, struct rg_result *res)
{
	memset(res, 0, sizeof(*res));
	res->suite = sel->suite;
	res->test = sel->test;
	res->raw_outcome = RG_SKIP;
	res->expected = RG_FAIL;
	res->outcome = RG_XFAIL;
	snprintf(res->reason, sizeof(res->reason), "not run: a known defect");
	snprintf(res->message, sizeof(res->message), "not run: %s",
		 sel->expected_reason);
	snprintf(res->failure, sizeof(res->failure), "%s",
		 sel->expected_failure);
}
