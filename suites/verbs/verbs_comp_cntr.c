// SPDX-License-Identifier: MIT
/* Completion counters (rdma-core 65): a counter's own arithmetic, then one
 * attached to a QP counts that QP's completed writes and its errors. */
#include <errno.h>
#include <string.h>

#include "verbs_common.h"

RG_TEST_F(verbs, comp_cntr, device)
{
#ifdef HAVE_IBV_COMP_CNTR
	struct ibv_comp_cntr_caps caps;
	struct ibv_comp_cntr_init_attr init = {
		.type = IBV_COMP_CNTR_TYPE_WRS
	};
	struct ibv_qp_attach_comp_cntr_attr attach = {
		.op_mask = IBV_QP_ATTACH_COMP_CNTR_OP_RDMA_WRITE
	};
	struct ibv_comp_cntr *cc;
	struct ibv_cq *cq;
	struct ibv_qp *a, *b;
	uint8_t *buf = v_buf(8192);
	struct ibv_mr *mr;
	struct ibv_sge sge;
	struct ibv_send_wr wr = V_SEND_WR(0, IBV_WR_RDMA_WRITE, &sge);
	struct ibv_wc wc;
	uint64_t value = 0;
	int ret, i;

	memset(&caps, 0, sizeof(caps));
	ret = ibv_query_comp_cntr_caps(self->ctx, &caps);
	if (ret)
		rg_unsupported_or_fail(ret, "ibv_query_comp_cntr_caps");
	cc = ibv_create_comp_cntr(self->ctx, &init);
	if (!cc)
		rg_unsupported_or_fail(errno, "ibv_create_comp_cntr");
	RG_EXPECT_GE(caps.max_counters, 1);
	RG_EXPECT_PTR_EQ(cc->context, self->ctx);
	/* Its two values, set, incremented and read. */
	RG_EXPECT_EQ(ibv_set_comp_cntr(cc, 5), 0);
	RG_EXPECT_EQ(ibv_inc_comp_cntr(cc, 3), 0);
	RG_EXPECT_EQ(ibv_read_comp_cntr(cc, &value), 0);
	RG_EXPECT_EQ(value, 8);
	RG_EXPECT_EQ(ibv_set_err_comp_cntr(cc, 1), 0);
	RG_EXPECT_EQ(ibv_inc_err_comp_cntr(cc, 2), 0);
	RG_EXPECT_EQ(ibv_read_err_comp_cntr(cc, &value), 0);
	RG_EXPECT_EQ(value, 3);
	RG_EXPECT_EQ(ibv_set_comp_cntr(cc, 0), 0);
	RG_EXPECT_EQ(ibv_set_err_comp_cntr(cc, 0), 0);
	/* Attached to a QP before it connects (RESET), it counts its writes. */
	cq = v_cq(self, 16);
	a = v_qp(self, IBV_QPT_RC, cq, NULL);
	b = v_qp(self, IBV_QPT_RC, cq, NULL);
	if (!(caps.supported_qp_attach_ops &
	      IBV_QP_ATTACH_COMP_CNTR_OP_RDMA_WRITE))
		rg_unsupported("comp_cntr supported_qp_attach_ops 0x%x lack "
			       "RDMA_WRITE",
			       caps.supported_qp_attach_ops);
	ret = ibv_qp_attach_comp_cntr(a, cc, &attach);
	if (ret)
		rg_unsupported_or_fail(ret,
				       "ibv_qp_attach_comp_cntr(RDMA_WRITE)");
	v_connect(self, a, b, &V_CONN_DEFAULT);
	mr = v_mr(self, buf, 8192, V_MR_ACCESS);
	for (i = 0; i < 3; i++) {
		v_fill(buf, 128, (uint8_t)(40 + i));
		v_sge(&sge, buf, 128, mr->lkey);
		wr.wr_id = (uint64_t)i;
		wr.wr.rdma.remote_addr = (uintptr_t)buf + 4096;
		wr.wr.rdma.rkey = mr->rkey;
		v_post_send(a, &wr);
		v_wait(cq, &wc,
		       "an RDMA WRITE on a QP with a completion counter");
		v_expect_wc(&wc, IBV_WC_RDMA_WRITE, (uint64_t)i);
		RG_EXPECT_DATA(v_check(buf + 4096, 128, (uint8_t)(40 + i)));
	}
	RG_EXPECT_EQ(ibv_read_comp_cntr(cc, &value), 0);
	RG_EXPECT_EQ(value, 3);
	/* A write with a wrong rkey completes in error: the error count. */
	wr.wr_id = 9;
	wr.wr.rdma.rkey = mr->rkey ^ 0x80;
	v_post_send(a, &wr);
	v_wait(cq, &wc, "an RDMA WRITE with a bad rkey");
	RG_EXPECT_NE(wc.status, IBV_WC_SUCCESS);
	RG_EXPECT_EQ(ibv_read_err_comp_cntr(cc, &value), 0);
	RG_EXPECT_EQ(value, 1);
	RG_EXPECT_EQ(ibv_read_comp_cntr(cc, &value), 0);
	RG_EXPECT_EQ(value, 3);
	/* Destroyed only once no QP holds it. */
	RG_EXPECT_EQ(ibv_destroy_qp(a), 0);
	RG_EXPECT_EQ(ibv_destroy_comp_cntr(cc), 0);
#else
	rg_skip("stack lacks completion counters (newer than this rdma-core)");
#endif
}
