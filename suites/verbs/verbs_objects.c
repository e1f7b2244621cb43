// SPDX-License-Identifier: MIT
/* Resources: PD, MR, MW, CQ and CQ_ex, comp channels, SRQ, AH, multicast,
 * and the optional objects (XRC, flow, counters, DM, WQ, TD) a device may
 * not have, which are then UNSUPPORTED with the device's own answer. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "verbs_common.h"

RG_TEST_F(verbs, alloc_pd, device)
{
	struct ibv_pd *other;

	other = ibv_alloc_pd(self->ctx);
	RG_ASSERT_NOT_NULL(other);
	RG_EXPECT_PTR_EQ(other->context, self->ctx);
	RG_EXPECT_NE(other->handle, self->pd->handle);
	RG_EXPECT_EQ(ibv_dealloc_pd(other), 0);
	RG_EXPECT_EQ(ibv_dealloc_pd(self->pd), 0);
}

RG_TEST_F(verbs, reg_mr_access, device)
{
	static const int flags[] = {
		0,
		IBV_ACCESS_LOCAL_WRITE,
		IBV_ACCESS_REMOTE_READ,
		IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE,
		IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_ATOMIC,
		V_MR_ACCESS,
	};
	uint8_t *buf = v_buf(3 * 4096);
	size_t i;

	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		/* An unaligned start and length are the common case in real code. */
		struct ibv_mr *mr = ibv_reg_mr(self->pd, buf + 100, 2 * 4096 + 11, flags[i]);

		RG_ASSERT_NOT_NULL(mr);
		RG_EXPECT_PTR_EQ(mr->addr, buf + 100);
		RG_EXPECT_EQ(mr->length, 2 * 4096 + 11);
		RG_EXPECT_PTR_EQ(mr->pd, self->pd);
		RG_EXPECT_EQ(ibv_dereg_mr(mr), 0);
	}
}

/* A region registered at an I/O virtual address of our choosing: a remote
 * write to that address lands in the buffer. */
RG_TEST_F(verbs, reg_mr_iova, rc_pair)
{
	struct ibv_mr *mr;
	struct ibv_sge sge;
	struct ibv_send_wr wr = { .wr_id = 1, .sg_list = &sge, .num_sge = 1,
				  .opcode = IBV_WR_RDMA_WRITE, .send_flags = IBV_SEND_SIGNALED };
	struct ibv_wc wc;
	uint8_t *target = v_buf(4096);
	const uint64_t iova = 0x7e0000000000ull;

	memset(target, 0, 4096);
	mr = ibv_reg_mr_iova(self->dev.pd, target, 4096, iova,
			     IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE);
	if (!mr)
		rg_unsupported_or_fail(errno, "ibv_reg_mr_iova");
	RG_ASSERT_NOT_NULL(mr);
	v_fill(self->a.buf, 256, 3);
	v_sge(&sge, self->a.buf, 256, self->a.mr->lkey);
	wr.wr.rdma.remote_addr = iova + 512;
	wr.wr.rdma.rkey = mr->rkey;
	v_post_send(self->a.qp, &wr);
	v_wait(self->a.cq, &wc, "RDMA WRITE to an IOVA");
	v_expect_wc(&wc, IBV_WC_RDMA_WRITE, 1);
	RG_EXPECT(v_check(target + 512, 256, 3));
	RG_EXPECT_EQ(ibv_dereg_mr(mr), 0);
	/* ibv_reg_mr_iova2 takes the access flags as unsigned int. */
	mr = ibv_reg_mr_iova2(self->dev.pd, target, 4096, iova, IBV_ACCESS_LOCAL_WRITE);
	RG_ASSERT_NOT_NULL(mr);
	RG_EXPECT_EQ(ibv_dereg_mr(mr), 0);
}

RG_TEST_F(verbs, rereg_mr, device)
{
	uint8_t *buf = v_buf(2 * 4096);
	struct ibv_mr *mr;
	int ret;

	mr = v_mr(self, buf, 4096, IBV_ACCESS_LOCAL_WRITE);
	ret = ibv_rereg_mr(mr, IBV_REREG_MR_CHANGE_TRANSLATION, NULL, buf + 4096, 4096, 0);
	if (ret)
		rg_unsupported_or_fail(errno, "ibv_rereg_mr");
	RG_ASSERT_EQ(ret, 0);
	RG_EXPECT_PTR_EQ(mr->addr, buf + 4096);
	RG_EXPECT_EQ(ibv_dereg_mr(mr), 0);
}

RG_TEST_F(verbs, reg_dmabuf_mr, device)
{
#ifdef HAVE_IBV_REG_DMABUF_MR
	struct ibv_mr *mr;

	/* No dma-buf exporter exists in a test VM; a closed descriptor must be
	 * refused cleanly, and a device without the verb says so. */
	mr = ibv_reg_dmabuf_mr(self->pd, 0, 4096, 0, -1, IBV_ACCESS_LOCAL_WRITE);
	RG_ASSERT_NULL(mr);
	if (rg_unsupported_errno(errno))
		rg_unsupported("ibv_reg_dmabuf_mr: %s", strerror(errno));
	rg_observe_errno("reg_dmabuf_mr", "reg_dmabuf_mr(fd -1)", errno);
#else
	rg_skip("stack lacks ibv_reg_dmabuf_mr (rdma-core < 34)");
#endif
}

RG_TEST_F(verbs, advise_mr, device)
{
	uint8_t *buf = v_buf(4096);
	struct ibv_mr *mr;
	struct ibv_sge sge;
	int ret;

	mr = v_mr(self, buf, 4096, IBV_ACCESS_LOCAL_WRITE);
	v_sge(&sge, buf, 4096, mr->lkey);
	ret = ibv_advise_mr(self->pd, IBV_ADVISE_MR_ADVICE_PREFETCH, 0, &sge, 1);
	if (rg_unsupported_errno(ret))
		rg_unsupported("ibv_advise_mr: %s (no on-demand paging)", strerror(ret));
	/* Prefetch of a pinned region is a no-op that succeeds or is refused
	 * as not on-demand (EINVAL); either is what the device does. */
	rg_observe_errno("advise_mr", "advise_mr(prefetch)", ret);
}

/* Bind a window over part of b's buffer, let a write through it. */
static void mw_write(struct vpair *p, uint32_t rkey, uint64_t addr, struct ibv_wc *wc)
{
	struct ibv_sge sge;
	struct ibv_send_wr wr = { .wr_id = 7, .sg_list = &sge, .num_sge = 1,
				  .opcode = IBV_WR_RDMA_WRITE, .send_flags = IBV_SEND_SIGNALED };

	v_fill(p->a.buf, 64, 9);
	v_sge(&sge, p->a.buf, 64, p->a.mr->lkey);
	wr.wr.rdma.remote_addr = addr;
	wr.wr.rdma.rkey = rkey;
	v_post_send(p->a.qp, &wr);
	v_wait(p->a.cq, wc, "RDMA WRITE through a memory window");
}

/* b's buffer registered again, for windows to be bound to. */
static struct ibv_mr *mw_region(struct vpair *p)
{
	struct ibv_mr *mr = ibv_reg_mr(p->dev.pd, p->b.buf, V_BUF_SIZE,
				       V_MR_ACCESS | IBV_ACCESS_MW_BIND);

	if (!mr)
		rg_unsupported_or_fail(errno, "ibv_reg_mr(IBV_ACCESS_MW_BIND)");
	return mr;
}

RG_TEST_F(verbs, mw_type1, rc_pair)
{
	struct ibv_mr *mr;
	struct ibv_mw *mw;
	struct ibv_mw_bind bind = { .wr_id = 5, .send_flags = IBV_SEND_SIGNALED };
	struct ibv_wc wc;
	int ret;

	mr = mw_region(self);
	mw = ibv_alloc_mw(self->dev.pd, IBV_MW_TYPE_1);
	if (!mw)
		rg_unsupported_or_fail(errno, "ibv_alloc_mw(type 1)");
	bind.bind_info.mr = mr;
	bind.bind_info.addr = (uintptr_t)self->b.buf + 4096;
	bind.bind_info.length = 4096;
	bind.bind_info.mw_access_flags = IBV_ACCESS_REMOTE_WRITE;
	ret = ibv_bind_mw(self->b.qp, mw, &bind);
	if (ret)
		rg_unsupported_or_fail(ret, "ibv_bind_mw");
	RG_ASSERT_EQ(ret, 0);
	v_wait(self->b.cq, &wc, "memory window bind");
	v_expect_wc(&wc, IBV_WC_BIND_MW, 5);
	mw_write(self, mw->rkey, (uintptr_t)self->b.buf + 4096 + 100, &wc);
	v_expect_wc(&wc, IBV_WC_RDMA_WRITE, 7);
	RG_EXPECT(v_check(self->b.buf + 4096 + 100, 64, 9));
	RG_EXPECT_EQ(ibv_dealloc_mw(mw), 0);
}

RG_TEST_F(verbs, mw_type2, rc_pair)
{
	struct ibv_mr *mr;
	struct ibv_mw *mw;
	struct ibv_send_wr wr = { .wr_id = 5, .opcode = IBV_WR_BIND_MW,
				  .send_flags = IBV_SEND_SIGNALED };
	struct ibv_wc wc;
	uint32_t rkey;

	mr = mw_region(self);
	mw = ibv_alloc_mw(self->dev.pd, IBV_MW_TYPE_2);
	if (!mw)
		rg_unsupported_or_fail(errno, "ibv_alloc_mw(type 2)");
	rkey = ibv_inc_rkey(mw->rkey);
	wr.bind_mw.mw = mw;
	wr.bind_mw.rkey = rkey;
	wr.bind_mw.bind_info.mr = mr;
	wr.bind_mw.bind_info.addr = (uintptr_t)self->b.buf;
	wr.bind_mw.bind_info.length = 4096;
	wr.bind_mw.bind_info.mw_access_flags = IBV_ACCESS_REMOTE_WRITE;
	v_post_send(self->b.qp, &wr);
	v_wait(self->b.cq, &wc, "type 2 window bind");
	v_expect_wc(&wc, IBV_WC_BIND_MW, 5);
	mw_write(self, rkey, (uintptr_t)self->b.buf + 8, &wc);
	v_expect_wc(&wc, IBV_WC_RDMA_WRITE, 7);
	RG_EXPECT(v_check(self->b.buf + 8, 64, 9));
	/* Invalidated, the same rkey no longer opens the window. */
	memset(&wr, 0, sizeof(wr));
	wr.wr_id = 6;
	wr.opcode = IBV_WR_LOCAL_INV;
	wr.send_flags = IBV_SEND_SIGNALED;
	wr.invalidate_rkey = rkey;
	v_post_send(self->b.qp, &wr);
	v_wait(self->b.cq, &wc, "local invalidate");
	v_expect_wc(&wc, IBV_WC_LOCAL_INV, 6);
	mw_write(self, rkey, (uintptr_t)self->b.buf + 8, &wc);
	RG_EXPECT_NE(wc.status, IBV_WC_SUCCESS);
	rg_observe("write_status", "write after invalidate",
		   ibv_wc_status_str(wc.status));
}

RG_TEST_F(verbs, create_cq, device)
{
	struct ibv_cq *cq;
	struct ibv_wc wc;
	int ctx_marker;

	cq = ibv_create_cq(self->ctx, 100, &ctx_marker, NULL, 0);
	RG_ASSERT_NOT_NULL(cq);
	RG_EXPECT(cq->cqe >= 100);
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
	RG_EXPECT(cq->cqe >= 256);
	RG_EXPECT_EQ(ibv_destroy_cq(cq), 0);
}

RG_TEST_F(verbs, modify_cq, device)
{
	struct ibv_cq *cq;
	struct ibv_modify_cq_attr attr = {
		.attr_mask = IBV_CQ_ATTR_MODERATE,
		.moderate = { .cq_count = 4, .cq_period = 10 },
	};
	int ret;

	cq = v_cq(self, 16);
	ret = ibv_modify_cq(cq, &attr);
	if (ret)
		rg_unsupported_or_fail(ret, "ibv_modify_cq (moderation)");
	RG_EXPECT_EQ(ret, 0);
}

/* A completion wakes the channel: get_cq_event names our CQ and context. */
static void notify_case(struct vpair *p, int solicited_only)
{
	struct ibv_comp_channel *channel;
	struct ibv_cq *cq, *event_cq;
	void *event_ctx;
	struct ibv_qp *rq;
	struct ibv_sge sge;
	struct ibv_send_wr wr = { .wr_id = 3, .sg_list = &sge, .num_sge = 1,
				  .opcode = IBV_WR_SEND, .send_flags = IBV_SEND_SIGNALED };
	struct ibv_wc wc;
	int marker;

	channel = ibv_create_comp_channel(p->dev.ctx);
	RG_ASSERT_NOT_NULL(channel);
	cq = ibv_create_cq(p->dev.ctx, 16, &marker, channel, 0);
	RG_ASSERT_NOT_NULL(cq);
	/* A receiver whose receive CQ is the channel's. */
	{
		struct ibv_qp_init_attr init = {
			.send_cq = p->b.cq, .recv_cq = cq, .qp_type = IBV_QPT_RC,
			.cap = { .max_send_wr = 4, .max_recv_wr = 4, .max_send_sge = 1,
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
	v_sge(&sge, p->a.buf, 32, p->a.mr->lkey);
	v_post_send(p->a.qp, &wr);
	RG_ASSERT_EQ(ibv_get_cq_event(channel, &event_cq, &event_ctx), 0);
	RG_EXPECT_PTR_EQ(event_cq, cq);
	RG_EXPECT_PTR_EQ(event_ctx, &marker);
	v_wait(cq, &wc, "the notified receive");
	v_expect_wc(&wc, IBV_WC_RECV, 9);
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
	struct ibv_send_wr wr = { .wr_id = 4, .sg_list = &sge, .num_sge = 1,
				  .opcode = IBV_WR_SEND_WITH_IMM,
				  .send_flags = IBV_SEND_SIGNALED,
				  .imm_data = htobe32(0xfeedf00d) };
	struct ibv_wc wc;
	int ret, tries = 0;

	cqx = ibv_create_cq_ex(self->dev.ctx, &attr);
	if (!cqx)
		rg_unsupported_or_fail(errno, "ibv_create_cq_ex");
	RG_ASSERT_NOT_NULL(cqx);
	rq = v_qp(&self->dev, IBV_QPT_RC, ibv_cq_ex_to_cq(cqx), NULL);
	self->a.qp = v_qp(&self->dev, IBV_QPT_RC, self->a.cq, NULL);
	v_connect(&self->dev, self->a.qp, rq, &V_CONN_DEFAULT);
	v_post_recv(rq, 21, self->b.buf, 128, self->b.mr->lkey);
	/* Nothing yet: start_poll says ENOENT and must not be ended. */
	RG_EXPECT_ERRNO(ibv_start_poll(cqx, &poll), ENOENT);
	v_sge(&sge, self->a.buf, 77, self->a.mr->lkey);
	v_post_send(self->a.qp, &wr);
	v_wait(self->a.cq, &wc, "send with immediate");
	while ((ret = ibv_start_poll(cqx, &poll)) == ENOENT && tries++ < 5000000)
		;
	RG_ASSERT_EQ(ret, 0);
	RG_EXPECT_EQ(cqx->status, IBV_WC_SUCCESS);
	RG_EXPECT_EQ(cqx->wr_id, 21);
	RG_EXPECT_EQ(ibv_wc_read_opcode(cqx), IBV_WC_RECV);
	RG_EXPECT_EQ(ibv_wc_read_byte_len(cqx), 77);
	RG_EXPECT(ibv_wc_read_wc_flags(cqx) & IBV_WC_WITH_IMM);
	RG_EXPECT_EQ(be32toh(ibv_wc_read_imm_data(cqx)), 0xfeedf00d);
	RG_EXPECT_EQ(ibv_wc_read_qp_num(cqx), rq->qp_num);
	RG_EXPECT_ERRNO(ibv_next_poll(cqx), ENOENT);
	ibv_end_poll(cqx);
	RG_EXPECT_EQ(ibv_destroy_qp(rq), 0);
	RG_EXPECT_EQ(ibv_destroy_cq(ibv_cq_ex_to_cq(cqx)), 0);
}

RG_TEST_F(verbs, srq, device)
{
	struct ibv_srq_init_attr init = { .attr = { .max_wr = 32, .max_sge = 2 } };
	struct ibv_srq_attr attr;
	struct ibv_srq *srq;
	struct ibv_qp_init_attr qpi = { .qp_type = IBV_QPT_RC,
					.cap = { .max_send_wr = 4, .max_send_sge = 1 } };
	struct ibv_qp *rq, *sq;
	struct ibv_cq *cq;
	uint8_t *buf = v_buf(8192);
	struct ibv_mr *mr;
	struct ibv_sge sge;
	struct ibv_recv_wr rwr = { .wr_id = 77, .sg_list = &sge, .num_sge = 1 }, *bad;
	struct ibv_send_wr wr = { .wr_id = 1, .sg_list = &sge, .num_sge = 1,
				  .opcode = IBV_WR_SEND, .send_flags = IBV_SEND_SIGNALED };
	struct ibv_wc wc;
	int i;

	srq = ibv_create_srq(self->pd, &init);
	if (!srq)
		rg_unsupported_or_fail(errno, "ibv_create_srq");
	RG_ASSERT_NOT_NULL(srq);
	RG_EXPECT(init.attr.max_wr >= 32);
	RG_ASSERT_EQ(ibv_query_srq(srq, &attr), 0);
	RG_EXPECT(attr.max_wr >= 32);
	RG_EXPECT(attr.max_sge >= 2);
	cq = v_cq(self, 64);
	qpi.send_cq = qpi.recv_cq = cq;
	qpi.srq = srq;
	rq = ibv_create_qp(self->pd, &qpi);
	RG_ASSERT_NOT_NULL(rq);
	sq = v_qp(self, IBV_QPT_RC, cq, NULL);
	v_connect(self, sq, rq, &V_CONN_DEFAULT);
	mr = v_mr(self, buf, 8192, IBV_ACCESS_LOCAL_WRITE);
	v_sge(&sge, buf + 4096, 256, mr->lkey);
	RG_ASSERT_EQ(ibv_post_srq_recv(srq, &rwr, &bad), 0);
	v_fill(buf, 200, 5);
	v_sge(&sge, buf, 200, mr->lkey);
	v_post_send(sq, &wr);
	for (i = 0; i < 2; i++) {
		v_wait(cq, &wc, "send through the SRQ");
		if (wc.opcode == IBV_WC_RECV) {
			v_expect_wc(&wc, IBV_WC_RECV, 77);
			RG_EXPECT_EQ(wc.byte_len, 200);
			RG_EXPECT_EQ(wc.qp_num, rq->qp_num);
		} else {
			v_expect_wc(&wc, IBV_WC_SEND, 1);
		}
	}
	RG_EXPECT(v_check(buf + 4096, 200, 5));
	RG_EXPECT_EQ(ibv_destroy_qp(rq), 0);
	RG_EXPECT_EQ(ibv_destroy_srq(srq), 0);
}

RG_TEST_F(verbs, srq_ex, device)
{
	struct ibv_srq_init_attr_ex init = {
		.attr = { .max_wr = 8, .max_sge = 1 },
		.comp_mask = IBV_SRQ_INIT_ATTR_TYPE | IBV_SRQ_INIT_ATTR_PD,
		.srq_type = IBV_SRQT_BASIC,
	};
	struct ibv_srq *srq;
	uint32_t num;
	int ret;

	init.pd = self->pd;
	srq = ibv_create_srq_ex(self->ctx, &init);
	if (!srq)
		rg_unsupported_or_fail(errno, "ibv_create_srq_ex");
	RG_ASSERT_NOT_NULL(srq);
	/* An SRQ number exists for XRC SRQs only; a basic one may say so. */
	ret = ibv_get_srq_num(srq, &num);
	rg_observe_errno("get_srq_num", "get_srq_num(basic)", ret);
	RG_EXPECT_EQ(ibv_destroy_srq(srq), 0);
}

RG_TEST_F(verbs, xrc, device)
{
	struct ibv_xrcd_init_attr xattr = {
		.comp_mask = IBV_XRCD_INIT_ATTR_FD | IBV_XRCD_INIT_ATTR_OFLAGS,
		.fd = -1,
		.oflags = O_CREAT,
	};
	struct ibv_srq_init_attr_ex sattr = {
		.attr = { .max_wr = 8, .max_sge = 1 },
		.comp_mask = IBV_SRQ_INIT_ATTR_TYPE | IBV_SRQ_INIT_ATTR_PD |
			     IBV_SRQ_INIT_ATTR_XRCD | IBV_SRQ_INIT_ATTR_CQ,
		.srq_type = IBV_SRQT_XRC,
	};
	struct ibv_qp_open_attr oattr = { 0 };
	struct ibv_xrcd *xrcd;
	struct ibv_srq *srq;
	struct ibv_qp *qp;
	uint32_t num = 0;

	if (!(self->attr.device_cap_flags & IBV_DEVICE_XRC)) {
		/* Still call it: a device without XRC must refuse, not crash. */
		xrcd = ibv_open_xrcd(self->ctx, &xattr);
		RG_EXPECT_NULL(xrcd);
		rg_unsupported("no IBV_DEVICE_XRC; ibv_open_xrcd: %s", strerror(errno));
	}
	xrcd = ibv_open_xrcd(self->ctx, &xattr);
	RG_ASSERT_NOT_NULL(xrcd);
	sattr.pd = self->pd;
	sattr.xrcd = xrcd;
	sattr.cq = v_cq(self, 16);
	srq = ibv_create_srq_ex(self->ctx, &sattr);
	RG_ASSERT_NOT_NULL(srq);
	RG_EXPECT_EQ(ibv_get_srq_num(srq, &num), 0);
	RG_EXPECT_NE(num, 0);
	/* Opening a QP number nobody shares fails, but the call exists. */
	oattr.comp_mask = IBV_QP_OPEN_ATTR_NUM | IBV_QP_OPEN_ATTR_XRCD |
			  IBV_QP_OPEN_ATTR_TYPE;
	oattr.qp_num = 0xffffff;
	oattr.xrcd = xrcd;
	oattr.qp_type = IBV_QPT_XRC_RECV;
	qp = ibv_open_qp(self->ctx, &oattr);
	RG_EXPECT_NULL(qp);
	RG_EXPECT_EQ(ibv_destroy_srq(srq), 0);
	RG_EXPECT_EQ(ibv_close_xrcd(xrcd), 0);
}

RG_TEST_F(verbs, create_ah, device)
{
	struct ibv_ah_attr attr;
	struct ibv_ah *ah;

	v_ah_attr(self, &attr);
	ah = ibv_create_ah(self->pd, &attr);
	RG_ASSERT_NOT_NULL(ah);
	RG_EXPECT_PTR_EQ(ah->pd, self->pd);
	RG_EXPECT_EQ(ibv_destroy_ah(ah), 0);
}

RG_TEST_F(verbs, mcast_attach, device)
{
	struct ibv_cq *cq;
	struct ibv_qp *qp;
	union ibv_gid mgid = { .raw = { 0xff, 0x0e, [10] = 0xff, [11] = 0xff,
					[12] = 239, [13] = 1, [14] = 2, [15] = 3 } };
	int ret;

	cq = v_cq(self, 16);
	qp = v_qp(self, IBV_QPT_UD, cq, NULL);
	v_ud_ready(self, qp);
	ret = ibv_attach_mcast(qp, &mgid, 0);
	if (ret)
		rg_unsupported_or_fail(ret, "ibv_attach_mcast");
	RG_ASSERT_EQ(ret, 0);
	RG_EXPECT_EQ(ibv_detach_mcast(qp, &mgid, 0), 0);
	/* Detaching a group no longer attached must fail. */
	ret = ibv_detach_mcast(qp, &mgid, 0);
	RG_EXPECT_NE(ret, 0);
	rg_observe_errno("detach_twice", "detach_mcast twice", ret);
}

RG_TEST_F(verbs, flow, device)
{
	struct ibv_cq *cq;
	struct ibv_qp *qp;
	struct {
		struct ibv_flow_attr attr;
		struct ibv_flow_spec_eth eth;
	} rule = {
		.attr = { .type = IBV_FLOW_ATTR_NORMAL, .size = sizeof(rule),
			  .num_of_specs = 1, .port = V_PORT },
		.eth = { .type = IBV_FLOW_SPEC_ETH, .size = sizeof(struct ibv_flow_spec_eth),
			 .val = { .dst_mac = { 0x02, 0, 0, 0, 0, 1 } },
			 .mask = { .dst_mac = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } } },
	};
	struct ibv_flow *flow;

	cq = v_cq(self, 16);
	qp = v_qp(self, IBV_QPT_UD, cq, NULL);
	v_ud_ready(self, qp);
	flow = ibv_create_flow(qp, &rule.attr);
	if (!flow)
		rg_unsupported_or_fail(errno, "ibv_create_flow");
	RG_EXPECT_EQ(ibv_destroy_flow(flow), 0);
}

RG_TEST_F(verbs, counters, device)
{
	struct ibv_counters_init_attr attr = { 0 };
	struct ibv_counters *counters;
	uint64_t value = 1;

	counters = ibv_create_counters(self->ctx, &attr);
	if (!counters)
		rg_unsupported_or_fail(errno, "ibv_create_counters");
	RG_EXPECT_EQ(ibv_read_counters(counters, &value, 0, 0), 0);
	RG_EXPECT_EQ(ibv_destroy_counters(counters), 0);
}

RG_TEST_F(verbs, dm, device)
{
	struct ibv_alloc_dm_attr attr = { .length = 64 };
	struct ibv_dm *dm;
	uint8_t in[64], out[64];

	dm = ibv_alloc_dm(self->ctx, &attr);
	if (!dm) {
		int err = errno;

#ifdef HAVE_IBV_IMPORT_DM
		RG_EXPECT_NULL(ibv_import_dm(self->ctx, 0));
#endif
		rg_unsupported_or_fail(err, "ibv_alloc_dm");
	}
	v_fill(in, sizeof(in), 4);
	RG_EXPECT_EQ(ibv_memcpy_to_dm(dm, 0, in, sizeof(in)), 0);
	RG_EXPECT_EQ(ibv_memcpy_from_dm(out, dm, 0, sizeof(out)), 0);
	RG_EXPECT(v_check(out, sizeof(out), 4));
	RG_EXPECT_EQ(ibv_free_dm(dm), 0);
}

RG_TEST_F(verbs, wq, device)
{
	struct ibv_wq_init_attr attr = { .wq_type = IBV_WQT_RQ, .max_wr = 8, .max_sge = 1 };
	struct ibv_wq *wq;

	attr.pd = self->pd;
	attr.cq = v_cq(self, 16);
	wq = ibv_create_wq(self->ctx, &attr);
	if (!wq)
		rg_unsupported_or_fail(errno, "ibv_create_wq");
	RG_EXPECT_EQ(ibv_destroy_wq(wq), 0);
}

RG_TEST_F(verbs, td_parent_domain, device)
{
	struct ibv_td_init_attr tattr = { 0 };
	struct ibv_parent_domain_init_attr pattr = { 0 };
	struct ibv_td *td;
	struct ibv_pd *parent;

	td = ibv_alloc_td(self->ctx, &tattr);
	if (!td)
		rg_unsupported_or_fail(errno, "ibv_alloc_td");
	pattr.pd = self->pd;
	pattr.td = td;
	parent = ibv_alloc_parent_domain(self->ctx, &pattr);
	RG_ASSERT_NOT_NULL(parent);
	RG_EXPECT_EQ(ibv_dealloc_pd(parent), 0);
	RG_EXPECT_EQ(ibv_dealloc_td(td), 0);
}
