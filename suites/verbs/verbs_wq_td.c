// SPDX-License-Identifier: MIT
/* Work queues and thread domains (a QP in a parent domain); optional
 * objects, UNSUPPORTED with the device's own answer when absent. */
#include <errno.h>

#include "verbs_common.h"

RG_TEST_F(verbs, wq, device)
{
	struct ibv_wq_init_attr attr = { .wq_type = IBV_WQT_RQ,
					 .max_wr = 8,
					 .max_sge = 1 };
	struct ibv_wq *wq;

	attr.pd = self->pd;
	attr.cq = v_cq(self, 16);
	wq = ibv_create_wq(self->ctx, &attr);
	if (!wq)
		rg_unsupported_or_fail(errno, "ibv_create_wq");
	RG_EXPECT_EQ(wq->state, IBV_WQS_RESET);
	/* Made ready, it takes receives (its traffic needs an RSS QP). */
	{
		struct ibv_wq_attr mod = { .attr_mask = IBV_WQ_ATTR_STATE,
					   .wq_state = IBV_WQS_RDY };
		uint8_t *buf = v_buf(4096);
		struct ibv_mr *mr =
			v_mr(self, buf, 4096, IBV_ACCESS_LOCAL_WRITE);
		struct ibv_sge sge;
		struct ibv_recv_wr rwr = { .wr_id = 1,
					   .sg_list = &sge,
					   .num_sge = 1 },
				   *bad;

		RG_ASSERT_EQ(ibv_modify_wq(wq, &mod), 0);
		RG_EXPECT_EQ(wq->state, IBV_WQS_RDY);
		v_sge(&sge, buf, 4096, mr->lkey);
		RG_EXPECT_EQ(ibv_post_wq_recv(wq, &rwr, &bad), 0);
	}
	RG_EXPECT_EQ(ibv_destroy_wq(wq), 0);
}

/* A QP created in a parent domain (a PD with a thread domain) sends like
 * any other: the domain is where it lives, not what it can do. */
RG_TEST_F(verbs, td_parent_domain, rc_pair)
{
	struct ibv_td_init_attr tattr = { 0 };
	struct ibv_parent_domain_init_attr pattr = { 0 };
	struct vdev in_parent = self->dev;
	struct ibv_td *td;
	struct ibv_pd *parent;
	struct ibv_qp *qp;
	struct ibv_sge sge;
	struct ibv_send_wr wr = V_SEND_WR(71, IBV_WR_SEND, &sge);
	struct ibv_wc wc;

	td = ibv_alloc_td(self->dev.ctx, &tattr);
	if (!td)
		rg_unsupported_or_fail(errno, "ibv_alloc_td");
	pattr.pd = self->dev.pd;
	pattr.td = td;
	parent = ibv_alloc_parent_domain(self->dev.ctx, &pattr);
	RG_ASSERT_NOT_NULL(parent);
	in_parent.pd = parent;
	qp = v_qp(&in_parent, IBV_QPT_RC, self->a.cq, NULL);
	RG_EXPECT_PTR_EQ(qp->pd, parent);
	ibv_destroy_qp(self->b.qp);
	self->b.qp = v_qp(&self->dev, IBV_QPT_RC, self->b.cq, NULL);
	v_connect(&self->dev, qp, self->b.qp, &V_CONN_DEFAULT);
	v_post_recv(self->b.qp, 72, self->b.buf, 256, self->b.mr->lkey);
	v_fill(self->a.buf, 256, 93);
	v_sge(&sge, self->a.buf, 256, self->a.mr->lkey);
	v_post_send(qp, &wr);
	v_wait(self->a.cq, &wc, "a send from the parent domain's QP");
	v_expect_wc(&wc, IBV_WC_SEND, 71);
	v_wait(self->b.cq, &wc, "its receive");
	v_expect_wc(&wc, IBV_WC_RECV, 72);
	RG_EXPECT_DATA(v_check(self->b.buf, 256, 93));
	RG_EXPECT_EQ(ibv_destroy_qp(qp), 0);
	RG_EXPECT_EQ(ibv_dealloc_pd(parent), 0);
	RG_EXPECT_EQ(ibv_dealloc_td(td), 0);
}
