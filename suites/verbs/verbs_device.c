// SPDX-License-Identifier: MIT
/* Device list, open, query (device, port, GID, P_Key), async events, and the
 * device-independent helpers that need a device to mean anything. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "verbs_common.h"

RG_TEST(verbs, device_list)
{
	struct ibv_device **list;
	int i, n = -1, found = -1;

	list = ibv_get_device_list(&n);
	RG_ASSERT_NOT_NULL(list);
	RG_EXPECT_NULL(list[n]);
	for (i = 0; i < n; i++)
		if (!strcmp(ibv_get_device_name(list[i]), rg_device()))
			found = i;
	if (found < 0)
		rg_fail("%s is not in ibv_get_device_list()", rg_device());
	/* rxe and HCAs derive the node GUID from hardware: never zero. */
	RG_EXPECT_NE(ibv_get_device_guid(list[found]), 0);
	RG_EXPECT_GE(ibv_get_device_index(list[found]), 0);
	ibv_free_device_list(list);
}

RG_TEST(verbs, open_close_device)
{
	struct ibv_device **list;
	struct ibv_context *ctx;
	int i, n;

	list = ibv_get_device_list(&n);
	RG_ASSERT_NOT_NULL(list);
	for (i = 0; i < n; i++) {
		if (strcmp(ibv_get_device_name(list[i]), rg_device()))
			continue;
		ctx = ibv_open_device(list[i]);
		RG_ASSERT_NOT_NULL(ctx);
		RG_EXPECT_PTR_EQ(ctx->device, list[i]);
		RG_EXPECT_GE(ctx->cmd_fd, 0);
		RG_EXPECT_GE(ctx->async_fd, 0);
		RG_EXPECT_EQ(ibv_close_device(ctx), 0);
	}
	ibv_free_device_list(list);
}

RG_TEST_F(verbs, query_device, device)
{
	struct ibv_device_attr_ex ex;

	RG_EXPECT_GE(self->attr.phys_port_cnt, 1);
	RG_EXPECT_GT(self->attr.max_qp, 0);
	RG_EXPECT_GT(self->attr.max_cq, 0);
	RG_EXPECT_GT(self->attr.max_mr, 0);
	RG_EXPECT_GT(self->attr.max_qp_wr, 0);
	RG_EXPECT_GT(self->attr.max_cqe, 0);
	RG_EXPECT_GT(self->attr.max_sge, 0);
	RG_EXPECT_GT(self->attr.max_pd, 0);
	RG_EXPECT_EQ(self->attr.node_guid,
		     ibv_get_device_guid(self->ctx->device));
	/* The extended query reports the same base attributes. */
	memset(&ex, 0, sizeof(ex));
	RG_ASSERT_EQ(ibv_query_device_ex(self->ctx, NULL, &ex), 0);
	RG_EXPECT_EQ(ex.orig_attr.max_qp, self->attr.max_qp);
	RG_EXPECT_EQ(ex.orig_attr.max_cqe, self->attr.max_cqe);
	RG_EXPECT_EQ(ex.orig_attr.node_guid, self->attr.node_guid);
	RG_EXPECT_STR_EQ(ex.orig_attr.fw_ver, self->attr.fw_ver);
}

RG_TEST_F(verbs, query_port, device)
{
	struct ibv_port_attr port;

	memset(&port, 0xa5, sizeof(port));
	RG_ASSERT_EQ(ibv_query_port(self->ctx, V_PORT, &port), 0);
	RG_EXPECT_EQ(port.state, IBV_PORT_ACTIVE);
	RG_EXPECT_GE(port.active_mtu, IBV_MTU_256);
	RG_EXPECT_LE(port.active_mtu, port.max_mtu);
	RG_EXPECT_GT(port.gid_tbl_len, 0);
	RG_EXPECT_GT(port.pkey_tbl_len, 0);
	RG_EXPECT(port.link_layer == IBV_LINK_LAYER_ETHERNET ||
		  port.link_layer == IBV_LINK_LAYER_INFINIBAND);
	/* A port that does not exist is an error, not garbage. */
	errno = 0;
	RG_EXPECT_NE(
		ibv_query_port(self->ctx, self->attr.phys_port_cnt + 1, &port),
		0);
}

/* The port's effective bandwidth in 100 Mb/s, as the kernel's sysfs "rate"
 * ("10 Gb/sec (4X QDR)", "2.5 Gb/sec ...") gives it too. */
RG_TEST_F(verbs, query_port_speed, device)
{
#ifdef HAVE_IBV_QUERY_PORT_SPEED
	uint64_t speed = 0;
	char path[256], rate[64] = "";
	FILE *f;
	int ret;

	ret = ibv_query_port_speed(self->ctx, V_PORT, &speed);
	if (ret)
		rg_unsupported_or_fail(ret, "ibv_query_port_speed");
	snprintf(path, sizeof(path), "/sys/class/infiniband/%s/ports/%d/rate",
		 rg_device(), V_PORT);
	f = fopen(path, "r");
	if (!f)
		rg_error("%s: %s", path, strerror(errno));
	if (!fgets(rate, sizeof(rate), f))
		rate[0] = '\0';
	fclose(f);
	RG_EXPECT_GT(speed, 0);
	RG_EXPECT_EQ(speed, (uint64_t)(strtod(rate, NULL) * 10 + 0.5));
	RG_EXPECT_NE(ibv_query_port_speed(self->ctx,
					  self->attr.phys_port_cnt + 1, &speed),
		     0);
#else
	rg_skip("stack lacks ibv_query_port_speed (newer than this rdma-core)");
#endif
}

/* The GID as the kernel shows it in sysfs, "fe80:0000:...". */
static void sysfs_gid(const char *dev, int index, char *out, size_t size)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path),
		 "/sys/class/infiniband/%s/ports/%d/gids/%d", dev, V_PORT,
		 index);
	f = fopen(path, "r");
	if (!f)
		rg_error("%s: %s", path, strerror(errno));
	if (!fgets(out, (int)size, f))
		*out = '\0';
	out[strcspn(out, "\n")] = '\0';
	fclose(f);
}

RG_TEST_F(verbs, query_gid, device)
{
	char text[64], sys[64];
	int i;

	for (i = 0; i < 8; i++)
		snprintf(text + 5 * i, sizeof(text) - 5 * i, "%02x%02x%s",
			 self->gid.raw[2 * i], self->gid.raw[2 * i + 1],
			 i < 7 ? ":" : "");
	sysfs_gid(rg_device(), self->gid_index, sys, sizeof(sys));
	RG_EXPECT_STR_EQ(text, sys);
}

RG_TEST_F(verbs, query_gid_ex, device)
{
#ifdef HAVE_IBV_QUERY_GID_EX
	struct ibv_gid_entry entry;
	int ret;

	ret = ibv_query_gid_ex(self->ctx, V_PORT, self->gid_index, &entry, 0);
	if (ret)
		rg_unsupported_or_fail(ret, "ibv_query_gid_ex");
	RG_EXPECT_EQ(memcmp(&entry.gid, &self->gid, sizeof(self->gid)), 0);
	RG_EXPECT_EQ(entry.gid_index, (uint32_t)self->gid_index);
	RG_EXPECT_EQ(entry.port_num, V_PORT);
	if (self->roce) {
		RG_EXPECT_EQ(entry.gid_type, IBV_GID_TYPE_ROCE_V2);
		RG_EXPECT_GT(entry.ndev_ifindex, 0);
	}
#else
	rg_skip("stack lacks ibv_query_gid_ex (rdma-core < 32)");
#endif
}

RG_TEST_F(verbs, query_gid_table, device)
{
#ifdef HAVE_IBV_QUERY_GID_EX
	struct ibv_gid_entry entries[256];
	ssize_t n, i;
	bool found = false;

	n = ibv_query_gid_table(self->ctx, entries, 256, 0);
	if (n < 0)
		rg_unsupported_or_fail((int)-n, "ibv_query_gid_table");
	RG_ASSERT_GT(n, 0);
	for (i = 0; i < n; i++)
		if (entries[i].gid_index == (uint32_t)self->gid_index &&
		    !memcmp(&entries[i].gid, &self->gid, sizeof(self->gid)))
			found = true;
	RG_EXPECT(found);
#else
	rg_skip("stack lacks ibv_query_gid_table (rdma-core < 32)");
#endif
}

RG_TEST_F(verbs, query_pkey, device)
{
	__be16 pkey = 0;

	RG_ASSERT_EQ(ibv_query_pkey(self->ctx, V_PORT, 0, &pkey), 0);
	/* Index 0 holds the default partition, full membership. */
	RG_EXPECT_EQ(be16toh(pkey), 0xffff);
	RG_EXPECT_EQ(ibv_get_pkey_index(self->ctx, V_PORT, pkey), 0);
	RG_EXPECT_LT(ibv_get_pkey_index(self->ctx, V_PORT, htobe16(0x1234)), 0);
}

RG_TEST(verbs, rate_conversions)
{
	static const enum ibv_rate rates[] = {
		IBV_RATE_2_5_GBPS, IBV_RATE_5_GBPS,   IBV_RATE_10_GBPS,
		IBV_RATE_20_GBPS,  IBV_RATE_25_GBPS,  IBV_RATE_40_GBPS,
		IBV_RATE_56_GBPS,  IBV_RATE_100_GBPS, IBV_RATE_200_GBPS,
	};
	size_t i;

	RG_EXPECT_EQ(ibv_rate_to_mult(IBV_RATE_10_GBPS), 4);
	RG_EXPECT_EQ(mult_to_ibv_rate(4), IBV_RATE_10_GBPS);
	RG_EXPECT_EQ(ibv_rate_to_mbps(IBV_RATE_10_GBPS), 10000);
	RG_EXPECT_EQ(mbps_to_ibv_rate(25781), IBV_RATE_25_GBPS);
	for (i = 0; i < sizeof(rates) / sizeof(rates[0]); i++)
		RG_EXPECT_EQ(mbps_to_ibv_rate(ibv_rate_to_mbps(rates[i])),
			     rates[i]);
	RG_EXPECT_EQ(mult_to_ibv_rate(3), IBV_RATE_MAX);
}

/* The header's pure helpers, against values computed by hand from the
 * RoCE v2 rule (the flow label folded into the UDP source port's low 14
 * bits, the port kept in 0xC000-0xFFFF) and the QP-type bit mask. */
RG_TEST(verbs, inline_helpers)
{
	RG_EXPECT_EQ(ibv_flow_label_to_udp_sport(0), 0xc000);
	RG_EXPECT_EQ(ibv_flow_label_to_udp_sport(0x12345),
		     0xc000 | (0x2345 ^ (0x10000 >> 14)));
	RG_EXPECT_EQ(ibv_flow_label_to_udp_sport(0xfffff), 0xffc0);
	RG_EXPECT_EQ(ibv_is_qpt_supported(1u << IBV_QPT_UD, IBV_QPT_UD), 1);
	RG_EXPECT_EQ(ibv_is_qpt_supported(1u << IBV_QPT_UD, IBV_QPT_RC), 0);
}

RG_TEST_F(verbs, resolve_eth_l2, device)
{
	struct ibv_ah_attr ah;
	uint8_t mac[6] = { 0 }, zero[6] = { 0 };
	uint16_t vid = 0xffff;
	int ret;

	if (!self->roce)
		rg_unsupported("%s is not an Ethernet (RoCE) port",
			       rg_device());
	v_ah_attr(self, &ah);
	ret = ibv_resolve_eth_l2_from_gid(self->ctx, &ah, mac, &vid);
	RG_ASSERT_EQ(ret, 0);
	/* Our own GID resolves to the port's own, non-zero MAC. */
	RG_EXPECT_NE(memcmp(mac, zero, sizeof(mac)), 0);
	if (vid != 0xffff) /* 0xffff: no VLAN */
		RG_EXPECT_LT(vid, 4096);
}

RG_TEST_F(verbs, async_event_none, device)
{
	struct ibv_async_event event;
	int flags;

	flags = fcntl(self->ctx->async_fd, F_GETFL);
	RG_ASSERT_EQ(fcntl(self->ctx->async_fd, F_SETFL, flags | O_NONBLOCK),
		     0);
	errno = 0;
	RG_EXPECT_EQ(ibv_get_async_event(self->ctx, &event), -1);
	RG_EXPECT_ERRNO(errno, EAGAIN);
}

/* An SRQ armed with a limit raises SRQ_LIMIT_REACHED once its posted
 * receives fall below it: the one async event any device can be made to give.
 */
RG_TEST_F(verbs, async_event_srq_limit, device)
{
	struct vpair p;
	struct ibv_srq_init_attr init = { .attr = { .max_wr = 16,
						    .max_sge = 1 } };
	struct ibv_srq_attr arm = { .srq_limit = 3 };
	struct ibv_async_event event;
	struct ibv_srq *srq;
	struct ibv_qp_init_attr qpi = { 0 };
	struct ibv_sge sge;
	struct ibv_send_wr wr = V_SEND_WR(0, IBV_WR_SEND, &sge);
	struct ibv_recv_wr rwr = { .num_sge = 1, .sg_list = &sge }, *bad;
	struct ibv_wc wc;
	int i, ret;

	srq = ibv_create_srq(self->pd, &init);
	if (!srq)
		rg_unsupported_or_fail(errno, "ibv_create_srq");
	memset(&p, 0, sizeof(p));
	p.a.cq = v_cq(self, 64);
	p.a.qp = v_qp(self, IBV_QPT_RC, p.a.cq, NULL);
	qpi.send_cq = qpi.recv_cq = p.a.cq;
	qpi.srq = srq;
	qpi.qp_type = IBV_QPT_RC;
	qpi.cap.max_send_wr = 4;
	qpi.cap.max_send_sge = 1;
	p.b.qp = ibv_create_qp(self->pd, &qpi);
	RG_ASSERT_NOT_NULL(p.b.qp);
	p.a.buf = v_buf(4096);
	p.a.mr = v_mr(self, p.a.buf, 4096, V_MR_ACCESS);
	v_connect(self, p.a.qp, p.b.qp, &V_CONN_DEFAULT);
	v_sge(&sge, p.a.buf + 2048, 64, p.a.mr->lkey);
	for (i = 0; i < 4; i++) {
		rwr.wr_id = 100 + i;
		RG_ASSERT_EQ(ibv_post_srq_recv(srq, &rwr, &bad), 0);
	}
	ret = ibv_modify_srq(srq, &arm, IBV_SRQ_LIMIT);
	if (ret)
		rg_unsupported_or_fail(ret, "ibv_modify_srq(IBV_SRQ_LIMIT)");
	v_sge(&sge, p.a.buf, 64, p.a.mr->lkey);
	for (i = 0; i < 2; i++) {
		wr.wr_id = i;
		v_post_send(p.a.qp, &wr);
		v_wait(p.a.cq, &wc, "send into the SRQ");
		if (wc.opcode != IBV_WC_SEND)
			v_wait(p.a.cq, &wc, "send into the SRQ");
	}
	/* Blocking read: the event must be there (or the test times out). */
	RG_ASSERT_EQ(ibv_get_async_event(self->ctx, &event), 0);
	RG_EXPECT_EQ(event.event_type, IBV_EVENT_SRQ_LIMIT_REACHED);
	if (event.event_type == IBV_EVENT_SRQ_LIMIT_REACHED)
		RG_EXPECT_PTR_EQ(event.element.srq, srq);
	ibv_ack_async_event(&event);
}

RG_TEST_F(verbs, import_device, device)
{
	struct ibv_context *imported;
	struct ibv_pd *pd;
	struct ibv_mr *mr, *imr;
	void *buf = v_buf(4096);
	int fd;

	fd = dup(self->ctx->cmd_fd);
	RG_ASSERT_GE(fd, 0);
	imported = ibv_import_device(fd);
	if (!imported) {
		int err = errno;

		/* The per-object imports must refuse as cleanly on a context
		 * that cannot share its objects. */
		RG_EXPECT_NULL(ibv_import_pd(self->ctx, self->pd->handle));
		RG_EXPECT_NULL(ibv_import_mr(self->pd, 0));
		rg_unsupported_or_fail(err, "ibv_import_device");
	}
	pd = ibv_import_pd(imported, self->pd->handle);
	RG_ASSERT_NOT_NULL(pd);
	RG_EXPECT_EQ(pd->handle, self->pd->handle);
	mr = v_mr(self, buf, 4096, IBV_ACCESS_LOCAL_WRITE);
	imr = ibv_import_mr(pd, mr->lkey);
	RG_ASSERT_NOT_NULL(imr);
	RG_EXPECT_EQ(imr->length, 4096);
	RG_EXPECT_EQ(imr->rkey, mr->rkey);
	ibv_unimport_mr(imr);
	ibv_unimport_pd(pd);
	RG_EXPECT_EQ(ibv_close_device(imported), 0);
}

RG_TEST_F(verbs, query_rt_values, device)
{
	struct ibv_values_ex values = { .comp_mask =
						IBV_VALUES_MASK_RAW_CLOCK };
	int ret;

	ret = ibv_query_rt_values_ex(self->ctx, &values);
	if (ret)
		rg_unsupported_or_fail(ret, "ibv_query_rt_values_ex");
	RG_EXPECT(values.raw_clock.tv_sec || values.raw_clock.tv_nsec);
}
