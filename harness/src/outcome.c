// SPDX-License-Identifier: MIT
#include <string.h>

#include "internal.h"

static const char *const names[RG_N_OUTCOMES] = {
	[RG_PASS] = "PASS",	      [RG_FAIL] = "FAIL",
	[RG_UNSUPPORTED] = "UNSUPPORTED", [RG_SKIP] = "SKIP",
	[RG_TIMEOUT] = "TIMEOUT",     [RG_CRASH] = "CRASH",
	[RG_ERROR] = "ERROR",	      [RG_XFAIL] = "XFAIL",
};

const char *rg_outcome_name(enum rg_outcome outcome)
{
	return outcome < RG_N_OUTCOMES ? names[outcome] : "ERROR";
}

int rg_outcome_parse(const char *name, enum rg_outcome *outcome)
{
	int i;

	for (i = 0; i < RG_N_OUTCOMES; i++) {
		if (strcmp(names[i], name) == 0) {
			*outcome = i;
			return 0;
		}
	}
	return -1;
}
