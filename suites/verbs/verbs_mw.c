// SPDX-License-Identifier: MIT
/* Memory windows: type 1 bound and unbound, type 2 bound by a work
 * request, and remote invalidation. */
#include <errno.h>
#include <string.h>

#include "verbs_common.h"

/* A write of 64 bytes of seed through a window's rkey. */
static void mw_write(struct vpair *p, uint32_t rkey, uint64_t addr,
		     uint8_t seed, struct ibv_wc *wc)
{
	struct ibv_sge sge;
	struct ibv_send_wr wr = V_SEND_WR(7, IBV_WR_RDMA_WRITE, &sge);

	v_fill(p->a.buf, 64, seed);
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

/* A type 1 window over a page of b's buffer from offset, bound by
 * ibv_bind_mw (wr_id 5, which *bind keeps for an unbind) on b's QP. */
static struct ibv_mw *mw1_bound(struct vpair *p, size_t offset,
				struct ibv_mw_bind *bind)
{
	struct ibv_mw *mw;
	struct ibv_wc wc;
	int ret;

	*bind = (struct ibv_mw_bind){ .wr_id = 5,
				      .send_flags = IBV_SEND_SIGNALED };
	bind->bind_info.mr = mw_region(p);
	mw = ibv_alloc_mw(p->dev.pd, IBV_MW_TYPE_1);
	if (!mw)
		rg_unsupported_or_fail(errno, "ibv_alloc_mw(type 1)");
	bind->bind_info.addr = (uintptr_t)p->b.buf + offset;
	bind->bind_info.length = 4096;
	bind->bind_info.mw_access_flags = IBV_ACCESS_REMOTE_WRITE;
	ret = ibv_bind_mw(p->b.qp, mw, bind);
	if (ret)
		rg_unsupported_or_fail(ret, "ibv_bind_mw");
	v_wait(p->b.cq, &wc, "memory window bind");
	v_expect_wc(&wc, IBV_WC_BIND_MW, 5);
	return mw;
}

RG_TEST_F(verbs, mw_type1, rc_pair)
{
	struct ibv_mw_bind bind;
	struct ibv_mw *mw = mw1_bound(self, 4096, &bind);
	struct ibv_wc wc;

	mw_write(self, mw->rkey, (uintptr_t)self->b.buf + 4096 + 100, 9, &wc);
	v_expect_wc(&wc, IBV_WC_RDMA_WRITE, 7);
	RG_EXPECT_DATA(v_check(self->b.buf + 4096 + 100, 64, 9));
	RG_EXPECT_EQ(ibv_dealloc_mw(mw), 0);
}

/* A type 1 window bound with length 0 is unbound: its rkey opens nothing,
 * and the memory it covered keeps what it held. */
RG_TEST_F(verbs, mw_type1_unbind, rc_pair)
{
	struct ibv_mw_bind bind;
	struct ibv_mw *mw = mw1_bound(self, 0, &bind);
	struct ibv_wc wc;
	uint32_t rkey = mw->rkey;

	mw_write(self, rkey, (uintptr_t)self->b.buf + 64, 9, &wc);
	v_expect_wc(&wc, IBV_WC_RDMA_WRITE, 7);
	RG_ASSERT_DATA(v_check(self->b.buf + 64, 64, 9));
	/* Unbind: the same call with a zero length. */
	bind.wr_id = 6;
	bind.bind_info.length = 0;
	bind.bind_info.addr = 0;
	bind.bind_info.mw_access_flags = 0;
	RG_ASSERT_EQ(ibv_bind_mw(self->b.qp, mw, &bind), 0);
	v_wait(self->b.cq, &wc, "memory window unbind");
	v_expect_wc(&wc, IBV_WC_BIND_MW, 6);
	mw_write(self, rkey, (uintptr_t)self->b.buf + 64, 77, &wc);
	RG_EXPECT_NE(wc.status, IBV_WC_SUCCESS);
	RG_EXPECT_DATA(v_check(self->b.buf + 64, 64, 9));
	rg_observe("write_status", "write after unbind",
		   ibv_wc_status_str(wc.status));
}

uint32_t v_mw2_bind(struct vpair *p, struct ibv_mw **mwp)
{
	struct ibv_send_wr wr = { .wr_id = 5,
				  .opcode = IBV_WR_BIND_MW,
				  .send_flags = IBV_SEND_SIGNALED };
	struct ibv_mr *mr = mw_region(p);
	struct ibv_mw *mw;
	struct ibv_wc wc;
	uint32_t rkey;

	mw = ibv_alloc_mw(p->dev.pd, IBV_MW_TYPE_2);
	if (!mw)
		rg_unsupported_or_fail(errno, "ibv_alloc_mw(type 2)");
	rkey = ibv_inc_rkey(mw->rkey);
	wr.bind_mw.mw = mw;
	wr.bind_mw.rkey = rkey;
	wr.bind_mw.bind_info.mr = mr;
	wr.bind_mw.bind_info.addr = (uintptr_t)p->b.buf;
	wr.bind_mw.bind_info.length = 4096;
	wr.bind_mw.bind_info.mw_access_flags = IBV_ACCESS_REMOTE_WRITE;
	v_post_send(p->b.qp, &wr);
	v_wait(p->b.cq, &wc, "type 2 window bind");
	v_expect_wc(&wc, IBV_WC_BIND_MW, 5);
	*mwp = mw;
	return rkey;
}

RG_TEST_F(verbs, mw_type2, rc_pair)
{
	struct ibv_mw *mw;
	struct ibv_send_wr wr;
	struct ibv_wc wc;
	uint32_t rkey;

	rkey = v_mw2_bind(self, &mw);
	mw_write(self, rkey, (uintptr_t)self->b.buf + 8, 9, &wc);
	v_expect_wc(&wc, IBV_WC_RDMA_WRITE, 7);
	RG_EXPECT_DATA(v_check(self->b.buf + 8, 64, 9));
	/* Invalidated, the same rkey no longer opens the window. */
	memset(&wr, 0, sizeof(wr));
	wr.wr_id = 6;
	wr.opcode = IBV_WR_LOCAL_INV;
	wr.send_flags = IBV_SEND_SIGNALED;
	wr.invalidate_rkey = rkey;
	v_post_send(self->b.qp, &wr);
	v_wait(self->b.cq, &wc, "local invalidate");
	v_expect_wc(&wc, IBV_WC_LOCAL_INV, 6);
	/* Another seed: a write that landed anyway would show. */
	mw_write(self, rkey, (uintptr_t)self->b.buf + 8, 55, &wc);
	RG_EXPECT_NE(wc.status, IBV_WC_SUCCESS);
	RG_EXPECT_DATA(v_check(self->b.buf + 8, 64, 9));
	rg_observe("write_status", "write after invalidate",
		   ibv_wc_status_str(wc.status));
}

/* Remote invalidate: a SEND with invalidate names b's window; b's receive
 * says which rkey it invalidated, and that rkey opens nothing after. */
RG_TEST_F(verbs, mw_remote_invalidate, rc_pair)
{
	struct ibv_mw *mw;
	struct ibv_sge sge;
	struct ibv_send_wr wr = V_SEND_WR(8, IBV_WR_SEND_WITH_INV, &sge);
	struct ibv_wc wc;
	uint32_t rkey;
	unsigned int flags;

	rkey = v_mw2_bind(self, &mw);
	mw_write(self, rkey, (uintptr_t)self->b.buf + 8, 9, &wc);
	v_expect_wc(&wc, IBV_WC_RDMA_WRITE, 7);
	RG_ASSERT_DATA(v_check(self->b.buf + 8, 64, 9));
	v_post_recv(self->b.qp, 9, self->b.buf + 8192, 64, self->b.mr->lkey);
	v_fill(self->a.buf + 1024, 40, 71);
	v_sge(&sge, self->a.buf + 1024, 40, self->a.mr->lkey);
	wr.invalidate_rkey = rkey;
	v_post_send(self->a.qp, &wr);
	v_wait(self->a.cq, &wc, "send with invalidate");
	v_expect_wc(&wc, IBV_WC_SEND, 8);
	v_wait(self->b.cq, &wc, "the invalidating receive");
	v_expect_wc(&wc, IBV_WC_RECV, 9);
	flags = wc.wc_flags;
	RG_EXPECT_EQ(wc.invalidated_rkey, rkey);
	RG_EXPECT_EQ(wc.byte_len, 40);
	RG_EXPECT_DATA(v_check(self->b.buf + 8192, 40, 71));
	mw_write(self, rkey, (uintptr_t)self->b.buf + 8, 55, &wc);
	RG_EXPECT_NE(wc.status, IBV_WC_SUCCESS);
	RG_EXPECT_DATA(v_check(self->b.buf + 8, 64, 9));
	rg_observe("write_status", "write after remote invalidate",
		   ibv_wc_status_str(wc.status));
	/* Last, as its message is what a profile of a device that gets it
	 * wrong states. */
	if (!(flags & IBV_WC_WITH_INV))
		rg_fail("the receive of a SEND with invalidate has wc_flags "
			"0x%x, without "
			"IBV_WC_WITH_INV (0x%x)",
			flags, IBV_WC_WITH_INV);
}
