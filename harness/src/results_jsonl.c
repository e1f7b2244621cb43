// SPDX-License-Identifier: MIT
/*
 * results.jsonl: one line per finished test, handed to the kernel whole
 * before the next test starts, so a SIGKILLed harness loses nothing it
 * finished.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

/* The file's name, for the one line that says a write failed. */
static const char *results_path = "results";

int rg_jsonl_open(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC,
		      0644);

	if (fd < 0)
		fprintf(stderr,
			"rdmagate-harness: %s: cannot write results: %s\n",
			path, strerror(errno));
	else
		results_path = path;
	return fd;
}

static void add_string(struct json_object *obj, const char *key,
		       const char *value)
{
	json_object_object_add(obj, key, json_object_new_string(value));
}

static struct json_object *to_json(const struct rg_result *res,
				   const struct rg_plan *plan)
{
	struct json_object *obj = json_object_new_object();
	char id[512];

	snprintf(id, sizeof(id), "%s.%s", res->suite->name, res->test->name);
	add_string(obj, "test", id);
	add_string(obj, "suite", res->suite->name);
	add_string(obj, "name", res->test->name);
	add_string(obj, "outcome", rg_outcome_name(res->outcome));
	add_string(obj, "raw_outcome", rg_outcome_name(res->raw_outcome));
	add_string(obj, "expected", rg_outcome_name(res->expected));
	add_string(obj, "reason", res->reason);
	add_string(obj, "message", res->message);
	add_string(obj, "observed", res->observed);
	add_string(obj, "failure", res->failure);
	json_object_object_add(obj, "data_check",
			       json_object_new_boolean(res->data_check));
	json_object_object_add(obj, "duration_s",
			       json_object_new_double(res->duration_s));
	add_string(obj, "stack", plan->stack);
	add_string(obj, "device", plan->device);
	if (res->outcome == RG_CRASH)
		json_object_object_add(obj, "signal",
				       json_object_new_int(res->signal));
	return obj;
}

/*
 * One write() of the whole line, whatever its length (a plan's stack string
 * of any size reaches every result), so a kill never leaves half of it;
 * errno is read right after the call that failed, never a stale one.
 */
int rg_jsonl_write(int fd, const struct rg_result *res,
		   const struct rg_plan *plan)
{
	struct json_object *obj = to_json(res, plan);
	const char *text, *why = NULL;
	size_t len, done = 0;
	char *line;
	ssize_t n;
	int ret = -1;

	text = json_object_to_json_string_ext(
		obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	len = text ? strlen(text) : 0;
	line = text ? malloc(len + 2) : NULL;
	if (!line) {
		why = "out of memory";
		goto out;
	}
	memcpy(line, text, len);
	line[len++] = '\n';
	while (done < len) {
		n = write(fd, line + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			why = n < 0 ? strerror(errno) : "nothing written";
			goto out;
		}
		done += n;
	}
	ret = 0;
out:
	if (ret)
		fprintf(stderr,
			"rdmagate-harness: %s: cannot write a result line: "
			"%s\n",
			results_path, why);
	free(line);
	json_object_put(obj);
	return ret;
}
