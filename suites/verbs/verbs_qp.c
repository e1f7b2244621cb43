// SPDX-License-Identifier: MIT
/* Queue pairs: each type, the state machine with its valid and invalid
 * transitions, query_qp, and the extended QP (ibv_qp_ex, ibv_wr_*). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "verbs_common.h"

static enum ibv_qp_state state_of(struct ibv_qp *qp)
{
	struct ibv_qp_attr attr;
	struct ibv_qp_init_attr init;

	if (ibv_query_qp(qp, &attr, IBV_QP_STATE, &init))
		rg_fail("ibv_query_qp: %s", strerror(errno));
	return attr.qp_state;
}

static void create_case(struct vdev *dev, enum ibv_qp_type type)
{
	struct ibv_cq *cq;
	struct ibv_qp *qp;
	struct ibv_qp_attr attr;
	struct ibv_qp_init_attr init;

	cq = v_cq(dev, 64);
	qp = v_qp(dev, type, cq, NULL);
	RG_EXPECT_EQ(qp->qp_type, type);
	RG_EXPECT_EQ(qp->state, IBV_QPS_RESET);
	RG_EXPECT_NE(qp->qp_num, 0);
	RG_ASSERT_EQ(ibv_query_qp(qp, &attr, IBV_QP_STATE | IBV_QP_CAP, &init), 0);
	RG_EXPECT_EQ(attr.qp_state, IBV_QPS_RESET);
	RG_EXPECT(init.cap.max_send_wr >= 16 && init.cap.max_recv_wr >= 16);
	RG_EXPECT(init.cap.max_send_sge >= 4 && init.cap.max_recv_sge >= 4);
	RG_EXPECT_PTR_EQ(init.send_cq, cq);
	RG_EXPECT_EQ(ibv_destroy_qp(qp), 0);
	RG_EXPECT_EQ(ibv_destroy_cq(cq), 0);
}

RG_TEST_F(verbs, create_qp_rc, device)
{
	create_case(self, IBV_QPT_RC);
}

RG_TEST_F(verbs, create_qp_uc, device)
{
	create_case(self, IBV_QPT_UC);
}

RG_TEST_F(verbs, create_qp_ud, device)
{
	create_case(self, IBV_QPT_UD);
}

/* RESET -> INIT -> RTR -> RTS -> SQD -> RTS -> ERR -> RESET, each checked
 * with query_qp, with the attributes given on the way read back. */
RG_TEST_F(verbs, qp_state_machine, device)
{
	struct ibv_cq *cq;
	struct ibv_qp *a, *b;
	struct ibv_qp_attr attr = { 0 };
	struct ibv_qp_init_attr init;
	struct vconn conn = V_CONN_DEFAULT;
	int ret;

	cq = v_cq(self, 64);
	a = v_qp(self, IBV_QPT_RC, cq, NULL);
	b = v_qp(self, IBV_QPT_RC, cq, NULL);
	RG_ASSERT_EQ(v_qp_init(self, a, IBV_ACCESS_REMOTE_READ), 0);
	RG_EXPECT_EQ(state_of(a), IBV_QPS_INIT);
	RG_ASSERT_EQ(v_qp_rtr(self, a, b->qp_num), 0);
	RG_EXPECT_EQ(state_of(a), IBV_QPS_RTR);
	conn.timeout = 12;
	conn.retry_cnt = 5;
	RG_ASSERT_EQ(v_qp_rts(a, &conn), 0);
	RG_ASSERT_EQ(ibv_query_qp(a, &attr, IBV_QP_STATE | IBV_QP_DEST_QPN |
				      IBV_QP_ACCESS_FLAGS | IBV_QP_PATH_MTU |
				      IBV_QP_RETRY_CNT | IBV_QP_TIMEOUT, &init), 0);
	RG_EXPECT_EQ(attr.qp_state, IBV_QPS_RTS);
	RG_EXPECT_EQ(attr.dest_qp_num, b->qp_num);
	RG_EXPECT_EQ(attr.path_mtu, self->port.active_mtu);
	RG_EXPECT_EQ(attr.retry_cnt, 5);
	RG_EXPECT_EQ(attr.timeout, 12);
	RG_EXPECT(attr.qp_access_flags & IBV_ACCESS_REMOTE_READ);
	attr.qp_state = IBV_QPS_SQD;
	attr.en_sqd_async_notify = 0;
	ret = ibv_modify_qp(a, &attr, IBV_QP_STATE);
	rg_observe_errno("rts_to_sqd", "RTS->SQD", ret);
	if (!ret) {
		struct ibv_qp_attr now;
		int tries;

		RG_EXPECT(state_of(a) == IBV_QPS_SQD);
		/* Back to RTS is allowed once drained: wait for sq_draining to
		 * clear, so the answer does not depend on timing. */
		for (tries = 0; tries < 2000; tries++) {
			if (ibv_query_qp(a, &now, IBV_QP_STATE, &init) || !now.sq_draining)
				break;
			usleep(1000);
		}
		attr.qp_state = IBV_QPS_RTS;
		ret = ibv_modify_qp(a, &attr, IBV_QP_STATE);
		rg_observe_errno("sqd_to_rts", "SQD->RTS", ret);
		RG_EXPECT_EQ(state_of(a), ret ? IBV_QPS_SQD : IBV_QPS_RTS);
	}
	attr.qp_state = IBV_QPS_ERR;
	RG_ASSERT_EQ(ibv_modify_qp(a, &attr, IBV_QP_STATE), 0);
	RG_EXPECT_EQ(state_of(a), IBV_QPS_ERR);
	attr.qp_state = IBV_QPS_RESET;
	RG_ASSERT_EQ(ibv_modify_qp(a, &attr, IBV_QP_STATE), 0);
	RG_EXPECT_EQ(state_of(a), IBV_QPS_RESET);
	/* And from RESET it can be brought up again. */
	RG_EXPECT_EQ(v_qp_init(self, a, 0), 0);
	RG_EXPECT_EQ(state_of(a), IBV_QPS_INIT);
}

RG_TEST_F(verbs, qp_invalid_transition, device)
{
	struct ibv_cq *cq;
	struct ibv_qp *qp;
	struct ibv_qp_attr attr = { .qp_state = IBV_QPS_RTS };
	int ret;

	cq = v_cq(self, 16);
	qp = v_qp(self, IBV_QPT_RC, cq, NULL);
	/* RESET -> RTS skips INIT and RTR: the verbs state table forbids it. */
	ret = ibv_modify_qp(qp, &attr, IBV_QP_STATE);
	RG_EXPECT_NE(ret, 0);
	rg_observe_errno("reset_to_rts", "RESET->RTS", ret);
	RG_EXPECT_EQ(state_of(qp), IBV_QPS_RESET);
	/* RESET -> RTR likewise. */
	RG_ASSERT_EQ(ibv_modify_qp(qp, &(struct ibv_qp_attr){ .qp_state = IBV_QPS_RTR },
					    IBV_QP_STATE) != 0, 1);
	RG_EXPECT_EQ(state_of(qp), IBV_QPS_RESET);
}

RG_TEST_F(verbs, qp_wrong_attr_mask, device)
{
	struct ibv_cq *cq;
	struct ibv_qp *qp;
	struct ibv_qp_attr attr = { .qp_state = IBV_QPS_INIT, .port_num = V_PORT };
	int ret;

	cq = v_cq(self, 16);
	qp = v_qp(self, IBV_QPT_RC, cq, NULL);
	/* RESET -> INIT of an RC QP requires the port, P_Key index and access
	 * flags: without IBV_QP_ACCESS_FLAGS and IBV_QP_PKEY_INDEX it is invalid. */
	ret = ibv_modify_qp(qp, &attr, IBV_QP_STATE | IBV_QP_PORT);
	RG_EXPECT_NE(ret, 0);
	rg_observe_errno("init_no_access", "INIT without access flags", ret);
	RG_EXPECT_EQ(state_of(qp), IBV_QPS_RESET);
	/* A mask naming an attribute that INIT cannot take (path MTU). */
	attr.path_mtu = IBV_MTU_1024;
	attr.qp_access_flags = 0;
	ret = ibv_modify_qp(qp, &attr, IBV_QP_STATE | IBV_QP_PORT | IBV_QP_PKEY_INDEX |
				       IBV_QP_ACCESS_FLAGS | IBV_QP_PATH_MTU);
	RG_EXPECT_NE(ret, 0);
	rg_observe_errno("init_with_mtu", "INIT with path MTU", ret);
	RG_EXPECT_EQ(state_of(qp), IBV_QPS_RESET);
}

RG_TEST_F(verbs, qp_ece, rc_pair)
{
	struct ibv_ece ece = { 0 };
	int ret;

	ret = ibv_query_ece(self->a.qp, &ece);
	if (ret) {
		/* Setting must be refused alike where querying is. */
		RG_EXPECT_NE(ibv_set_ece(self->a.qp, &ece), 0);
		rg_unsupported_or_fail(ret, "ibv_query_ece");
	}
	RG_EXPECT_EQ(ibv_set_ece(self->a.qp, &ece), 0);
}

RG_TEST_F(verbs, qp_data_in_order, rc_pair)
{
#ifdef HAVE_IBV_QUERY_QP_DATA_IN_ORDER
	int flags;

	flags = ibv_query_qp_data_in_order(self->a.qp, IBV_WR_RDMA_WRITE, 0);
	RG_EXPECT(flags >= 0);
	rg_observe("write_in_order", "data_in_order(RDMA WRITE)",
		   flags ? "in order" : "not guaranteed");
#else
	rg_skip("stack lacks ibv_query_qp_data_in_order (rdma-core < 40)");
#endif
}

/* An RC QP created through ibv_create_qp_ex with the ibv_wr_* operations. */
static struct ibv_qp *qp_ex(struct vdev *dev, struct ibv_cq *cq, uint64_t ops)
{
	struct ibv_qp_init_attr_ex init = {
		.send_cq = cq,
		.recv_cq = cq,
		.qp_type = IBV_QPT_RC,
		.cap = { .max_send_wr = 16, .max_recv_wr = 16, .max_send_sge = 4,
			 .max_recv_sge = 4, .max_inline_data = 32 },
		.comp_mask = IBV_QP_INIT_ATTR_PD | IBV_QP_INIT_ATTR_SEND_OPS_FLAGS,
		.pd = dev->pd,
		.send_ops_flags = ops,
	};
	struct ibv_qp *qp = ibv_create_qp_ex(dev->ctx, &init);

	if (!qp)
		rg_unsupported_or_fail(errno, "ibv_create_qp_ex(send_ops_flags 0x%llx)",
				       (unsigned long long)ops);
	return qp;
}

RG_TEST_F(verbs, qp_ex_wr_api, rc_pair)
{
	struct ibv_qp *qp;
	struct ibv_qp_ex *qpx;
	struct ibv_wc wc;
	uint64_t *atomic_target, old;
	const uint64_t ops = IBV_QP_EX_WITH_RDMA_WRITE | IBV_QP_EX_WITH_SEND |
			     IBV_QP_EX_WITH_SEND_WITH_IMM | IBV_QP_EX_WITH_RDMA_READ |
			     IBV_QP_EX_WITH_ATOMIC_FETCH_AND_ADD |
			     IBV_QP_EX_WITH_ATOMIC_CMP_AND_SWP |
			     IBV_QP_EX_WITH_RDMA_WRITE_WITH_IMM;

	qp = qp_ex(&self->dev, self->a.cq, ops);
	qpx = ibv_qp_to_qp_ex(qp);
	RG_ASSERT_NOT_NULL(qpx);
	ibv_destroy_qp(self->b.qp);
	self->b.qp = v_qp(&self->dev, IBV_QPT_RC, self->b.cq, NULL);
	v_connect(&self->dev, qp, self->b.qp, &V_CONN_DEFAULT);

	/* A WRITE and a SEND with immediate, in one batch. */
	v_fill(self->a.buf, 300, 1);
	v_post_recv(self->b.qp, 50, self->b.buf + 8192, 64, self->b.mr->lkey);
	ibv_wr_start(qpx);
	qpx->wr_id = 1;
	qpx->wr_flags = IBV_SEND_SIGNALED;
	ibv_wr_rdma_write(qpx, self->b.mr->rkey, (uintptr_t)self->b.buf);
	ibv_wr_set_sge(qpx, self->a.mr->lkey, (uintptr_t)self->a.buf, 300);
	qpx->wr_id = 2;
	/* Inline data is still a send flag to some providers (rxe). */
	qpx->wr_flags = IBV_SEND_SIGNALED | IBV_SEND_INLINE;
	ibv_wr_send_imm(qpx, htobe32(42));
	ibv_wr_set_inline_data(qpx, "hello", 5);
	qpx->wr_flags = IBV_SEND_SIGNALED;
	RG_ASSERT_EQ(ibv_wr_complete(qpx), 0);
	v_wait(self->a.cq, &wc, "ibv_wr_rdma_write");
	v_expect_wc(&wc, IBV_WC_RDMA_WRITE, 1);
	v_wait(self->a.cq, &wc, "ibv_wr_send_imm");
	v_expect_wc(&wc, IBV_WC_SEND, 2);
	v_wait(self->b.cq, &wc, "the immediate's receive");
	v_expect_wc(&wc, IBV_WC_RECV, 50);
	RG_EXPECT_EQ(be32toh(wc.imm_data), 42);
	RG_EXPECT_EQ(wc.byte_len, 5);
	RG_EXPECT(v_check(self->b.buf, 300, 1));
	RG_EXPECT_EQ(memcmp(self->b.buf + 8192, "hello", 5), 0);

	/* READ it back, then the two atomics. */
	ibv_wr_start(qpx);
	qpx->wr_id = 3;
	ibv_wr_rdma_read(qpx, self->b.mr->rkey, (uintptr_t)self->b.buf);
	ibv_wr_set_sge(qpx, self->a.mr->lkey, (uintptr_t)self->a.buf + 4096, 300);
	RG_ASSERT_EQ(ibv_wr_complete(qpx), 0);
	v_wait(self->a.cq, &wc, "ibv_wr_rdma_read");
	v_expect_wc(&wc, IBV_WC_RDMA_READ, 3);
	RG_EXPECT(v_check(self->a.buf + 4096, 300, 1));

	atomic_target = (uint64_t *)(self->b.buf + 16384);
	*atomic_target = 1000;
	ibv_wr_start(qpx);
	qpx->wr_id = 4;
	ibv_wr_atomic_fetch_add(qpx, self->b.mr->rkey, (uintptr_t)atomic_target, 5);
	ibv_wr_set_sge(qpx, self->a.mr->lkey, (uintptr_t)self->a.buf + 8192, 8);
	qpx->wr_id = 5;
	ibv_wr_atomic_cmp_swp(qpx, self->b.mr->rkey, (uintptr_t)atomic_target, 1005, 7);
	ibv_wr_set_sge(qpx, self->a.mr->lkey, (uintptr_t)self->a.buf + 8200, 8);
	RG_ASSERT_EQ(ibv_wr_complete(qpx), 0);
	v_wait(self->a.cq, &wc, "ibv_wr_atomic_fetch_add");
	v_expect_wc(&wc, IBV_WC_FETCH_ADD, 4);
	v_wait(self->a.cq, &wc, "ibv_wr_atomic_cmp_swp");
	v_expect_wc(&wc, IBV_WC_COMP_SWAP, 5);
	memcpy(&old, self->a.buf + 8192, 8);
	RG_EXPECT_EQ(old, 1000);
	memcpy(&old, self->a.buf + 8200, 8);
	RG_EXPECT_EQ(old, 1005);
	RG_EXPECT_EQ(*atomic_target, 7);

	/* WRITE with immediate consumes a receive. */
	v_post_recv(self->b.qp, 51, self->b.buf + 8192, 64, self->b.mr->lkey);
	ibv_wr_start(qpx);
	qpx->wr_id = 6;
	ibv_wr_rdma_write_imm(qpx, self->b.mr->rkey, (uintptr_t)self->b.buf + 100, htobe32(7));
	ibv_wr_set_sge(qpx, self->a.mr->lkey, (uintptr_t)self->a.buf, 16);
	RG_ASSERT_EQ(ibv_wr_complete(qpx), 0);
	v_wait(self->a.cq, &wc, "ibv_wr_rdma_write_imm");
	v_expect_wc(&wc, IBV_WC_RDMA_WRITE, 6);
	v_wait(self->b.cq, &wc, "the write-with-immediate's receive");
	v_expect_wc(&wc, IBV_WC_RECV_RDMA_WITH_IMM, 51);
	RG_EXPECT_EQ(be32toh(wc.imm_data), 7);

	/* An aborted batch posts nothing. */
	ibv_wr_start(qpx);
	qpx->wr_id = 8;
	ibv_wr_send(qpx);
	ibv_wr_set_sge(qpx, self->a.mr->lkey, (uintptr_t)self->a.buf, 8);
	ibv_wr_abort(qpx);
	RG_EXPECT(v_none_within(self->a.cq, 200));
}

/* A gather list through the WR API: every SGE's bytes arrive, in order. */
RG_TEST_F(verbs, qp_ex_sge_list, rc_pair)
{
	struct ibv_qp *qp;
	struct ibv_qp_ex *qpx;
	struct ibv_sge list[3];
	struct ibv_wc wc;

	qp = qp_ex(&self->dev, self->a.cq, IBV_QP_EX_WITH_RDMA_WRITE);
	qpx = ibv_qp_to_qp_ex(qp);
	ibv_destroy_qp(self->b.qp);
	self->b.qp = v_qp(&self->dev, IBV_QPT_RC, self->b.cq, NULL);
	v_connect(&self->dev, qp, self->b.qp, &V_CONN_DEFAULT);
	v_fill(self->a.buf, 600, 31);
	/* Distinct lengths, so a provider that sums one of them is caught. */
	v_sge(&list[0], self->a.buf, 100, self->a.mr->lkey);
	v_sge(&list[1], self->a.buf + 100, 200, self->a.mr->lkey);
	v_sge(&list[2], self->a.buf + 300, 300, self->a.mr->lkey);
	ibv_wr_start(qpx);
	qpx->wr_id = 1;
	qpx->wr_flags = IBV_SEND_SIGNALED;
	ibv_wr_rdma_write(qpx, self->b.mr->rkey, (uintptr_t)self->b.buf);
	ibv_wr_set_sge_list(qpx, 3, list);
	RG_ASSERT_EQ(ibv_wr_complete(qpx), 0);
	v_wait(self->a.cq, &wc, "write of a 3-entry SGE list");
	if (wc.status != IBV_WC_SUCCESS)
		rg_fail("write of a 3-entry SGE list: %s", ibv_wc_status_str(wc.status));
	if (!v_check(self->b.buf, 600, 31)) {
		size_t good = 0;

		while (good < 600 && self->b.buf[good] == (uint8_t)(31 + good * 7))
			good++;
		rg_fail("a 3-entry SGE list of 600 bytes delivered %zu bytes", good);
	}
}
