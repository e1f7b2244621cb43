// SPDX-License-Identifier: MIT
/*
 * One test, one child process: a segfault, an abort(), an exit() or a hang
 * inside a provider library ends that test, never the run.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

#define SLICE_MS 20

static volatile sig_atomic_t current_child;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A harness told to stop takes its test's whole process group with it. */
static void on_stop_signal(int sig)
{
	if (current_child > 0)
		kill(-current_child, SIGKILL);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void install_stop_handlers(void)
{
	static bool installed;

	if (installed)
		return;
	signal(SIGINT, on_stop_signal);
	signal(SIGTERM, on_stop_signal);
	signal(SIGHUP, on_stop_signal);
	installed = true;
}

/* The first few failed assertions, "condition (file:line); ...": the first
 * is usually the cause, the next ones say how far the damage went. */
static void report_cunit_failures(void)
{
	const CU_FailureRecord *rec = CU_get_failure_list();
	unsigned int n = CU_get_number_of_failure_records(), shown = 0;
	char message[RG_TEXT_MAX];
	const char *file;
	size_t used = 0;

	if (!rec) {
		rg_report(RG_PASS, "", "");
		return;
	}
	message[0] = '\0';
	for (; rec && shown < 3 && used < sizeof(message);
	     rec = rec->pNext, shown++) {
		file = rec->strFileName ? rec->strFileName : "?";
		file = strrchr(file, '/') ? strrchr(file, '/') + 1 : file;
		used += (size_t)snprintf(message + used, sizeof(message) - used,
					 "%s%s (%s:%u)", shown ? "; " : "",
					 rec->strCondition ? rec->strCondition
							   : "?",
					 file, rec->uiLineNumber);
	}
	if (n > shown && used < sizeof(message))
		snprintf(message + used, sizeof(message) - used, " (%u more)",
			 n - shown);
	rg_report(RG_FAIL, "assertion failed", message);
}

static const struct rg_test *current;

void rg_run_current(void)
{
	const struct rg_fixture *fixture = current->fixture;
	void *data = NULL;

	if (fixture) {
		/* Freed with the process. */
		data = calloc(1, fixture->size ? fixture->size : 1);
		if (!data)
			rg_error("fixture %s: out of memory", fixture->name);
		rg_report_fixture(fixture);
		fixture->setup(data);
		/* A failed assertion in the setup is reported as ERROR: leave
		 * the fixture phase set for report_cunit_failures(). */
		if (CU_get_number_of_failure_records())
			return;
		rg_report_fixture(NULL);
	}
	current->run(data);
}

static _Noreturn void child_main(const struct rg_selected *sel, int fd,
				 const struct rg_plan *plan)
{
	CU_pSuite suite;
	CU_pTest test;

	setpgid(0, 0);
	/* stdout carries KTAP: whatever a test prints goes to stderr. */
	dup2(STDERR_FILENO, STDOUT_FILENO);
	rg_report_setup(fd, plan);
	suite = CU_get_suite(sel->suite->name);
	test = suite ? CU_get_test(suite, sel->test->name) : NULL;
	if (!test) {
		rg_report(RG_ERROR, "not in the CUnit registry",
			  sel->test->name);
		_exit(0);
	}
	current = sel->test;
	CU_set_error_action(CUEA_IGNORE);
	CU_run_test(suite, test);
	report_cunit_failures();
	fflush(NULL);
	_exit(0);
}

/* Parse "OUTCOME\nreason\nmessage\nobserved\nfailure\ndata\n" from the
 * child; false if absent or cut short. */
static bool parse_report(char *buf, struct rg_result *res)
{
	char *field[6], *next = buf, *end;
	size_t i;

	for (i = 0; i < 6; i++) {
		end = strchr(next, '\n');
		if (!end)
			return false;
		*end = '\0';
		field[i] = next;
		next = end + 1;
	}
	if (rg_outcome_parse(field[0], &res->raw_outcome))
		return false;
	snprintf(res->reason, sizeof(res->reason), "%s", field[1]);
	snprintf(res->message, sizeof(res->message), "%s", field[2]);
	snprintf(res->observed, sizeof(res->observed), "%s", field[3]);
	snprintf(res->failure, sizeof(res->failure), "%s", field[4]);
	res->data_check = !strcmp(field[5], "1");
	return true;
}

/* Read the report and wait for the child, up to the deadline. */
static bool wait_child(pid_t pid, int fd, double deadline, char *buf,
		       size_t size, int *status)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	size_t used = 0;
	ssize_t got;

	for (;;) {
		if (waitpid(pid, status, WNOHANG) == pid)
			break;
		if (now_s() >= deadline)
			return false;
		if (poll(&pfd, 1, SLICE_MS) <= 0 || used + 1 >= size)
			continue;
		got = read(fd, buf + used, size - used - 1);
		if (got > 0)
			used += got;
		else if (got == 0)
			pfd.fd = -1; /* EOF: only the exit is left to see */
	}
	/* Drain what the child wrote just before it exited. */
	while (used + 1 < size &&
	       (got = read(fd, buf + used, size - used - 1)) > 0)
		used += got;
	buf[used] = '\0';
	return true;
}

static void classify_exit(int status, char *report, struct rg_result *res)
{
	const char *abbrev;

	if (WIFSIGNALED(status)) {
		res->raw_outcome = RG_CRASH;
		res->signal = WTERMSIG(status);
		abbrev = sigabbrev_np(res->signal);
		snprintf(res->reason, sizeof(res->reason), "SIG%s",
			 abbrev ? abbrev : "?");
		snprintf(res->message, sizeof(res->message),
			 "killed by signal %d (%s)", res->signal,
			 strsignal(res->signal));
		return;
	}
	if (parse_report(report, res))
		return;
	res->raw_outcome = RG_FAIL;
	snprintf(res->reason, sizeof(res->reason),
		 "exited before the test ended");
	snprintf(res->failure, sizeof(res->failure), "%s", res->reason);
	snprintf(res->message, sizeof(res->message),
		 "the test process exited with status %d without reporting an "
		 "outcome (an exit() in the code under test?)",
		 WEXITSTATUS(status));
}

void rg_isolate_run(const struct rg_selected *sel, struct rg_result *res,
		    const struct rg_plan *plan)
{
	char report[PIPE_BUF + 1];
	int fds[2], status = 0;
	double start;
	pid_t pid, parent;

	memset(res, 0, sizeof(*res));
	res->suite = sel->suite;
	res->test = sel->test;
	install_stop_handlers();
	/* Non-blocking read end: a grandchild holding the write end open
	 * must not keep the harness waiting once the test process is gone. */
	if (pipe2(fds, O_CLOEXEC) || fcntl(fds[0], F_SETFL, O_NONBLOCK)) {
		res->raw_outcome = RG_ERROR;
		snprintf(res->reason, sizeof(res->reason), "pipe: %s",
			 strerror(errno));
		return;
	}
	fflush(NULL);
	start = now_s();
	parent = getpid();
	pid = fork();
	if (pid < 0) {
		res->raw_outcome = RG_ERROR;
		snprintf(res->reason, sizeof(res->reason), "fork: %s",
			 strerror(errno));
		goto close_pipe;
	}
	if (pid == 0) {
		/* A harness killed outright (SIGKILL, a runner's timeout) takes
		 * its test with it: no test left running, holding the device.
		 */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) == 0 &&
		    getppid() != parent)
			_exit(0);
		close(fds[0]);
		child_main(sel, fds[1], plan);
	}
	current_child = pid;
	setpgid(pid, pid);
	close(fds[1]);
	fds[1] = -1;
	if (!wait_child(pid, fds[0], start + sel->timeout_s, report,
			sizeof(report), &status)) {
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		res->raw_outcome = RG_TIMEOUT;
		snprintf(res->reason, sizeof(res->reason),
			 "timed out after %u s", sel->timeout_s);
		snprintf(res->message, sizeof(res->message),
			 "killed with SIGKILL after its %u s limit",
			 sel->timeout_s);
	} else {
		classify_exit(status, report, res);
	}
	/* Whatever the test started (a server, a helper) goes with it. */
	kill(-pid, SIGKILL);
	current_child = 0;
	res->duration_s = now_s() - start;
close_pipe:
	close(fds[0]);
	if (fds[1] >= 0)
		close(fds[1]);
}
