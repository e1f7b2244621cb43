// SPDX-License-Identifier: MIT
/* JUnit XML at the end of a run, for CI systems. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

static void xml_text(FILE *f, const char *text)
{
	for (; *text; text++) {
		switch (*text) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&apos;", f); break;
		default:
			/* XML 1.0 forbids most control characters. */
			if ((unsigned char)*text >= 0x20 || *text == '\t')
				fputc(*text, f);
		}
	}
}

static void write_case(FILE *f, const struct rg_result *res)
{
	const char *outcome = rg_outcome_name(res->outcome);
	const char *text = *res->message ? res->message : res->reason;

	fprintf(f, "    <testcase classname=\"");
	xml_text(f, res->suite->name);
	fprintf(f, "\" name=\"");
	xml_text(f, res->test->name);
	fprintf(f, "\" time=\"%.3f\">", res->duration_s);
	switch (res->outcome) {
	case RG_PASS:
		break;
	case RG_SKIP:
	case RG_UNSUPPORTED:
	case RG_XFAIL:
		fprintf(f, "<skipped message=\"%s: ", outcome);
		xml_text(f, res->reason);
		fprintf(f, "\"/>");
		break;
	default:
		fprintf(f, "<%s message=\"", res->outcome == RG_ERROR ? "error" : "failure");
		xml_text(f, *res->reason ? res->reason : outcome);
		fprintf(f, "\" type=\"%s\">", outcome);
		xml_text(f, text);
		fprintf(f, "</%s>", res->outcome == RG_ERROR ? "error" : "failure");
	}
	fprintf(f, "</testcase>\n");
}

static void count(const struct rg_result *r, size_t n, size_t *fail,
		  size_t *err, size_t *skip)
{
	size_t i;

	*fail = *err = *skip = 0;
	for (i = 0; i < n; i++) {
		if (r[i].outcome == RG_ERROR)
			(*err)++;
		else if (r[i].outcome == RG_SKIP || r[i].outcome == RG_UNSUPPORTED ||
			 r[i].outcome == RG_XFAIL)
			(*skip)++;
		else if (r[i].outcome != RG_PASS)
			(*fail)++;
	}
}

int rg_junit_write(const char *path, const struct rg_result *results, size_t n)
{
	size_t start, end, fail, err, skip;
	FILE *f = fopen(path, "w");

	if (!f) {
		fprintf(stderr, "rdmagate-harness: %s: %s\n", path, strerror(errno));
		return -1;
	}
	fprintf(f, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
	fprintf(f, "<testsuites name=\"rdmagate\" tests=\"%zu\">\n", n);
	for (start = 0; start < n; start = end) {
		for (end = start; end < n && results[end].suite == results[start].suite; end++)
			;
		count(results + start, end - start, &fail, &err, &skip);
		fprintf(f, "  <testsuite name=\"");
		xml_text(f, results[start].suite->name);
		fprintf(f, "\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" skipped=\"%zu\">\n",
			end - start, fail, err, skip);
		for (size_t i = start; i < end; i++)
			write_case(f, &results[i]);
		fprintf(f, "  </testsuite>\n");
	}
	fprintf(f, "</testsuites>\n");
	return fclose(f) ? -1 : 0;
}
