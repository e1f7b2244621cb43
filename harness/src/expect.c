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
static void observed_mismatch(const struct rg_selected *sel, struct rg_result *res)
{
	char words[RG_TEXT_MAX]; /* the test's observations in words */

	snprintf(words, sizeof(words), "%s", res->message);
	snprintf(res->message, sizeof(res->message),
		 "the profile expects %s, the test observed %s%s%s%s",
		 sel->expected_observed, *res->observed ? res->observed : "nothing",
		 *words ? " (" : "", words, *words ? ")" : "");
	snprintf(res->reason, sizeof(res->reason), "unexpected %s",
		 *res->observed ? res->observed : "observation");
	res->outcome = RG_FAIL;
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
		else if (res->raw_outcome == RG_PASS && sel->expected_observed &&
			 strcmp(sel->expected_observed, res->observed))
			observed_mismatch(sel, res);
		return;
	case RG_FAIL:
		/* A known defect of this device and stack, named in the profile. */
		if (sel->expected == RG_FAIL)
			res->outcome = RG_XFAIL;
		return;
	default:
		/* FAIL stays FAIL; SKIP, TIMEOUT, CRASH and ERROR say more
		 * than any expectation could. */
		return;
	}
}
