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
#include "verbs_tests.h"

/* Post one signaled work request and return its completion's status. */
static enum ibv_wc_status complete(struct vpair *p, enum ibv_wr_opcode opcode,
				   uint32_t lkey, uint64_t remote_addr, uint32_t rkey,
				   uint32_t len)
{
	struct ibv_sge sge;
	struct ibv_send_wr wr = { .wr_id = 99, .sg_list = &sge, .num_sge = 1,
				  .opcode = opcode, .send_flags = IBV_SEND_SIGNALED };
	struct ibv_wc wc;

	v_sge(&sge, p->a.buf, len, lkey);
	wr.wr.rdma.remote_addr = remote_addr;
	wr.wr.rdma.rkey = rkey;
	v_post_send(p->a.qp, &wr);
	v_wait(p->a.cq, &wc, "the bad work request");
	CU_ASSERT_EQUAL(wc.wr_id, 99);
	return wc.status;
}

static void expect_error_completion(const char *what, enum ibv_wc_status status)
{
	CU_ASSERT_NOT_EQUAL(status, IBV_WC_SUCCESS);
	rg_observe(what, ibv_wc_status_str(status));
}

void test_bad_lkey(void)
{
	struct vdev dev;
	struct vpair p;

	v_open(&dev);
	v_pair(&dev, &p, IBV_QPT_RC, &V_CONN_DEFAULT);
	v_post_recv(p.b.qp, 1, p.b.buf, 4096, p.b.mr->lkey);
	expect_error_completion("send with a bad lkey",
				complete(&p, IBV_WR_SEND, p.a.mr->lkey ^ 0x5a5a00, 0, 0, 64));
}

void test_bad_rkey(void)
{
	struct vdev dev;
	struct vpair p;

	v_open(&dev);
	v_pair(&dev, &p, IBV_QPT_RC, &V_CONN_DEFAULT);
	expect_error_completion("write with a bad rkey",
				complete(&p, IBV_WR_RDMA_WRITE, p.a.mr->lkey,
					 (uintptr_t)p.b.buf, p.b.mr->rkey ^ 0x5a5a00, 64));
	CU_ASSERT_EQUAL(p.b.buf[0], 0);
}

void test_write_out_of_bounds(void)
{
	struct vdev dev;
	struct vpair p;

	v_open(&dev);
	v_pair(&dev, &p, IBV_QPT_RC, &V_CONN_DEFAULT);
	v_fill(p.a.buf, 100, 1);
	expect_error_completion("write past the region's end",
				complete(&p, IBV_WR_RDMA_WRITE, p.a.mr->lkey,
					 (uintptr_t)p.b.buf + V_BUF_SIZE - 10, p.b.mr->rkey,
					 100));
}

void test_read_out_of_bounds(void)
{
	struct vdev dev;
	struct vpair p;

	v_open(&dev);
	v_pair(&dev, &p, IBV_QPT_RC, &V_CONN_DEFAULT);
	expect_error_completion("read before the region's start",
				complete(&p, IBV_WR_RDMA_READ, p.a.mr->lkey,
					 (uintptr_t)p.b.buf - 64, p.b.mr->rkey, 100));
}

/* A region registered for local access only refuses a remote write. */
void test_write_without_remote_access(void)
{
	struct vdev dev;
	struct vpair p;
	uint8_t *local = v_buf(4096);
	struct ibv_mr *mr;

	v_open(&dev);
	v_pair(&dev, &p, IBV_QPT_RC, &V_CONN_DEFAULT);
	memset(local, 0, 4096);
	mr = v_mr(&dev, local, 4096, IBV_ACCESS_LOCAL_WRITE);
	expect_error_completion("write to a local-only region",
				complete(&p, IBV_WR_RDMA_WRITE, p.a.mr->lkey,
					 (uintptr_t)local, mr->rkey, 64));
	CU_ASSERT_EQUAL(local[0], 0);
}

void test_recv_too_small(void)
{
	struct vdev dev;
	struct vpair p;
	struct ibv_wc wc;

	v_open(&dev);
	v_pair(&dev, &p, IBV_QPT_RC, &V_CONN_DEFAULT);
	v_post_recv(p.b.qp, 1, p.b.buf, 100, p.b.mr->lkey);
	expect_error_completion("sender of 200 bytes into 100",
				complete(&p, IBV_WR_SEND, p.a.mr->lkey, 0, 0, 200));
	v_wait(p.b.cq, &wc, "the receiver's error");
	CU_ASSERT_NOT_EQUAL(wc.status, IBV_WC_SUCCESS);
	rg_observe("receiver", ibv_wc_status_str(wc.status));
}

void test_rnr_retry_exceeded(void)
{
	struct vdev dev;
	struct vpair p;
	struct vconn conn = V_CONN_DEFAULT;

	conn.rnr_retry = 0; /* no receive posted, no retry: fail at once */
	v_open(&dev);
	v_pair(&dev, &p, IBV_QPT_RC, &conn);
	expect_error_completion("send with no receive posted",
				complete(&p, IBV_WR_SEND, p.a.mr->lkey, 0, 0, 32));
}

void test_too_many_sge(void)
{
	struct vdev dev;
	struct vpair p;
	struct ibv_qp_attr attr;
	struct ibv_qp_init_attr init;
	struct ibv_sge *sges;
	struct ibv_send_wr wr = { .wr_id = 1, .opcode = IBV_WR_SEND,
				  .send_flags = IBV_SEND_SIGNALED }, *bad = NULL;
	uint32_t i, n;
	int ret;

	v_open(&dev);
	v_pair(&dev, &p, IBV_QPT_RC, &V_CONN_DEFAULT);
	CU_ASSERT_EQUAL_FATAL(ibv_query_qp(p.a.qp, &attr, IBV_QP_CAP, &init), 0);
	n = init.cap.max_send_sge + 1;
	sges = v_buf(n * sizeof(*sges));
	for (i = 0; i < n; i++)
		v_sge(&sges[i], p.a.buf + 16 * i, 16, p.a.mr->lkey);
	wr.sg_list = sges;
	wr.num_sge = (int)n;
	ret = ibv_post_send(p.a.qp, &wr, &bad);
	CU_ASSERT_NOT_EQUAL(ret, 0);
	CU_ASSERT_PTR_EQUAL(bad, &wr);
	rg_observe_errno("post_send", ret);
}

/* Work requests posted in one call beyond the queue's depth: the first
 * that does not fit is refused and named in bad_wr. */
void test_send_queue_overflow(void)
{
	struct vdev dev;
	struct vpair p;
	struct ibv_qp_attr attr;
	struct ibv_qp_init_attr init;
	struct ibv_send_wr *wrs, *bad = NULL;
	struct ibv_sge sge;
	uint32_t i, n;
	int ret;

	v_open(&dev);
	v_pair(&dev, &p, IBV_QPT_RC, &V_CONN_DEFAULT);
	CU_ASSERT_EQUAL_FATAL(ibv_query_qp(p.a.qp, &attr, IBV_QP_CAP, &init), 0);
	n = init.cap.max_send_wr + 1;
	wrs = v_buf(n * sizeof(*wrs));
	v_sge(&sge, p.a.buf, 8, p.a.mr->lkey);
	for (i = 0; i < n; i++) {
		wrs[i].wr_id = i;
		wrs[i].sg_list = &sge;
		wrs[i].num_sge = 1;
		wrs[i].opcode = IBV_WR_RDMA_WRITE;
		wrs[i].wr.rdma.remote_addr = (uintptr_t)p.b.buf;
		wrs[i].wr.rdma.rkey = p.b.mr->rkey;
		wrs[i].next = i + 1 < n ? &wrs[i + 1] : NULL;
	}
	ret = ibv_post_send(p.a.qp, wrs, &bad);
	CU_ASSERT_NOT_EQUAL(ret, 0);
	/* Everything before the refused one was posted. */
	CU_ASSERT_PTR_EQUAL(bad, &wrs[n - 1]);
	rg_observe_errno("post_send", ret);
}

void test_recv_queue_overflow(void)
{
	struct vdev dev;
	struct vpair p;
	struct ibv_qp_attr attr;
	struct ibv_qp_init_attr init;
	struct ibv_recv_wr *wrs, *bad = NULL;
	struct ibv_sge sge;
	uint32_t i, n;
	int ret;

	v_open(&dev);
	v_pair(&dev, &p, IBV_QPT_RC, &V_CONN_DEFAULT);
	CU_ASSERT_EQUAL_FATAL(ibv_query_qp(p.b.qp, &attr, IBV_QP_CAP, &init), 0);
	n = init.cap.max_recv_wr + 1;
	wrs = v_buf(n * sizeof(*wrs));
	v_sge(&sge, p.b.buf, 64, p.b.mr->lkey);
	for (i = 0; i < n; i++) {
		wrs[i].wr_id = i;
		wrs[i].sg_list = &sge;
		wrs[i].num_sge = 1;
		wrs[i].next = i + 1 < n ? &wrs[i + 1] : NULL;
	}
	ret = ibv_post_recv(p.b.qp, wrs, &bad);
	CU_ASSERT_NOT_EQUAL(ret, 0);
	CU_ASSERT_PTR_EQUAL(bad, &wrs[n - 1]);
	rg_observe_errno("post_recv", ret);
}

void test_post_send_in_reset(void)
{
	struct vdev dev;
	struct ibv_cq *cq;
	struct ibv_qp *qp;
	uint8_t buf[64];
	struct ibv_mr *mr;
	struct ibv_sge sge;
	struct ibv_send_wr wr = { .wr_id = 1, .sg_list = &sge, .num_sge = 1,
				  .opcode = IBV_WR_SEND, .send_flags = IBV_SEND_SIGNALED },
			   *bad = NULL;
	int ret;

	v_open(&dev);
	cq = v_cq(&dev, 16);
	qp = v_qp(&dev, IBV_QPT_RC, cq, NULL);
	mr = v_mr(&dev, buf, sizeof(buf), IBV_ACCESS_LOCAL_WRITE);
	v_sge(&sge, buf, sizeof(buf), mr->lkey);
	ret = ibv_post_send(qp, &wr, &bad);
	/* Refused at once, or accepted and never executed: the spec allows
	 * the first; a device that does the second is recorded so. */
	rg_observe_errno("post_send in RESET", ret);
	if (!ret)
		CU_ASSERT(v_none_within(cq, 200));
}

void test_dealloc_pd_in_use(void)
{
	struct vdev dev;
	uint8_t *buf = v_buf(4096);
	struct ibv_mr *mr;
	int ret;

	v_open(&dev);
	mr = v_mr(&dev, buf, 4096, IBV_ACCESS_LOCAL_WRITE);
	ret = ibv_dealloc_pd(dev.pd);
	CU_ASSERT_NOT_EQUAL(ret, 0);
	rg_observe_errno("dealloc_pd with an MR", ret);
	/* In the right order it works. */
	CU_ASSERT_EQUAL(ibv_dereg_mr(mr), 0);
	CU_ASSERT_EQUAL(ibv_dealloc_pd(dev.pd), 0);
}

void test_destroy_cq_in_use(void)
{
	struct vdev dev;
	struct ibv_cq *cq;
	struct ibv_qp *qp;
	int ret;

	v_open(&dev);
	cq = v_cq(&dev, 16);
	qp = v_qp(&dev, IBV_QPT_RC, cq, NULL);
	ret = ibv_destroy_cq(cq);
	CU_ASSERT_NOT_EQUAL(ret, 0);
	rg_observe_errno("destroy_cq with a QP", ret);
	CU_ASSERT_EQUAL(ibv_destroy_qp(qp), 0);
	CU_ASSERT_EQUAL(ibv_destroy_cq(cq), 0);
}

void test_destroy_channel_in_use(void)
{
	struct vdev dev;
	struct ibv_comp_channel *channel;
	struct ibv_cq *cq;
	int ret;

	v_open(&dev);
	channel = ibv_create_comp_channel(dev.ctx);
	CU_ASSERT_PTR_NOT_NULL_FATAL(channel);
	cq = ibv_create_cq(dev.ctx, 16, NULL, channel, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cq);
	ret = ibv_destroy_comp_channel(channel);
	CU_ASSERT_NOT_EQUAL(ret, 0);
	rg_observe_errno("destroy_comp_channel with a CQ", ret);
	CU_ASSERT_EQUAL(ibv_destroy_cq(cq), 0);
	CU_ASSERT_EQUAL(ibv_destroy_comp_channel(channel), 0);
}

void test_reg_mr_bad_access(void)
{
	struct vdev dev;
	uint8_t *buf = v_buf(4096);
	struct ibv_mr *mr;

	v_open(&dev);
	/* Remote write without local write is forbidden by the verbs spec. */
	mr = ibv_reg_mr(dev.pd, buf, 4096, IBV_ACCESS_REMOTE_WRITE);
	CU_ASSERT_PTR_NULL(mr);
	rg_observe_errno("reg_mr(REMOTE_WRITE alone)", mr ? 0 : errno);
}

void test_create_qp_too_large(void)
{
	struct vdev dev;
	struct ibv_cq *cq;
	struct ibv_qp_init_attr init = { .qp_type = IBV_QPT_RC,
					 .cap = { .max_recv_wr = 1, .max_send_sge = 1,
						  .max_recv_sge = 1 } };
	struct ibv_qp *qp;

	v_open(&dev);
	cq = v_cq(&dev, 16);
	init.send_cq = init.recv_cq = cq;
	init.cap.max_send_wr = (uint32_t)dev.attr.max_qp_wr + 1;
	qp = ibv_create_qp(dev.pd, &init);
	CU_ASSERT_PTR_NULL(qp);
	rg_observe_errno("create_qp(max_qp_wr + 1)", qp ? 0 : errno);
}

void test_create_cq_too_large(void)
{
	struct vdev dev;
	struct ibv_cq *cq;

	v_open(&dev);
	cq = ibv_create_cq(dev.ctx, dev.attr.max_cqe + 1, NULL, NULL, 0);
	CU_ASSERT_PTR_NULL(cq);
	rg_observe_errno("create_cq(max_cqe + 1)", cq ? 0 : errno);
}
