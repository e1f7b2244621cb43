// SPDX-License-Identifier: MIT
/* Shared receive queues, plain and extended, and XRC (its domain, SRQ
 * and QPs), which a device may not have: then UNSUPPORTED with its answer. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "verbs_common.h"

RG_TEST_F(verbs, srq, device)
{
	struct ibv_srq_init_attr init = { .attr = { .max_wr = 32,
						    .max_sge = 2 } };
	struct ibv_srq_attr attr;
	struct ibv_srq *srq;
	struct ibv_qp_init_attr qpi = { .qp_type = IBV_QPT_RC,
					.cap = { .max_send_wr = 4,
						 .max_send_sge = 1 } };
	struct ibv_qp *rq, *sq;
	struct ibv_cq *cq;
	uint8_t *buf = v_buf(8192);
	struct ibv_mr *mr;
	struct ibv_sge sge;
	struct ibv_recv_wr rwr = { .wr_id = 77, .sg_list = &sge, .num_sge = 1 },
			   *bad;
	struct ibv_send_wr wr = V_SEND_WR(1, IBV_WR_SEND, &sge);
	struct ibv_wc wc;

	srq = ibv_create_srq(self->pd, &init);
	if (!srq)
		rg_unsupported_or_fail(errno, "ibv_create_srq");
	RG_ASSERT_NOT_NULL(srq);
	RG_EXPECT_GE(init.attr.max_wr, 32);
	RG_ASSERT_EQ(ibv_query_srq(srq, &attr), 0);
	RG_EXPECT_GE(attr.max_wr, 32);
	RG_EXPECT_GE(attr.max_sge, 2);
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
	v_send_and_recv(sq, &wr, cq, 77, &wc, "send through the SRQ");
	RG_EXPECT_EQ(wc.byte_len, 200);
	RG_EXPECT_EQ(wc.qp_num, rq->qp_num);
	RG_EXPECT_DATA(v_check(buf + 4096, 200, 5));
	RG_EXPECT_EQ(ibv_destroy_qp(rq), 0);
	RG_EXPECT_EQ(ibv_destroy_srq(srq), 0);
}

/* An SRQ grown by ibv_modify_srq(IBV_SRQ_MAX_WR) keeps the receives posted
 * before and takes more than it could hold; they are consumed in order. */
RG_TEST_F(verbs, srq_resize, device)
{
	struct ibv_srq_init_attr init = { .attr = { .max_wr = 4,
						    .max_sge = 1 } };
	struct ibv_srq_attr attr = { .max_wr = 64 };
	struct ibv_qp_init_attr qpi = { .qp_type = IBV_QPT_RC,
					.cap = { .max_send_wr = 16,
						 .max_send_sge = 1 } };
	struct ibv_srq *srq;
	struct ibv_qp *rq, *sq;
	struct ibv_cq *cq;
	uint8_t *buf = v_buf(65536);
	struct ibv_mr *mr;
	struct ibv_sge sge;
	struct ibv_recv_wr rwr = { .sg_list = &sge, .num_sge = 1 }, *bad;
	struct ibv_send_wr wr = V_SEND_WR(0, IBV_WR_SEND, &sge);
	struct ibv_wc wc;
	uint32_t before;
	int i, ret, posted;

	srq = ibv_create_srq(self->pd, &init);
	if (!srq)
		rg_unsupported_or_fail(errno, "ibv_create_srq");
	mr = v_mr(self, buf, 65536, IBV_ACCESS_LOCAL_WRITE);
	RG_ASSERT_EQ(ibv_query_srq(srq, &attr), 0);
	before = attr.max_wr;
	/* More receives than the SRQ held before it grew. */
	posted = (int)before + 8;
	if (posted > 32)
		rg_error("an SRQ of max_wr 4 reports %u: too large for this "
			 "test",
			 before);
	for (i = 0; i < 2; i++) {
		rwr.wr_id = 100 + (uint64_t)i;
		v_sge(&sge, buf + 32768 + 1024 * i, 1024, mr->lkey);
		RG_ASSERT_EQ(ibv_post_srq_recv(srq, &rwr, &bad), 0);
	}
	attr.max_wr = before + 32;
	ret = ibv_modify_srq(srq, &attr, IBV_SRQ_MAX_WR);
	if (ret)
		rg_unsupported_or_fail(ret, "ibv_modify_srq(IBV_SRQ_MAX_WR)");
	RG_ASSERT_EQ(ibv_query_srq(srq, &attr), 0);
	if (attr.max_wr < before + 32)
		rg_fail("ibv_modify_srq(max_wr %u) succeeded; query_srq says "
			"%u",
			before + 32, attr.max_wr);
	for (i = 2; i < posted; i++) {
		rwr.wr_id = 100 + (uint64_t)i;
		v_sge(&sge, buf + 32768 + 1024 * i, 1024, mr->lkey);
		ret = ibv_post_srq_recv(srq, &rwr, &bad);
		if (ret)
			rg_fail("receive %d of %d into the grown SRQ (was %u): "
				"%s",
				i + 1, posted, before, strerror(ret));
	}
	cq = v_cq(self, 64);
	qpi.send_cq = qpi.recv_cq = cq;
	qpi.srq = srq;
	rq = ibv_create_qp(self->pd, &qpi);
	RG_ASSERT_NOT_NULL(rq);
	sq = v_qp(self, IBV_QPT_RC, cq, NULL);
	v_connect(self, sq, rq, &V_CONN_DEFAULT);
	for (i = 0; i < posted; i++) {
		v_fill(buf + 64 * i, 64, (uint8_t)i);
		v_sge(&sge, buf + 64 * i, 64, mr->lkey);
		wr.wr_id = (uint64_t)i;
		v_send_and_recv(sq, &wr, cq, 100 + (uint64_t)i, &wc,
				"a send into the grown SRQ");
		RG_EXPECT_EQ(wc.byte_len, 64);
		if (!v_check(buf + 32768 + 1024 * i, 64, (uint8_t)i))
			rg_fail_data("receive %d in the grown SRQ: wrong bytes",
				     i + 1);
	}
	RG_EXPECT_EQ(ibv_destroy_qp(sq), 0);
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

/* XRC's two QP types through the state table (the kernel's required masks). */
static void xrc_up(struct vdev *dev, struct ibv_qp *qp, uint32_t remote_qpn)
{
	struct ibv_qp_attr attr = { .qp_state = IBV_QPS_INIT,
				    .port_num = V_PORT,
				    .qp_access_flags =
					    IBV_ACCESS_REMOTE_WRITE };
	int rtr = IBV_QP_STATE | IBV_QP_AV | IBV_QP_PATH_MTU | IBV_QP_DEST_QPN |
		  IBV_QP_RQ_PSN;
	bool tgt = qp->qp_type == IBV_QPT_XRC_RECV;

	if (ibv_modify_qp(qp, &attr,
			  IBV_QP_STATE | IBV_QP_PKEY_INDEX | IBV_QP_PORT |
				  IBV_QP_ACCESS_FLAGS))
		rg_fail("XRC QP %u to INIT: %s", qp->qp_num, strerror(errno));
	memset(&attr, 0, sizeof(attr));
	attr.qp_state = IBV_QPS_RTR;
	attr.path_mtu = dev->port.active_mtu;
	attr.dest_qp_num = remote_qpn;
	attr.max_dest_rd_atomic = 1;
	attr.min_rnr_timer = 1;
	v_ah_attr(dev, &attr.ah_attr);
	if (tgt)
		rtr |= IBV_QP_MAX_DEST_RD_ATOMIC | IBV_QP_MIN_RNR_TIMER;
	if (ibv_modify_qp(qp, &attr, rtr))
		rg_fail("XRC QP %u to RTR: %s", qp->qp_num, strerror(errno));
	if (tgt)
		return; /* a target only receives */
	attr.qp_state = IBV_QPS_RTS;
	attr.timeout = 14;
	attr.retry_cnt = 7;
	attr.rnr_retry = 7;
	attr.max_rd_atomic = 1;
	if (ibv_modify_qp(qp, &attr,
			  IBV_QP_STATE | IBV_QP_TIMEOUT | IBV_QP_RETRY_CNT |
				  IBV_QP_RNR_RETRY | IBV_QP_SQ_PSN |
				  IBV_QP_MAX_QP_RD_ATOMIC))
		rg_fail("XRC QP %u to RTS: %s", qp->qp_num, strerror(errno));
}

/* An XRC domain, its SRQ and receive QP; ibv_open_qp shares that QP; an
 * XRC send QP delivers a message to the SRQ named by its number. */
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
	struct ibv_qp_init_attr_ex rattr = { .qp_type = IBV_QPT_XRC_RECV,
					     .comp_mask =
						     IBV_QP_INIT_ATTR_XRCD };
	struct ibv_qp_init_attr_ex iattr = { .qp_type = IBV_QPT_XRC_SEND,
					     .comp_mask = IBV_QP_INIT_ATTR_PD,
					     .cap = { .max_send_wr = 4,
						      .max_send_sge = 1 } };
	struct ibv_qp_open_attr oattr = { 0 };
	struct ibv_xrcd *xrcd;
	struct ibv_srq *srq;
	struct ibv_qp *recv, *send, *opened, *qp;
	struct ibv_cq *cq;
	uint8_t *buf = v_buf(8192);
	struct ibv_mr *mr;
	struct ibv_sge sge;
	struct ibv_recv_wr rwr = { .wr_id = 61, .sg_list = &sge, .num_sge = 1 },
			   *rbad;
	struct ibv_send_wr wr = V_SEND_WR(62, IBV_WR_SEND, &sge);
	struct ibv_wc wc;
	uint32_t num = 0;

	if (!(self->attr.device_cap_flags & IBV_DEVICE_XRC)) {
		/* Still call it: a device without XRC must refuse, not crash.
		 */
		xrcd = ibv_open_xrcd(self->ctx, &xattr);
		RG_EXPECT_NULL(xrcd);
		rg_unsupported("no IBV_DEVICE_XRC; ibv_open_xrcd: %s",
			       strerror(errno));
	}
	xrcd = ibv_open_xrcd(self->ctx, &xattr);
	RG_ASSERT_NOT_NULL(xrcd);
	cq = v_cq(self, 16);
	sattr.pd = self->pd;
	sattr.xrcd = xrcd;
	sattr.cq = cq;
	srq = ibv_create_srq_ex(self->ctx, &sattr);
	RG_ASSERT_NOT_NULL(srq);
	RG_EXPECT_EQ(ibv_get_srq_num(srq, &num), 0);
	RG_EXPECT_NE(num, 0);
	rattr.xrcd = xrcd;
	recv = ibv_create_qp_ex(self->ctx, &rattr);
	RG_ASSERT_NOT_NULL(recv);
	/* Another process would open the receive QP by its number. */
	oattr.comp_mask = IBV_QP_OPEN_ATTR_NUM | IBV_QP_OPEN_ATTR_XRCD |
			  IBV_QP_OPEN_ATTR_TYPE;
	oattr.qp_num = recv->qp_num;
	oattr.xrcd = xrcd;
	oattr.qp_type = IBV_QPT_XRC_RECV;
	opened = ibv_open_qp(self->ctx, &oattr);
	RG_ASSERT_NOT_NULL(opened);
	RG_EXPECT_EQ(opened->qp_num, recv->qp_num);
	RG_EXPECT_EQ(opened->qp_type, IBV_QPT_XRC_RECV);
	/* A number nobody shares opens nothing. */
	oattr.qp_num = recv->qp_num ^ 0x5a5a5a;
	qp = ibv_open_qp(self->ctx, &oattr);
	RG_EXPECT_NULL(qp);
	iattr.pd = self->pd;
	iattr.send_cq = iattr.recv_cq = cq;
	send = ibv_create_qp_ex(self->ctx, &iattr);
	RG_ASSERT_NOT_NULL(send);
	xrc_up(self, recv, send->qp_num);
	xrc_up(self, send, recv->qp_num);
	mr = v_mr(self, buf, 8192, IBV_ACCESS_LOCAL_WRITE);
	v_sge(&sge, buf + 4096, 256, mr->lkey);
	RG_ASSERT_EQ(ibv_post_srq_recv(srq, &rwr, &rbad), 0);
	v_fill(buf, 120, 37);
	v_sge(&sge, buf, 120, mr->lkey);
	wr.qp_type.xrc.remote_srqn = num;
	v_send_and_recv(send, &wr, cq, 61, &wc, "an XRC send and its receive");
	RG_EXPECT_EQ(wc.byte_len, 120);
	RG_EXPECT_DATA(v_check(buf + 4096, 120, 37));
	RG_EXPECT_EQ(ibv_destroy_qp(send), 0);
	RG_EXPECT_EQ(ibv_destroy_qp(opened), 0);
	RG_EXPECT_EQ(ibv_destroy_qp(recv), 0);
	RG_EXPECT_EQ(ibv_destroy_srq(srq), 0);
	RG_EXPECT_EQ(ibv_close_xrcd(xrcd), 0);
}
