// SPDX-License-Identifier: MIT
/*
 * The child's side: a test reports its outcome to the parent over a pipe, in
 * one write() no larger than PIPE_BUF so the parent never reads half of it.
 */
#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

static int report_fd = -1;
static const struct rg_plan *report_plan;
static const struct rg_fixture *setting_up;
/* "id=value; ..." for the profile, and the same in words for the message */
static char observed[RG_TEXT_MAX];
static char observed_text[RG_TEXT_MAX];
/* Short, so that the six fields fit in one PIPE_BUF write. */
static char failure_id[256];
static bool failure_is_data;

void rg_report_setup(int fd, const struct rg_plan *plan)
{
	report_fd = fd;
	report_plan = plan;
}

void rg_report_fixture(const struct rg_fixture *fixture)
{
	setting_up = fixture;
}

/* Newlines separate the fields on the pipe, so none inside a field. */
static void flatten(char *text)
{
	for (; *text; text++)
		if (*text == '\n' || *text == '\r')
			*text = ' ';
}

/* The first failure is the test's id: a later one may be its consequence,
 * and an explicit rg_fail() (a known defect's id, often the test's last
 * check) must not hide an earlier failed assertion under that id. Any
 * failed data check marks the result. */
static void set_failure_id(bool data, const char *id)
{
	failure_is_data |= data;
	if (*failure_id)
		return;
	snprintf(failure_id, sizeof(failure_id), "%s", id);
	flatten(failure_id);
}

void rg_failure_id(bool data, const char *fmt, ...)
{
	char id[sizeof(failure_id)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(id, sizeof(id), fmt, ap);
	va_end(ap);
	set_failure_id(data, id);
}

void rg_report(enum rg_outcome outcome, const char *reason, const char *message)
{
	char buf[PIPE_BUF];
	char r[RG_TEXT_MAX], m[RG_TEXT_MAX];
	int len;

	reason = reason ? reason : "";
	message = message ? message : "";
	/* A test whose fixture could not be built did not run: ERROR, not
	 * FAIL, with the fixture named in the reason. */
	if (setting_up && outcome == RG_FAIL)
		outcome = RG_ERROR;
	if (setting_up)
		snprintf(r, sizeof(r), "fixture %s: %s", setting_up->name,
			 reason);
	else
		snprintf(r, sizeof(r), "%s", reason);
	/* A pass says in words what it observed. */
	if (outcome == RG_PASS && !*message)
		message = observed_text;
	snprintf(m, sizeof(m), "%s", message);
	flatten(r);
	flatten(m);
	len = snprintf(buf, sizeof(buf), "%s\n%s\n%s\n%s\n%s\n%d\n",
		       rg_outcome_name(outcome), r, m, observed,
		       outcome == RG_FAIL ? failure_id : "",
		       outcome == RG_FAIL && failure_is_data);
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

/* The failure reported is this one: its format (the text without the values
 * it saw) is the message id, unless an assertion failed before it. */
static _Noreturn void fail_as(bool data, const char *id, const char *fmt,
			      va_list ap)
{
	set_failure_id(data, id);
	end_test(RG_FAIL, fmt, ap);
}

static _Noreturn void fail_with_id(const char *id, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static _Noreturn void fail_with_id(const char *id, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fail_as(false, id, fmt, ap);
}

_Noreturn void rg_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fail_as(false, fmt, fmt, ap);
}

_Noreturn void rg_fail_data(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fail_as(true, fmt, fmt, ap);
}

_Noreturn void rg__unsupported_or_fail(const char *file, int line, int err,
				       const char *fmt, ...)
{
	char what[RG_TEXT_MAX], id[RG_TEXT_MAX], name[32];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (err < 0) {
		rg_contract_violation(file, line, true, fmt, what, err);
		_exit(0); /* not reached: the failure above is fatal */
	}
	if (rg_unsupported_errno(err))
		rg_unsupported("%s: %s", what, strerror(err));
	/* The id keeps the errno (it is the failure) but not fmt's values. */
	snprintf(id, sizeof(id), "%s: %s, not an errno of an unsupported call",
		 fmt, rg_errno_name(err, name, sizeof(name)));
	fail_with_id(id, "%s: %s (%s), not an errno of an unsupported call",
		     what, rg_errno_name(err, name, sizeof(name)),
		     strerror(err));
}

/* Short and stable, since profiles key on it: [a-z0-9_]+. */
static bool is_identifier(const char *id)
{
	if (!*id)
		return false;
	for (; *id; id++)
		if (!islower((unsigned char)*id) &&
		    !isdigit((unsigned char)*id) && *id != '_')
			return false;
	return true;
}

static void append(char *buf, size_t size, const char *a, const char *b)
{
	size_t used = strlen(buf);

	snprintf(buf + used, size - used, "%s%s%s", used ? "; " : "", a, b);
	flatten(buf);
}

void rg_observe(const char *id, const char *what, const char *value)
{
	char pair[RG_TEXT_MAX];

	if (!is_identifier(id))
		rg_error("observation id '%s' is not [a-z0-9_]+", id);
	snprintf(pair, sizeof(pair), "=%s", value);
	append(observed, sizeof(observed), id, pair);
	snprintf(pair, sizeof(pair), ": %s", value);
	append(observed_text, sizeof(observed_text), what, pair);
}

const char *rg_errno_name(int err, char *buf, size_t size)
{
	const char *name = err ? strerrorname_np(err) : "0";

	if (name)
		return name;
	/* A negative errno (an old provider's -ENOMEM) keeps its sign. */
	snprintf(buf, size, "errno%d", err);
	return buf;
}

void rg__observe_errno(const char *file, int line, const char *id,
		       const char *what, int err)
{
	char name[32];

	rg_observe(id, what, rg_errno_name(err, name, sizeof(name)));
	if (err < 0)
		rg_contract_violation(file, line, false, id, what, err);
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
	return report_plan && report_plan->device ? report_plan->device
						  : "none";
}
