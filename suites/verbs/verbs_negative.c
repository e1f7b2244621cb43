// SPDX-License-Identifier: MIT
/*
 * Bad input, family by family. Each test asserts what every device must do
 * (the call fails or the work request completes in error, and the process
 * survives) and records how (rg_observe): the errno or completion status is
 * the device's to choose, so the profile states it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "verbs_common.h"

/* Post one signaled work request and return its completion's status. */
static enum ibv_wc_status complete(struct vpair *p, enum ibv_wr_opcode opcode,
				   uint32_t lkey, uint64_t remote_addr,
				   uint32_t rkey, uint32_t len)
{
	struct ibv_sge sge;
	struct ibv_send_wr wr = V_SEND_WR(99, opcode, &sge);
	struct ibv_wc wc;

	v_sge(&sge, p->a.buf, len, lkey);
	wr.wr.rdma.remote_addr = remote_addr;
	wr.wr.rdma.rkey = rkey;
	v_post_send(p->a.qp, &wr);
	v_wait(p->a.cq, &wc, "the bad work request");
	RG_EXPECT_EQ(wc.wr_id, 99);
	return wc.status;
}

static void expect_error_completion(const char *id, const char *what,
				    enum ibv_wc_status status)
{
	RG_EXPECT_NE(status, IBV_WC_SUCCESS);
	rg_observe(id, what, ibv_wc_status_str(status));
}

RG_TEST_F(verbs, bad_lkey, rc_pair)
{
	v_post_recv(self->b.qp, 1, self->b.buf, 4096, self->b.mr->lkey);
	expect_error_completion("send_status", "send with a bad lkey",
				complete(self, IBV_WR_SEND,
					 self->a.mr->lkey ^ 0x5a5a00, 0, 0,
					 64));
}

RG_TEST_F(verbs, bad_rkey, rc_pair)
{
	expect_error_completion("write_status", "write with a bad rkey",
				complete(self, IBV_WR_RDMA_WRITE,
					 self->a.mr->lkey,
					 (uintptr_t)self->b.buf,
					 self->b.mr->rkey ^ 0x5a5a00, 64));
	RG_EXPECT_EQ(self->b.buf[0], 0);
}

/* The write is refused whole: not even the 10 bytes inside the region land. */
RG_TEST_F(verbs, write_out_of_bounds, rc_pair)
{
	uint8_t *tail = self->b.buf + V_BUF_SIZE - 10;

	v_fill(self->a.buf, 100, 1);
	v_fill(tail, 10, 200);
	expect_error_completion("write_status", "write past the region's end",
				complete(self, IBV_WR_RDMA_WRITE,
					 self->a.mr->lkey, (uintptr_t)tail,
					 self->b.mr->rkey, 100));
	if (!v_check(tail, 10, 200))
		rg_fail_data(
			"the refused write changed the region's last 10 bytes");
}

RG_TEST_F(verbs, read_out_of_bounds, rc_pair)
{
	expect_error_completion(
		"read_status", "read before the region's start",
		complete(self, IBV_WR_RDMA_READ, self->a.mr->lkey,
			 (uintptr_t)self->b.buf - 64, self->b.mr->rkey, 100));
}

/* A region registered for local access only refuses a remote write. */
RG_TEST_F(verbs, write_without_remote_access, rc_pair)
{
	uint8_t *local = v_buf(4096);
	struct ibv_mr *mr;

	memset(local, 0, 4096);
	mr = v_mr(&self->dev, local, 4096, IBV_ACCESS_LOCAL_WRITE);
	expect_error_completion("write_status", "write to a local-only region",
				complete(self, IBV_WR_RDMA_WRITE,
					 self->a.mr->lkey, (uintptr_t)local,
					 mr->rkey, 64));
	RG_EXPECT_EQ(local[0], 0);
}

RG_TEST_F(verbs, recv_too_small, rc_pair)
{
	struct ibv_wc wc;

	v_post_recv(self->b.qp, 1, self->b.buf, 100, self->b.mr->lkey);
	expect_error_completion(
		"send_status", "sender of 200 bytes into 100",
		complete(self, IBV_WR_SEND, self->a.mr->lkey, 0, 0, 200));
	v_wait(self->b.cq, &wc, "the receiver's error");
	RG_EXPECT_NE(wc.status, IBV_WC_SUCCESS);
	rg_observe("recv_status", "receiver", ibv_wc_status_str(wc.status));
}

/* Its own pair: the connection is what is under test. */
RG_TEST(verbs, rnr_retry_exceeded)
{
	struct vpair p;
	struct vconn conn = V_CONN_DEFAULT;

	conn.rnr_retry = 0; /* no receive posted, no retry: fail at once */
	v_pair(&p, IBV_QPT_RC, &conn);
	expect_error_completion(
		"send_status", "send with no receive posted",
		complete(&p, IBV_WR_SEND, p.a.mr->lkey, 0, 0, 32));
}

RG_TEST_F(verbs, too_many_sge, rc_pair)
{
	struct ibv_sge *sges;
	struct ibv_send_wr wr = { .wr_id = 1,
				  .opcode = IBV_WR_SEND,
				  .send_flags = IBV_SEND_SIGNALED },
			   *bad = NULL;
	uint32_t i, n;
	int ret;

	n = v_qp_cap(self->a.qp).max_send_sge + 1;
	sges = v_buf(n * sizeof(*sges));
	for (i = 0; i < n; i++)
		v_sge(&sges[i], self->a.buf + 16 * i, 16, self->a.mr->lkey);
	wr.sg_list = sges;
	wr.num_sge = (int)n;
	ret = ibv_post_send(self->a.qp, &wr, &bad);
	RG_EXPECT_NE(ret, 0);
	RG_EXPECT_PTR_EQ(bad, &wr);
	rg_observe_errno("post_send", "post_send with max_send_sge + 1 SGEs",
			 ret);
}

/* Work requests posted in one call beyond the queue's depth: the first
 * that does not fit is refused and named in bad_wr. */
RG_TEST_F(verbs, send_queue_overflow, rc_pair)
{
	struct ibv_send_wr *wrs, *bad = NULL;
	struct ibv_sge sge;
	uint32_t i, n;
	int ret;

	n = v_qp_cap(self->a.qp).max_send_wr + 1;
	wrs = v_buf(n * sizeof(*wrs));
	v_sge(&sge, self->a.buf, 8, self->a.mr->lkey);
	for (i = 0; i < n; i++) {
		wrs[i].wr_id = i;
		wrs[i].sg_list = &sge;
		wrs[i].num_sge = 1;
		wrs[i].opcode = IBV_WR_RDMA_WRITE;
		wrs[i].wr.rdma.remote_addr = (uintptr_t)self->b.buf;
		wrs[i].wr.rdma.rkey = self->b.mr->rkey;
		wrs[i].next = i + 1 < n ? &wrs[i + 1] : NULL;
	}
	ret = ibv_post_send(self->a.qp, wrs, &bad);
	RG_EXPECT_NE(ret, 0);
	/* Everything before the refused one was posted. */
	RG_EXPECT_PTR_EQ(bad, &wrs[n - 1]);
	rg_observe_errno("post_send", "post_send of max_send_wr + 1 requests",
			 ret);
}

RG_TEST_F(verbs, recv_queue_overflow, rc_pair)
{
	struct ibv_recv_wr *wrs, *bad = NULL;
	struct ibv_sge sge;
	uint32_t i, n;
	int ret;

	n = v_qp_cap(self->b.qp).max_recv_wr + 1;
	wrs = v_buf(n * sizeof(*wrs));
	v_sge(&sge, self->b.buf, 64, self->b.mr->lkey);
	for (i = 0; i < n; i++) {
		wrs[i].wr_id = i;
		wrs[i].sg_list = &sge;
		wrs[i].num_sge = 1;
		wrs[i].next = i + 1 < n ? &wrs[i + 1] : NULL;
	}
	ret = ibv_post_recv(self->b.qp, wrs, &bad);
	RG_EXPECT_NE(ret, 0);
	RG_EXPECT_PTR_EQ(bad, &wrs[n - 1]);
	rg_observe_errno("post_recv", "post_recv of max_recv_wr + 1 requests",
			 ret);
}

RG_TEST_F(verbs, post_send_in_reset, device)
{
	struct ibv_cq *cq;
	struct ibv_qp *qp;
	uint8_t buf[64];
	struct ibv_mr *mr;
	struct ibv_sge sge;
	struct ibv_send_wr wr = V_SEND_WR(1, IBV_WR_SEND, &sge), *bad = NULL;
	int ret;

	cq = v_cq(self, 16);
	qp = v_qp(self, IBV_QPT_RC, cq, NULL);
	mr = v_mr(self, buf, sizeof(buf), IBV_ACCESS_LOCAL_WRITE);
	v_sge(&sge, buf, sizeof(buf), mr->lkey);
	ret = ibv_post_send(qp, &wr, &bad);
	/* Refused at once, or accepted and never executed: the spec allows
	 * the first; a device that does the second is recorded so. */
	rg_observe_errno("post_send", "post_send in RESET", ret);
	if (!ret)
		RG_EXPECT(v_none_within(cq, 200));
}

RG_TEST_F(verbs, dealloc_pd_in_use, device)
{
	uint8_t *buf = v_buf(4096);
	struct ibv_mr *mr;
	int ret;

	mr = v_mr(self, buf, 4096, IBV_ACCESS_LOCAL_WRITE);
	ret = ibv_dealloc_pd(self->pd);
	RG_EXPECT_NE(ret, 0);
	rg_observe_errno("dealloc_pd", "dealloc_pd with an MR", ret);
	/* In the right order it works. */
	RG_EXPECT_EQ(ibv_dereg_mr(mr), 0);
	RG_EXPECT_EQ(ibv_dealloc_pd(self->pd), 0);
}

RG_TEST_F(verbs, destroy_cq_in_use, device)
{
	struct ibv_cq *cq;
	struct ibv_qp *qp;
	int ret;

	cq = v_cq(self, 16);
	qp = v_qp(self, IBV_QPT_RC, cq, NULL);
	ret = ibv_destroy_cq(cq);
	RG_EXPECT_NE(ret, 0);
	rg_observe_errno("destroy_cq", "destroy_cq with a QP", ret);
	RG_EXPECT_EQ(ibv_destroy_qp(qp), 0);
	RG_EXPECT_EQ(ibv_destroy_cq(cq), 0);
}

RG_TEST_F(verbs, destroy_channel_in_use, device)
{
	struct ibv_comp_channel *channel;
	struct ibv_cq *cq;
	int ret;

	channel = ibv_create_comp_channel(self->ctx);
	RG_ASSERT_NOT_NULL(channel);
	cq = ibv_create_cq(self->ctx, 16, NULL, channel, 0);
	RG_ASSERT_NOT_NULL(cq);
	ret = ibv_destroy_comp_channel(channel);
	RG_EXPECT_NE(ret, 0);
	rg_observe_errno("destroy_comp_channel",
			 "destroy_comp_channel with a CQ", ret);
	RG_EXPECT_EQ(ibv_destroy_cq(cq), 0);
	RG_EXPECT_EQ(ibv_destroy_comp_channel(channel), 0);
}

RG_TEST_F(verbs, reg_mr_bad_access, device)
{
	uint8_t *buf = v_buf(4096);
	struct ibv_mr *mr;

	/* Remote write without local write is forbidden by the verbs spec. */
	mr = ibv_reg_mr(self->pd, buf, 4096, IBV_ACCESS_REMOTE_WRITE);
	RG_EXPECT_NULL(mr);
	rg_observe_errno("reg_mr", "reg_mr(REMOTE_WRITE alone)",
			 mr ? 0 : errno);
}

RG_TEST_F(verbs, create_qp_too_large, device)
{
	struct ibv_cq *cq;
	struct ibv_qp_init_attr init = { .qp_type = IBV_QPT_RC,
					 .cap = { .max_recv_wr = 1,
						  .max_send_sge = 1,
						  .max_recv_sge = 1 } };
	struct ibv_qp *qp;

	cq = v_cq(self, 16);
	init.send_cq = init.recv_cq = cq;
	init.cap.max_send_wr = (uint32_t)self->attr.max_qp_wr + 1;
	qp = ibv_create_qp(self->pd, &init);
	RG_EXPECT_NULL(qp);
	rg_observe_errno("create_qp", "create_qp(max_qp_wr + 1)",
			 qp ? 0 : errno);
}

RG_TEST_F(verbs, create_cq_too_large, device)
{
	struct ibv_cq *cq;

	cq = ibv_create_cq(self->ctx, self->attr.max_cqe + 1, NULL, NULL, 0);
	RG_EXPECT_NULL(cq);
	rg_observe_errno("create_cq", "create_cq(max_cqe + 1)", cq ? 0 : errno);
}
