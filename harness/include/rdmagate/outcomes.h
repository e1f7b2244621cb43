/* SPDX-License-Identifier: MIT */
/*
 * Every outcome a test can end in, and its class, defined once: the class
 * gives the exit code (as expected: 0, unexpected: NO-GO, 1, infrastructure:
 * 3). The runner's rdmagate/outcomes.py holds the same list; a unit test
 * (runner/tests/unit/test_outcomes.py) parses this macro and fails when the
 * two disagree. Expand it with an X(name, class) of your own.
 */
#ifndef RDMAGATE_OUTCOMES_H
#define RDMAGATE_OUTCOMES_H

#define RG_OUTCOMES(X) \
	X(PASS, RG_AS_EXPECTED) \
	X(FAIL, RG_UNEXPECTED) \
	X(UNSUPPORTED, RG_AS_EXPECTED) \
	X(SKIP, RG_AS_EXPECTED) \
	X(TIMEOUT, RG_UNEXPECTED) \
	X(CRASH, RG_UNEXPECTED) \
	X(ERROR, RG_INFRA) \
	X(XFAIL, RG_AS_EXPECTED)

#endif /* RDMAGATE_OUTCOMES_H */
