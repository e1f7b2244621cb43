// SPDX-License-Identifier: MIT
/* Address handles and multicast: a datagram to a group reaches the QP
 * attached to it. */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "verbs_common.h"

RG_TEST_F(verbs, create_ah, device)
{
	struct ibv_ah_attr attr;
	struct ibv_ah *ah;

	v_ah_attr(self, &attr);
	ah = ibv_create_ah(self->pd, &attr);
	RG_ASSERT_NOT_NULL(ah);
	RG_EXPECT_PTR_EQ(ah->pd, self->pd);
	RG_EXPECT_EQ(ibv_destroy_ah(ah), 0);
}

/*
 * RoCE v2 multicast leaves as an IP multicast packet, and a soft-RoCE
 * device (rxe) sees its own only when the kernel loops it back, which it
 * does for groups this host is a member of on that interface: what
 * rdma_cm's join arranges (IGMP), and what a verbs program on rxe must
 * arrange itself. An HCA loops multicast back on its own; the membership
 * changes nothing there. The socket stays open for the test's life.
 */
static void ip_member(const struct vdev *dev, const union ibv_gid *mgid)
{
	struct ip_mreq m;
	int fd;

	if (!dev->roce)
		return;
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		rg_error("socket: %s", strerror(errno));
	memcpy(&m.imr_multiaddr, mgid->raw + 12, 4);
	memcpy(&m.imr_interface, dev->gid.raw + 12, 4);
	if (setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof(m)))
		rg_error("joining the IP group of the multicast GID: %s",
			 strerror(errno));
}

/* A datagram sent to a multicast group reaches the QP attached to it (the
 * group's own QP number and the group GID as the address). */
RG_TEST_F(verbs, mcast_attach, ud_pair)
{
	struct vend *a = &self->a, *b = &self->b;
	/* IB: a multicast GID (ff0e::); RoCE v2: the IPv4-mapped group
	 * address (::ffff:239.1.2.3), as rdma_cm's join builds it. */
	union ibv_gid mgid = {
		.raw = { 0xff, 0x0e, [10] = 0xff, [11] = 0xff, [12] = 239,
			 [13] = 1, [14] = 2, [15] = 3 }
	};
	struct ibv_ah_attr attr;
	struct ibv_ah *ah;
	struct ibv_wc wc;
	int ret;

	if (self->dev.roce)
		mgid.raw[0] = mgid.raw[1] = 0;
	ret = ibv_attach_mcast(b->qp, &mgid, 0);
	if (ret)
		rg_unsupported_or_fail(ret, "ibv_attach_mcast");
	ip_member(&self->dev, &mgid);
	v_ah_attr(&self->dev, &attr);
	attr.is_global = 1;
	attr.grh.dgid = mgid;
	attr.dlid = 0xc001; /* a multicast LID; RoCE ignores it */
	ah = ibv_create_ah(self->dev.pd, &attr);
	RG_ASSERT_NOT_NULL(ah);
	v_post_recv(b->qp, 13, b->buf, 40 + 200, b->mr->lkey);
	v_ud_send(a, ah, 0xffffff /* the multicast QPN */, 12, 200, 27);
	v_wait(b->cq, &wc, "the multicast datagram at the attached QP");
	v_expect_wc(&wc, IBV_WC_RECV, 13);
	RG_EXPECT_EQ(wc.byte_len, 40 + 200);
	RG_EXPECT_EQ(wc.src_qp, a->qp->qp_num);
	RG_EXPECT_DATA(v_check(b->buf + 40, 200, 27));
	RG_EXPECT_EQ(ibv_detach_mcast(b->qp, &mgid, 0), 0);
	/* Detaching a group no longer attached must fail. */
	ret = ibv_detach_mcast(b->qp, &mgid, 0);
	RG_EXPECT_NE(ret, 0);
	rg_observe_errno("detach_twice", "detach_mcast twice", ret);
	RG_EXPECT_EQ(ibv_destroy_ah(ah), 0);
}
