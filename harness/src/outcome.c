// SPDX-License-Identifier: MIT
/* Names and verdicts of the outcomes, from RG_OUTCOMES (outcomes.h). */
#include <string.h>

#include "internal.h"

#define RG_OUTCOME_NAME(name, verdict) [RG_##name] = #name,
static const char *const names[RG_N_OUTCOMES] = { RG_OUTCOMES(
	RG_OUTCOME_NAME) };

#define RG_OUTCOME_VERDICT(name, verdict) [RG_##name] = verdict,
static const enum rg_verdict verdicts[RG_N_OUTCOMES] = { RG_OUTCOMES(
	RG_OUTCOME_VERDICT) };

const char *rg_outcome_name(enum rg_outcome outcome)
{
	return outcome < RG_N_OUTCOMES ? names[outcome] : "ERROR";
}

enum rg_verdict rg_outcome_verdict(enum rg_outcome outcome)
{
	return outcome < RG_N_OUTCOMES ? verdicts[outcome] : RG_INFRA;
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
