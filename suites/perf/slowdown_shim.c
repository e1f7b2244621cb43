// SPDX-License-Identifier: MIT
/*
 * librdmagate-slowdown.so: a known slowdown injected into the send fast path,
 * so the perf gate can be shown to see one (a gate that never fires proves
 * nothing).
 *
 *   LD_PRELOAD=librdmagate-slowdown.so RDMAGATE_SLOWDOWN_NS=20000 rdmagate-perf
 * ...
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
 * RDMAGATE_SHORTEN_BYTES=N makes each work request posted that way move N
 * bytes fewer (its last scatter/gather entries shortened, on a copy of the
 * request: the caller's is untouched), so the perf suite's data check can be
 * shown to fail where a fast path moves less than it was asked to.
 *
 * Both unset or 0 leave the contexts untouched; a value that is not a
 * number makes ibv_open_device fail with EINVAL, so a typo cannot pass for
 * a run without them. One saved original serves all
 * contexts of one provider; a context of another provider (a second device
 * type in one process) is left unslowed, with a warning. Opening devices
 * from several threads at once is not handled: rdmagate-perf opens one.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <infiniband/verbs.h>

typedef struct ibv_context *(*open_device_fn)(struct ibv_device *);
typedef int (*post_send_fn)(struct ibv_qp *, struct ibv_send_wr *,
			    struct ibv_send_wr **);

static post_send_fn real_post_send;
static long long delay_ns;
static long long shorten_bytes;

/* Up to this many requests a post, each with this many entries, are
 * shortened; a longer chain is posted as it is, with a warning. */
enum { SHORTEN_WRS = 64, SHORTEN_SGES = 8 };

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Post copies of the chain wr, each moving shorten_bytes fewer. */
static int short_post_send(struct ibv_qp *qp, struct ibv_send_wr *wr,
			   struct ibv_send_wr **bad_wr)
{
	struct ibv_send_wr wrs[SHORTEN_WRS], *w, *bad = NULL;
	struct ibv_sge sges[SHORTEN_WRS][SHORTEN_SGES];
	long long cut;
	int n = 0, i, j, ret;

	for (w = wr; w; w = w->next, n++)
		if (n == SHORTEN_WRS || w->num_sge > SHORTEN_SGES) {
			fprintf(stderr,
				"librdmagate-slowdown: a post too long to "
				"shorten, posted as it is\n");
			return real_post_send(qp, wr, bad_wr);
		}
	for (w = wr, i = 0; w; w = w->next, i++) {
		wrs[i] = *w;
		wrs[i].next = w->next ? &wrs[i + 1] : NULL;
		wrs[i].sg_list = sges[i];
		memcpy(sges[i], w->sg_list, w->num_sge * sizeof(*sges[i]));
		for (j = w->num_sge - 1, cut = shorten_bytes; j >= 0 && cut;
		     j--) {
			long long take = cut < sges[i][j].length
						 ? cut
						 : sges[i][j].length;

			sges[i][j].length -= take;
			cut -= take;
		}
	}
	ret = real_post_send(qp, wrs, &bad);
	if (bad_wr)
		for (w = wr, i = 0; bad && w; w = w->next, i++)
			if (bad == &wrs[i])
				*bad_wr = w;
	return ret;
}

static int slow_post_send(struct ibv_qp *qp, struct ibv_send_wr *wr,
			  struct ibv_send_wr **bad_wr)
{
	long long until = now_ns() + delay_ns;

	while (now_ns() < until)
		;
	if (shorten_bytes)
		return short_post_send(qp, wr, bad_wr);
	return real_post_send(qp, wr, bad_wr);
}

/* The variable name's value, 0 meaning none; -1, said on stderr: not a
 * number of unit (or negative). */
static long long read_number(const char *name, const char *unit)
{
	const char *s = getenv(name);
	char *end;
	long long v;

	if (!s || !*s)
		return 0;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || v < 0) {
		fprintf(stderr,
			"librdmagate-slowdown: %s is not a number of %s\n",
			name, unit);
		return -1;
	}
	return v;
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
		real_open = (open_device_fn)dlvsym(RTLD_NEXT, "ibv_open_device",
						   "IBVERBS_1.1");
	if (!real_open)
		real_open = (open_device_fn)dlsym(RTLD_NEXT, "ibv_open_device");
	if (!real_open) {
		fprintf(stderr, "librdmagate-slowdown: no ibv_open_device "
				"after the shim\n");
		errno = ENOSYS;
		return NULL;
	}
	delay_ns = read_number("RDMAGATE_SLOWDOWN_NS", "ns");
	shorten_bytes = read_number("RDMAGATE_SHORTEN_BYTES", "bytes");
	if (delay_ns < 0 || shorten_bytes < 0) {
		errno = EINVAL;
		return NULL;
	}
	ctx = real_open(device);
	if (!ctx || !(delay_ns || shorten_bytes) ||
	    ctx->ops.post_send == slow_post_send)
		return ctx;
	if (real_post_send && ctx->ops.post_send != real_post_send) {
		fprintf(stderr,
			"librdmagate-slowdown: %s: another provider's "
			"post_send, "
			"not slowed\n",
			device->name);
		return ctx;
	}
	real_post_send = ctx->ops.post_send;
	ctx->ops.post_send = slow_post_send;
	if (delay_ns)
		fprintf(stderr,
			"librdmagate-slowdown: %s: ibv_post_send slowed by "
			"%lld ns\n",
			device->name, delay_ns);
	if (shorten_bytes)
		fprintf(stderr,
			"librdmagate-slowdown: %s: each ibv_post_send request "
			"shortened by %lld bytes\n",
			device->name, shorten_bytes);
	return ctx;
}
