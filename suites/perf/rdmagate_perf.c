// SPDX-License-Identifier: MIT
/*
 * rdmagate-perf: fast-path microbenchmarks that record every sample.
 *
 *   rdmagate-perf --device rxe0 [--gid-index 1] --test TEST [--size BYTES]
 *                 [--iters N] [--warmup N] [--batch N] --out FILE
 *
 * Two RC QPs on one device are connected to each other (loopback through the
 * device, as perftest does on one node); perf_setup.c builds them.
 *
 * Clock: clock_gettime(CLOCK_MONOTONIC_RAW) before and after each sample; it
 * is not slewed by NTP, so a sample is never stretched or shrunk by time
 * adjustment. Its own cost (tens of ns) is inside every sample, which only
 * matters for poll_cq.
 *
 * Warm-up: --warmup samples (default 100) are run first, exactly like the
 * measured ones, and dropped: they take the first-use costs (page faults,
 * caches, the provider's lazy setup) out of the distribution.
 *
 * One sample, per test (all in ns; a round trip ends when the completion is
 * polled):
 *   write         round trip of one signaled RDMA WRITE of --size (default 2)
 *   write_inline  the same with IBV_SEND_INLINE (--size <= 64)
 *   send          SEND round trip: receive posted on the peer, then both the
 *                 send and receive completions polled
 *   read          round trip of one RDMA READ of --size
 *   atomic_cas    round trip of one 8-byte compare-and-swap
 *   atomic_faa    round trip of one 8-byte fetch-and-add; both atomics check
 *                 every returned value and the word they changed (exit 1 if
 *                 wrong), outside the timing
 *   write_batch   --batch WRITEs (default 16) posted as one list, only the
 *                 last signaled, until its completion: the batch's time
 *                 divided by --batch, i.e. ns per message (1e9/it = rate)
 *   write_wr      as write, posted with ibv_wr_start/ibv_wr_rdma_write/
 *                 ibv_wr_set_sge/ibv_wr_complete on an ibv_create_qp_ex QP
 *   reg_mr        one ibv_reg_mr + ibv_dereg_mr of --size bytes of an
 *                 already touched buffer
 *   poll_cq       one ibv_poll_cq on an empty CQ (no --size; size=0)
 *
 * Output: one header line
 *   # rdmagate-perf test=T size=B iters=N warmup=W clock=CLOCK_MONOTONIC_RAW
 * unit=ns (plus batch=N for write_batch), then one integer sample per line, in
 * the order taken, so the runner's statistics see the whole distribution.
 *
 * Profiling: when RDMAGATE_PERF_WINDOW names a file, the timed loop's start
 * and end on CLOCK_REALTIME ("SECONDS.NANOSECONDS SECONDS.NANOSECONDS") are
 * written to it, so a profiler sampling the whole system on that clock
 * (perf record -a -k realtime) can keep the loop's samples only (setup,
 * warm-up and the other processes' lives are outside it).
 *
 * Exit status: 0 done, 1 a verb failed or returned wrong data (one stderr
 * line naming the call and errno), 2 usage, 4 unsupported by the device or
 * stack ("unsupported: ..." on stderr).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "perf.h"

/* The timed loop's start and end, for a profiler (see the top). */
static int profile_window(const struct timespec *from,
			  const struct timespec *to)
{
	const char *path = getenv("RDMAGATE_PERF_WINDOW");
	FILE *f;

	if (!path)
		return 0;
	f = fopen(path, "w");
	if (!f)
		return perf_fail(path, 0);
	fprintf(f, "%lld.%09ld %lld.%09ld\n", (long long)from->tv_sec,
		from->tv_nsec, (long long)to->tv_sec, to->tv_nsec);
	if (fclose(f))
		return perf_fail(path, 0);
	return 0;
}

static int number(const char *s, long min, long max, long *v)
{
	char *end;

	errno = 0;
	*v = strtol(s, &end, 0);
	return errno || end == s || *end || *v < min || *v > max ? -1 : 0;
}

static int usage(void)
{
	const struct test *t;

	fprintf(stderr,
		"usage: rdmagate-perf --device DEV --test TEST [--size B] "
		"[--iters N] "
		"[--warmup N] [--batch N] [--gid-index I] --out FILE\ntests:");
	for (t = perf_tests; t->name; t++)
		fprintf(stderr, " %s", t->name);
	fprintf(stderr, "\n");
	return -1;
}

static int parse(int argc, char **argv, struct options *o,
		 const struct test **test)
{
	static const struct option longopts[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "test", required_argument, NULL, 't' },
		{ "size", required_argument, NULL, 's' },
		{ "iters", required_argument, NULL, 'n' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "gid-index", required_argument, NULL, 'g' },
		{ "out", required_argument, NULL, 'o' },
		{ "batch", required_argument, NULL, 'b' },
		{ 0 },
	};
	long size = -1, batch = -1, gid = 1;
	const struct test *t;
	int c, bad = 0;

	*o = (struct options){ .iters = 1000, .warmup = 100 };
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			o->device = optarg;
			break;
		case 't':
			o->test = optarg;
			break;
		case 's':
			bad |= number(optarg, 1, 1L << 30, &size);
			break;
		case 'n':
			bad |= number(optarg, 1, 100000000, &o->iters);
			break;
		case 'w':
			bad |= number(optarg, 0, 100000000, &o->warmup);
			break;
		case 'b':
			bad |= number(optarg, 1, PERF_BATCH_MAX, &batch);
			break;
		case 'g':
			bad |= number(optarg, 0, 255, &gid);
			break;
		case 'o':
			o->out = optarg;
			break;
		default:
			return usage();
		}
	}
	if (bad || optind != argc || !o->device || !o->test || !o->out)
		return usage();
	*test = t = perf_find_test(o->test);
	if (!t)
		return usage();
	/* Each test's own --size and --batch rules (see the list above). */
	if (t->flags & T_ATOMIC) {
		if (size != -1 && size != 8)
			return usage();
		size = 8;
	} else if (t->flags & T_NO_SIZE) {
		if (size != -1)
			return usage();
		size = 0;
	} else if (size == -1) {
		size = 2;
	}
	if ((t->flags & T_INLINE) && size > PERF_INLINE_MAX)
		return usage();
	if (!(t->flags & T_BATCH) && batch != -1)
		return usage();
	o->batch = t->flags & T_BATCH ? (batch == -1 ? 16 : batch) : 0;
	o->size = size;
	o->gid_index = gid;
	return 0;
}

/* Warm-up then iters samples; op is timed, check and verify are not. */
static int run(struct bench *b, const struct options *o, const struct test *t,
	       long long *samples)
{
	long per = o->batch ? o->batch : 1;
	struct timespec from, to;
	long long start, end;
	long i;
	int ret;

	for (i = -o->warmup; i < o->iters; i++) {
		if (i == 0)
			clock_gettime(CLOCK_REALTIME, &from);
		start = perf_now_ns();
		ret = t->op(b);
		end = perf_now_ns();
		if (ret)
			return ret;
		if (t->check && (ret = t->check(b)))
			return ret;
		if (i >= 0)
			samples[i] = (end - start + per / 2) / per;
	}
	clock_gettime(CLOCK_REALTIME, &to);
	if ((ret = profile_window(&from, &to)))
		return ret;
	return t->verify ? t->verify(b) : 0;
}

int main(int argc, char **argv)
{
	struct bench b = { 0 };
	const struct test *t = NULL; /* parse sets it on success */
	struct options o;
	long long *samples;
	FILE *out;
	long i;
	int ret;

	if (parse(argc, argv, &o, &t))
		return PERF_USAGE;
	samples = calloc(o.iters, sizeof(*samples));
	if (!samples)
		return perf_fail("calloc", 0);
	/* A bad --out fails before the run, not after minutes of it. */
	out = fopen(o.out, "w");
	if (!out)
		return perf_fail(o.out, 0);
	ret = perf_setup(&b, &o, t);
	if (!ret)
		ret = run(&b, &o, t, samples);
	if (ret) {
		/* No header-only file that looks like a run. */
		fclose(out);
		unlink(o.out);
		return ret;
	}
	fprintf(out,
		"# rdmagate-perf test=%s size=%zu iters=%ld warmup=%ld "
		"clock=CLOCK_MONOTONIC_RAW unit=ns",
		t->name, o.size, o.iters, o.warmup);
	if (o.batch)
		fprintf(out, " batch=%ld", o.batch);
	fprintf(out, "\n");
	for (i = 0; i < o.iters; i++)
		fprintf(out, "%lld\n", samples[i]);
	if (fclose(out))
		return perf_fail(o.out, 0);
	return PERF_OK;
}
