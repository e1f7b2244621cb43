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
	RG_ASSERT_EQ(ibv_query_qp(qp, &attr, IBV_QP_STATE | IBV_QP_CAP, &init),
		     0);
	RG_EXPECT_EQ(attr.qp_state, IBV_QPS_RESET);
	RG_EXPECT_GE(init.cap.max_send_wr, 16);
	RG_EXPECT_GE(init.cap.max_recv_wr, 16);
	RG_EXPECT_GE(init.cap.max_send_sge, 4);
	RG_EXPECT_GE(init.cap.max_recv_sge, 4);
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
	RG_ASSERT_EQ(ibv_query_qp(a, &attr,
				  IBV_QP_STATE | IBV_QP_DEST_QPN |
					  IBV_QP_ACCESS_FLAGS |
					  IBV_QP_PATH_MTU | IBV_QP_RETRY_CNT |
					  IBV_QP_TIMEOUT,
				  &init),
		     0);
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
			if (ibv_query_qp(a, &now, IBV_QP_STATE, &init) ||
			    !now.sq_draining)
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
	RG_ASSERT_EQ(
		ibv_modify_qp(qp,
			      &(struct ibv_qp_attr){ .qp_state = IBV_QPS_RTR },
			      IBV_QP_STATE) != 0,
		1);
	RG_EXPECT_EQ(state_of(qp), IBV_QPS_RESET);
}

RG_TEST_F(verbs, qp_wrong_attr_mask, device)
{
	struct ibv_cq *cq;
	struct ibv_qp *qp;
	struct ibv_qp_attr attr = { .qp_state = IBV_QPS_INIT,
				    .port_num = V_PORT };
	int ret;

	cq = v_cq(self, 16);
	qp = v_qp(self, IBV_QPT_RC, cq, NULL);
	/* RESET -> INIT of an RC QP requires the port, P_Key index and access
	 * flags: without IBV_QP_ACCESS_FLAGS and IBV_QP_PKEY_INDEX it is
	 * invalid. */
	ret = ibv_modify_qp(qp, &attr, IBV_QP_STATE | IBV_QP_PORT);
	RG_EXPECT_NE(ret, 0);
	rg_observe_errno("init_no_access", "INIT without access flags", ret);
	RG_EXPECT_EQ(state_of(qp), IBV_QPS_RESET);
	/* A mask naming an attribute that INIT cannot take (path MTU). */
	attr.path_mtu = IBV_MTU_1024;
	attr.qp_access_flags = 0;
	ret = ibv_modify_qp(qp, &attr,
			    IBV_QP_STATE | IBV_QP_PORT | IBV_QP_PKEY_INDEX |
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
	int in_order, caps;

	/* Without flags the answer is a boolean: 1 (whole message in order)
	 * or 0. With IBV_QUERY_QP_DATA_IN_ORDER_RETURN_CAPS (1 << 0; rdma-core
	 * 44 has no name for it and ignores it) it is a vector of
	 * IBV_QUERY_QP_DATA_IN_ORDER_WHOLE_MSG (1 << 0) and _ALIGNED_128_BYTES
	 * (1 << 1), which must agree with the boolean. */
	in_order = ibv_query_qp_data_in_order(self->a.qp, IBV_WR_RDMA_WRITE, 0);
	RG_EXPECT(in_order == 0 || in_order == 1);
	caps = ibv_query_qp_data_in_order(self->a.qp, IBV_WR_RDMA_WRITE,
					  1u << 0);
	RG_EXPECT_EQ(caps & ~3, 0);
	if (in_order == 1)
		RG_EXPECT(caps & 1);
	/* SEND's answer is a boolean too. */
	RG_EXPECT_EQ(
		ibv_query_qp_data_in_order(self->a.qp, IBV_WR_SEND, 0) & ~1, 0);
	rg_observe("write_in_order", "data_in_order(RDMA WRITE)",
		   in_order ? "in order" : "not guaranteed");
#else
	rg_skip("stack lacks ibv_query_qp_data_in_order (rdma-core < 40)");
#endif
}

/* A QP of this type created through ibv_create_qp_ex with the ibv_wr_*
 * operations. EINVAL is a FAIL like any errno outside the unsupported set:
 * the device must refuse operations it lacks as unsupported. */
static struct ibv_qp *qp_ex_type(struct vdev *dev, enum ibv_qp_type type,
				 struct ibv_cq *cq, uint64_t ops)
{
	struct ibv_qp_init_attr_ex init = {
		.send_cq = cq,
		.recv_cq = cq,
		.qp_type = type,
		.cap = { .max_send_wr = 16,
			 .max_recv_wr = 16,
			 .max_send_sge = 4,
			 .max_recv_sge = 4,
			 .max_inline_data = 32 },
		.comp_mask =
			IBV_QP_INIT_ATTR_PD | IBV_QP_INIT_ATTR_SEND_OPS_FLAGS,
		.pd = dev->pd,
		.send_ops_flags = ops,
	};
	struct ibv_qp *qp = ibv_create_qp_ex(dev->ctx, &init);

	if (!qp)
		rg_unsupported_or_fail(
			errno, "ibv_create_qp_ex(send_ops_flags 0x%llx)",
			(unsigned long long)ops);
	return qp;
}

static struct ibv_qp *qp_ex(struct vdev *dev, struct ibv_cq *cq, uint64_t ops)
{
	return qp_ex_type(dev, IBV_QPT_RC, cq, ops);
}

/* The pair's two RC QPs replaced by ones created for the ibv_wr_* API with
 * these operations (b_ops 0: a plain QP), connected to each other. */
static struct ibv_qp_ex *qp_ex_pair_conn(struct vpair *p, uint64_t a_ops,
					 uint64_t b_ops,
					 struct ibv_qp_ex **b_qpx,
					 const struct vconn *conn)
{
	struct ibv_qp *a = qp_ex(&p->dev, p->a.cq, a_ops);

	ibv_destroy_qp(p->a.qp);
	ibv_destroy_qp(p->b.qp);
	p->a.qp = a;
	p->b.qp = b_ops ? qp_ex(&p->dev, p->b.cq, b_ops)
			: v_qp(&p->dev, IBV_QPT_RC, p->b.cq, NULL);
	v_connect(&p->dev, p->a.qp, p->b.qp, conn);
	if (b_qpx)
		*b_qpx = ibv_qp_to_qp_ex(p->b.qp);
	return ibv_qp_to_qp_ex(p->a.qp);
}

static struct ibv_qp_ex *qp_ex_pair(struct vpair *p, uint64_t a_ops,
				    uint64_t b_ops, struct ibv_qp_ex **b_qpx)
{
	return qp_ex_pair_conn(p, a_ops, b_ops, b_qpx, &V_CONN_DEFAULT);
}

/* The extended capability bits the kernel reports that rdma-core's verbs.h
 * does not name (ibv_devinfo prints them as "Unknown flags"): the kernel's
 * IB_UVERBS_DEVICE_FLUSH_GLOBAL and IB_UVERBS_DEVICE_ATOMIC_WRITE. */
#define V_CAP_FLUSH_GLOBAL (1ULL << 38)
#define V_CAP_ATOMIC_WRITE (1ULL << 40)

#if defined(HAVE_IBV_WR_ATOMIC_WRITE) || defined(HAVE_IBV_WR_FLUSH)
static void need_cap_ex(struct vdev *dev, uint64_t bit, const char *name)
{
	struct ibv_device_attr_ex ex;

	memset(&ex, 0, sizeof(ex));
	if (ibv_query_device_ex(dev->ctx, NULL, &ex))
		rg_error("ibv_query_device_ex: %s", strerror(errno));
	if (!(ex.device_cap_flags_ex & bit))
		rg_unsupported("device_cap_flags_ex 0x%llx lacks %s",
			       (unsigned long long)ex.device_cap_flags_ex,
			       name);
}
#endif

/* One ibv_wr_* batch of one signaled request has completed on cq. */
static void wr_done(struct ibv_qp_ex *qpx, struct ibv_cq *cq,
		    enum ibv_wc_opcode opcode, uint64_t wr_id, const char *what)
{
	struct ibv_wc wc;
	int ret = ibv_wr_complete(qpx);

	if (ret)
		rg_fail("ibv_wr_complete (%s): %s", what, strerror(ret));
	v_wait(cq, &wc, what);
	v_expect_wc(&wc, opcode, wr_id);
}

/* a's QP replaced by one for the ibv_wr_* API with only this operation,
 * connected to a plain QP on b. */
static struct ibv_qp_ex *wr_op_qp(struct vpair *p, uint64_t op)
{
	struct ibv_qp_ex *qpx = qp_ex_pair(p, op, 0, NULL);

	RG_ASSERT_NOT_NULL(qpx);
	return qpx;
}

RG_TEST_F(verbs, qp_ex_wr_rdma_write, rc_pair)
{
	struct ibv_qp_ex *qpx = wr_op_qp(self, IBV_QP_EX_WITH_RDMA_WRITE);

	v_fill(self->a.buf, 300, 1);
	ibv_wr_start(qpx);
	qpx->wr_id = 1;
	qpx->wr_flags = IBV_SEND_SIGNALED;
	ibv_wr_rdma_write(qpx, self->b.mr->rkey, (uintptr_t)self->b.buf);
	ibv_wr_set_sge(qpx, self->a.mr->lkey, (uintptr_t)self->a.buf, 300);
	wr_done(qpx, self->a.cq, IBV_WC_RDMA_WRITE, 1, "ibv_wr_rdma_write");
	RG_EXPECT_DATA(v_check(self->b.buf, 300, 1));
}

RG_TEST_F(verbs, qp_ex_wr_send, rc_pair)
{
	struct ibv_qp_ex *qpx = wr_op_qp(self, IBV_QP_EX_WITH_SEND);
	struct ibv_wc wc;

	v_fill(self->a.buf, 200, 3);
	v_post_recv(self->b.qp, 50, self->b.buf, 256, self->b.mr->lkey);
	ibv_wr_start(qpx);
	qpx->wr_id = 2;
	qpx->wr_flags = IBV_SEND_SIGNALED;
	ibv_wr_send(qpx);
	ibv_wr_set_sge(qpx, self->a.mr->lkey, (uintptr_t)self->a.buf, 200);
	wr_done(qpx, self->a.cq, IBV_WC_SEND, 2, "ibv_wr_send");
	v_wait(self->b.cq, &wc, "the send's receive");
	v_expect_wc(&wc, IBV_WC_RECV, 50);
	RG_EXPECT_EQ(wc.byte_len, 200);
	RG_EXPECT_DATA(v_check(self->b.buf, 200, 3));
}

RG_TEST_F(verbs, qp_ex_wr_send_imm, rc_pair)
{
	struct ibv_qp_ex *qpx = wr_op_qp(self, IBV_QP_EX_WITH_SEND_WITH_IMM);
	struct ibv_wc wc;

	v_post_recv(self->b.qp, 50, self->b.buf + 8192, 64, self->b.mr->lkey);
	ibv_wr_start(qpx);
	qpx->wr_id = 2;
	/* Inline data is still a send flag to some providers (rxe). */
	qpx->wr_flags = IBV_SEND_SIGNALED | IBV_SEND_INLINE;
	ibv_wr_send_imm(qpx, htobe32(42));
	ibv_wr_set_inline_data(qpx, "hello", 5);
	wr_done(qpx, self->a.cq, IBV_WC_SEND, 2, "ibv_wr_send_imm");
	v_wait(self->b.cq, &wc, "the immediate's receive");
	v_expect_wc(&wc, IBV_WC_RECV, 50);
	RG_EXPECT_EQ(be32toh(wc.imm_data), 42);
	RG_EXPECT_EQ(wc.byte_len, 5);
	RG_EXPECT_DATA(!memcmp(self->b.buf + 8192, "hello", 5));
}

RG_TEST_F(verbs, qp_ex_wr_rdma_read, rc_pair)
{
	struct ibv_qp_ex *qpx = wr_op_qp(self, IBV_QP_EX_WITH_RDMA_READ);

	v_fill(self->b.buf, 300, 1);
	ibv_wr_start(qpx);
	qpx->wr_id = 3;
	qpx->wr_flags = IBV_SEND_SIGNALED;
	ibv_wr_rdma_read(qpx, self->b.mr->rkey, (uintptr_t)self->b.buf);
	ibv_wr_set_sge(qpx, self->a.mr->lkey, (uintptr_t)self->a.buf + 4096,
		       300);
	wr_done(qpx, self->a.cq, IBV_WC_RDMA_READ, 3, "ibv_wr_rdma_read");
	RG_EXPECT_DATA(v_check(self->a.buf + 4096, 300, 1));
}

RG_TEST_F(verbs, qp_ex_wr_atomic_fetch_add, rc_pair)
{
	struct ibv_qp_ex *qpx =
		wr_op_qp(self, IBV_QP_EX_WITH_ATOMIC_FETCH_AND_ADD);
	uint64_t *target = (uint64_t *)(self->b.buf + 16384), old;

	*target = 1000;
	ibv_wr_start(qpx);
	qpx->wr_id = 4;
	qpx->wr_flags = IBV_SEND_SIGNALED;
	ibv_wr_atomic_fetch_add(qpx, self->b.mr->rkey, (uintptr_t)target, 5);
	ibv_wr_set_sge(qpx, self->a.mr->lkey, (uintptr_t)self->a.buf + 8192, 8);
	wr_done(qpx, self->a.cq, IBV_WC_FETCH_ADD, 4,
		"ibv_wr_atomic_fetch_add");
	memcpy(&old, self->a.buf + 8192, 8);
	RG_EXPECT_EQ(old, 1000);
	RG_EXPECT_EQ(*target, 1005);
}

RG_TEST_F(verbs, qp_ex_wr_atomic_cmp_swp, rc_pair)
{
	struct ibv_qp_ex *qpx =
		wr_op_qp(self, IBV_QP_EX_WITH_ATOMIC_CMP_AND_SWP);
	uint64_t *target = (uint64_t *)(self->b.buf + 16384), old;

	*target = 1005;
	ibv_wr_start(qpx);
	qpx->wr_id = 5;
	qpx->wr_flags = IBV_SEND_SIGNALED;
	ibv_wr_atomic_cmp_swp(qpx, self->b.mr->rkey, (uintptr_t)target, 1005,
			      7);
	ibv_wr_set_sge(qpx, self->a.mr->lkey, (uintptr_t)self->a.buf + 8200, 8);
	wr_done(qpx, self->a.cq, IBV_WC_COMP_SWAP, 5, "ibv_wr_atomic_cmp_swp");
	memcpy(&old, self->a.buf + 8200, 8);
	RG_EXPECT_EQ(old, 1005);
	RG_EXPECT_EQ(*target, 7);
}

/* WRITE with immediate consumes a receive. */
RG_TEST_F(verbs, qp_ex_wr_rdma_write_imm, rc_pair)
{
	struct ibv_qp_ex *qpx =
		wr_op_qp(self, IBV_QP_EX_WITH_RDMA_WRITE_WITH_IMM);
	struct ibv_wc wc;

	/* b's buffer holds another pattern first, so a write that moved
	 * nothing shows. */
	v_fill(self->b.buf, 300, 2);
	v_fill(self->a.buf, 16, 1);
	v_post_recv(self->b.qp, 51, self->b.buf + 8192, 64, self->b.mr->lkey);
	ibv_wr_start(qpx);
	qpx->wr_id = 6;
	qpx->wr_flags = IBV_SEND_SIGNALED;
	ibv_wr_rdma_write_imm(qpx, self->b.mr->rkey,
			      (uintptr_t)self->b.buf + 100, htobe32(7));
	ibv_wr_set_sge(qpx, self->a.mr->lkey, (uintptr_t)self->a.buf, 16);
	wr_done(qpx, self->a.cq, IBV_WC_RDMA_WRITE, 6, "ibv_wr_rdma_write_imm");
	v_wait(self->b.cq, &wc, "the write-with-immediate's receive");
	v_expect_wc(&wc, IBV_WC_RECV_RDMA_WITH_IMM, 51);
	RG_EXPECT_EQ(be32toh(wc.imm_data), 7);
	RG_EXPECT_DATA(v_check(self->b.buf + 100, 16, 1));
}

/* An aborted batch posts nothing. */
RG_TEST_F(verbs, qp_ex_wr_abort, rc_pair)
{
	struct ibv_qp_ex *qpx = wr_op_qp(self, IBV_QP_EX_WITH_SEND);

	v_post_recv(self->b.qp, 52, self->b.buf, 64, self->b.mr->lkey);
	ibv_wr_start(qpx);
	qpx->wr_id = 8;
	qpx->wr_flags = IBV_SEND_SIGNALED;
	ibv_wr_send(qpx);
	ibv_wr_set_sge(qpx, self->a.mr->lkey, (uintptr_t)self->a.buf, 8);
	ibv_wr_abort(qpx);
	RG_EXPECT(v_none_within(self->a.cq, 200));
	RG_EXPECT(v_none_within(self->b.cq, 200));
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
		rg_fail("write of a 3-entry SGE list: %s",
			ibv_wc_status_str(wc.status));
	if (!v_check(self->b.buf, 600, 31))
		rg_fail_data(
			"a 3-entry SGE list of 600 bytes delivered %zu bytes",
			v_arrived(self->b.buf, 600, 31));
}

/* Inline data from a list of buffers through the WR API: their bytes
 * arrive, in order (rxe before rdma-core 64 sent zero bytes: it never
 * added up the list's lengths). */
RG_TEST_F(verbs, qp_ex_inline_list, rc_pair)
{
	struct ibv_qp *qp;
	struct ibv_qp_ex *qpx;
	struct ibv_data_buf list[2];

	qp = qp_ex(&self->dev, self->a.cq, IBV_QP_EX_WITH_RDMA_WRITE);
	qpx = ibv_qp_to_qp_ex(qp);
	ibv_destroy_qp(self->b.qp);
	self->b.qp = v_qp(&self->dev, IBV_QPT_RC, self->b.cq, NULL);
	v_connect(&self->dev, qp, self->b.qp, &V_CONN_DEFAULT);
	v_fill(self->a.buf, 24, 33);
	list[0] = (struct ibv_data_buf){ .addr = self->a.buf, .length = 10 };
	list[1] =
		(struct ibv_data_buf){ .addr = self->a.buf + 10, .length = 14 };
	ibv_wr_start(qpx);
	qpx->wr_id = 1;
	/* Inline data is still a send flag to some providers (rxe). */
	qpx->wr_flags = IBV_SEND_SIGNALED | IBV_SEND_INLINE;
	ibv_wr_rdma_write(qpx, self->b.mr->rkey, (uintptr_t)self->b.buf);
	ibv_wr_set_inline_data_list(qpx, 2, list);
	wr_done(qpx, self->a.cq, IBV_WC_RDMA_WRITE, 1,
		"an inline write of a 2-buffer list");
	if (!v_check(self->b.buf, 24, 33))
		rg_fail_data(
			"an inline list of 10 and 14 bytes delivered %zu bytes",
			v_arrived(self->b.buf, 24, 33));
}

/* RDMA atomic write: 8 bytes land in one piece at the responder. */
RG_TEST_F(verbs, atomic_write, rc_pair)
{
#ifdef HAVE_IBV_WR_ATOMIC_WRITE
	struct ibv_qp_ex *qpx;
	uint64_t value = 0x0123456789abcdefull, second = 0xfedcba9876543210ull;
	uint8_t *target = self->b.buf + 4096;

	need_cap_ex(&self->dev, V_CAP_ATOMIC_WRITE,
		    "IB_UVERBS_DEVICE_ATOMIC_WRITE");
	qpx = qp_ex_pair(self, IBV_QP_EX_WITH_ATOMIC_WRITE, 0, NULL);
	memset(target - 8, 0xee, 24);
	ibv_wr_start(qpx);
	qpx->wr_id = 1;
	qpx->wr_flags = IBV_SEND_SIGNALED;
	ibv_wr_atomic_write(qpx, self->b.mr->rkey, (uintptr_t)target, &value);
	wr_done(qpx, self->a.cq, IBV_WC_ATOMIC_WRITE, 1, "ibv_wr_atomic_write");
	RG_EXPECT_DATA(!memcmp(target, &value, 8));
	/* Only those 8 bytes. */
	RG_EXPECT_EQ(target[-1], 0xee);
	RG_EXPECT_EQ(target[8], 0xee);
	/* A second one replaces the first whole. */
	ibv_wr_start(qpx);
	qpx->wr_id = 2;
	qpx->wr_flags = IBV_SEND_SIGNALED;
	ibv_wr_atomic_write(qpx, self->b.mr->rkey, (uintptr_t)target, &second);
	wr_done(qpx, self->a.cq, IBV_WC_ATOMIC_WRITE, 2,
		"a second ibv_wr_atomic_write");
	RG_EXPECT_DATA(!memcmp(target, &second, 8));
#else
	rg_skip("stack lacks ibv_wr_atomic_write (rdma-core < 43)");
#endif
}

/* RDMA FLUSH (global visibility) of a range just written: it completes,
 * the data is there; a region registered without flush access refuses it. */
RG_TEST_F(verbs, flush, rc_pair)
{
#ifdef HAVE_IBV_WR_FLUSH
	struct ibv_qp_ex *qpx;
	struct ibv_mr *mr, *plain;
	uint8_t *target = v_buf(8192);
	struct ibv_wc wc;
	struct vconn conn = V_CONN_DEFAULT;

	need_cap_ex(&self->dev, V_CAP_FLUSH_GLOBAL,
		    "IB_UVERBS_DEVICE_FLUSH_GLOBAL");
	mr = ibv_reg_mr(self->dev.pd, target, 4096,
			V_MR_ACCESS | IBV_ACCESS_FLUSH_GLOBAL);
	if (!mr)
		rg_unsupported_or_fail(errno,
				       "ibv_reg_mr(IBV_ACCESS_FLUSH_GLOBAL)");
	plain = v_mr(&self->dev, target + 4096, 4096, V_MR_ACCESS);
	/* The responder's QP must allow flushes too, not only the region. */
	conn.access |= IBV_ACCESS_FLUSH_GLOBAL;
	qpx = qp_ex_pair_conn(self,
			      IBV_QP_EX_WITH_RDMA_WRITE | IBV_QP_EX_WITH_FLUSH,
			      0, NULL, &conn);
	v_fill(self->a.buf, 512, 47);
	ibv_wr_start(qpx);
	qpx->wr_id = 1;
	qpx->wr_flags = IBV_SEND_SIGNALED;
	ibv_wr_rdma_write(qpx, mr->rkey, (uintptr_t)target + 256);
	ibv_wr_set_sge(qpx, self->a.mr->lkey, (uintptr_t)self->a.buf, 512);
	wr_done(qpx, self->a.cq, IBV_WC_RDMA_WRITE, 1,
		"the write before the flush");
	ibv_wr_start(qpx);
	qpx->wr_id = 2;
	qpx->wr_flags = IBV_SEND_SIGNALED;
	ibv_wr_flush(qpx, mr->rkey, (uintptr_t)target + 256, 512,
		     IBV_FLUSH_GLOBAL, IBV_FLUSH_RANGE);
	/* type is the placement (enum ibv_placement_type), level the
	 * selectivity (enum ibv_selectivity_level), as in rdma-core's tests. */
	wr_done(qpx, self->a.cq, IBV_WC_FLUSH, 2, "ibv_wr_flush");
	RG_EXPECT_DATA(v_check(target + 256, 512, 47));
	/* Last: the refusal leaves the QP in error. */
	ibv_wr_start(qpx);
	qpx->wr_id = 3;
	qpx->wr_flags = IBV_SEND_SIGNALED;
	ibv_wr_flush(qpx, plain->rkey, (uintptr_t)target + 4096, 64,
		     IBV_FLUSH_GLOBAL, IBV_FLUSH_RANGE);
	RG_ASSERT_EQ(ibv_wr_complete(qpx), 0);
	v_wait(self->a.cq, &wc, "a flush of a region without flush access");
	RG_EXPECT_NE(wc.status, IBV_WC_SUCCESS);
	rg_observe("no_access_status", "flush without IBV_ACCESS_FLUSH_GLOBAL",
		   ibv_wc_status_str(wc.status));
#else
	rg_skip("stack lacks ibv_wr_flush (rdma-core < 45)");
#endif
}

/* Memory windows through the WR API: ibv_wr_bind_mw binds two type 2
 * windows; ibv_wr_send_inv invalidates the first from the far side,
 * ibv_wr_local_inv the second from the near side; each rkey opens its
 * window until invalidated, and nothing after. */
static uint32_t wr_bind(struct vpair *p, struct ibv_qp_ex *qb,
			struct ibv_mr *mr, struct ibv_mw **mwp, uint8_t *window,
			uint64_t wr_id)
{
	struct ibv_mw_bind_info info = { .mr = mr,
					 .addr = (uintptr_t)window,
					 .length = 4096,
					 .mw_access_flags =
						 IBV_ACCESS_REMOTE_WRITE };
	struct ibv_mw *mw = ibv_alloc_mw(p->dev.pd, IBV_MW_TYPE_2);
	uint32_t rkey;

	if (!mw)
		rg_unsupported_or_fail(errno, "ibv_alloc_mw(type 2)");
	rkey = ibv_inc_rkey(mw->rkey);
	ibv_wr_start(qb);
	qb->wr_id = wr_id;
	qb->wr_flags = IBV_SEND_SIGNALED;
	ibv_wr_bind_mw(qb, mw, rkey, &info);
	wr_done(qb, p->b.cq, IBV_WC_BIND_MW, wr_id, "ibv_wr_bind_mw");
	*mwp = mw;
	return rkey;
}

/* A 64-byte write of seed through rkey; its completion's status. */
static enum ibv_wc_status wr_write(struct vpair *p, struct ibv_qp_ex *qa,
				   uint32_t rkey, uint8_t *window, uint8_t seed,
				   uint64_t wr_id)
{
	struct ibv_wc wc;

	v_fill(p->a.buf, 64, seed);
	ibv_wr_start(qa);
	qa->wr_id = wr_id;
	qa->wr_flags = IBV_SEND_SIGNALED;
	ibv_wr_rdma_write(qa, rkey, (uintptr_t)window);
	ibv_wr_set_sge(qa, p->a.mr->lkey, (uintptr_t)p->a.buf, 64);
	RG_ASSERT_EQ(ibv_wr_complete(qa), 0);
	v_wait(p->a.cq, &wc, "a write through a window");
	RG_EXPECT_EQ(wc.wr_id, wr_id);
	return wc.status;
}

RG_TEST_F(verbs, qp_ex_mw, rc_pair)
{
	struct ibv_qp_ex *qa, *qb;
	struct ibv_mr *mr;
	struct ibv_mw *first, *second;
	struct ibv_wc wc;
	uint32_t rkey1, rkey2;
	uint8_t *w1 = self->b.buf + 8192, *w2 = self->b.buf + 16384;
	enum ibv_wc_status st;

	mr = ibv_reg_mr(self->dev.pd, self->b.buf, V_BUF_SIZE,
			V_MR_ACCESS | IBV_ACCESS_MW_BIND);
	if (!mr)
		rg_unsupported_or_fail(errno, "ibv_reg_mr(IBV_ACCESS_MW_BIND)");
	qa = qp_ex_pair(
		self, IBV_QP_EX_WITH_RDMA_WRITE | IBV_QP_EX_WITH_SEND_WITH_INV,
		IBV_QP_EX_WITH_BIND_MW | IBV_QP_EX_WITH_LOCAL_INV, &qb);
	rkey1 = wr_bind(self, qb, mr, &first, w1, 1);
	rkey2 = wr_bind(self, qb, mr, &second, w2, 2);
	RG_ASSERT_EQ(wr_write(self, qa, rkey1, w1, 5, 3), IBV_WC_SUCCESS);
	RG_ASSERT_DATA(v_check(w1, 64, 5));
	RG_ASSERT_EQ(wr_write(self, qa, rkey2, w2, 6, 4), IBV_WC_SUCCESS);
	RG_ASSERT_DATA(v_check(w2, 64, 6));

	/* The first invalidated by the sender's ibv_wr_send_inv (the key's
	 * death after it, and the receive's flags, are mw_remote_invalidate's
	 * to check: one refused write ends a QP). */
	v_post_recv(self->b.qp, 5, self->b.buf, 64, self->b.mr->lkey);
	v_fill(self->a.buf + 64, 16, 7);
	ibv_wr_start(qa);
	qa->wr_id = 6;
	qa->wr_flags = IBV_SEND_SIGNALED;
	ibv_wr_send_inv(qa, rkey1);
	ibv_wr_set_sge(qa, self->a.mr->lkey, (uintptr_t)self->a.buf + 64, 16);
	wr_done(qa, self->a.cq, IBV_WC_SEND, 6, "ibv_wr_send_inv");
	v_wait(self->b.cq, &wc, "the receive that invalidates");
	v_expect_wc(&wc, IBV_WC_RECV, 5);
	RG_EXPECT_EQ(wc.invalidated_rkey, rkey1);
	RG_EXPECT_DATA(v_check(self->b.buf, 16, 7));

	/* The second invalidated locally; still open until then. */
	RG_ASSERT_EQ(wr_write(self, qa, rkey2, w2, 8, 7), IBV_WC_SUCCESS);
	RG_ASSERT_DATA(v_check(w2, 64, 8));
	ibv_wr_start(qb);
	qb->wr_id = 8;
	qb->wr_flags = IBV_SEND_SIGNALED;
	ibv_wr_local_inv(qb, rkey2);
	wr_done(qb, self->b.cq, IBV_WC_LOCAL_INV, 8, "ibv_wr_local_inv");

	/* Last, since the refusal leaves a's QP in error: the invalidated
	 * key opens nothing, and the window keeps its bytes. */
	st = wr_write(self, qa, rkey2, w2, 9, 9);
	RG_EXPECT_NE(st, IBV_WC_SUCCESS);
	RG_EXPECT_DATA(v_check(w2, 64, 8));
	rg_observe("write_status", "write after ibv_wr_local_inv",
		   ibv_wc_status_str(st));
	(void)first;
	(void)second;
}

/* UD through the WR API: ibv_wr_set_ud_addr names the peer of each send. */
RG_TEST_F(verbs, qp_ex_ud, ud_pair)
{
	struct ibv_qp *qp;
	struct ibv_qp_ex *qpx;
	struct ibv_ah_attr attr;
	struct ibv_ah *ah;
	struct ibv_wc wc;
	int i;

	qp = qp_ex_type(&self->dev, IBV_QPT_UD, self->a.cq,
			IBV_QP_EX_WITH_SEND | IBV_QP_EX_WITH_SEND_WITH_IMM);
	qpx = ibv_qp_to_qp_ex(qp);
	v_ud_ready(&self->dev, qp);
	v_ah_attr(&self->dev, &attr);
	ah = ibv_create_ah(self->dev.pd, &attr);
	RG_ASSERT_NOT_NULL(ah);
	for (i = 0; i < 2; i++)
		v_post_recv(self->b.qp, 20 + (uint64_t)i,
			    self->b.buf + 4096 * i, 40 + 300, self->b.mr->lkey);
	v_fill(self->a.buf, 300, 51);
	v_fill(self->a.buf + 4096, 100, 52);
	ibv_wr_start(qpx);
	qpx->wr_id = 1;
	qpx->wr_flags = IBV_SEND_SIGNALED;
	ibv_wr_send(qpx);
	ibv_wr_set_ud_addr(qpx, ah, self->b.qp->qp_num, V_QKEY);
	ibv_wr_set_sge(qpx, self->a.mr->lkey, (uintptr_t)self->a.buf, 300);
	qpx->wr_id = 2;
	ibv_wr_send_imm(qpx, htobe32(0xabcd));
	ibv_wr_set_ud_addr(qpx, ah, self->b.qp->qp_num, V_QKEY);
	ibv_wr_set_sge(qpx, self->a.mr->lkey, (uintptr_t)self->a.buf + 4096,
		       100);
	RG_ASSERT_EQ(ibv_wr_complete(qpx), 0);
	for (i = 0; i < 2; i++) {
		v_wait(self->a.cq, &wc, "a UD send through ibv_wr_*");
		v_expect_wc(&wc, IBV_WC_SEND, 1 + (uint64_t)i);
	}
	v_wait(self->b.cq, &wc, "the first datagram");
	v_expect_wc(&wc, IBV_WC_RECV, 20);
	RG_EXPECT_EQ(wc.byte_len, 40 + 300);
	RG_EXPECT_EQ(wc.src_qp, qp->qp_num);
	RG_EXPECT_DATA(v_check(self->b.buf + 40, 300, 51));
	v_wait(self->b.cq, &wc, "the second datagram");
	v_expect_wc(&wc, IBV_WC_RECV, 21);
	RG_EXPECT_EQ(wc.byte_len, 40 + 100);
	RG_EXPECT(wc.wc_flags & IBV_WC_WITH_IMM);
	RG_EXPECT_EQ(be32toh(wc.imm_data), 0xabcd);
	RG_EXPECT_DATA(v_check(self->b.buf + 4096 + 40, 100, 52));
	RG_EXPECT_EQ(ibv_destroy_ah(ah), 0);
}
