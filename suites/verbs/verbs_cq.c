// SPDX-License-Identifier: MIT
/* Completion queues: create, resize, vectors, moderation, completion
 * channels, and the extended CQ with its fields. */
#include <errno.h>
#include <string.h>

#include "verbs_common.h"

RG_TEST_F(verbs, create_cq, device)
{
	struct ibv_cq *cq;
	struct ibv_wc wc;
	int ctx_marker;

	cq = ibv_create_cq(self->ctx, 100, &ctx_marker, NULL, 0);
	RG_ASSERT_NOT_NULL(cq);
	RG_EXPECT_GE(cq->cqe, 100);
	RG_EXPECT_PTR_EQ(cq->cq_context, &ctx_marker);
	RG_EXPECT_EQ(ibv_poll_cq(cq, 1, &wc), 0);
	RG_EXPECT_EQ(ibv_destroy_cq(cq), 0);
}

RG_TEST_F(verbs, resize_cq, device)
{
	struct ibv_cq *cq;
	int ret;

	cq = v_cq(self, 16);
	ret = ibv_resize_cq(cq, 256);
	if (ret)
		rg_unsupported_or_fail(ret, "ibv_resize_cq");
	RG_ASSERT_EQ(ret, 0);
	RG_EXPECT_GE(cq->cqe, 256);
	RG_EXPECT_EQ(ibv_destroy_cq(cq), 0);
}

/* Every completion vector the device counts can carry a CQ; the one past
 * the last cannot, by either call. */
RG_TEST_F(verbs, cq_comp_vector, device)
{
	struct ibv_cq_init_attr_ex ex = { .cqe = 16 };
	struct ibv_cq_ex *cqx;
	struct ibv_cq *cq;
	int v, n = self->ctx->num_comp_vectors;

	RG_ASSERT_GE(n, 1);
	for (v = 0; v < n; v++) {
		cq = ibv_create_cq(self->ctx, 16, NULL, NULL, v);
		if (!cq)
			rg_fail("ibv_create_cq(comp_vector %d of %d): %s", v, n,
				strerror(errno));
		RG_EXPECT_EQ(ibv_destroy_cq(cq), 0);
	}
	cq = ibv_create_cq(self->ctx, 16, NULL, NULL, n);
	RG_EXPECT_NULL(cq);
	rg_observe_errno("create_cq", "create_cq(comp_vector num_comp_vectors)",
			 cq ? 0 : errno);
	ex.comp_vector = (uint32_t)n;
	cqx = ibv_create_cq_ex(self->ctx, &ex);
	RG_EXPECT_NULL(cqx);
	rg_observe_errno("create_cq_ex",
			 "create_cq_ex(comp_vector num_comp_vectors)",
			 cqx ? 0 : errno);
}

/* Moderation delays completions, never loses them: one write's completion
 * still arrives (by the period) on a CQ that waits for four. */
RG_TEST_F(verbs, modify_cq, rc_pair)
{
	struct ibv_modify_cq_attr attr = {
		.attr_mask = IBV_CQ_ATTR_MODERATE,
		.moderate = { .cq_count = 4, .cq_period = 10 },
	};
	struct ibv_sge sge;
	struct ibv_send_wr wr = V_SEND_WR(41, IBV_WR_RDMA_WRITE, &sge);
	struct ibv_wc wc;
	int ret;

	ret = ibv_modify_cq(self->a.cq, &attr);
	if (ret)
		rg_unsupported_or_fail(ret, "ibv_modify_cq (moderation)");
	v_fill(self->a.buf, 128, 91);
	v_sge(&sge, self->a.buf, 128, self->a.mr->lkey);
	wr.wr.rdma.remote_addr = (uintptr_t)self->b.buf;
	wr.wr.rdma.rkey = self->b.mr->rkey;
	v_post_send(self->a.qp, &wr);
	v_wait(self->a.cq, &wc, "a write on a moderated CQ");
	v_expect_wc(&wc, IBV_WC_RDMA_WRITE, 41);
	RG_EXPECT_DATA(v_check(self->b.buf, 128, 91));
}

/* A completion wakes the channel: get_cq_event names our CQ and context. */
static void notify_case(struct vpair *p, int solicited_only)
{
	struct ibv_comp_channel *channel;
	struct ibv_cq *cq, *event_cq;
	void *event_ctx;
	struct ibv_qp *rq;
	struct ibv_sge sge;
	struct ibv_send_wr wr = V_SEND_WR(3, IBV_WR_SEND, &sge);
	struct ibv_wc wc;
	int marker;

	channel = ibv_create_comp_channel(p->dev.ctx);
	RG_ASSERT_NOT_NULL(channel);
	cq = ibv_create_cq(p->dev.ctx, 16, &marker, channel, 0);
	RG_ASSERT_NOT_NULL(cq);
	/* A receiver whose receive CQ is the channel's. */
	{
		struct ibv_qp_init_attr init = {
			.send_cq = p->b.cq,
			.recv_cq = cq,
			.qp_type = IBV_QPT_RC,
			.cap = { .max_send_wr = 4,
				 .max_recv_wr = 4,
				 .max_send_sge = 1,
				 .max_recv_sge = 1 },
		};

		rq = ibv_create_qp(p->dev.pd, &init);
		RG_ASSERT_NOT_NULL(rq);
	}
	ibv_destroy_qp(p->b.qp);
	p->a.qp = v_qp(&p->dev, IBV_QPT_RC, p->a.cq, NULL);
	v_connect(&p->dev, p->a.qp, rq, &V_CONN_DEFAULT);
	v_post_recv(rq, 9, p->b.buf, 64, p->b.mr->lkey);
	RG_ASSERT_EQ(ibv_req_notify_cq(cq, solicited_only), 0);
	if (solicited_only)
		wr.send_flags |= IBV_SEND_SOLICITED;
	/* A real payload: a wake-up for a receive that moved nothing is no
	 * pass. */
	v_fill(p->a.buf, 32, (uint8_t)(60 + solicited_only));
	v_sge(&sge, p->a.buf, 32, p->a.mr->lkey);
	v_post_send(p->a.qp, &wr);
	RG_ASSERT_EQ(ibv_get_cq_event(channel, &event_cq, &event_ctx), 0);
	RG_EXPECT_PTR_EQ(event_cq, cq);
	RG_EXPECT_PTR_EQ(event_ctx, &marker);
	v_wait(cq, &wc, "the notified receive");
	v_expect_wc(&wc, IBV_WC_RECV, 9);
	RG_EXPECT_EQ(wc.byte_len, 32);
	RG_EXPECT_DATA(v_check(p->b.buf, 32, (uint8_t)(60 + solicited_only)));
	ibv_ack_cq_events(cq, 1);
	RG_EXPECT_EQ(ibv_destroy_qp(rq), 0);
	RG_EXPECT_EQ(ibv_destroy_cq(cq), 0);
	RG_EXPECT_EQ(ibv_destroy_comp_channel(channel), 0);
}

RG_TEST_F(verbs, comp_channel_notify, rc_pair)
{
	notify_case(self, 0);
}

RG_TEST_F(verbs, notify_solicited, rc_pair)
{
	notify_case(self, 1);
}

/* The extended CQ: poll with start/next/end and read each field. */
RG_TEST_F(verbs, cq_ex, rc_pair)
{
	struct ibv_cq_init_attr_ex attr = {
		.cqe = 16,
		.wc_flags = IBV_WC_EX_WITH_BYTE_LEN | IBV_WC_EX_WITH_IMM |
			    IBV_WC_EX_WITH_QP_NUM,
	};
	struct ibv_poll_cq_attr poll = { 0 };
	struct ibv_cq_ex *cqx;
	struct ibv_qp *rq;
	struct ibv_sge sge;
	struct ibv_send_wr wr = { .wr_id = 4,
				  .sg_list = &sge,
				  .num_sge = 1,
				  .opcode = IBV_WR_SEND_WITH_IMM,
				  .send_flags = IBV_SEND_SIGNALED,
				  .imm_data = htobe32(0xfeedf00d) };
	struct ibv_wc wc;
	const uint64_t path = IBV_WC_EX_WITH_SLID | IBV_WC_EX_WITH_SL |
			      IBV_WC_EX_WITH_DLID_PATH_BITS;
	int ret, tries = 0;

	/* With the path fields where the device has them; without, the rest
	 * is still tested, and the observation says which (a profile that
	 * records it turns a device that stops having them into a FAIL). */
	attr.wc_flags |= path;
	cqx = ibv_create_cq_ex(self->dev.ctx, &attr);
	if (!cqx && rg_unsupported_errno(errno)) {
		attr.wc_flags &= ~path;
		cqx = ibv_create_cq_ex(self->dev.ctx, &attr);
	}
	if (!cqx)
		rg_unsupported_or_fail(errno, "ibv_create_cq_ex");
	RG_ASSERT_NOT_NULL(cqx);
	rg_observe("path_fields",
		   "SLID, SL and DLID path bits in an extended CQ",
		   attr.wc_flags & path ? "read" : "refused");
	rq = v_qp(&self->dev, IBV_QPT_RC, ibv_cq_ex_to_cq(cqx), NULL);
	self->a.qp = v_qp(&self->dev, IBV_QPT_RC, self->a.cq, NULL);
	v_connect(&self->dev, self->a.qp, rq, &V_CONN_DEFAULT);
	v_post_recv(rq, 21, self->b.buf, 128, self->b.mr->lkey);
	/* Nothing yet: start_poll says ENOENT and must not be ended. */
	RG_EXPECT_ERRNO(ibv_start_poll(cqx, &poll), ENOENT);
	v_fill(self->a.buf, 77, 23);
	v_sge(&sge, self->a.buf, 77, self->a.mr->lkey);
	v_post_send(self->a.qp, &wr);
	v_wait(self->a.cq, &wc, "send with immediate");
	while ((ret = ibv_start_poll(cqx, &poll)) == ENOENT &&
	       tries++ < 5000000)
		;
	RG_ASSERT_EQ(ret, 0);
	RG_EXPECT_EQ(cqx->status, IBV_WC_SUCCESS);
	RG_EXPECT_EQ(cqx->wr_id, 21);
	RG_EXPECT_EQ(ibv_wc_read_opcode(cqx), IBV_WC_RECV);
	RG_EXPECT_EQ(ibv_wc_read_byte_len(cqx), 77);
	RG_EXPECT(ibv_wc_read_wc_flags(cqx) & IBV_WC_WITH_IMM);
	RG_EXPECT_EQ(be32toh(ibv_wc_read_imm_data(cqx)), 0xfeedf00d);
	RG_EXPECT_EQ(ibv_wc_read_qp_num(cqx), rq->qp_num);
	if (attr.wc_flags & path) {
		/* Loopback, with v_ah_attr's address: from this port's own
		 * LID (0 on RoCE), service level 0, the base LID. */
		RG_EXPECT_EQ(ibv_wc_read_slid(cqx), self->dev.port.lid);
		RG_EXPECT_EQ(ibv_wc_read_sl(cqx), 0);
		RG_EXPECT_EQ(ibv_wc_read_dlid_path_bits(cqx), 0);
	}
	RG_EXPECT_ERRNO(ibv_next_poll(cqx), ENOENT);
	ibv_end_poll(cqx);
	RG_EXPECT_DATA(v_check(self->b.buf, 77, 23));
	RG_EXPECT_EQ(ibv_destroy_qp(rq), 0);
	RG_EXPECT_EQ(ibv_destroy_cq(ibv_cq_ex_to_cq(cqx)), 0);
}

/* An extended CQ with these fields, or UNSUPPORTED with the device's
 * answer when it refuses them. */
static struct ibv_cq_ex *cqx_with(struct vdev *dev, uint64_t wc_flags,
				  const char *what)
{
	struct ibv_cq_init_attr_ex attr = { .cqe = 16, .wc_flags = wc_flags };
	struct ibv_cq_ex *cqx = ibv_create_cq_ex(dev->ctx, &attr);

	if (!cqx)
		rg_unsupported_or_fail(errno, "ibv_create_cq_ex(%s)", what);
	return cqx;
}

/* The extended CQ's first completion, started (the caller ends the poll). */
static void cqx_first(struct ibv_cq_ex *cqx, const char *what)
{
	struct ibv_poll_cq_attr poll = { 0 };
	int ret, tries = 0;

	while ((ret = ibv_start_poll(cqx, &poll)) == ENOENT &&
	       tries++ < 5000000)
		;
	if (ret)
		rg_fail("ibv_start_poll awaiting %s: %d", what, ret);
}

/* a posts wr (a signaled SEND) and it completes; the receive it lands in
 * is cqx's first completion, a success of len bytes, left started for the
 * caller to read its own field from and end the poll. */
static void cqx_send_recv(struct vpair *p, struct ibv_send_wr *wr,
			  struct ibv_cq_ex *cqx, uint64_t recv_wr_id,
			  uint32_t len, const char *what)
{
	struct ibv_wc wc;

	v_post_send(p->a.qp, wr);
	v_wait(p->a.cq, &wc, what);
	v_expect_wc(&wc, IBV_WC_SEND, wr->wr_id);
	cqx_first(cqx, what);
	RG_EXPECT_EQ(cqx->status, IBV_WC_SUCCESS);
	RG_EXPECT_EQ(cqx->wr_id, recv_wr_id);
	RG_EXPECT_EQ(ibv_wc_read_opcode(cqx), IBV_WC_RECV);
	RG_EXPECT_EQ(ibv_wc_read_byte_len(cqx), len);
}

/* UD: the receive on an extended CQ says which QP sent the datagram. */
RG_TEST_F(verbs, cq_ex_src_qp, ud_pair)
{
	struct ibv_cq_ex *cqx =
		cqx_with(&self->dev,
			 IBV_WC_EX_WITH_BYTE_LEN | IBV_WC_EX_WITH_QP_NUM |
				 IBV_WC_EX_WITH_SRC_QP,
			 "IBV_WC_EX_WITH_SRC_QP");
	struct ibv_qp *rq =
		v_qp(&self->dev, IBV_QPT_UD, ibv_cq_ex_to_cq(cqx), NULL);
	struct ibv_ah_attr attr;
	struct ibv_ah *ah;
	struct ibv_sge sge;
	struct ibv_send_wr wr = V_SEND_WR(12, IBV_WR_SEND, &sge);

	v_ud_ready(&self->dev, rq);
	v_ah_attr(&self->dev, &attr);
	ah = ibv_create_ah(self->dev.pd, &attr);
	RG_ASSERT_NOT_NULL(ah);
	v_post_recv(rq, 3, self->b.buf, 40 + 200, self->b.mr->lkey);
	v_fill(self->a.buf, 200, 29);
	v_sge(&sge, self->a.buf, 200, self->a.mr->lkey);
	wr.wr.ud.ah = ah;
	wr.wr.ud.remote_qpn = rq->qp_num;
	wr.wr.ud.remote_qkey = V_QKEY;
	cqx_send_recv(self, &wr, cqx, 3, 40 + 200, "a UD send");
	RG_EXPECT_EQ(ibv_wc_read_qp_num(cqx), rq->qp_num);
	RG_EXPECT_EQ(ibv_wc_read_src_qp(cqx), self->a.qp->qp_num);
	ibv_end_poll(cqx);
	RG_EXPECT_DATA(v_check(self->b.buf + 40, 200, 29));
	RG_EXPECT_EQ(ibv_destroy_qp(rq), 0);
	RG_EXPECT_EQ(ibv_destroy_ah(ah), 0);
	RG_EXPECT_EQ(ibv_destroy_cq(ibv_cq_ex_to_cq(cqx)), 0);
}

/* An error completion on an extended CQ: its status is the device's to
 * choose (recorded, as bad_lkey's), its vendor error any value at all. */
RG_TEST_F(verbs, cq_ex_vendor_err, rc_pair)
{
	struct ibv_cq_ex *cqx = cqx_with(&self->dev, IBV_WC_EX_WITH_BYTE_LEN,
					 "IBV_WC_EX_WITH_BYTE_LEN");
	struct ibv_qp *sq =
		v_qp(&self->dev, IBV_QPT_RC, ibv_cq_ex_to_cq(cqx), NULL);
	struct ibv_qp *rq = v_qp(&self->dev, IBV_QPT_RC, self->b.cq, NULL);
	struct ibv_sge sge;
	struct ibv_send_wr wr = V_SEND_WR(99, IBV_WR_SEND, &sge);
	enum ibv_wc_status status;
	uint32_t vendor;

	v_connect(&self->dev, sq, rq, &V_CONN_DEFAULT);
	v_post_recv(rq, 1, self->b.buf, 4096, self->b.mr->lkey);
	v_sge(&sge, self->a.buf, 64, self->a.mr->lkey ^ 0x5a5a00);
	v_post_send(sq, &wr);
	cqx_first(cqx, "the send with a bad lkey");
	status = cqx->status;
	RG_EXPECT_EQ(cqx->wr_id, 99);
	vendor = ibv_wc_read_vendor_err(cqx);
	ibv_end_poll(cqx);
	fprintf(stderr, "%s: vendor error 0x%x\n", ibv_wc_status_str(status),
		vendor);
	RG_EXPECT_NE(status, IBV_WC_SUCCESS);
	rg_observe("send_status", "send with a bad lkey, on an extended CQ",
		   ibv_wc_status_str(status));
	RG_EXPECT_EQ(ibv_destroy_qp(sq), 0);
	RG_EXPECT_EQ(ibv_destroy_qp(rq), 0);
	RG_EXPECT_EQ(ibv_destroy_cq(ibv_cq_ex_to_cq(cqx)), 0);
}

/* A SEND with invalidate into a receive on an extended CQ: the
 * invalidated rkey is read from it (with IBV_WC_EX_WITH_IMM, whose field
 * it shares). b's QP is replaced by one whose receives go to that CQ. */
RG_TEST_F(verbs, cq_ex_invalidated_rkey, rc_pair)
{
	struct ibv_cq_ex *cqx = cqx_with(
		&self->dev, IBV_WC_EX_WITH_BYTE_LEN | IBV_WC_EX_WITH_IMM,
		"IBV_WC_EX_WITH_IMM");
	struct ibv_qp_init_attr init = {
		.send_cq = self->b.cq,
		.recv_cq = ibv_cq_ex_to_cq(cqx),
		.qp_type = IBV_QPT_RC,
		.cap = { .max_send_wr = 16,
			 .max_recv_wr = 16,
			 .max_send_sge = 1,
			 .max_recv_sge = 1 },
	};
	struct ibv_mw *mw;
	struct ibv_sge sge;
	struct ibv_send_wr wr = V_SEND_WR(8, IBV_WR_SEND_WITH_INV, &sge);
	uint32_t rkey;

	self->b.qp = ibv_create_qp(self->dev.pd, &init);
	if (!self->b.qp)
		rg_error("ibv_create_qp(RC, receives on an extended CQ): %s",
			 strerror(errno));
	self->a.qp = v_qp(&self->dev, IBV_QPT_RC, self->a.cq, NULL);
	v_connect(&self->dev, self->a.qp, self->b.qp, &V_CONN_DEFAULT);
	rkey = v_mw2_bind(self, &mw);
	v_post_recv(self->b.qp, 9, self->b.buf + 8192, 64, self->b.mr->lkey);
	v_fill(self->a.buf + 1024, 40, 73);
	v_sge(&sge, self->a.buf + 1024, 40, self->a.mr->lkey);
	wr.invalidate_rkey = rkey;
	cqx_send_recv(self, &wr, cqx, 9, 40, "a send with invalidate");
	RG_EXPECT_EQ(ibv_wc_read_invalidated_rkey(cqx), rkey);
	ibv_end_poll(cqx);
	RG_EXPECT_DATA(v_check(self->b.buf + 8192, 40, 73));
	RG_EXPECT_EQ(ibv_destroy_qp(self->b.qp), 0);
	RG_EXPECT_EQ(ibv_destroy_cq(ibv_cq_ex_to_cq(cqx)), 0);
}
