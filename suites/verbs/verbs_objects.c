// SPDX-License-Identifier: MIT
/* Resources: PD, MR, MW, CQ and CQ_ex, comp channels, SRQ, AH, multicast,
 * and the optional objects (XRC, flow, counters, DM, WQ, TD) a device may
 * not have, which are then UNSUPPORTED with the device's own answer. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "verbs_common.h"
#include "verbs_tests.h"

/* An optional verb answered "not here": the device's errno says which. */
static bool absent(int err)
{
	return err == EOPNOTSUPP || err == ENOSYS || err == EPROTONOSUPPORT;
}

void test_alloc_pd(void)
{
	struct vdev dev;
	struct ibv_pd *other;

	v_open(&dev);
	other = ibv_alloc_pd(dev.ctx);
	CU_ASSERT_PTR_NOT_NULL_FATAL(other);
	CU_ASSERT_PTR_EQUAL(other->context, dev.ctx);
	CU_ASSERT_NOT_EQUAL(other->handle, dev.pd->handle);
	CU_ASSERT_EQUAL(ibv_dealloc_pd(other), 0);
	CU_ASSERT_EQUAL(ibv_dealloc_pd(dev.pd), 0);
}

void test_reg_mr_access(void)
{
	static const int flags[] = {
		0,
		IBV_ACCESS_LOCAL_WRITE,
		IBV_ACCESS_REMOTE_READ,
		IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE,
		IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_ATOMIC,
		V_MR_ACCESS,
	};
	struct vdev dev;
	uint8_t *buf = v_buf(3 * 4096);
	size_t i;

	v_open(&dev);
	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		/* An unaligned start and length are the common case in real code. */
		struct ibv_mr *mr = ibv_reg_mr(dev.pd, buf + 100, 2 * 4096 + 11, flags[i]);

		CU_ASSERT_PTR_NOT_NULL_FATAL(mr);
		CU_ASSERT_PTR_EQUAL(mr->addr, buf + 100);
		CU_ASSERT_EQUAL(mr->length, 2 * 4096 + 11);
		CU_ASSERT_PTR_EQUAL(mr->pd, dev.pd);
		CU_ASSERT_EQUAL(ibv_dereg_mr(mr), 0);
	}
}

/* A region registered at an I/O virtual address of our choosing: a remote
 * write to that address lands in the buffer. */
void test_reg_mr_iova(void)
{
	struct vdev dev;
	struct vpair p;
	struct ibv_mr *mr;
	struct ibv_sge sge;
	struct ibv_send_wr wr = { .wr_id = 1, .sg_list = &sge, .num_sge = 1,
				  .opcode = IBV_WR_RDMA_WRITE, .send_flags = IBV_SEND_SIGNALED };
	struct ibv_wc wc;
	uint8_t *target = v_buf(4096);
	const uint64_t iova = 0x7e0000000000ull;

	v_open(&dev);
	v_pair(&dev, &p, IBV_QPT_RC, &V_CONN_DEFAULT);
	memset(target, 0, 4096);
	mr = ibv_reg_mr_iova(dev.pd, target, 4096, iova,
			     IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE);
	if (!mr && absent(errno))
		rg_unsupported("ibv_reg_mr_iova: %s", strerror(errno));
	CU_ASSERT_PTR_NOT_NULL_FATAL(mr);
	v_fill(p.a.buf, 256, 3);
	v_sge(&sge, p.a.buf, 256, p.a.mr->lkey);
	wr.wr.rdma.remote_addr = iova + 512;
	wr.wr.rdma.rkey = mr->rkey;
	v_post_send(p.a.qp, &wr);
	v_wait(p.a.cq, &wc, "RDMA WRITE to an IOVA");
	v_expect_wc(&wc, IBV_WC_RDMA_WRITE, 1);
	CU_ASSERT(v_check(target + 512, 256, 3));
	CU_ASSERT_EQUAL(ibv_dereg_mr(mr), 0);
	/* ibv_reg_mr_iova2 takes the access flags as unsigned int. */
	mr = ibv_reg_mr_iova2(dev.pd, target, 4096, iova, IBV_ACCESS_LOCAL_WRITE);
	CU_ASSERT_PTR_NOT_NULL_FATAL(mr);
	CU_ASSERT_EQUAL(ibv_dereg_mr(mr), 0);
}

void test_rereg_mr(void)
{
	struct vdev dev;
	uint8_t *buf = v_buf(2 * 4096);
	struct ibv_mr *mr;
	int ret;

	v_open(&dev);
	mr = v_mr(&dev, buf, 4096, IBV_ACCESS_LOCAL_WRITE);
	ret = ibv_rereg_mr(mr, IBV_REREG_MR_CHANGE_TRANSLATION, NULL, buf + 4096, 4096, 0);
	if (ret && absent(errno))
		rg_unsupported("ibv_rereg_mr: %s", strerror(errno));
	CU_ASSERT_EQUAL_FATAL(ret, 0);
	CU_ASSERT_PTR_EQUAL(mr->addr, buf + 4096);
	CU_ASSERT_EQUAL(ibv_dereg_mr(mr), 0);
}

void test_reg_dmabuf_mr(void)
{
#ifdef HAVE_IBV_REG_DMABUF_MR
	struct vdev dev;
	struct ibv_mr *mr;

	v_open(&dev);
	/* No dma-buf exporter exists in a test VM; a closed descriptor must be
	 * refused cleanly, and a device without the verb says so. */
	mr = ibv_reg_dmabuf_mr(dev.pd, 0, 4096, 0, -1, IBV_ACCESS_LOCAL_WRITE);
	CU_ASSERT_PTR_NULL_FATAL(mr);
	if (absent(errno))
		rg_unsupported("ibv_reg_dmabuf_mr: %s", strerror(errno));
	rg_observe_errno("reg_dmabuf_mr(fd -1)", errno);
#else
	rg_skip("stack lacks ibv_reg_dmabuf_mr (rdma-core < 34)");
#endif
}

void test_advise_mr(void)
{
	struct vdev dev;
	uint8_t *buf = v_buf(4096);
	struct ibv_mr *mr;
	struct ibv_sge sge;
	int ret;

	v_open(&dev);
	mr = v_mr(&dev, buf, 4096, IBV_ACCESS_LOCAL_WRITE);
	v_sge(&sge, buf, 4096, mr->lkey);
	ret = ibv_advise_mr(dev.pd, IBV_ADVISE_MR_ADVICE_PREFETCH, 0, &sge, 1);
	if (ret && absent(ret))
		rg_unsupported("ibv_advise_mr: %s (no on-demand paging)", strerror(ret));
	/* Prefetch of a pinned region is a no-op that succeeds or is refused
	 * as not on-demand (EINVAL); either is what the device does. */
	rg_observe_errno("advise_mr", ret);
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

static void mw_pair(struct vdev *dev, struct vpair *p, struct ibv_mr **mr)
{
	v_open(dev);
	v_pair(dev, p, IBV_QPT_RC, &V_CONN_DEFAULT);
	*mr = ibv_reg_mr(dev->pd, p->b.buf, V_BUF_SIZE,
			 V_MR_ACCESS | IBV_ACCESS_MW_BIND);
	if (!*mr)
		rg_unsupported("ibv_reg_mr(IBV_ACCESS_MW_BIND): %s", strerror(errno));
}

void test_mw_type1(void)
{
	struct vdev dev;
	struct vpair p;
	struct ibv_mr *mr;
	struct ibv_mw *mw;
	struct ibv_mw_bind bind = { .wr_id = 5, .send_flags = IBV_SEND_SIGNALED };
	struct ibv_wc wc;
	int ret;

	mw_pair(&dev, &p, &mr);
	mw = ibv_alloc_mw(dev.pd, IBV_MW_TYPE_1);
	if (!mw)
		rg_unsupported("ibv_alloc_mw(type 1): %s", strerror(errno));
	bind.bind_info.mr = mr;
	bind.bind_info.addr = (uintptr_t)p.b.buf + 4096;
	bind.bind_info.length = 4096;
	bind.bind_info.mw_access_flags = IBV_ACCESS_REMOTE_WRITE;
	ret = ibv_bind_mw(p.b.qp, mw, &bind);
	if (ret && absent(ret))
		rg_unsupported("ibv_bind_mw: %s", strerror(ret));
	CU_ASSERT_EQUAL_FATAL(ret, 0);
	v_wait(p.b.cq, &wc, "memory window bind");
	v_expect_wc(&wc, IBV_WC_BIND_MW, 5);
	mw_write(&p, mw->rkey, (uintptr_t)p.b.buf + 4096 + 100, &wc);
	v_expect_wc(&wc, IBV_WC_RDMA_WRITE, 7);
	CU_ASSERT(v_check(p.b.buf + 4096 + 100, 64, 9));
	CU_ASSERT_EQUAL(ibv_dealloc_mw(mw), 0);
}

void test_mw_type2(void)
{
	struct vdev dev;
	struct vpair p;
	struct ibv_mr *mr;
	struct ibv_mw *mw;
	struct ibv_send_wr wr = { .wr_id = 5, .opcode = IBV_WR_BIND_MW,
				  .send_flags = IBV_SEND_SIGNALED };
	struct ibv_wc wc;
	uint32_t rkey;

	mw_pair(&dev, &p, &mr);
	mw = ibv_alloc_mw(dev.pd, IBV_MW_TYPE_2);
	if (!mw)
		rg_unsupported("ibv_alloc_mw(type 2): %s", strerror(errno));
	rkey = ibv_inc_rkey(mw->rkey);
	wr.bind_mw.mw = mw;
	wr.bind_mw.rkey = rkey;
	wr.bind_mw.bind_info.mr = mr;
	wr.bind_mw.bind_info.addr = (uintptr_t)p.b.buf;
	wr.bind_mw.bind_info.length = 4096;
	wr.bind_mw.bind_info.mw_access_flags = IBV_ACCESS_REMOTE_WRITE;
	v_post_send(p.b.qp, &wr);
	v_wait(p.b.cq, &wc, "type 2 window bind");
	v_expect_wc(&wc, IBV_WC_BIND_MW, 5);
	mw_write(&p, rkey, (uintptr_t)p.b.buf + 8, &wc);
	v_expect_wc(&wc, IBV_WC_RDMA_WRITE, 7);
	CU_ASSERT(v_check(p.b.buf + 8, 64, 9));
	/* Invalidated, the same rkey no longer opens the window. */
	memset(&wr, 0, sizeof(wr));
	wr.wr_id = 6;
	wr.opcode = IBV_WR_LOCAL_INV;
	wr.send_flags = IBV_SEND_SIGNALED;
	wr.invalidate_rkey = rkey;
	v_post_send(p.b.qp, &wr);
	v_wait(p.b.cq, &wc, "local invalidate");
	v_expect_wc(&wc, IBV_WC_LOCAL_INV, 6);
	mw_write(&p, rkey, (uintptr_t)p.b.buf + 8, &wc);
	CU_ASSERT_NOT_EQUAL(wc.status, IBV_WC_SUCCESS);
	rg_observe("write after invalidate", ibv_wc_status_str(wc.status));
}

void test_create_cq(void)
{
	struct vdev dev;
	struct ibv_cq *cq;
	struct ibv_wc wc;
	int ctx_marker;

	v_open(&dev);
	cq = ibv_create_cq(dev.ctx, 100, &ctx_marker, NULL, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cq);
	CU_ASSERT(cq->cqe >= 100);
	CU_ASSERT_PTR_EQUAL(cq->cq_context, &ctx_marker);
	CU_ASSERT_EQUAL(ibv_poll_cq(cq, 1, &wc), 0);
	CU_ASSERT_EQUAL(ibv_destroy_cq(cq), 0);
}

void test_resize_cq(void)
{
	struct vdev dev;
	struct ibv_cq *cq;
	int ret;

	v_open(&dev);
	cq = v_cq(&dev, 16);
	ret = ibv_resize_cq(cq, 256);
	if (ret && absent(ret))
		rg_unsupported("ibv_resize_cq: %s", strerror(ret));
	CU_ASSERT_EQUAL_FATAL(ret, 0);
	CU_ASSERT(cq->cqe >= 256);
	CU_ASSERT_EQUAL(ibv_destroy_cq(cq), 0);
}

void test_modify_cq(void)
{
	struct vdev dev;
	struct ibv_cq *cq;
	struct ibv_modify_cq_attr attr = {
		.attr_mask = IBV_CQ_ATTR_MODERATE,
		.moderate = { .cq_count = 4, .cq_period = 10 },
	};
	int ret;

	v_open(&dev);
	cq = v_cq(&dev, 16);
	ret = ibv_modify_cq(cq, &attr);
	if (ret && absent(ret))
		rg_unsupported("ibv_modify_cq (moderation): %s", strerror(ret));
	CU_ASSERT_EQUAL(ret, 0);
}

/* A completion wakes the channel: get_cq_event names our CQ and context. */
static void notify_case(int solicited_only)
{
	struct vdev dev;
	struct vpair p;
	struct ibv_comp_channel *channel;
	struct ibv_cq *cq, *event_cq;
	void *event_ctx;
	struct ibv_qp *rq;
	struct ibv_sge sge;
	struct ibv_send_wr wr = { .wr_id = 3, .sg_list = &sge, .num_sge = 1,
				  .opcode = IBV_WR_SEND, .send_flags = IBV_SEND_SIGNALED };
	struct ibv_wc wc;
	int marker;

	v_open(&dev);
	channel = ibv_create_comp_channel(dev.ctx);
	CU_ASSERT_PTR_NOT_NULL_FATAL(channel);
	cq = ibv_create_cq(dev.ctx, 16, &marker, channel, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cq);
	memset(&p, 0, sizeof(p));
	v_pair(&dev, &p, IBV_QPT_RC, &V_CONN_DEFAULT);
	/* A receiver whose receive CQ is the channel's. */
	{
		struct ibv_qp_init_attr init = {
			.send_cq = p.b.cq, .recv_cq = cq, .qp_type = IBV_QPT_RC,
			.cap = { .max_send_wr = 4, .max_recv_wr = 4, .max_send_sge = 1,
				 .max_recv_sge = 1 },
		};

		rq = ibv_create_qp(dev.pd, &init);
		CU_ASSERT_PTR_NOT_NULL_FATAL(rq);
	}
	ibv_destroy_qp(p.b.qp);
	p.a.qp = v_qp(&dev, IBV_QPT_RC, p.a.cq, NULL);
	v_connect(&dev, p.a.qp, rq, &V_CONN_DEFAULT);
	v_post_recv(rq, 9, p.b.buf, 64, p.b.mr->lkey);
	CU_ASSERT_EQUAL_FATAL(ibv_req_notify_cq(cq, solicited_only), 0);
	if (solicited_only)
		wr.send_flags |= IBV_SEND_SOLICITED;
	v_sge(&sge, p.a.buf, 32, p.a.mr->lkey);
	v_post_send(p.a.qp, &wr);
	CU_ASSERT_EQUAL_FATAL(ibv_get_cq_event(channel, &event_cq, &event_ctx), 0);
	CU_ASSERT_PTR_EQUAL(event_cq, cq);
	CU_ASSERT_PTR_EQUAL(event_ctx, &marker);
	v_wait(cq, &wc, "the notified receive");
	v_expect_wc(&wc, IBV_WC_RECV, 9);
	ibv_ack_cq_events(cq, 1);
	CU_ASSERT_EQUAL(ibv_destroy_qp(rq), 0);
	CU_ASSERT_EQUAL(ibv_destroy_cq(cq), 0);
	CU_ASSERT_EQUAL(ibv_destroy_comp_channel(channel), 0);
}

void test_comp_channel_notify(void)
{
	notify_case(0);
}

void test_notify_solicited(void)
{
	notify_case(1);
}

/* The extended CQ: poll with start/next/end and read each field. */
void test_cq_ex(void)
{
	struct vdev dev;
	struct vpair p;
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

	v_open(&dev);
	cqx = ibv_create_cq_ex(dev.ctx, &attr);
	if (!cqx && absent(errno))
		rg_unsupported("ibv_create_cq_ex: %s", strerror(errno));
	CU_ASSERT_PTR_NOT_NULL_FATAL(cqx);
	memset(&p, 0, sizeof(p));
	v_pair(&dev, &p, IBV_QPT_RC, &V_CONN_DEFAULT);
	rq = v_qp(&dev, IBV_QPT_RC, ibv_cq_ex_to_cq(cqx), NULL);
	p.a.qp = v_qp(&dev, IBV_QPT_RC, p.a.cq, NULL);
	v_connect(&dev, p.a.qp, rq, &V_CONN_DEFAULT);
	v_post_recv(rq, 21, p.b.buf, 128, p.b.mr->lkey);
	/* Nothing yet: start_poll says ENOENT and must not be ended. */
	CU_ASSERT_EQUAL(ibv_start_poll(cqx, &poll), ENOENT);
	v_sge(&sge, p.a.buf, 77, p.a.mr->lkey);
	v_post_send(p.a.qp, &wr);
	v_wait(p.a.cq, &wc, "send with immediate");
	while ((ret = ibv_start_poll(cqx, &poll)) == ENOENT && tries++ < 5000000)
		;
	CU_ASSERT_EQUAL_FATAL(ret, 0);
	CU_ASSERT_EQUAL(cqx->status, IBV_WC_SUCCESS);
	CU_ASSERT_EQUAL(cqx->wr_id, 21);
	CU_ASSERT_EQUAL(ibv_wc_read_opcode(cqx), IBV_WC_RECV);
	CU_ASSERT_EQUAL(ibv_wc_read_byte_len(cqx), 77);
	CU_ASSERT(ibv_wc_read_wc_flags(cqx) & IBV_WC_WITH_IMM);
	CU_ASSERT_EQUAL(be32toh(ibv_wc_read_imm_data(cqx)), 0xfeedf00d);
	CU_ASSERT_EQUAL(ibv_wc_read_qp_num(cqx), rq->qp_num);
	CU_ASSERT_EQUAL(ibv_next_poll(cqx), ENOENT);
	ibv_end_poll(cqx);
	CU_ASSERT_EQUAL(ibv_destroy_qp(rq), 0);
	CU_ASSERT_EQUAL(ibv_destroy_cq(ibv_cq_ex_to_cq(cqx)), 0);
}

void test_srq(void)
{
	struct vdev dev;
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

	v_open(&dev);
	srq = ibv_create_srq(dev.pd, &init);
	if (!srq && absent(errno))
		rg_unsupported("ibv_create_srq: %s", strerror(errno));
	CU_ASSERT_PTR_NOT_NULL_FATAL(srq);
	CU_ASSERT(init.attr.max_wr >= 32);
	CU_ASSERT_EQUAL_FATAL(ibv_query_srq(srq, &attr), 0);
	CU_ASSERT(attr.max_wr >= 32);
	CU_ASSERT(attr.max_sge >= 2);
	cq = v_cq(&dev, 64);
	qpi.send_cq = qpi.recv_cq = cq;
	qpi.srq = srq;
	rq = ibv_create_qp(dev.pd, &qpi);
	CU_ASSERT_PTR_NOT_NULL_FATAL(rq);
	sq = v_qp(&dev, IBV_QPT_RC, cq, NULL);
	v_connect(&dev, sq, rq, &V_CONN_DEFAULT);
	mr = v_mr(&dev, buf, 8192, IBV_ACCESS_LOCAL_WRITE);
	v_sge(&sge, buf + 4096, 256, mr->lkey);
	CU_ASSERT_EQUAL_FATAL(ibv_post_srq_recv(srq, &rwr, &bad), 0);
	v_fill(buf, 200, 5);
	v_sge(&sge, buf, 200, mr->lkey);
	v_post_send(sq, &wr);
	for (i = 0; i < 2; i++) {
		v_wait(cq, &wc, "send through the SRQ");
		if (wc.opcode == IBV_WC_RECV) {
			v_expect_wc(&wc, IBV_WC_RECV, 77);
			CU_ASSERT_EQUAL(wc.byte_len, 200);
			CU_ASSERT_EQUAL(wc.qp_num, rq->qp_num);
		} else {
			v_expect_wc(&wc, IBV_WC_SEND, 1);
		}
	}
	CU_ASSERT(v_check(buf + 4096, 200, 5));
	CU_ASSERT_EQUAL(ibv_destroy_qp(rq), 0);
	CU_ASSERT_EQUAL(ibv_destroy_srq(srq), 0);
}

void test_srq_ex(void)
{
	struct vdev dev;
	struct ibv_srq_init_attr_ex init = {
		.attr = { .max_wr = 8, .max_sge = 1 },
		.comp_mask = IBV_SRQ_INIT_ATTR_TYPE | IBV_SRQ_INIT_ATTR_PD,
		.srq_type = IBV_SRQT_BASIC,
	};
	struct ibv_srq *srq;
	uint32_t num;
	int ret;

	v_open(&dev);
	init.pd = dev.pd;
	srq = ibv_create_srq_ex(dev.ctx, &init);
	if (!srq && absent(errno))
		rg_unsupported("ibv_create_srq_ex: %s", strerror(errno));
	CU_ASSERT_PTR_NOT_NULL_FATAL(srq);
	/* An SRQ number exists for XRC SRQs only; a basic one may say so. */
	ret = ibv_get_srq_num(srq, &num);
	rg_observe_errno("get_srq_num(basic)", ret);
	CU_ASSERT_EQUAL(ibv_destroy_srq(srq), 0);
}

void test_xrc(void)
{
	struct vdev dev;
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

	v_open(&dev);
	if (!(dev.attr.device_cap_flags & IBV_DEVICE_XRC)) {
		/* Still call it: a device without XRC must refuse, not crash. */
		xrcd = ibv_open_xrcd(dev.ctx, &xattr);
		CU_ASSERT_PTR_NULL(xrcd);
		rg_unsupported("no IBV_DEVICE_XRC; ibv_open_xrcd: %s", strerror(errno));
	}
	xrcd = ibv_open_xrcd(dev.ctx, &xattr);
	CU_ASSERT_PTR_NOT_NULL_FATAL(xrcd);
	sattr.pd = dev.pd;
	sattr.xrcd = xrcd;
	sattr.cq = v_cq(&dev, 16);
	srq = ibv_create_srq_ex(dev.ctx, &sattr);
	CU_ASSERT_PTR_NOT_NULL_FATAL(srq);
	CU_ASSERT_EQUAL(ibv_get_srq_num(srq, &num), 0);
	CU_ASSERT_NOT_EQUAL(num, 0);
	/* Opening a QP number nobody shares fails, but the call exists. */
	oattr.comp_mask = IBV_QP_OPEN_ATTR_NUM | IBV_QP_OPEN_ATTR_XRCD |
			  IBV_QP_OPEN_ATTR_TYPE;
	oattr.qp_num = 0xffffff;
	oattr.xrcd = xrcd;
	oattr.qp_type = IBV_QPT_XRC_RECV;
	qp = ibv_open_qp(dev.ctx, &oattr);
	CU_ASSERT_PTR_NULL(qp);
	CU_ASSERT_EQUAL(ibv_destroy_srq(srq), 0);
	CU_ASSERT_EQUAL(ibv_close_xrcd(xrcd), 0);
}

void test_create_ah(void)
{
	struct vdev dev;
	struct ibv_ah_attr attr;
	struct ibv_ah *ah;

	v_open(&dev);
	v_ah_attr(&dev, &attr);
	ah = ibv_create_ah(dev.pd, &attr);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ah);
	CU_ASSERT_PTR_EQUAL(ah->pd, dev.pd);
	CU_ASSERT_EQUAL(ibv_destroy_ah(ah), 0);
}

void test_mcast_attach(void)
{
	struct vdev dev;
	struct ibv_cq *cq;
	struct ibv_qp *qp;
	union ibv_gid mgid = { .raw = { 0xff, 0x0e, [10] = 0xff, [11] = 0xff,
					[12] = 239, [13] = 1, [14] = 2, [15] = 3 } };
	int ret;

	v_open(&dev);
	cq = v_cq(&dev, 16);
	qp = v_qp(&dev, IBV_QPT_UD, cq, NULL);
	v_ud_ready(&dev, qp);
	ret = ibv_attach_mcast(qp, &mgid, 0);
	if (ret && absent(ret))
		rg_unsupported("ibv_attach_mcast: %s", strerror(ret));
	CU_ASSERT_EQUAL_FATAL(ret, 0);
	CU_ASSERT_EQUAL(ibv_detach_mcast(qp, &mgid, 0), 0);
	/* Detaching a group no longer attached must fail. */
	ret = ibv_detach_mcast(qp, &mgid, 0);
	CU_ASSERT_NOT_EQUAL(ret, 0);
	rg_observe_errno("detach_mcast twice", ret);
}

void test_flow(void)
{
	struct vdev dev;
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

	v_open(&dev);
	cq = v_cq(&dev, 16);
	qp = v_qp(&dev, IBV_QPT_UD, cq, NULL);
	v_ud_ready(&dev, qp);
	flow = ibv_create_flow(qp, &rule.attr);
	if (!flow)
		rg_unsupported("ibv_create_flow: %s", strerror(errno));
	CU_ASSERT_EQUAL(ibv_destroy_flow(flow), 0);
}

void test_counters(void)
{
	struct vdev dev;
	struct ibv_counters_init_attr attr = { 0 };
	struct ibv_counters *counters;
	uint64_t value = 1;

	v_open(&dev);
	counters = ibv_create_counters(dev.ctx, &attr);
	if (!counters)
		rg_unsupported("ibv_create_counters: %s", strerror(errno));
	CU_ASSERT_EQUAL(ibv_read_counters(counters, &value, 0, 0), 0);
	CU_ASSERT_EQUAL(ibv_destroy_counters(counters), 0);
}

void test_dm(void)
{
	struct vdev dev;
	struct ibv_alloc_dm_attr attr = { .length = 64 };
	struct ibv_dm *dm;
	uint8_t in[64], out[64];

	v_open(&dev);
	dm = ibv_alloc_dm(dev.ctx, &attr);
	if (!dm) {
		int err = errno;

#ifdef HAVE_IBV_IMPORT_DM
		CU_ASSERT_PTR_NULL(ibv_import_dm(dev.ctx, 0));
#endif
		rg_unsupported("ibv_alloc_dm: %s", strerror(err));
	}
	v_fill(in, sizeof(in), 4);
	CU_ASSERT_EQUAL(ibv_memcpy_to_dm(dm, 0, in, sizeof(in)), 0);
	CU_ASSERT_EQUAL(ibv_memcpy_from_dm(out, dm, 0, sizeof(out)), 0);
	CU_ASSERT(v_check(out, sizeof(out), 4));
	CU_ASSERT_EQUAL(ibv_free_dm(dm), 0);
}

void test_wq(void)
{
	struct vdev dev;
	struct ibv_wq_init_attr attr = { .wq_type = IBV_WQT_RQ, .max_wr = 8, .max_sge = 1 };
	struct ibv_wq *wq;

	v_open(&dev);
	attr.pd = dev.pd;
	attr.cq = v_cq(&dev, 16);
	wq = ibv_create_wq(dev.ctx, &attr);
	if (!wq)
		rg_unsupported("ibv_create_wq: %s", strerror(errno));
	CU_ASSERT_EQUAL(ibv_destroy_wq(wq), 0);
}

void test_td_parent_domain(void)
{
	struct vdev dev;
	struct ibv_td_init_attr tattr = { 0 };
	struct ibv_parent_domain_init_attr pattr = { 0 };
	struct ibv_td *td;
	struct ibv_pd *parent;

	v_open(&dev);
	td = ibv_alloc_td(dev.ctx, &tattr);
	if (!td)
		rg_unsupported("ibv_alloc_td: %s", strerror(errno));
	pattr.pd = dev.pd;
	pattr.td = td;
	parent = ibv_alloc_parent_domain(dev.ctx, &pattr);
	CU_ASSERT_PTR_NOT_NULL_FATAL(parent);
	CU_ASSERT_EQUAL(ibv_dealloc_pd(parent), 0);
	CU_ASSERT_EQUAL(ibv_dealloc_td(td), 0);
}
