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
#include "verbs_tests.h"

void test_device_list(void)
{
	struct ibv_device **list;
	int i, n = -1, found = -1;

	list = ibv_get_device_list(&n);
	CU_ASSERT_PTR_NOT_NULL_FATAL(list);
	CU_ASSERT_PTR_NULL(list[n]);
	for (i = 0; i < n; i++)
		if (!strcmp(ibv_get_device_name(list[i]), rg_device()))
			found = i;
	if (found < 0)
		rg_fail("%s is not in ibv_get_device_list()", rg_device());
	/* rxe and HCAs derive the node GUID from hardware: never zero. */
	CU_ASSERT_NOT_EQUAL(ibv_get_device_guid(list[found]), 0);
	CU_ASSERT(ibv_get_device_index(list[found]) >= 0);
	ibv_free_device_list(list);
}

void test_open_close_device(void)
{
	struct ibv_device **list;
	struct ibv_context *ctx;
	int i, n;

	list = ibv_get_device_list(&n);
	CU_ASSERT_PTR_NOT_NULL_FATAL(list);
	for (i = 0; i < n; i++) {
		if (strcmp(ibv_get_device_name(list[i]), rg_device()))
			continue;
		ctx = ibv_open_device(list[i]);
		CU_ASSERT_PTR_NOT_NULL_FATAL(ctx);
		CU_ASSERT_PTR_EQUAL(ctx->device, list[i]);
		CU_ASSERT(ctx->cmd_fd >= 0);
		CU_ASSERT(ctx->async_fd >= 0);
		CU_ASSERT_EQUAL(ibv_close_device(ctx), 0);
	}
	ibv_free_device_list(list);
}

void test_query_device(void)
{
	struct vdev dev;
	struct ibv_device_attr_ex ex;

	v_open(&dev);
	CU_ASSERT(dev.attr.phys_port_cnt >= 1);
	CU_ASSERT(dev.attr.max_qp > 0 && dev.attr.max_cq > 0 && dev.attr.max_mr > 0);
	CU_ASSERT(dev.attr.max_qp_wr > 0 && dev.attr.max_cqe > 0 && dev.attr.max_sge > 0);
	CU_ASSERT(dev.attr.max_pd > 0);
	CU_ASSERT_EQUAL(dev.attr.node_guid, ibv_get_device_guid(dev.ctx->device));
	/* The extended query reports the same base attributes. */
	memset(&ex, 0, sizeof(ex));
	CU_ASSERT_EQUAL_FATAL(ibv_query_device_ex(dev.ctx, NULL, &ex), 0);
	CU_ASSERT_EQUAL(ex.orig_attr.max_qp, dev.attr.max_qp);
	CU_ASSERT_EQUAL(ex.orig_attr.max_cqe, dev.attr.max_cqe);
	CU_ASSERT_EQUAL(ex.orig_attr.node_guid, dev.attr.node_guid);
	CU_ASSERT_STRING_EQUAL(ex.orig_attr.fw_ver, dev.attr.fw_ver);
}

void test_query_port(void)
{
	struct vdev dev;
	struct ibv_port_attr port;

	v_open(&dev);
	memset(&port, 0xa5, sizeof(port));
	CU_ASSERT_EQUAL_FATAL(ibv_query_port(dev.ctx, V_PORT, &port), 0);
	CU_ASSERT_EQUAL(port.state, IBV_PORT_ACTIVE);
	CU_ASSERT(port.active_mtu >= IBV_MTU_256 && port.active_mtu <= port.max_mtu);
	CU_ASSERT(port.gid_tbl_len > 0);
	CU_ASSERT(port.pkey_tbl_len > 0);
	CU_ASSERT(port.link_layer == IBV_LINK_LAYER_ETHERNET ||
		  port.link_layer == IBV_LINK_LAYER_INFINIBAND);
	/* A port that does not exist is an error, not garbage. */
	errno = 0;
	CU_ASSERT_NOT_EQUAL(ibv_query_port(dev.ctx, dev.attr.phys_port_cnt + 1, &port), 0);
}

/* The GID as the kernel shows it in sysfs, "fe80:0000:...". */
static void sysfs_gid(const char *dev, int index, char *out, size_t size)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "/sys/class/infiniband/%s/ports/%d/gids/%d", dev,
		 V_PORT, index);
	f = fopen(path, "r");
	if (!f)
		rg_error("%s: %s", path, strerror(errno));
	if (!fgets(out, (int)size, f))
		*out = '\0';
	out[strcspn(out, "\n")] = '\0';
	fclose(f);
}

void test_query_gid(void)
{
	struct vdev dev;
	char text[64], sys[64];
	int i;

	v_open(&dev);
	for (i = 0; i < 8; i++)
		snprintf(text + 5 * i, sizeof(text) - 5 * i, "%02x%02x%s",
			 dev.gid.raw[2 * i], dev.gid.raw[2 * i + 1], i < 7 ? ":" : "");
	sysfs_gid(rg_device(), dev.gid_index, sys, sizeof(sys));
	CU_ASSERT_STRING_EQUAL(text, sys);
}

void test_query_gid_ex(void)
{
#ifdef HAVE_IBV_QUERY_GID_EX
	struct vdev dev;
	struct ibv_gid_entry entry;
	int ret;

	v_open(&dev);
	ret = ibv_query_gid_ex(dev.ctx, V_PORT, dev.gid_index, &entry, 0);
	if (ret == EOPNOTSUPP)
		rg_unsupported("ibv_query_gid_ex: %s", strerror(ret));
	CU_ASSERT_EQUAL_FATAL(ret, 0);
	CU_ASSERT_EQUAL(memcmp(&entry.gid, &dev.gid, sizeof(dev.gid)), 0);
	CU_ASSERT_EQUAL(entry.gid_index, (uint32_t)dev.gid_index);
	CU_ASSERT_EQUAL(entry.port_num, V_PORT);
	if (dev.roce) {
		CU_ASSERT_EQUAL(entry.gid_type, IBV_GID_TYPE_ROCE_V2);
		CU_ASSERT(entry.ndev_ifindex > 0);
	}
#else
	rg_skip("stack lacks ibv_query_gid_ex (rdma-core < 32)");
#endif
}

void test_query_gid_table(void)
{
#ifdef HAVE_IBV_QUERY_GID_EX
	struct vdev dev;
	struct ibv_gid_entry entries[256];
	ssize_t n, i;
	bool found = false;

	v_open(&dev);
	n = ibv_query_gid_table(dev.ctx, entries, 256, 0);
	if (n == -EOPNOTSUPP)
		rg_unsupported("ibv_query_gid_table: %s", strerror(EOPNOTSUPP));
	CU_ASSERT_FATAL(n > 0);
	for (i = 0; i < n; i++)
		if (entries[i].gid_index == (uint32_t)dev.gid_index &&
		    !memcmp(&entries[i].gid, &dev.gid, sizeof(dev.gid)))
			found = true;
	CU_ASSERT(found);
#else
	rg_skip("stack lacks ibv_query_gid_table (rdma-core < 32)");
#endif
}

void test_query_pkey(void)
{
	struct vdev dev;
	__be16 pkey = 0;

	v_open(&dev);
	CU_ASSERT_EQUAL_FATAL(ibv_query_pkey(dev.ctx, V_PORT, 0, &pkey), 0);
	/* Index 0 holds the default partition, full membership. */
	CU_ASSERT_EQUAL(be16toh(pkey), 0xffff);
	CU_ASSERT_EQUAL(ibv_get_pkey_index(dev.ctx, V_PORT, pkey), 0);
	CU_ASSERT(ibv_get_pkey_index(dev.ctx, V_PORT, htobe16(0x1234)) < 0);
}

void test_rate_conversions(void)
{
	static const enum ibv_rate rates[] = {
		IBV_RATE_2_5_GBPS, IBV_RATE_5_GBPS, IBV_RATE_10_GBPS, IBV_RATE_20_GBPS,
		IBV_RATE_25_GBPS, IBV_RATE_40_GBPS, IBV_RATE_56_GBPS, IBV_RATE_100_GBPS,
		IBV_RATE_200_GBPS,
	};
	size_t i;

	CU_ASSERT_EQUAL(ibv_rate_to_mult(IBV_RATE_10_GBPS), 4);
	CU_ASSERT_EQUAL(mult_to_ibv_rate(4), IBV_RATE_10_GBPS);
	CU_ASSERT_EQUAL(ibv_rate_to_mbps(IBV_RATE_10_GBPS), 10000);
	CU_ASSERT_EQUAL(mbps_to_ibv_rate(25781), IBV_RATE_25_GBPS);
	for (i = 0; i < sizeof(rates) / sizeof(rates[0]); i++)
		CU_ASSERT_EQUAL(mbps_to_ibv_rate(ibv_rate_to_mbps(rates[i])), rates[i]);
	CU_ASSERT_EQUAL(mult_to_ibv_rate(3), IBV_RATE_MAX);
}

void test_resolve_eth_l2(void)
{
	struct vdev dev;
	struct ibv_ah_attr ah;
	uint8_t mac[6] = { 0 }, zero[6] = { 0 };
	uint16_t vid = 0xffff;
	int ret;

	v_open(&dev);
	if (!dev.roce)
		rg_unsupported("%s is not an Ethernet (RoCE) port", rg_device());
	v_ah_attr(&dev, &ah);
	ret = ibv_resolve_eth_l2_from_gid(dev.ctx, &ah, mac, &vid);
	CU_ASSERT_EQUAL_FATAL(ret, 0);
	/* Our own GID resolves to the port's own, non-zero MAC. */
	CU_ASSERT_NOT_EQUAL(memcmp(mac, zero, sizeof(mac)), 0);
	CU_ASSERT(vid == 0xffff || vid < 4096);
}

void test_async_event_none(void)
{
	struct vdev dev;
	struct ibv_async_event event;
	int flags;

	v_open(&dev);
	flags = fcntl(dev.ctx->async_fd, F_GETFL);
	CU_ASSERT_EQUAL_FATAL(fcntl(dev.ctx->async_fd, F_SETFL, flags | O_NONBLOCK), 0);
	errno = 0;
	CU_ASSERT_EQUAL(ibv_get_async_event(dev.ctx, &event), -1);
	CU_ASSERT_EQUAL(errno, EAGAIN);
}

/* An SRQ armed with a limit raises SRQ_LIMIT_REACHED once its posted
 * receives fall below it: the one async event any device can be made to give. */
void test_async_event_srq_limit(void)
{
	struct vdev dev;
	struct vpair p;
	struct ibv_srq_init_attr init = { .attr = { .max_wr = 16, .max_sge = 1 } };
	struct ibv_srq_attr arm = { .srq_limit = 3 };
	struct ibv_async_event event;
	struct ibv_srq *srq;
	struct ibv_qp_init_attr qpi = { 0 };
	struct ibv_sge sge;
	struct ibv_send_wr wr = { .sg_list = &sge, .num_sge = 1, .opcode = IBV_WR_SEND,
				  .send_flags = IBV_SEND_SIGNALED };
	struct ibv_recv_wr rwr = { .num_sge = 1, .sg_list = &sge }, *bad;
	struct ibv_wc wc;
	int i, ret;

	v_open(&dev);
	srq = ibv_create_srq(dev.pd, &init);
	if (!srq)
		rg_unsupported("ibv_create_srq: %s", strerror(errno));
	memset(&p, 0, sizeof(p));
	p.a.cq = v_cq(&dev, 64);
	p.a.qp = v_qp(&dev, IBV_QPT_RC, p.a.cq, NULL);
	qpi.send_cq = qpi.recv_cq = p.a.cq;
	qpi.srq = srq;
	qpi.qp_type = IBV_QPT_RC;
	qpi.cap.max_send_wr = 4;
	qpi.cap.max_send_sge = 1;
	p.b.qp = ibv_create_qp(dev.pd, &qpi);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p.b.qp);
	p.a.buf = v_buf(4096);
	p.a.mr = v_mr(&dev, p.a.buf, 4096, V_MR_ACCESS);
	v_connect(&dev, p.a.qp, p.b.qp, &V_CONN_DEFAULT);
	v_sge(&sge, p.a.buf + 2048, 64, p.a.mr->lkey);
	for (i = 0; i < 4; i++) {
		rwr.wr_id = 100 + i;
		CU_ASSERT_EQUAL_FATAL(ibv_post_srq_recv(srq, &rwr, &bad), 0);
	}
	ret = ibv_modify_srq(srq, &arm, IBV_SRQ_LIMIT);
	if (ret)
		rg_unsupported("ibv_modify_srq(IBV_SRQ_LIMIT): %s", strerror(ret));
	v_sge(&sge, p.a.buf, 64, p.a.mr->lkey);
	for (i = 0; i < 2; i++) {
		wr.wr_id = i;
		v_post_send(p.a.qp, &wr);
		v_wait(p.a.cq, &wc, "send into the SRQ");
		if (wc.opcode != IBV_WC_SEND)
			v_wait(p.a.cq, &wc, "send into the SRQ");
	}
	/* Blocking read: the event must be there (or the test times out). */
	CU_ASSERT_EQUAL_FATAL(ibv_get_async_event(dev.ctx, &event), 0);
	CU_ASSERT_EQUAL(event.event_type, IBV_EVENT_SRQ_LIMIT_REACHED);
	if (event.event_type == IBV_EVENT_SRQ_LIMIT_REACHED)
		CU_ASSERT_PTR_EQUAL(event.element.srq, srq);
	ibv_ack_async_event(&event);
}

void test_import_device(void)
{
	struct vdev dev;
	struct ibv_context *imported;
	struct ibv_pd *pd;
	struct ibv_mr *mr, *imr;
	void *buf = v_buf(4096);
	int fd;

	v_open(&dev);
	fd = dup(dev.ctx->cmd_fd);
	CU_ASSERT_FATAL(fd >= 0);
	imported = ibv_import_device(fd);
	if (!imported) {
		int err = errno;

		/* The per-object imports must refuse as cleanly on a context
		 * that cannot share its objects. */
		CU_ASSERT_PTR_NULL(ibv_import_pd(dev.ctx, dev.pd->handle));
		CU_ASSERT_PTR_NULL(ibv_import_mr(dev.pd, 0));
		rg_unsupported("ibv_import_device: %s", strerror(err));
	}
	pd = ibv_import_pd(imported, dev.pd->handle);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pd);
	CU_ASSERT_EQUAL(pd->handle, dev.pd->handle);
	mr = v_mr(&dev, buf, 4096, IBV_ACCESS_LOCAL_WRITE);
	imr = ibv_import_mr(pd, mr->lkey);
	CU_ASSERT_PTR_NOT_NULL_FATAL(imr);
	CU_ASSERT_EQUAL(imr->length, 4096);
	CU_ASSERT_EQUAL(imr->rkey, mr->rkey);
	ibv_unimport_mr(imr);
	ibv_unimport_pd(pd);
	CU_ASSERT_EQUAL(ibv_close_device(imported), 0);
}

void test_query_rt_values(void)
{
	struct vdev dev;
	struct ibv_values_ex values = { .comp_mask = IBV_VALUES_MASK_RAW_CLOCK };
	int ret;

	v_open(&dev);
	ret = ibv_query_rt_values_ex(dev.ctx, &values);
	if (ret)
		rg_unsupported("ibv_query_rt_values_ex: %s", strerror(ret));
	CU_ASSERT(values.raw_clock.tv_sec || values.raw_clock.tv_nsec);
}
