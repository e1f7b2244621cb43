// SPDX-License-Identifier: MIT
/*
 * The failure half of the RG_EXPECT_* / RG_ASSERT_* macros (harness.h): the
 * condition with the values it saw, recorded as a CUnit failure, so the
 * result's message says what happened, not only where.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

static void failed_as(bool data, const char *file, int line, bool fatal,
		      const char *expr, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

/* expr, the condition as written without the values it saw, is the
 * failure's message id (a profile names it; the values may differ); data:
 * the condition was a data check (RG_EXPECT_DATA). */
static void failed_as(bool data, const char *file, int line, bool fatal,
		      const char *expr, const char *fmt, ...)
{
	char text[RG_TEXT_MAX];
	va_list ap;

	rg_failure_id(data, "%s", expr);

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	/* CUnit copies the text; a fatal failure longjmps out of the test. */
	CU_assertImplementation(CU_FALSE, (unsigned int)line, text, file, "",
				fatal ? CU_TRUE : CU_FALSE);
}

void rg__assert_int(const char *file, int line, bool fatal, const char *expr,
		    const char *op, bool is_signed, unsigned long long got,
		    unsigned long long want)
{
	char expected[8] = ""; /* "== 42" reads "42", "!= 0" reads "not 0" */

	if (!strcmp(op, "!="))
		snprintf(expected, sizeof(expected), "not ");
	else if (strcmp(op, "=="))
		snprintf(expected, sizeof(expected), "%s ", op);
	if (is_signed)
		failed_as(false, file, line, fatal, expr,
			  "%s: got %lld, expected %s%lld", expr, (long long)got,
			  expected, (long long)want);
	else
		failed_as(false, file, line, fatal, expr,
			  "%s: got %llu, expected %s%llu", expr, got, expected,
			  want);
}

void rg__assert_errno(const char *file, int line, bool fatal, const char *expr,
		      int got, int want)
{
	char a[32], b[32];

	failed_as(false, file, line, fatal, expr, "%s: got %s, expected %s",
		  expr, rg_errno_name(got, a, sizeof(a)),
		  rg_errno_name(want, b, sizeof(b)));
}

void rg__assert_str(const char *file, int line, bool fatal, const char *expr,
		    bool equal, const char *got, const char *want)
{
	failed_as(false, file, line, fatal, expr,
		  "%s: got %s%s%s, expected %s%s%s%s", expr, got ? "\"" : "",
		  got ? got : "NULL", got ? "\"" : "", equal ? "" : "not ",
		  want ? "\"" : "", want ? want : "NULL", want ? "\"" : "");
}

void rg__assert_ptr(const char *file, int line, bool fatal, const char *expr,
		    bool equal, const void *got, const void *want)
{
	char a[32] = "NULL", b[32] = "NULL";

	if (got)
		snprintf(a, sizeof(a), "%p", got);
	if (want)
		snprintf(b, sizeof(b), "%p", want);
	failed_as(false, file, line, fatal, expr, "%s: got %s, expected %s%s",
		  expr, a, equal ? "" : "not ", b);
}

void rg__assert_true(const char *file, int line, bool fatal, const char *expr)
{
	failed_as(false, file, line, fatal, expr, "%s: false", expr);
}

void rg__assert_data(const char *file, int line, bool fatal, const char *expr)
{
	failed_as(true, file, line, fatal, expr, "%s: false (a data check)",
		  expr);
}

void rg_contract_violation(const char *file, int line, bool fatal,
			   const char *id, const char *what, int err)
{
	char msgid[RG_TEXT_MAX], name[32];

	snprintf(msgid, sizeof(msgid),
		 "verbs contract: %s returned a negative errno", id);
	failed_as(false, file, line, fatal, msgid,
		  "verbs contract: %s returned %d (-%s), not a positive errno",
		  what, err, rg_errno_name(-err, name, sizeof(name)));
}
