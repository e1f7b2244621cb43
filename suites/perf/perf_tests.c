// SPDX-License-Identifier: MIT
/*
 * The operation each test times. An op returns once its work is complete
 * (its completion polled), so consecutive samples never overlap.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "perf.h"

/* Arbitrary, not zero: a device that writes nothing is caught. */
#define ATOMIC_START 0x0123456789abcdefULL
#define ATOMIC_POISON 0xdeadbeefdeadbeefULL

static uint64_t remote_addr(const struct bench *b)
{
	return (uintptr_t)b->buf + b->half;
}

/* Poll until want completions, all successful. */
static int wait_cq(struct bench *b, int want)
{
	struct ibv_wc wc[2];
	int n, i;

	while (want > 0) {
		n = ibv_poll_cq(b->cq, 2, wc);
		if (n < 0) {
			fprintf(stderr,
				"rdmagate-perf: ibv_poll_cq: returned %d "
				"(errno %d)\n",
				n, errno);
			return PERF_FAILED;
		}
		for (i = 0; i < n; i++)
			if (wc[i].status != IBV_WC_SUCCESS) {
				fprintf(stderr,
					"rdmagate-perf: ibv_poll_cq: wr_id "
					"%" PRIu64
					" completed with %s (vendor_err %u)\n",
					wc[i].wr_id,
					ibv_wc_status_str(wc[i].status),
					wc[i].vendor_err);
				return PERF_FAILED;
			}
		want -= n;
	}
	return 0;
}

static int post_and_wait(struct bench *b, struct ibv_send_wr *wr, int want)
{
	struct ibv_send_wr *bad;
	int ret = ibv_post_send(b->qp[0], wr, &bad);

	if (ret)
		return perf_fail("ibv_post_send", ret);
	return wait_cq(b, want);
}

/*
 * The data-moving tests check their bytes once, after the last sample
 * (untimed): the source half holds a pattern, the destination another
 * byte, so a fast path that moves nothing cannot look fast and pass.
 */
#define DEST_BYTE 0x5a

static uint8_t pattern(size_t i)
{
	return (uint8_t)(0x31 + i * 7);
}

static void fill_halves(struct bench *b, char *src, char *dst)
{
	size_t i;

	for (i = 0; i < b->size; i++)
		src[i] = (char)pattern(i);
	memset(dst, DEST_BYTE, b->size);
}

/* WRITE and SEND move the local half to the remote one. */
static int prepare_outbound(struct bench *b)
{
	fill_halves(b, b->buf, b->buf + b->half);
	return 0;
}

/* READ moves the remote half to the local one. */
static int prepare_inbound(struct bench *b)
{
	fill_halves(b, b->buf + b->half, b->buf);
	return 0;
}

static int verify_at(struct bench *b, const char *dst, const char *where)
{
	size_t i;

	for (i = 0; i < b->size; i++)
		if ((uint8_t)dst[i] != pattern(i)) {
			fprintf(stderr,
				"rdmagate-perf: data check after the last "
				"sample: "
				"byte %zu of %zu in the %s half is %#x, "
				"expected %#x: "
				"the data did not arrive\n",
				i, b->size, where, (uint8_t)dst[i], pattern(i));
			return PERF_FAILED;
		}
	return 0;
}

static int verify_outbound(struct bench *b)
{
	return verify_at(b, b->buf + b->half, "remote");
}

static int verify_inbound(struct bench *b)
{
	return verify_at(b, b->buf, "local");
}

/* One signaled RDMA WRITE or READ between the halves. */
static int rdma(struct bench *b, enum ibv_wr_opcode opcode, unsigned int flags)
{
	struct ibv_send_wr wr = { .wr_id = 1,
				  .sg_list = &b->sge,
				  .num_sge = 1,
				  .opcode = opcode,
				  .send_flags = IBV_SEND_SIGNALED | flags };

	wr.wr.rdma.remote_addr = remote_addr(b);
	wr.wr.rdma.rkey = b->mr->rkey;
	return post_and_wait(b, &wr, 1);
}

static int op_write(struct bench *b)
{
	return rdma(b, IBV_WR_RDMA_WRITE, 0);
}

static int op_write_inline(struct bench *b)
{
	return rdma(b, IBV_WR_RDMA_WRITE, IBV_SEND_INLINE);
}

static int op_read(struct bench *b)
{
	return rdma(b, IBV_WR_RDMA_READ, 0);
}

/* SEND needs a receive posted on the peer; both completions are waited for. */
static int op_send(struct bench *b)
{
	struct ibv_sge rsge = { .addr = remote_addr(b),
				.length = b->size,
				.lkey = b->mr->lkey };
	struct ibv_recv_wr rwr = { .wr_id = 2, .sg_list = &rsge, .num_sge = 1 },
			   *bad;
	struct ibv_send_wr wr = { .wr_id = 1,
				  .sg_list = &b->sge,
				  .num_sge = 1,
				  .opcode = IBV_WR_SEND,
				  .send_flags = IBV_SEND_SIGNALED };
	int ret = ibv_post_recv(b->qp[1], &rwr, &bad);

	if (ret)
		return perf_fail("ibv_post_recv", ret);
	return post_and_wait(b, &wr, 2);
}

/* The same WRITE as op_write, through the ibv_wr_* API. */
static int op_write_wr(struct bench *b)
{
	struct ibv_qp_ex *qpx = b->qpx;
	int ret;

	ibv_wr_start(qpx);
	qpx->wr_id = 1;
	qpx->wr_flags = IBV_SEND_SIGNALED;
	ibv_wr_rdma_write(qpx, b->mr->rkey, remote_addr(b));
	ibv_wr_set_sge(qpx, b->mr->lkey, (uintptr_t)b->buf, b->size);
	ret = ibv_wr_complete(qpx);
	if (ret)
		return perf_fail("ibv_wr_complete", ret);
	return wait_cq(b, 1);
}

/*
 * Message rate: batch WRITEs posted as one list (one doorbell), only the last
 * signaled, so one completion stands for the whole batch (RC completes in
 * order). The prebuilt list keeps WR construction out of the timing.
 */
static int prepare_batch(struct bench *b)
{
	long i;

	b->chain = calloc(b->batch, sizeof(*b->chain));
	if (!b->chain)
		return perf_fail("calloc", 0);
	for (i = 0; i < b->batch; i++) {
		b->chain[i] =
			(struct ibv_send_wr){ .wr_id = i,
					      .sg_list = &b->sge,
					      .num_sge = 1,
					      .opcode = IBV_WR_RDMA_WRITE };
		b->chain[i].wr.rdma.remote_addr = remote_addr(b);
		b->chain[i].wr.rdma.rkey = b->mr->rkey;
		if (i + 1 < b->batch)
			b->chain[i].next = &b->chain[i + 1];
	}
	b->chain[b->batch - 1].send_flags = IBV_SEND_SIGNALED;
	return prepare_outbound(b);
}

static int op_write_batch(struct bench *b)
{
	return post_and_wait(b, b->chain, 1);
}

/*
 * Atomics on the 8-byte remote word. Every op moves it from expect to
 * expect + 1 (CAS compares with expect, FAA adds 1), so check_atomic can
 * verify both the returned original value and the word itself.
 */
static int prepare_atomic(struct bench *b)
{
	uint64_t start = ATOMIC_START, poison = ATOMIC_POISON;

	memcpy(b->buf + b->half, &start, sizeof(start));
	memcpy(b->buf, &poison, sizeof(poison));
	b->expect = start;
	return 0;
}

static int atomic(struct bench *b, enum ibv_wr_opcode opcode)
{
	struct ibv_send_wr wr = { .wr_id = 1,
				  .sg_list = &b->sge,
				  .num_sge = 1,
				  .opcode = opcode,
				  .send_flags = IBV_SEND_SIGNALED };

	wr.wr.atomic.remote_addr = remote_addr(b);
	wr.wr.atomic.rkey = b->mr->rkey;
	if (opcode == IBV_WR_ATOMIC_CMP_AND_SWP) {
		wr.wr.atomic.compare_add = b->expect;
		wr.wr.atomic.swap = b->expect + 1;
	} else {
		wr.wr.atomic.compare_add = 1;
	}
	return post_and_wait(b, &wr, 1);
}

static int op_atomic_cas(struct bench *b)
{
	return atomic(b, IBV_WR_ATOMIC_CMP_AND_SWP);
}

static int op_atomic_faa(struct bench *b)
{
	return atomic(b, IBV_WR_ATOMIC_FETCH_AND_ADD);
}

static int check_atomic(struct bench *b)
{
	uint64_t old, now, poison = ATOMIC_POISON;

	memcpy(&old, b->buf, sizeof(old));
	memcpy(&now, b->buf + b->half, sizeof(now));
	if (old != b->expect || now != b->expect + 1) {
		fprintf(stderr,
			"rdmagate-perf: wrong atomic result: returned %#" PRIx64
			", word now %#" PRIx64 "; expected %#" PRIx64
			", %#" PRIx64 "\n",
			old, now, b->expect, b->expect + 1);
		return PERF_FAILED;
	}
	b->expect++;
	/* So a next op that returns nothing cannot pass on this value. */
	memcpy(b->buf, &poison, sizeof(poison));
	return 0;
}

/* Registration cost: the buffer is already touched, so no page faults. */
static int op_reg_mr(struct bench *b)
{
	struct ibv_mr *mr = ibv_reg_mr(b->pd, b->buf, b->size,
				       IBV_ACCESS_LOCAL_WRITE | b->access);
	int ret;

	if (!mr)
		return perf_fail("ibv_reg_mr", 0);
	ret = ibv_dereg_mr(mr);
	if (ret)
		return perf_fail("ibv_dereg_mr", ret);
	return 0;
}

/* The cost of finding nothing, what a busy-polling loop pays most often. */
static int op_poll_cq(struct bench *b)
{
	struct ibv_wc wc;
	int n = ibv_poll_cq(b->cq, 1, &wc);

	if (n) {
		fprintf(stderr,
			"rdmagate-perf: ibv_poll_cq: returned %d on an idle CQ "
			"(errno %d)\n",
			n, errno);
		return PERF_FAILED;
	}
	return 0;
}

const struct test perf_tests[] = {
	{ "write", 0, prepare_outbound, op_write, NULL, verify_outbound },
	{ "write_inline", T_INLINE, prepare_outbound, op_write_inline, NULL,
	  verify_outbound },
	{ "send", 0, prepare_outbound, op_send, NULL, verify_outbound },
	{ "read", 0, prepare_inbound, op_read, NULL, verify_inbound },
	{ "atomic_cas", T_ATOMIC, prepare_atomic, op_atomic_cas, check_atomic,
	  NULL },
	{ "atomic_faa", T_ATOMIC, prepare_atomic, op_atomic_faa, check_atomic,
	  NULL },
	{ "write_batch", T_BATCH, prepare_batch, op_write_batch, NULL,
	  verify_outbound },
	{ "write_wr", T_QP_EX, prepare_outbound, op_write_wr, NULL,
	  verify_outbound },
	{ "reg_mr", 0, NULL, op_reg_mr, NULL, NULL },
	{ "poll_cq", T_NO_SIZE, NULL, op_poll_cq, NULL, NULL },
	{ NULL, 0, NULL, NULL, NULL, NULL },
};

const struct test *perf_find_test(const char *name)
{
	const struct test *t;

	for (t = perf_tests; t->name; t++)
		if (!strcmp(t->name, name))
			return t;
	return NULL;
}
