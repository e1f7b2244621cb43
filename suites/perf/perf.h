/* SPDX-License-Identifier: MIT */
/*
 * rdmagate-perf internals: the loopback QP pair (perf_setup.c) and the
 * operations one sample times (perf_tests.c). rdmagate_perf.c has the
 * command line, the timing loop and the output format.
 */
#ifndef RDMAGATE_PERF_H
#define RDMAGATE_PERF_H

#include <stddef.h>
#include <stdint.h>
#include <infiniband/verbs.h>

/* Exit statuses: the runner tells a broken stack from a missing feature. */
enum { PERF_OK = 0, PERF_FAILED = 1, PERF_USAGE = 2, PERF_UNSUPPORTED = 4 };

#define PERF_INLINE_MAX 64  /* max_inline_data asked of the QP */
#define PERF_BATCH_MAX 4096 /* the send queue holds a whole batch */

/* What a test needs beyond the plain QP pair, and its --size rule. */
enum {
	T_ATOMIC = 1 << 0,  /* 8-byte operand, device atomics, REMOTE_ATOMIC */
	T_INLINE = 1 << 1,  /* size <= PERF_INLINE_MAX */
	T_QP_EX = 1 << 2,   /* qp[0] created for the ibv_wr_* API */
	T_BATCH = 1 << 3,   /* --batch messages per sample */
	T_NO_SIZE = 1 << 4, /* moves no data: no --size, reported as 0 */
};

struct options {
	const char *device, *test, *out;
	size_t size;
	long iters, warmup, batch;
	int gid_index;
};

struct bench {
	struct ibv_context *ctx;
	struct ibv_pd *pd;
	struct ibv_mr *mr;
	struct ibv_cq *cq;
	struct ibv_qp *qp[2];  /* qp[0] posts, qp[1] is its peer */
	struct ibv_qp_ex *qpx; /* qp[0] seen through ibv_wr_* (T_QP_EX) */
	struct ibv_send_wr
		*chain;	    /* T_BATCH: the prebuilt list posted at once */
	struct ibv_sge sge; /* the local half, size bytes */
	char *buf;	    /* local half at 0, remote half at half */
	size_t size, half;
	long batch;
	unsigned int access; /* MR and QP remote access */
	uint64_t expect;     /* T_ATOMIC: what the remote word holds now */
	int gid_index;
	union ibv_gid gid;
	uint8_t port;
};

struct test {
	const char *name;
	unsigned int flags;		 /* T_* */
	int (*prepare)(struct bench *b); /* once after setup, or NULL */
	int (*op)(struct bench *b);	 /* the timed part of one sample */
	int (*check)(struct bench *b);	 /* after each op, untimed, or NULL */
	int (*verify)(
		struct bench *b); /* once after the last op, untimed, or NULL */
};

extern const struct test perf_tests[];
const struct test *perf_find_test(const char *name);

int perf_setup(struct bench *b, const struct options *o, const struct test *t);
int perf_fail(const char *call, int err);
long long perf_now_ns(void);

#endif
