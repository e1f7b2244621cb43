// SPDX-License-Identifier: MIT
/*
 * The child's side: a test reports its outcome to the parent over a pipe, in
 * one write() no larger than PIPE_BUF so the parent never reads half of it.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

static int report_fd = -1;
static const struct rg_plan *report_plan;
static char observed[RG_TEXT_MAX];

void rg_report_setup(int fd, const struct rg_plan *plan)
{
	report_fd = fd;
	report_plan = plan;
}

/* Newlines separate the fields on the pipe, so none inside a field. */
static void flatten(char *text)
{
	for (; *text; text++)
		if (*text == '\n' || *text == '\r')
			*text = ' ';
}

void rg_report(enum rg_outcome outcome, const char *reason, const char *message)
{
	char buf[PIPE_BUF];
	char r[RG_TEXT_MAX], m[RG_TEXT_MAX];
	int len;

	snprintf(r, sizeof(r), "%s", reason ? reason : "");
	snprintf(m, sizeof(m), "%s", message ? message : "");
	flatten(r);
	flatten(m);
	len = snprintf(buf, sizeof(buf), "%s\n%s\n%s\n%s\n",
		       rg_outcome_name(outcome), r, m, observed);
	if (len < 0 || (size_t)len >= sizeof(buf))
		len = sizeof(buf) - 1;
	if (report_fd < 0) {
		/* Called outside the harness: say it rather than vanish. */
		fprintf(stderr, "rdmagate: %s", buf);
		abort();
	}
	if (write(report_fd, buf, len) != len)
		_exit(125);
}

static _Noreturn void end_test(enum rg_outcome outcome, const char *fmt,
			       va_list ap)
{
	char reason[RG_TEXT_MAX];

	vsnprintf(reason, sizeof(reason), fmt, ap);
	rg_report(outcome, reason, reason);
	fflush(NULL);
	/* The child is disposable: the kernel releases what the test held. */
	_exit(0);
}

#define DEFINE_END(fn, outcome)                                                \
	_Noreturn void fn(const char *fmt, ...)                                \
	{                                                                      \
		va_list ap;                                                    \
		va_start(ap, fmt);                                             \
		end_test(outcome, fmt, ap);                                    \
	}

DEFINE_END(rg_unsupported, RG_UNSUPPORTED)
DEFINE_END(rg_skip, RG_SKIP)
DEFINE_END(rg_error, RG_ERROR)
DEFINE_END(rg_fail, RG_FAIL)

void rg_observe(const char *what, const char *value)
{
	size_t used = strlen(observed);

	snprintf(observed + used, sizeof(observed) - used, "%s%s=%s",
		 used ? "; " : "", what, value);
	flatten(observed);
}

void rg_observe_errno(const char *call, int err)
{
	/* The symbolic name, which a profile can state and a reader knows. */
	const char *name = err ? strerrorname_np(err) : "0";
	char number[16];

	if (!name) {
		snprintf(number, sizeof(number), "errno%d", err);
		name = number;
	}
	rg_observe(call, name);
}

const char *rg_param(const char *key)
{
	struct json_object *params, *value;

	if (!report_plan ||
	    !json_object_object_get_ex(report_plan->root, "params", &params) ||
	    !json_object_object_get_ex(params, key, &value))
		return NULL;
	return json_object_get_string(value);
}

const char *rg_device(void)
{
	return report_plan && report_plan->device ? report_plan->device : "none";
}
