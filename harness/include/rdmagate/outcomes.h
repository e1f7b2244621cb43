/* SPDX-License-Identifier: MIT */
/*
 * The outcomes of a test, defined once: the harness's enum, names and exit
 * code derive from RG_OUTCOMES, and the runner's tests read this file.
 */
#ifndef RDMAGATE_OUTCOMES_H
#define RDMAGATE_OUTCOMES_H

#include <errno.h>
#include <stdbool.h>

/* What an outcome means for the run; the values are the harness's exit codes.
 */
enum rg_verdict {
	RG_AS_EXPECTED = 0,
	RG_UNEXPECTED = 1,
	RG_INFRA = 3,
};

/* XFAIL is a FAIL the profile expects: a known defect, named with its reason.
 */
/* name, and what it means for the run: as expected (exit 0), unexpected (NO-GO,
 * exit 1), or the infrastructure failed (exit 3) */
#define RG_OUTCOMES(X)                                                         \
	X(PASS, RG_AS_EXPECTED)                                                \
	X(FAIL, RG_UNEXPECTED)                                                 \
	X(UNSUPPORTED, RG_AS_EXPECTED)                                         \
	X(SKIP, RG_AS_EXPECTED)                                                \
	X(TIMEOUT, RG_UNEXPECTED)                                              \
	X(CRASH, RG_UNEXPECTED)                                                \
	X(ERROR, RG_INFRA)                                                     \
	X(XFAIL, RG_AS_EXPECTED)

enum rg_outcome {
#define RG_OUTCOME_ENUM(name, verdict) RG_##name,
	RG_OUTCOMES(RG_OUTCOME_ENUM)
#undef RG_OUTCOME_ENUM
		RG_N_OUTCOMES,
};

/*
 * The one rule for UNSUPPORTED from a call's errno: the device, its driver
 * or the kernel lacks the operation.
 *   EOPNOTSUPP (ENOTSUP): the provider or kernel does not implement it
 *   ENOSYS: a library or kernel too old to have the command
 *   EPROTONOSUPPORT: rdma-core's answer when the kernel lacks an ioctl method
 *   ENODEV: no RDMA device or subsystem here (librdmacm without one)
 * EINVAL is not among them: it says the test's input is wrong, which is a
 * FAIL to look at. err is a positive errno, as the verbs contract gives it; a
 * negative one (-EOPNOTSUPP returned by a provider) is not an errno and so
 * not unsupported: rg_unsupported_or_fail() reports it as a contract
 * violation. A capability bit the device reports absent is the other way to
 * UNSUPPORTED (rg_unsupported() with the bit in the reason).
 */
static inline bool rg_unsupported_errno(int err)
{
	return err == EOPNOTSUPP || err == ENOTSUP || err == ENOSYS ||
	       err == EPROTONOSUPPORT || err == ENODEV;
}

#endif
