// SPDX-License-Identifier: MIT
/* Data paths: every operation moves real bytes, and the test checks them
 * and each completion's fields (opcode, byte_len, imm_data, wr_id, status). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "verbs_common.h"

static void post_one(struct ibv_qp *qp, enum ibv_wr_opcode opcode,
		     uint64_t wr_id, void *addr, uint32_t len, uint32_t lkey,
		     unsigned int flags, uint64_t remote_addr, uint32_t rkey,
		     uint32_t imm)
{
	struct ibv_sge sge;
	struct ibv_send_wr wr = { .wr_id = wr_id,
				  .sg_list = &sge,
				  .num_sge = 1,
				  .opcode = opcode,
				  .send_flags = IBV_SEND_SIGNALED | flags,
				  .imm_data = htobe32(imm) };

	v_sge(&sge, addr, len, lkey);
	wr.wr.rdma.remote_addr = remote_addr;
	wr.wr.rdma.rkey = rkey;
	v_post_send(qp, &wr);
}

static void send_case(struct vpair *p, enum ibv_wr_opcode opcode,
		      unsigned int flags, uint32_t len)
{
	struct ibv_wc wc;

	if (flags & IBV_SEND_INLINE) {
		uint32_t max_inline = v_qp_cap(p->a.qp).max_inline_data;

		if (max_inline < len)
			rg_unsupported("max_inline_data is %u", max_inline);
	}
	v_post_recv(p->b.qp, 0xb0b, p->b.buf, V_BUF_SIZE, p->b.mr->lkey);
	v_fill(p->a.buf, len, 11);
	post_one(p->a.qp, opcode, 0xa11ce, p->a.buf, len, p->a.mr->lkey, flags,
		 0, 0, 0x12345678);
	if (flags & IBV_SEND_INLINE)
		memset(p->a.buf, 0,
		       len); /* inline: the data was copied at post */
	v_wait(p->a.cq, &wc, "the send");
	v_expect_wc(&wc, IBV_WC_SEND, 0xa11ce);
	v_wait(p->b.cq, &wc, "the receive");
	v_expect_wc(&wc, IBV_WC_RECV, 0xb0b);
	RG_EXPECT_EQ(wc.byte_len, len);
	RG_EXPECT_EQ(wc.qp_num, p->b.qp->qp_num);
	if (opcode == IBV_WR_SEND_WITH_IMM) {
		RG_EXPECT(wc.wc_flags & IBV_WC_WITH_IMM);
		RG_EXPECT_EQ(be32toh(wc.imm_data), 0x12345678);
	} else {
		RG_EXPECT(!(wc.wc_flags & IBV_WC_WITH_IMM));
	}
	RG_EXPECT_DATA(v_check(p->b.buf, len, 11));
}

RG_TEST_F(verbs, send, rc_pair)
{
	send_case(self, IBV_WR_SEND, 0, 4000);
}

RG_TEST_F(verbs, send_with_imm, rc_pair)
{
	send_case(self, IBV_WR_SEND_WITH_IMM, 0, 64);
}

RG_TEST_F(verbs, send_inline, rc_pair)
{
	send_case(self, IBV_WR_SEND, IBV_SEND_INLINE, 32);
}

/* Larger than one MTU: the message is segmented and reassembled. */
RG_TEST_F(verbs, send_multi_packet, rc_pair)
{
	send_case(self, IBV_WR_SEND, 0, 3 * 4096 + 123);
}

RG_TEST_F(verbs, rdma_write, rc_pair)
{
	struct ibv_wc wc;

	v_fill(self->a.buf, 10000, 2);
	post_one(self->a.qp, IBV_WR_RDMA_WRITE, 1, self->a.buf, 10000,
		 self->a.mr->lkey, 0, (uintptr_t)self->b.buf + 1000,
		 self->b.mr->rkey, 0);
	v_wait(self->a.cq, &wc, "RDMA WRITE");
	v_expect_wc(&wc, IBV_WC_RDMA_WRITE, 1);
	RG_EXPECT_DATA(v_check(self->b.buf + 1000, 10000, 2));
	/* Bytes around the target are untouched, and no receive was consumed.
	 */
	RG_EXPECT_EQ(self->b.buf[999], 0);
	RG_EXPECT_EQ(self->b.buf[11000], 0);
	RG_EXPECT(v_none_within(self->b.cq, 100));
}

RG_TEST_F(verbs, rdma_write_with_imm, rc_pair)
{
	struct ibv_wc wc;

	v_post_recv(self->b.qp, 77, self->b.buf + 32768, 64, self->b.mr->lkey);
	v_fill(self->a.buf, 512, 6);
	post_one(self->a.qp, IBV_WR_RDMA_WRITE_WITH_IMM, 2, self->a.buf, 512,
		 self->a.mr->lkey, 0, (uintptr_t)self->b.buf, self->b.mr->rkey,
		 0xc0ffee);
	v_wait(self->a.cq, &wc, "WRITE with immediate");
	v_expect_wc(&wc, IBV_WC_RDMA_WRITE, 2);
	v_wait(self->b.cq, &wc, "the immediate's receive");
	v_expect_wc(&wc, IBV_WC_RECV_RDMA_WITH_IMM, 77);
	RG_EXPECT(wc.wc_flags & IBV_WC_WITH_IMM);
	RG_EXPECT_EQ(be32toh(wc.imm_data), 0xc0ffee);
	RG_EXPECT_EQ(wc.byte_len, 512);
	RG_EXPECT_DATA(v_check(self->b.buf, 512, 6));
}

RG_TEST_F(verbs, rdma_read, rc_pair)
{
	struct ibv_wc wc;

	v_fill(self->b.buf + 2048, 6000, 8);
	post_one(self->a.qp, IBV_WR_RDMA_READ, 3, self->a.buf, 6000,
		 self->a.mr->lkey, 0, (uintptr_t)self->b.buf + 2048,
		 self->b.mr->rkey, 0);
	v_wait(self->a.cq, &wc, "RDMA READ");
	v_expect_wc(&wc, IBV_WC_RDMA_READ, 3);
	RG_EXPECT_EQ(wc.byte_len, 6000);
	RG_EXPECT_DATA(v_check(self->a.buf, 6000, 8));
}

static void atomic_post(struct vpair *p, enum ibv_wr_opcode opcode,
			uint64_t wr_id, uint64_t *target,
			uint64_t add_or_compare, uint64_t swap)
{
	struct ibv_sge sge;
	struct ibv_send_wr wr = V_SEND_WR(wr_id, opcode, &sge);

	v_sge(&sge, p->a.buf, 8, p->a.mr->lkey);
	wr.wr.atomic.remote_addr = (uintptr_t)target;
	wr.wr.atomic.rkey = p->b.mr->rkey;
	wr.wr.atomic.compare_add = add_or_compare;
	wr.wr.atomic.swap = swap;
	v_post_send(p->a.qp, &wr);
}

static uint64_t *atomic_setup(struct vpair *p, uint64_t initial)
{
	uint64_t *target;

	if (p->dev.attr.atomic_cap == IBV_ATOMIC_NONE)
		rg_unsupported("atomic_cap is IBV_ATOMIC_NONE");
	target = (uint64_t *)(p->b.buf + 4096);
	*target = initial;
	return target;
}

RG_TEST_F(verbs, atomic_cmp_swap, rc_pair)
{
	struct ibv_wc wc;
	uint64_t *target = atomic_setup(self, 0x1111), fetched;

	/* A matching compare swaps and returns the old value ... */
	atomic_post(self, IBV_WR_ATOMIC_CMP_AND_SWP, 1, target, 0x1111, 0x2222);
	v_wait(self->a.cq, &wc, "compare and swap");
	v_expect_wc(&wc, IBV_WC_COMP_SWAP, 1);
	RG_EXPECT_EQ(wc.byte_len, 8);
	memcpy(&fetched, self->a.buf, 8);
	RG_EXPECT_EQ(fetched, 0x1111);
	RG_EXPECT_EQ(*target, 0x2222);
	/* ... a mismatching one leaves memory alone and still returns it. */
	atomic_post(self, IBV_WR_ATOMIC_CMP_AND_SWP, 2, target, 0x9999, 0x3333);
	v_wait(self->a.cq, &wc, "failing compare and swap");
	v_expect_wc(&wc, IBV_WC_COMP_SWAP, 2);
	memcpy(&fetched, self->a.buf, 8);
	RG_EXPECT_EQ(fetched, 0x2222);
	RG_EXPECT_EQ(*target, 0x2222);
}

RG_TEST_F(verbs, atomic_fetch_add, rc_pair)
{
	struct ibv_wc wc;
	uint64_t *target = atomic_setup(self, 40), fetched;
	int i;

	for (i = 0; i < 3; i++) {
		atomic_post(self, IBV_WR_ATOMIC_FETCH_AND_ADD, 10 + i, target,
			    1, 0);
		v_wait(self->a.cq, &wc, "fetch and add");
		v_expect_wc(&wc, IBV_WC_FETCH_ADD, 10 + (uint64_t)i);
		memcpy(&fetched, self->a.buf, 8);
		RG_EXPECT_EQ(fetched, 40 + (uint64_t)i);
	}
	RG_EXPECT_EQ(*target, 43);
}

/* Gather three pieces into one message, scatter it into two buffers. */
RG_TEST_F(verbs, multi_sge, rc_pair)
{
	struct ibv_sge out[3], in[2];
	struct ibv_send_wr wr = { .wr_id = 1,
				  .sg_list = out,
				  .num_sge = 3,
				  .opcode = IBV_WR_SEND,
				  .send_flags = IBV_SEND_SIGNALED };
	struct ibv_recv_wr rwr = { .wr_id = 2, .sg_list = in, .num_sge = 2 },
			   *bad;
	struct ibv_wc wc;
	uint8_t expect[300];

	v_fill(self->a.buf, 4096, 13);
	v_sge(&out[0], self->a.buf, 100, self->a.mr->lkey);
	v_sge(&out[1], self->a.buf + 1000, 100, self->a.mr->lkey);
	v_sge(&out[2], self->a.buf + 2000, 100, self->a.mr->lkey);
	memcpy(expect, self->a.buf, 100);
	memcpy(expect + 100, self->a.buf + 1000, 100);
	memcpy(expect + 200, self->a.buf + 2000, 100);
	v_sge(&in[0], self->b.buf, 150, self->b.mr->lkey);
	v_sge(&in[1], self->b.buf + 8192, 150, self->b.mr->lkey);
	RG_ASSERT_EQ(ibv_post_recv(self->b.qp, &rwr, &bad), 0);
	v_post_send(self->a.qp, &wr);
	v_wait(self->a.cq, &wc, "gathered send");
	v_expect_wc(&wc, IBV_WC_SEND, 1);
	v_wait(self->b.cq, &wc, "scattered receive");
	v_expect_wc(&wc, IBV_WC_RECV, 2);
	RG_EXPECT_EQ(wc.byte_len, 300);
	RG_EXPECT_DATA(!memcmp(self->b.buf, expect, 150));
	RG_EXPECT_DATA(!memcmp(self->b.buf + 8192, expect + 150, 150));
}

/* With sq_sig_all off, unsignaled sends complete silently; the signaled one
 * that follows completes alone, and all three writes landed (each its own
 * bytes, so a provider that drops an unsignaled one is caught). */
RG_TEST_F(verbs, selective_signaling, rc_pair)
{
	struct ibv_wc wc;
	int i;

	for (i = 0; i < 3; i++) {
		struct ibv_sge sge;
		struct ibv_send_wr wr = {
			.wr_id = (uint64_t)i,
			.sg_list = &sge,
			.num_sge = 1,
			.opcode = IBV_WR_RDMA_WRITE,
			.send_flags = i == 2 ? IBV_SEND_SIGNALED : 0
		};

		v_fill(self->a.buf + 64 * i, 64, (uint8_t)(40 + i));
		v_sge(&sge, self->a.buf + 64 * i, 64, self->a.mr->lkey);
		wr.wr.rdma.remote_addr =
			(uintptr_t)self->b.buf + 64 * (uint64_t)i;
		wr.wr.rdma.rkey = self->b.mr->rkey;
		v_post_send(self->a.qp, &wr);
	}
	v_wait(self->a.cq, &wc, "the signaled write");
	v_expect_wc(&wc, IBV_WC_RDMA_WRITE, 2);
	RG_EXPECT(v_none_within(self->a.cq, 100));
	for (i = 0; i < 3; i++)
		if (!v_check(self->b.buf + 64 * i, 64, (uint8_t)(40 + i)))
			rg_fail_data("write %d of 3 (%s) did not land", i + 1,
				     i == 2 ? "signaled" : "unsignaled");
}

/* UC is the one pair no fixture builds. */
RG_TEST(verbs, uc_write_send)
{
	struct vpair p;
	struct ibv_wc wc;

	v_pair(&p, IBV_QPT_UC, &V_CONN_DEFAULT);
	v_fill(p.a.buf, 1000, 21);
	post_one(p.a.qp, IBV_WR_RDMA_WRITE, 1, p.a.buf, 1000, p.a.mr->lkey, 0,
		 (uintptr_t)p.b.buf, p.b.mr->rkey, 0);
	v_wait(p.a.cq, &wc, "UC WRITE");
	v_expect_wc(&wc, IBV_WC_RDMA_WRITE, 1);
	v_post_recv(p.b.qp, 5, p.b.buf + 4096, 2048, p.b.mr->lkey);
	post_one(p.a.qp, IBV_WR_SEND, 2, p.a.buf, 1000, p.a.mr->lkey, 0, 0, 0,
		 0);
	v_wait(p.b.cq, &wc, "UC receive");
	v_expect_wc(&wc, IBV_WC_RECV, 5);
	RG_EXPECT_EQ(wc.byte_len, 1000);
	/* UC is unreliable but not lossy in loopback: both landed. */
	RG_EXPECT_DATA(v_check(p.b.buf, 1000, 21));
	RG_EXPECT_DATA(v_check(p.b.buf + 4096, 1000, 21));
}

/* UD: a datagram carries a 40-byte GRH in front of the payload; the
 * receiver builds an address handle from the completion and answers. */
RG_TEST_F(verbs, ud_send_and_ah_from_wc, ud_pair)
{
	struct vend *a = &self->a, *b = &self->b;
	struct ibv_ah_attr attr, from_wc;
	struct ibv_ah *ah, *reply_ah;
	struct ibv_wc wc;
	struct ibv_grh *grh;

	v_ah_attr(&self->dev, &attr);
	ah = ibv_create_ah(self->dev.pd, &attr);
	RG_ASSERT_NOT_NULL(ah);

	v_post_recv(b->qp, 1, b->buf + 4096, 40 + 256, b->mr->lkey);
	v_ud_send(a, ah, b->qp->qp_num, 10, 256, 17);
	v_wait(b->cq, &wc, "UD receive");
	v_expect_wc(&wc, IBV_WC_RECV, 1);
	RG_EXPECT_EQ(wc.byte_len, 40 + 256);
	RG_EXPECT_EQ(wc.src_qp, a->qp->qp_num);
	RG_EXPECT(wc.wc_flags & IBV_WC_GRH);
	RG_EXPECT_DATA(v_check(b->buf + 4096 + 40, 256, 17));
	grh = (struct ibv_grh *)(b->buf + 4096);

	/* The reply's address comes from the completion and the GRH. */
	RG_ASSERT_EQ(
		ibv_init_ah_from_wc(self->dev.ctx, V_PORT, &wc, grh, &from_wc),
		0);
	RG_EXPECT_EQ(from_wc.port_num, V_PORT);
	if (from_wc.is_global)
		RG_EXPECT_EQ(memcmp(&from_wc.grh.dgid, &self->dev.gid,
				    sizeof(self->dev.gid)),
			     0);
	reply_ah = ibv_create_ah_from_wc(self->dev.pd, &wc, grh, V_PORT);
	RG_ASSERT_NOT_NULL(reply_ah);
	v_post_recv(a->qp, 2, a->buf + 8192, 40 + 256, a->mr->lkey);
	v_ud_send(b, reply_ah, wc.src_qp, 11, 100, 19);
	v_wait(a->cq, &wc, "UD reply received");
	v_expect_wc(&wc, IBV_WC_RECV, 2);
	RG_EXPECT_EQ(wc.byte_len, 40 + 100);
	RG_EXPECT_DATA(v_check(a->buf + 8192 + 40, 100, 19));
	RG_EXPECT_EQ(ibv_destroy_ah(reply_ah), 0);
	RG_EXPECT_EQ(ibv_destroy_ah(ah), 0);
}
