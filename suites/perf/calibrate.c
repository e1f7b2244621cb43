// SPDX-License-Identifier: MIT
/*
 * rdmagate-calibrate: a fixed CPU and memory workload, independent of any
 * RDMA stack, timed like rdmagate-perf's samples.
 *
 *   rdmagate-calibrate [--iters N] [--warmup N] --out FILE
 *
 * A perf baseline records it in the same boot as its measurements; a check
 * on another machine (or guest) measures it again, and the ratio of the two
 * says how much faster or slower that machine runs the same instructions
 * (perf/calibrate.py). It links nothing but the C library, so it means the
 * same on every stack.
 *
 * One sample: a dependent walk of STEPS loads and stores over a buffer of
 * BUF_BYTES (larger than L1, inside L2: the memory hierarchy as a fast path
 * touches it) with a multiply-add chain, about as long as a small RDMA
 * WRITE round trip in the lab. The walk's order is a fixed permutation, the
 * same on every run and machine.
 *
 * Output: "# rdmagate-calibrate test=calibrate iters=N warmup=W
 * clock=CLOCK_MONOTONIC_RAW unit=ns", then one integer sample (ns) per
 * line. Exit 0 done, 1 a system call failed, 2 usage.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BUF_WORDS (64 * 1024 / sizeof(uint32_t)) /* 64 KiB */
#define STEPS 4096

static uint32_t next[BUF_WORDS];

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* One cycle through every word (Sattolo's shuffle, a fixed LCG seed). */
static void permute(void)
{
	uint32_t seed = 12345, i, j, t;

	for (i = 0; i < BUF_WORDS; i++)
		next[i] = i;
	for (i = BUF_WORDS - 1; i > 0; i--) {
		seed = seed * 1103515245u + 12345u;
		j = (seed >> 8) % i;
		t = next[i];
		next[i] = next[j];
		next[j] = t;
	}
}

static uint32_t walk(uint32_t at, uint32_t *acc)
{
	int s;

	for (s = 0; s < STEPS; s++) {
		*acc = *acc * 2654435761u + at;
		at = next[at];
	}
	return at;
}

static int number(const char *s, long *v)
{
	char *end;

	errno = 0;
	*v = strtol(s, &end, 10);
	return errno || *end || end == s || *v < 0 || *v > 100000000;
}

int main(int argc, char **argv)
{
	long iters = 1000, warmup = 100, i;
	const char *path = NULL;
	long long *samples, t0;
	uint32_t at = 0, acc = 1;
	FILE *out;
	int a;

	for (a = 1; a + 1 < argc; a += 2) {
		if (!strcmp(argv[a], "--iters") &&
		    !number(argv[a + 1], &iters) && iters > 0)
			continue;
		if (!strcmp(argv[a], "--warmup") &&
		    !number(argv[a + 1], &warmup))
			continue;
		if (!strcmp(argv[a], "--out")) {
			path = argv[a + 1];
			continue;
		}
		break;
	}
	if (a != argc || !path) {
		fprintf(stderr, "usage: rdmagate-calibrate [--iters N] "
				"[--warmup N] --out FILE\n");
		return 2;
	}
	samples = calloc(iters, sizeof(*samples));
	out = fopen(path, "w");
	if (!samples || !out) {
		fprintf(stderr, "rdmagate-calibrate: %s: %s\n",
			samples ? path : "calloc", strerror(errno));
		return 1;
	}
	permute();
	for (i = 0; i < warmup; i++)
		at = walk(at, &acc);
	for (i = 0; i < iters; i++) {
		t0 = now_ns();
		at = walk(at, &acc);
		samples[i] = now_ns() - t0;
	}
	fprintf(out,
		"# rdmagate-calibrate test=calibrate iters=%ld warmup=%ld "
		"clock=CLOCK_MONOTONIC_RAW unit=ns check=%u\n",
		iters, warmup, acc ^ at);
	for (i = 0; i < iters; i++)
		fprintf(out, "%lld\n", samples[i] > 0 ? samples[i] : 1);
	if (fclose(out)) {
		fprintf(stderr, "rdmagate-calibrate: %s: %s\n", path,
			strerror(errno));
		return 1;
	}
	return 0;
}
