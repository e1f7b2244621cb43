// SPDX-License-Identifier: MIT
/*
 * librdmagate-slowdown.so: a known slowdown injected into the send fast path,
 * so the perf gate can be shown to see one (a gate that never fires proves
 * nothing).
 *
 *   LD_PRELOAD=librdmagate-slowdown.so RDMAGATE_SLOWDOWN_NS=20000 rdmagate-perf ...
 *
 * Why the context's ops table: ibv_post_send() is static inline in verbs.h
 * and compiles into the application as a call through
 * qp->context->ops.post_send, the provider's function. There is no exported
 * ibv_post_send to interpose, and wrapping some other exported verb would
 * slow a call the benchmark does not time. Replacing ops.post_send right
 * after ibv_open_device() (which is exported) puts the delay exactly where a
 * slower provider or library would put it: on every post, inside the timed
 * path, with neither the benchmark nor the stack changed. Verbs that do not
 * go through ops.post_send (the ibv_wr_* API, post_recv, poll_cq) are not
 * slowed.
 *
 * The delay is a busy-wait on CLOCK_MONOTONIC_RAW, not a sleep: a sleep would
 * add the scheduler's wake-up latency (tens of us, varying) on top of the
 * requested time, and real extra work keeps the CPU busy too.
 *
 * RDMAGATE_SLOWDOWN_NS unset or 0 leaves the contexts untouched; a value
 * that is not a number makes ibv_open_device fail with EINVAL, so a typo
 * cannot pass for a run without slowdown. One saved original serves all
 * contexts of one provider; a context of another provider (a second device
 * type in one process) is left unslowed, with a warning. Opening devices
 * from several threads at once is not handled: rdmagate-perf opens one.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <infiniband/verbs.h>

typedef struct ibv_context *(*open_device_fn)(struct ibv_device *);
typedef int (*post_send_fn)(struct ibv_qp *, struct ibv_send_wr *, struct ibv_send_wr **);

static post_send_fn real_post_send;
static long long delay_ns;

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int slow_post_send(struct ibv_qp *qp, struct ibv_send_wr *wr,
			  struct ibv_send_wr **bad_wr)
{
	long long until = now_ns() + delay_ns;

	while (now_ns() < until)
		;
	return real_post_send(qp, wr, bad_wr);
}

/* -1: not a number (or negative); otherwise the delay, 0 meaning none. */
static long long read_delay(void)
{
	const char *s = getenv("RDMAGATE_SLOWDOWN_NS");
	char *end;
	long long v;

	if (!s || !*s)
		return 0;
	errno = 0;
	v = strtoll(s, &end, 10);
	return errno || *end || v < 0 ? -1 : v;
}

struct ibv_context *ibv_open_device(struct ibv_device *device)
{
	static open_device_fn real_open;
	struct ibv_context *ctx;

	/*
	 * IBVERBS_1.1 is the default version applications link against; the
	 * unversioned lookup is the fallback for a library without versions.
	 */
	if (!real_open)
		real_open = (open_device_fn)dlvsym(RTLD_NEXT, "ibv_open_device", "IBVERBS_1.1");
	if (!real_open)
		real_open = (open_device_fn)dlsym(RTLD_NEXT, "ibv_open_device");
	if (!real_open) {
		fprintf(stderr, "librdmagate-slowdown: no ibv_open_device after the shim\n");
		errno = ENOSYS;
		return NULL;
	}
	delay_ns = read_delay();
	if (delay_ns < 0) {
		fprintf(stderr, "librdmagate-slowdown: RDMAGATE_SLOWDOWN_NS is not a "
				"number of ns\n");
		errno = EINVAL;
		return NULL;
	}
	ctx = real_open(device);
	if (!ctx || !delay_ns || ctx->ops.post_send == slow_post_send)
		return ctx;
	if (real_post_send && ctx->ops.post_send != real_post_send) {
		fprintf(stderr, "librdmagate-slowdown: %s: another provider's post_send, "
				"not slowed\n", device->name);
		return ctx;
	}
	real_post_send = ctx->ops.post_send;
	ctx->ops.post_send = slow_post_send;
	fprintf(stderr, "librdmagate-slowdown: %s: ibv_post_send slowed by %lld ns\n",
		device->name, delay_ns);
	return ctx;
}
