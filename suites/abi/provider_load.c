// SPDX-License-Identifier: MIT
/*
 * rdmagate-provider-load: load rdma-core providers the way libibverbs
 * does, and say what the dynamic loader said of each.
 *
 *   rdmagate-provider-load LIBIBVERBS PROVIDER...
 *
 * LIBIBVERBS is opened first (RTLD_NOW | RTLD_GLOBAL), as it is already in
 * the process when libibverbs loads its drivers; each PROVIDER is then
 * opened with RTLD_NOW, libibverbs' own flag, so every symbol it imports is
 * bound now (an undefined symbol or a missing version node fails here, not
 * at a first call). The provider's constructor runs and registers the
 * driver with that libibverbs, as in an application. Each provider is
 * opened in its own child, so one that crashes or clashes with another
 * leaves the others' results as they would be alone.
 *
 * The runner starts it with a stack root's own ld.so and library path, so
 * the C library is that root's. One line on stdout per provider, in order:
 *   loaded
 *   failed<TAB>dlerror's message
 *   crashed<TAB>the signal number
 * Exit 0 when every provider was tried, 2 when LIBIBVERBS could not be
 * opened (one line "libibverbs<TAB>message"). It links nothing of
 * rdma-core: it runs against any stack.
 */
#define _POSIX_C_SOURCE 200809L
#include <dlfcn.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

static int try_one(const char *path)
{
	void *provider = dlopen(path, RTLD_NOW);
	const char *err;

	if (!provider) {
		err = dlerror();
		printf("failed\t%s\n", err ? err : "unknown error");
	} else {
		printf("loaded\n");
	}
	fflush(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	const char *err;
	int i, status;
	pid_t child;

	if (argc < 2) {
		fprintf(stderr, "usage: %s LIBIBVERBS PROVIDER...\n", argv[0]);
		return 2;
	}
	if (!dlopen(argv[1], RTLD_NOW | RTLD_GLOBAL)) {
		err = dlerror();
		printf("libibverbs\t%s\n", err ? err : "unknown error");
		return 2;
	}
	for (i = 2; i < argc; i++) {
		fflush(stdout);
		child = fork();
		if (child < 0) {
			perror("fork");
			return 3;
		}
		if (child == 0)
			_exit(try_one(argv[i]));
		if (waitpid(child, &status, 0) < 0) {
			perror("waitpid");
			return 3;
		}
		if (WIFSIGNALED(status))
			printf("crashed\t%d\n", WTERMSIG(status));
	}
	return 0;
}
