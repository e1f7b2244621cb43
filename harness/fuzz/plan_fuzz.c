// SPDX-License-Identifier: MIT
/*
 * libFuzzer target of the plan reader (rg_plan_load): any bytes as a plan
 * must end in a loaded plan or one error line, never a crash, a leak or
 * undefined behaviour (built with ASan and UBSan). The plan is handed over
 * as a memfd, the way the reader opens a file, so a run writes nothing.
 * The selftest suite is linked in so that plans select real tests.
 * Built by -DRDMAGATE_FUZZ=ON with clang; run by ctest -L fuzz (ci/test).
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* The reader's error lines go to stderr with the fuzzer's and the
	 * sanitizers' reports: expected, and left so a crash is shown. */
	if (rg_registry_load())
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char *filters[] = { "selftest.*" };
	struct rg_plan plan = { 0 };
	char path[64];
	int fd;

	fd = memfd_create("plan", MFD_CLOEXEC);
	if (fd < 0 || (size && write(fd, data, size) != (ssize_t)size))
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (!rg_plan_load(path, filters, size % 2, &plan))
		rg_plan_free(&plan);
	close(fd);
	return 0;
}
