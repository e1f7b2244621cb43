// SPDX-License-Identifier: MIT
/* Queue pairs: each type, the state machine with its valid and invalid
 * transitions, query_qp, and the extended QP (ibv_qp_ex, ibv_wr_*). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "verbs_common.h"
#include "verbs_tests.h"

static enum ibv_qp_state state_of(struct ibv_qp *qp)
{
	struct ibv_qp_attr attr;
	struct ibv_qp_init_attr init;

	if (ibv_query_qp(qp, &attr, IBV_QP_STATE, &init))
		rg_fail("ibv_query_qp: %s", strerror(errno));
	return attr.qp_state;
}

static void create_case(enum ibv_qp_type type)
{
	struct vdev dev;
	struct ibv_cq *cq;
	struct ibv_qp *qp;
	struct ibv_qp_attr attr;
	struct ibv_qp_init_attr init;

	v_open(&dev);
	cq = v_cq(&dev, 64);
	qp = v_qp(&dev, type, cq, NULL);
	CU_ASSERT_EQUAL(qp->qp_type, type);
	CU_ASSERT_EQUAL(qp->state, IBV_QPS_RESET);
	CU_ASSERT_NOT_EQUAL(qp->qp_num, 0);
	CU_ASSERT_EQUAL_FATAL(ibv_query_qp(qp, &attr, IBV_QP_STATE | IBV_QP_CAP, &init), 0);
	CU_ASSERT_EQUAL(attr.qp_state, IBV_QPS_RESET);
	CU_ASSERT(init.cap.max_send_wr >= 16 && init.cap.max_recv_wr >= 16);
	CU_ASSERT(init.cap.max_send_sge >= 4 && init.cap.max_recv_sge >= 4);
	CU_ASSERT_PTR_EQUAL(init.send_cq, cq);
	CU_ASSERT_EQUAL(ibv_destroy_qp(qp), 0);
	CU_ASSERT_EQUAL(ibv_destroy_cq(cq), 0);
}

void test_create_qp_rc(void)
{
	create_case(IBV_QPT_RC);
}

void test_create_qp_uc(void)
{
	create_case(IBV_QPT_UC);
}

void test_create_qp_ud(void)
{
	create_case(IBV_QPT_UD);
}

/* RESET -> INIT -> RTR -> RTS -> SQD -> RTS -> ERR -> RESET, each checked
 * with query_qp, with the attributes given on the way read back. */
void test_qp_state_machine(void)
{
	struct vdev dev;
	struct ibv_cq *cq;
	struct ibv_qp *a, *b;
	struct ibv_qp_attr attr = { 0 };
	struct ibv_qp_init_attr init;
	struct vconn conn = V_CONN_DEFAULT;
	int ret;

	v_open(&dev);
	cq = v_cq(&dev, 64);
	a = v_qp(&dev, IBV_QPT_RC, cq, NULL);
	b = v_qp(&dev, IBV_QPT_RC, cq, NULL);
	CU_ASSERT_EQUAL_FATAL(v_qp_init(&dev, a, IBV_ACCESS_REMOTE_READ), 0);
	CU_ASSERT_EQUAL(state_of(a), IBV_QPS_INIT);
	CU_ASSERT_EQUAL_FATAL(v_qp_rtr(&dev, a, b->qp_num), 0);
	CU_ASSERT_EQUAL(state_of(a), IBV_QPS_RTR);
	conn.timeout = 12;
	conn.retry_cnt = 5;
	CU_ASSERT_EQUAL_FATAL(v_qp_rts(a, &conn), 0);
	CU_ASSERT_EQUAL_FATAL(ibv_query_qp(a, &attr, IBV_QP_STATE | IBV_QP_DEST_QPN |
				      IBV_QP_ACCESS_FLAGS | IBV_QP_PATH_MTU |
				      IBV_QP_RETRY_CNT | IBV_QP_TIMEOUT, &init), 0);
	CU_ASSERT_EQUAL(attr.qp_state, IBV_QPS_RTS);
	CU_ASSERT_EQUAL(attr.dest_qp_num, b->qp_num);
	CU_ASSERT_EQUAL(attr.path_mtu, dev.port.active_mtu);
	CU_ASSERT_EQUAL(attr.retry_cnt, 5);
	CU_ASSERT_EQUAL(attr.timeout, 12);
	CU_ASSERT(attr.qp_access_flags & IBV_ACCESS_REMOTE_READ);
	attr.qp_state = IBV_QPS_SQD;
	attr.en_sqd_async_notify = 0;
	ret = ibv_modify_qp(a, &attr, IBV_QP_STATE);
	rg_observe_errno("RTS->SQD", ret);
	if (!ret) {
		struct ibv_qp_attr now;
		int tries;

		CU_ASSERT(state_of(a) == IBV_QPS_SQD);
		/* Back to RTS is allowed once drained: wait for sq_draining to
		 * clear, so the answer does not depend on timing. */
		for (tries = 0; tries < 2000; tries++) {
			if (ibv_query_qp(a, &now, IBV_QP_STATE, &init) || !now.sq_draining)
				break;
			usleep(1000);
		}
		attr.qp_state = IBV_QPS_RTS;
		ret = ibv_modify_qp(a, &attr, IBV_QP_STATE);
		rg_observe_errno("SQD->RTS", ret);
		CU_ASSERT_EQUAL(state_of(a), ret ? IBV_QPS_SQD : IBV_QPS_RTS);
	}
	attr.qp_state = IBV_QPS_ERR;
	CU_ASSERT_EQUAL_FATAL(ibv_modify_qp(a, &attr, IBV_QP_STATE), 0);
	CU_ASSERT_EQUAL(state_of(a), IBV_QPS_ERR);
	attr.qp_state = IBV_QPS_RESET;
	CU_ASSERT_EQUAL_FATAL(ibv_modify_qp(a, &attr, IBV_QP_STATE), 0);
	CU_ASSERT_EQUAL(state_of(a), IBV_QPS_RESET);
	/* And from RESET it can be brought up again. */
	CU_ASSERT_EQUAL(v_qp_init(&dev, a, 0), 0);
	CU_ASSERT_EQUAL(state_of(a), IBV_QPS_INIT);
}

void test_qp_invalid_transition(void)
{
	struct vdev dev;
	struct ibv_cq *cq;
	struct ibv_qp *qp;
	struct ibv_qp_attr attr = { .qp_state = IBV_QPS_RTS };
	int ret;

	v_open(&dev);
	cq = v_cq(&dev, 16);
	qp = v_qp(&dev, IBV_QPT_RC, cq, NULL);
	/* RESET -> RTS skips INIT and RTR: the verbs state table forbids it. */
	ret = ibv_modify_qp(qp, &attr, IBV_QP_STATE);
	CU_ASSERT_NOT_EQUAL(ret, 0);
	rg_observe_errno("RESET->RTS", ret);
	CU_ASSERT_EQUAL(state_of(qp), IBV_QPS_RESET);
	/* RESET -> RTR likewise. */
	CU_ASSERT_EQUAL_FATAL(ibv_modify_qp(qp, &(struct ibv_qp_attr){ .qp_state = IBV_QPS_RTR },
					    IBV_QP_STATE) != 0, 1);
	CU_ASSERT_EQUAL(state_of(qp), IBV_QPS_RESET);
}

void test_qp_wrong_attr_mask(void)
{
	struct vdev dev;
	struct ibv_cq *cq;
	struct ibv_qp *qp;
	struct ibv_qp_attr attr = { .qp_state = IBV_QPS_INIT, .port_num = V_PORT };
	int ret;

	v_open(&dev);
	cq = v_cq(&dev, 16);
	qp = v_qp(&dev, IBV_QPT_RC, cq, NULL);
	/* RESET -> INIT of an RC QP requires the port, P_Key index and access
	 * flags: without IBV_QP_ACCESS_FLAGS and IBV_QP_PKEY_INDEX it is invalid. */
	ret = ibv_modify_qp(qp, &attr, IBV_QP_STATE | IBV_QP_PORT);
	CU_ASSERT_NOT_EQUAL(ret, 0);
	rg_observe_errno("INIT without access flags", ret);
	CU_ASSERT_EQUAL(state_of(qp), IBV_QPS_RESET);
	/* A mask naming an attribute that INIT cannot take (path MTU). */
	attr.path_mtu = IBV_MTU_1024;
	attr.qp_access_flags = 0;
	ret = ibv_modify_qp(qp, &attr, IBV_QP_STATE | IBV_QP_PORT | IBV_QP_PKEY_INDEX |
				       IBV_QP_ACCESS_FLAGS | IBV_QP_PATH_MTU);
	CU_ASSERT_NOT_EQUAL(ret, 0);
	rg_observe_errno("INIT with path MTU", ret);
	CU_ASSERT_EQUAL(state_of(qp), IBV_QPS_RESET);
}

void test_qp_ece(void)
{
	struct vdev dev;
	struct vpair p;
	struct ibv_ece ece = { 0 };
	int ret;

	v_open(&dev);
	v_pair(&dev, &p, IBV_QPT_RC, &V_CONN_DEFAULT);
	ret = ibv_query_ece(p.a.qp, &ece);
	if (ret == EOPNOTSUPP || ret == ENOSYS) {
		/* Setting must be refused alike where querying is. */
		CU_ASSERT_NOT_EQUAL(ibv_set_ece(p.a.qp, &ece), 0);
		rg_unsupported("ibv_query_ece: %s", strerror(ret));
	}
	CU_ASSERT_EQUAL_FATAL(ret, 0);
	CU_ASSERT_EQUAL(ibv_set_ece(p.a.qp, &ece), 0);
}

void test_qp_data_in_order(void)
{
#ifdef HAVE_IBV_QUERY_QP_DATA_IN_ORDER
	struct vdev dev;
	struct vpair p;
	int flags;

	v_open(&dev);
	v_pair(&dev, &p, IBV_QPT_RC, &V_CONN_DEFAULT);
	flags = ibv_query_qp_data_in_order(p.a.qp, IBV_WR_RDMA_WRITE, 0);
	CU_ASSERT(flags >= 0);
	rg_observe("data_in_order(RDMA WRITE)", flags ? "in order" : "not guaranteed");
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

	if (!qp && (errno == EOPNOTSUPP || errno == ENOSYS || errno == EINVAL))
		rg_unsupported("ibv_create_qp_ex(send_ops_flags 0x%llx): %s",
			       (unsigned long long)ops, strerror(errno));
	if (!qp)
		rg_fail("ibv_create_qp_ex: %s", strerror(errno));
	return qp;
}

void test_qp_ex_wr_api(void)
{
	struct vdev dev;
	struct vpair p;
	struct ibv_qp *qp;
	struct ibv_qp_ex *qpx;
	struct ibv_wc wc;
	uint64_t *atomic_target, old;
	const uint64_t ops = IBV_QP_EX_WITH_RDMA_WRITE | IBV_QP_EX_WITH_SEND |
			     IBV_QP_EX_WITH_SEND_WITH_IMM | IBV_QP_EX_WITH_RDMA_READ |
			     IBV_QP_EX_WITH_ATOMIC_FETCH_AND_ADD |
			     IBV_QP_EX_WITH_ATOMIC_CMP_AND_SWP |
			     IBV_QP_EX_WITH_RDMA_WRITE_WITH_IMM;

	v_open(&dev);
	v_pair(&dev, &p, IBV_QPT_RC, &V_CONN_DEFAULT);
	qp = qp_ex(&dev, p.a.cq, ops);
	qpx = ibv_qp_to_qp_ex(qp);
	CU_ASSERT_PTR_NOT_NULL_FATAL(qpx);
	ibv_destroy_qp(p.b.qp);
	p.b.qp = v_qp(&dev, IBV_QPT_RC, p.b.cq, NULL);
	v_connect(&dev, qp, p.b.qp, &V_CONN_DEFAULT);

	/* A WRITE and a SEND with immediate, in one batch. */
	v_fill(p.a.buf, 300, 1);
	v_post_recv(p.b.qp, 50, p.b.buf + 8192, 64, p.b.mr->lkey);
	ibv_wr_start(qpx);
	qpx->wr_id = 1;
	qpx->wr_flags = IBV_SEND_SIGNALED;
	ibv_wr_rdma_write(qpx, p.b.mr->rkey, (uintptr_t)p.b.buf);
	ibv_wr_set_sge(qpx, p.a.mr->lkey, (uintptr_t)p.a.buf, 300);
	qpx->wr_id = 2;
	/* Inline data is still a send flag to some providers (rxe). */
	qpx->wr_flags = IBV_SEND_SIGNALED | IBV_SEND_INLINE;
	ibv_wr_send_imm(qpx, htobe32(42));
	ibv_wr_set_inline_data(qpx, "hello", 5);
	qpx->wr_flags = IBV_SEND_SIGNALED;
	CU_ASSERT_EQUAL_FATAL(ibv_wr_complete(qpx), 0);
	v_wait(p.a.cq, &wc, "ibv_wr_rdma_write");
	v_expect_wc(&wc, IBV_WC_RDMA_WRITE, 1);
	v_wait(p.a.cq, &wc, "ibv_wr_send_imm");
	v_expect_wc(&wc, IBV_WC_SEND, 2);
	v_wait(p.b.cq, &wc, "the immediate's receive");
	v_expect_wc(&wc, IBV_WC_RECV, 50);
	CU_ASSERT_EQUAL(be32toh(wc.imm_data), 42);
	CU_ASSERT_EQUAL(wc.byte_len, 5);
	CU_ASSERT(v_check(p.b.buf, 300, 1));
	CU_ASSERT_EQUAL(memcmp(p.b.buf + 8192, "hello", 5), 0);

	/* READ it back, then the two atomics. */
	ibv_wr_start(qpx);
	qpx->wr_id = 3;
	ibv_wr_rdma_read(qpx, p.b.mr->rkey, (uintptr_t)p.b.buf);
	ibv_wr_set_sge(qpx, p.a.mr->lkey, (uintptr_t)p.a.buf + 4096, 300);
	CU_ASSERT_EQUAL_FATAL(ibv_wr_complete(qpx), 0);
	v_wait(p.a.cq, &wc, "ibv_wr_rdma_read");
	v_expect_wc(&wc, IBV_WC_RDMA_READ, 3);
	CU_ASSERT(v_check(p.a.buf + 4096, 300, 1));

	atomic_target = (uint64_t *)(p.b.buf + 16384);
	*atomic_target = 1000;
	ibv_wr_start(qpx);
	qpx->wr_id = 4;
	ibv_wr_atomic_fetch_add(qpx, p.b.mr->rkey, (uintptr_t)atomic_target, 5);
	ibv_wr_set_sge(qpx, p.a.mr->lkey, (uintptr_t)p.a.buf + 8192, 8);
	qpx->wr_id = 5;
	ibv_wr_atomic_cmp_swp(qpx, p.b.mr->rkey, (uintptr_t)atomic_target, 1005, 7);
	ibv_wr_set_sge(qpx, p.a.mr->lkey, (uintptr_t)p.a.buf + 8200, 8);
	CU_ASSERT_EQUAL_FATAL(ibv_wr_complete(qpx), 0);
	v_wait(p.a.cq, &wc, "ibv_wr_atomic_fetch_add");
	v_expect_wc(&wc, IBV_WC_FETCH_ADD, 4);
	v_wait(p.a.cq, &wc, "ibv_wr_atomic_cmp_swp");
	v_expect_wc(&wc, IBV_WC_COMP_SWAP, 5);
	memcpy(&old, p.a.buf + 8192, 8);
	CU_ASSERT_EQUAL(old, 1000);
	memcpy(&old, p.a.buf + 8200, 8);
	CU_ASSERT_EQUAL(old, 1005);
	CU_ASSERT_EQUAL(*atomic_target, 7);

	/* WRITE with immediate consumes a receive. */
	v_post_recv(p.b.qp, 51, p.b.buf + 8192, 64, p.b.mr->lkey);
	ibv_wr_start(qpx);
	qpx->wr_id = 6;
	ibv_wr_rdma_write_imm(qpx, p.b.mr->rkey, (uintptr_t)p.b.buf + 100, htobe32(7));
	ibv_wr_set_sge(qpx, p.a.mr->lkey, (uintptr_t)p.a.buf, 16);
	CU_ASSERT_EQUAL_FATAL(ibv_wr_complete(qpx), 0);
	v_wait(p.a.cq, &wc, "ibv_wr_rdma_write_imm");
	v_expect_wc(&wc, IBV_WC_RDMA_WRITE, 6);
	v_wait(p.b.cq, &wc, "the write-with-immediate's receive");
	v_expect_wc(&wc, IBV_WC_RECV_RDMA_WITH_IMM, 51);
	CU_ASSERT_EQUAL(be32toh(wc.imm_data), 7);

	/* An aborted batch posts nothing. */
	ibv_wr_start(qpx);
	qpx->wr_id = 8;
	ibv_wr_send(qpx);
	ibv_wr_set_sge(qpx, p.a.mr->lkey, (uintptr_t)p.a.buf, 8);
	ibv_wr_abort(qpx);
	CU_ASSERT(v_none_within(p.a.cq, 200));
}

/* A gather list through the WR API: every SGE's bytes arrive, in order. */
void test_qp_ex_sge_list(void)
{
	struct vdev dev;
	struct vpair p;
	struct ibv_qp *qp;
	struct ibv_qp_ex *qpx;
	struct ibv_sge list[3];
	struct ibv_wc wc;

	v_open(&dev);
	v_pair(&dev, &p, IBV_QPT_RC, &V_CONN_DEFAULT);
	qp = qp_ex(&dev, p.a.cq, IBV_QP_EX_WITH_RDMA_WRITE);
	qpx = ibv_qp_to_qp_ex(qp);
	ibv_destroy_qp(p.b.qp);
	p.b.qp = v_qp(&dev, IBV_QPT_RC, p.b.cq, NULL);
	v_connect(&dev, qp, p.b.qp, &V_CONN_DEFAULT);
	v_fill(p.a.buf, 600, 31);
	/* Distinct lengths, so a provider that sums one of them is caught. */
	v_sge(&list[0], p.a.buf, 100, p.a.mr->lkey);
	v_sge(&list[1], p.a.buf + 100, 200, p.a.mr->lkey);
	v_sge(&list[2], p.a.buf + 300, 300, p.a.mr->lkey);
	ibv_wr_start(qpx);
	qpx->wr_id = 1;
	qpx->wr_flags = IBV_SEND_SIGNALED;
	ibv_wr_rdma_write(qpx, p.b.mr->rkey, (uintptr_t)p.b.buf);
	ibv_wr_set_sge_list(qpx, 3, list);
	CU_ASSERT_EQUAL_FATAL(ibv_wr_complete(qpx), 0);
	v_wait(p.a.cq, &wc, "write of a 3-entry SGE list");
	if (wc.status != IBV_WC_SUCCESS)
		rg_fail("write of a 3-entry SGE list: %s", ibv_wc_status_str(wc.status));
	if (!v_check(p.b.buf, 600, 31)) {
		size_t good = 0;

		while (good < 600 && p.b.buf[good] == (uint8_t)(31 + good * 7))
			good++;
		rg_fail("a 3-entry SGE list of 600 bytes delivered %zu bytes", good);
	}
}
