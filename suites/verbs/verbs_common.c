// SPDX-License-Identifier: MIT
/* The verbs suite's fixtures (see verbs_common.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "verbs_common.h"

static struct ibv_context *open_named(const char *name)
{
	struct ibv_device **list;
	struct ibv_context *ctx = NULL;
	int i, n;

	list = ibv_get_device_list(&n);
	if (!list)
		rg_error("ibv_get_device_list: %s", strerror(errno));
	for (i = 0; i < n && !ctx; i++)
		if (!strcmp(ibv_get_device_name(list[i]), name))
			ctx = ibv_open_device(list[i]);
	ibv_free_device_list(list);
	if (!ctx)
		rg_error("device %s: not present or cannot be opened", name);
	return ctx;
}

/* "RoCE v2" from sysfs; "" where the kernel does not say. */
static void gid_type(const char *dev, int index, char *out, size_t size)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path),
		 "/sys/class/infiniband/%s/ports/%d/gid_attrs/types/%d", dev,
		 V_PORT, index);
	*out = '\0';
	f = fopen(path, "r");
	if (!f)
		return;
	if (!fgets(out, (int)size, f))
		*out = '\0';
	out[strcspn(out, "\n")] = '\0';
	fclose(f);
}

/* RoCE: the first RoCE v2 GID that maps an IPv4 address (what rdma_cm and
 * perftest's -x pick); IB: index 0. The plan's gid_index wins. */
static int choose_gid(struct vdev *dev)
{
	const char *param = rg_param("gid_index");
	char type[64];
	union ibv_gid gid;
	int i;

	if (param)
		return atoi(param);
	if (!dev->roce)
		return 0;
	for (i = 0; i < dev->port.gid_tbl_len; i++) {
		if (ibv_query_gid(dev->ctx, V_PORT, i, &gid))
			continue;
		gid_type(ibv_get_device_name(dev->ctx->device), i, type,
			 sizeof(type));
		if (!strcmp(type, "RoCE v2") && gid.raw[10] == 0xff &&
		    gid.raw[11] == 0xff)
			return i;
	}
	rg_error("%s: no RoCE v2 GID with an IPv4 address on port %d",
		 ibv_get_device_name(dev->ctx->device), V_PORT);
}

void v_open(struct vdev *dev)
{
	memset(dev, 0, sizeof(*dev));
	dev->ctx = open_named(rg_device());
	if (ibv_query_device(dev->ctx, &dev->attr))
		rg_error("ibv_query_device: %s", strerror(errno));
	if (ibv_query_port(dev->ctx, V_PORT, &dev->port))
		rg_error("ibv_query_port: %s", strerror(errno));
	if (dev->port.state != IBV_PORT_ACTIVE)
		rg_error("port %d of %s is %s, not ACTIVE", V_PORT, rg_device(),
			 ibv_port_state_str(dev->port.state));
	dev->roce = dev->port.link_layer == IBV_LINK_LAYER_ETHERNET;
	dev->gid_index = choose_gid(dev);
	if (ibv_query_gid(dev->ctx, V_PORT, dev->gid_index, &dev->gid))
		rg_error("ibv_query_gid %d: %s", dev->gid_index,
			 strerror(errno));
	dev->pd = ibv_alloc_pd(dev->ctx);
	if (!dev->pd)
		rg_error("ibv_alloc_pd: %s", strerror(errno));
}

struct ibv_cq *v_cq(struct vdev *dev, int cqe)
{
	struct ibv_cq *cq = ibv_create_cq(dev->ctx, cqe, NULL, NULL, 0);

	if (!cq)
		rg_error("ibv_create_cq(%d): %s", cqe, strerror(errno));
	return cq;
}

struct ibv_mr *v_mr(struct vdev *dev, void *buf, size_t len, int access)
{
	struct ibv_mr *mr = ibv_reg_mr(dev->pd, buf, len, access);

	if (!mr)
		rg_error("ibv_reg_mr(%zu bytes): %s", len, strerror(errno));
	return mr;
}

struct ibv_qp *v_qp(struct vdev *dev, enum ibv_qp_type type, struct ibv_cq *cq,
		    struct ibv_srq *srq)
{
	struct ibv_qp_init_attr init = {
		.send_cq = cq,
		.recv_cq = cq,
		.srq = srq,
		.qp_type = type,
		.cap = { .max_send_wr = 16,
			 .max_recv_wr = 16,
			 .max_send_sge = 4,
			 .max_recv_sge = 4,
			 .max_inline_data = V_INLINE },
	};
	struct ibv_qp *qp = ibv_create_qp(dev->pd, &init);

	if (!qp && errno == EINVAL) {
		/* Not every device inlines: ask again without it, and say so
		 * (the tests of inline sends read the QP's own capacity). */
		init.cap.max_inline_data = 0;
		qp = ibv_create_qp(dev->pd, &init);
		if (qp)
			fprintf(stderr,
				"ibv_create_qp(type %d): max_inline_data %d "
				"refused, "
				"created without inline\n",
				type, V_INLINE);
	}
	if (!qp)
		rg_error("ibv_create_qp(type %d): %s", type, strerror(errno));
	/* A QP created as asked must have what was asked (the call writes the
	 * capacities it granted back, at least those requested). */
	if (init.cap.max_inline_data && init.cap.max_inline_data < V_INLINE)
		rg_fail("ibv_create_qp(type %d) granted max_inline_data %u of "
			"%d asked",
			type, init.cap.max_inline_data, V_INLINE);
	return qp;
}

struct ibv_qp_cap v_qp_cap(struct ibv_qp *qp)
{
	struct ibv_qp_attr attr;
	struct ibv_qp_init_attr init;

	RG_ASSERT_EQ(ibv_query_qp(qp, &attr, IBV_QP_CAP, &init), 0);
	return init.cap;
}

void v_ah_attr(const struct vdev *dev, struct ibv_ah_attr *ah)
{
	memset(ah, 0, sizeof(*ah));
	ah->port_num = V_PORT;
	ah->dlid = dev->port.lid;
	if (dev->roce || dev->gid_index) {
		ah->is_global = 1;
		ah->grh.dgid = dev->gid;
		ah->grh.sgid_index = (uint8_t)dev->gid_index;
		ah->grh.hop_limit = 64;
	}
}

int v_qp_init(struct vdev *dev, struct ibv_qp *qp, int access)
{
	struct ibv_qp_attr attr = {
		.qp_state = IBV_QPS_INIT,
		.port_num = V_PORT,
		.pkey_index = 0,
		.qp_access_flags = access,
	};

	(void)dev;
	if (qp->qp_type == IBV_QPT_UD) {
		attr.qkey = V_QKEY;
		return ibv_modify_qp(qp, &attr,
				     IBV_QP_STATE | IBV_QP_PKEY_INDEX |
					     IBV_QP_PORT | IBV_QP_QKEY);
	}
	return ibv_modify_qp(qp, &attr,
			     IBV_QP_STATE | IBV_QP_PKEY_INDEX | IBV_QP_PORT |
				     IBV_QP_ACCESS_FLAGS);
}

int v_qp_rtr(struct vdev *dev, struct ibv_qp *qp, uint32_t remote_qpn)
{
	struct ibv_qp_attr attr = {
		.qp_state = IBV_QPS_RTR,
		.path_mtu = dev->port.active_mtu,
		.dest_qp_num = remote_qpn,
		.rq_psn = 0,
		.max_dest_rd_atomic = 1,
		.min_rnr_timer = 1,
	};
	int mask = IBV_QP_STATE | IBV_QP_AV | IBV_QP_PATH_MTU |
		   IBV_QP_DEST_QPN | IBV_QP_RQ_PSN;

	v_ah_attr(dev, &attr.ah_attr);
	if (qp->qp_type == IBV_QPT_RC)
		mask |= IBV_QP_MAX_DEST_RD_ATOMIC | IBV_QP_MIN_RNR_TIMER;
	return ibv_modify_qp(qp, &attr, mask);
}

int v_qp_rts(struct ibv_qp *qp, const struct vconn *conn)
{
	struct ibv_qp_attr attr = {
		.qp_state = IBV_QPS_RTS,
		.sq_psn = 0,
		.timeout = conn->timeout,
		.retry_cnt = conn->retry_cnt,
		.rnr_retry = conn->rnr_retry,
		.max_rd_atomic = 1,
	};
	int mask = IBV_QP_STATE | IBV_QP_SQ_PSN;

	if (qp->qp_type == IBV_QPT_RC)
		mask |= IBV_QP_TIMEOUT | IBV_QP_RETRY_CNT | IBV_QP_RNR_RETRY |
			IBV_QP_MAX_QP_RD_ATOMIC;
	return ibv_modify_qp(qp, &attr, mask);
}

void v_connect(struct vdev *dev, struct ibv_qp *a, struct ibv_qp *b,
	       const struct vconn *conn)
{
	struct ibv_qp *qps[2] = { a, b };
	int i;

	for (i = 0; i < 2; i++) {
		struct ibv_qp *me = qps[i], *peer = qps[1 - i];

		if (v_qp_init(dev, me, conn->access) ||
		    v_qp_rtr(dev, me, peer->qp_num) || v_qp_rts(me, conn))
			rg_error("connecting QP %u to %u: %s", me->qp_num,
				 peer->qp_num, strerror(errno));
	}
}

void v_ud_ready(struct vdev *dev, struct ibv_qp *qp)
{
	struct ibv_qp_attr attr = { .qp_state = IBV_QPS_RTR };

	if (v_qp_init(dev, qp, 0) || ibv_modify_qp(qp, &attr, IBV_QP_STATE))
		rg_error("UD QP %u to RTR: %s", qp->qp_num, strerror(errno));
	attr.qp_state = IBV_QPS_RTS;
	attr.sq_psn = 0;
	if (ibv_modify_qp(qp, &attr, IBV_QP_STATE | IBV_QP_SQ_PSN))
		rg_error("UD QP %u to RTS: %s", qp->qp_num, strerror(errno));
}

void *v_buf(size_t len)
{
	/* aligned_alloc wants a multiple of the alignment */
	size_t rounded = len ? (len + 4095) & ~(size_t)4095 : 4096;
	void *buf;

	if (rounded < len || !(buf = aligned_alloc(4096, rounded)))
		rg_error("out of memory for a %zu-byte buffer", len);
	memset(buf, 0, rounded);
	return buf;
}

static void end_init(struct vdev *dev, struct vend *end, enum ibv_qp_type type)
{
	end->cq = v_cq(dev, 64);
	end->qp = v_qp(dev, type, end->cq, NULL);
	end->buf = v_buf(V_BUF_SIZE);
	end->mr = v_mr(dev, end->buf, V_BUF_SIZE, V_MR_ACCESS);
}

void v_pair(struct vpair *pair, enum ibv_qp_type type, const struct vconn *conn)
{
	v_open(&pair->dev);
	end_init(&pair->dev, &pair->a, type);
	end_init(&pair->dev, &pair->b, type);
	if (type != IBV_QPT_UD) {
		v_connect(&pair->dev, pair->a.qp, pair->b.qp, conn);
		return;
	}
	v_ud_ready(&pair->dev, pair->a.qp);
	v_ud_ready(&pair->dev, pair->b.qp);
}

static void rc_pair_setup(struct vpair *pair)
{
	v_pair(pair, IBV_QPT_RC, &V_CONN_DEFAULT);
}

static void ud_pair_setup(struct vpair *pair)
{
	v_pair(pair, IBV_QPT_UD, NULL);
}

RG_FIXTURE(device, v_open);
RG_FIXTURE(rc_pair, rc_pair_setup);
RG_FIXTURE(ud_pair, ud_pair_setup);

void v_sge(struct ibv_sge *sge, void *addr, uint32_t len, uint32_t lkey)
{
	sge->addr = (uintptr_t)addr;
	sge->length = len;
	sge->lkey = lkey;
}

void v_post_send(struct ibv_qp *qp, struct ibv_send_wr *wr)
{
	struct ibv_send_wr *bad = NULL;
	int ret = ibv_post_send(qp, wr, &bad);

	if (ret)
		rg_error("ibv_post_send(opcode %d): %s", wr->opcode,
			 strerror(ret));
}

void v_post_recv(struct ibv_qp *qp, uint64_t wr_id, void *addr, uint32_t len,
		 uint32_t lkey)
{
	struct ibv_sge sge;
	struct ibv_recv_wr wr = { .wr_id = wr_id,
				  .sg_list = &sge,
				  .num_sge = 1 };
	struct ibv_recv_wr *bad = NULL;
	int ret;

	v_sge(&sge, addr, len, lkey);
	ret = ibv_post_recv(qp, &wr, &bad);
	if (ret)
		rg_error("ibv_post_recv: %s", strerror(ret));
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int poll_within(struct ibv_cq *cq, struct ibv_wc *wc, int ms)
{
	double deadline = now_ms() + ms;
	int n;

	do {
		n = ibv_poll_cq(cq, 1, wc);
		if (n)
			return n;
	} while (now_ms() < deadline);
	return 0;
}

void v_wait(struct ibv_cq *cq, struct ibv_wc *wc, const char *what)
{
	int n = poll_within(cq, wc, V_POLL_MS);

	if (n < 0)
		rg_fail("ibv_poll_cq while awaiting %s: %d", what, n);
	if (n == 0)
		rg_fail("no completion for %s within %d ms", what, V_POLL_MS);
}

void v_send_and_recv(struct ibv_qp *qp, struct ibv_send_wr *wr,
		     struct ibv_cq *cq, uint64_t recv_wr_id,
		     struct ibv_wc *recv, const char *what)
{
	struct ibv_wc wc;
	bool sent = false, received = false;

	v_post_send(qp, wr);
	while (!sent || !received) {
		v_wait(cq, &wc, what);
		if (wc.opcode == IBV_WC_SEND && !sent) {
			v_expect_wc(&wc, IBV_WC_SEND, wr->wr_id);
			sent = true;
		} else {
			v_expect_wc(&wc, IBV_WC_RECV, recv_wr_id);
			if (received)
				rg_fail("%s: a second receive completion",
					what);
			*recv = wc;
			received = true;
		}
	}
}

void v_ud_send(struct vend *from, struct ibv_ah *ah, uint32_t qpn,
	       uint64_t wr_id, uint32_t len, uint8_t seed)
{
	struct ibv_sge sge;
	struct ibv_send_wr wr = V_SEND_WR(wr_id, IBV_WR_SEND, &sge);
	struct ibv_wc wc;

	v_fill(from->buf, len, seed);
	v_sge(&sge, from->buf, len, from->mr->lkey);
	wr.wr.ud.ah = ah;
	wr.wr.ud.remote_qpn = qpn;
	wr.wr.ud.remote_qkey = V_QKEY;
	v_post_send(from->qp, &wr);
	v_wait(from->cq, &wc, "the datagram's send");
	v_expect_wc(&wc, IBV_WC_SEND, wr_id);
}

bool v_none_within(struct ibv_cq *cq, int ms)
{
	struct ibv_wc wc;

	return poll_within(cq, &wc, ms) == 0;
}

void v_expect_wc(const struct ibv_wc *wc, enum ibv_wc_opcode opcode,
		 uint64_t wr_id)
{
	if (wc->status != IBV_WC_SUCCESS)
		rg_fail("completion of wr %llu: %s (vendor error 0x%x)",
			(unsigned long long)wc->wr_id,
			ibv_wc_status_str(wc->status), wc->vendor_err);
	RG_EXPECT_EQ(wc->opcode, opcode);
	RG_EXPECT_EQ(wc->wr_id, wr_id);
}

void v_fill(uint8_t *buf, size_t len, uint8_t seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (uint8_t)(seed + i * 7);
}

size_t v_arrived(const uint8_t *buf, size_t len, uint8_t seed)
{
	size_t i;

	for (i = 0; i < len && buf[i] == (uint8_t)(seed + i * 7); i++)
		;
	return i;
}

bool v_check(const uint8_t *buf, size_t len, uint8_t seed)
{
	return v_arrived(buf, len, seed) == len;
}
