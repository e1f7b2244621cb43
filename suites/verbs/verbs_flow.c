// SPDX-License-Identifier: MIT
/* Flow steering, the counters bound to a rule, and flow actions (ESP):
 * optional objects, UNSUPPORTED with the device's own answer when absent. */
#include <errno.h>
#include <string.h>

#include "verbs_common.h"

/*
 * Flow steering. A rule is first created on a UD QP (the call itself, which
 * a device without steering refuses: UNSUPPORTED with its errno); where it
 * is had, raw Ethernet QPs show what a rule does: a frame to the rule's MAC
 * sent from one raw QP arrives at the rule's QP, and counters bound to the
 * rule count it. No device of the lab has steering (rxe refuses the call),
 * so the steering half runs on hardware only.
 */
struct flow_rule {
	struct ibv_flow_attr attr;
	struct ibv_flow_spec_eth eth;
	struct ibv_flow_spec_counter_action count;
};

#define V_FLOW_FRAME 78 /* 14 bytes of Ethernet header, 64 of payload */

static void flow_rule(struct flow_rule *rule, struct ibv_counters *counters)
{
	static const uint8_t mac[6] = { 0x02, 0, 0, 0x5e, 0, 1 };

	memset(rule, 0, sizeof(*rule));
	rule->attr.type = IBV_FLOW_ATTR_NORMAL;
	rule->attr.size = sizeof(rule->attr) + sizeof(rule->eth);
	rule->attr.num_of_specs = 1;
	rule->attr.port = V_PORT;
	rule->eth.type = IBV_FLOW_SPEC_ETH;
	rule->eth.size = sizeof(rule->eth);
	memcpy(rule->eth.val.dst_mac, mac, 6);
	memset(rule->eth.mask.dst_mac, 0xff, 6);
	if (counters) {
		rule->count.type = IBV_FLOW_SPEC_ACTION_COUNT;
		rule->count.size = sizeof(rule->count);
		rule->count.counters = counters;
		rule->attr.size += sizeof(rule->count);
		rule->attr.num_of_specs = 2;
	}
}

/* A raw Ethernet QP, ready to receive (and to send when send). */
static struct ibv_qp *raw_qp(struct vdev *dev, struct ibv_cq *cq, bool send)
{
	struct ibv_qp_init_attr init = { .send_cq = cq,
					 .recv_cq = cq,
					 .qp_type = IBV_QPT_RAW_PACKET,
					 .cap = { .max_send_wr = 4,
						  .max_recv_wr = 4,
						  .max_send_sge = 1,
						  .max_recv_sge = 1 } };
	struct ibv_qp_attr attr = { .qp_state = IBV_QPS_INIT,
				    .port_num = V_PORT };
	struct ibv_qp *qp = ibv_create_qp(dev->pd, &init);

	if (!qp)
		rg_unsupported_or_fail(errno,
				       "ibv_create_qp(IBV_QPT_RAW_PACKET)");
	if (ibv_modify_qp(qp, &attr, IBV_QP_STATE | IBV_QP_PORT))
		rg_error("raw QP to INIT: %s", strerror(errno));
	attr.qp_state = IBV_QPS_RTR;
	if (ibv_modify_qp(qp, &attr, IBV_QP_STATE))
		rg_error("raw QP to RTR: %s", strerror(errno));
	attr.qp_state = IBV_QPS_RTS;
	if (send && ibv_modify_qp(qp, &attr, IBV_QP_STATE))
		rg_error("raw QP to RTS: %s", strerror(errno));
	return qp;
}

/* Raw QPs and a buffer for one frame to the rule's MAC and its receive. */
struct vflow {
	struct ibv_cq *cq;
	struct ibv_qp *tx, *rx;
	uint8_t *buf; /* the frame at 0, the receive at 4096 */
	struct ibv_mr *mr;
};

static void flow_setup(struct vdev *dev, struct vflow *f)
{
	static const uint8_t header[14] = {
		0x02, 0, 0,    0x5e, 0, 1,    0x02,
		0,    0, 0x5e, 0,    2, 0x88, 0xb5 /* local experimental */
	};

	f->cq = v_cq(dev, 16);
	f->rx = raw_qp(dev, f->cq, false);
	f->tx = raw_qp(dev, f->cq, true);
	f->buf = v_buf(8192);
	f->mr = v_mr(dev, f->buf, 8192, IBV_ACCESS_LOCAL_WRITE);
	memcpy(f->buf, header, sizeof(header));
	v_fill(f->buf + 14, V_FLOW_FRAME - 14, 61);
}

/* The frame sent from tx: true when it arrived at rx, as sent. */
static bool frame_arrives(struct vflow *f)
{
	struct ibv_sge sge;
	struct ibv_send_wr wr = V_SEND_WR(71, IBV_WR_SEND, &sge);
	struct ibv_wc wc;

	memset(f->buf + 4096, 0, 4096);
	v_post_recv(f->rx, 72, f->buf + 4096, 2048, f->mr->lkey);
	v_sge(&sge, f->buf, V_FLOW_FRAME, f->mr->lkey);
	v_post_send(f->tx, &wr);
	v_wait(f->cq, &wc, "a raw Ethernet frame sent");
	v_expect_wc(&wc, IBV_WC_SEND, 71);
	if (v_none_within(f->cq, 500))
		return false;
	v_wait(f->cq, &wc, "the steered frame");
	v_expect_wc(&wc, IBV_WC_RECV, 72);
	RG_EXPECT_EQ(wc.byte_len, V_FLOW_FRAME);
	RG_EXPECT_DATA(!memcmp(f->buf + 4096, f->buf, V_FLOW_FRAME));
	return true;
}

RG_TEST_F(verbs, flow, device)
{
	struct flow_rule rule;
	struct ibv_cq *cq;
	struct ibv_qp *qp;
	struct ibv_flow *flow;
	struct vflow f;

	flow_rule(&rule, NULL);
	cq = v_cq(self, 16);
	qp = v_qp(self, IBV_QPT_UD, cq, NULL);
	v_ud_ready(self, qp);
	flow = ibv_create_flow(qp, &rule.attr);
	if (!flow)
		rg_unsupported_or_fail(errno, "ibv_create_flow");
	RG_EXPECT_EQ(ibv_destroy_flow(flow), 0);
	/* What the rule does: the frame reaches its QP, and once the rule is
	 * gone it does not. */
	flow_setup(self, &f);
	flow = ibv_create_flow(f.rx, &rule.attr);
	if (!flow)
		rg_fail("ibv_create_flow on a raw QP: %s", strerror(errno));
	if (!frame_arrives(&f))
		rg_fail("a frame to the rule's MAC did not reach the rule's "
			"QP");
	RG_EXPECT_EQ(ibv_destroy_flow(flow), 0);
	RG_EXPECT(!frame_arrives(&f));
}

/* Counters bound to a flow rule (ibv_attach_counters_point_flow, static:
 * bound when the rule is created): after one steered frame, packets 1 and
 * bytes the frame's length. */
RG_TEST_F(verbs, counters, device)
{
	struct ibv_counters_init_attr attr = { 0 };
	struct ibv_counter_attach_attr packets = { .counter_desc =
							   IBV_COUNTER_PACKETS,
						   .index = 0 };
	struct ibv_counter_attach_attr bytes = { .counter_desc =
							 IBV_COUNTER_BYTES,
						 .index = 1 };
	struct ibv_counters *counters;
	struct flow_rule rule;
	struct ibv_flow *flow;
	struct vflow f;
	uint64_t value[2] = { 0, 0 };
	int ret;

	counters = ibv_create_counters(self->ctx, &attr);
	if (!counters)
		rg_unsupported_or_fail(errno, "ibv_create_counters");
	ret = ibv_attach_counters_point_flow(counters, &packets, NULL);
	if (ret)
		rg_unsupported_or_fail(
			ret, "ibv_attach_counters_point_flow(PACKETS)");
	ret = ibv_attach_counters_point_flow(counters, &bytes, NULL);
	if (ret)
		rg_unsupported_or_fail(ret,
				       "ibv_attach_counters_point_flow(BYTES)");
	flow_setup(self, &f);
	flow_rule(&rule, counters);
	flow = ibv_create_flow(f.rx, &rule.attr);
	if (!flow)
		rg_unsupported_or_fail(
			errno, "ibv_create_flow with a counters action");
	if (!frame_arrives(&f))
		rg_fail("a frame to the rule's MAC did not reach the rule's "
			"QP");
	RG_EXPECT_EQ(ibv_read_counters(counters, value, 2, 0), 0);
	RG_EXPECT_EQ(value[0], 1);
	RG_EXPECT_EQ(value[1], V_FLOW_FRAME);
	RG_EXPECT_EQ(ibv_destroy_flow(flow), 0);
	RG_EXPECT_EQ(ibv_destroy_counters(counters), 0);
}

/* An IPsec ESP flow action (AES-GCM, 128-bit key), its ESN changed, then
 * destroyed. Its effect on traffic needs an ESP-offloading NIC and a flow
 * rule over IPsec, which no generic test has; the calls' results are
 * checked. */
RG_TEST_F(verbs, flow_action_esp, device)
{
	struct ibv_flow_action_esp esp = { .spi = htobe32(0x1000), .seq = 1 };
	struct ibv_flow_action_esp_keymat_aes_gcm key = {
		.iv_algo = IBV_FLOW_ACTION_IV_ALGO_SEQ,
		.icv_len = 16,
		.key_len = 16
	};
	struct ibv_flow_action_esp_attr attr = {
		.esp_attr = &esp,
		.keymat_proto = IBV_FLOW_ACTION_ESP_KEYMAT_AES_GCM,
		.keymat_len = sizeof(key),
		.keymat_ptr = &key,
		.comp_mask = IBV_FLOW_ACTION_ESP_MASK_ESN,
		.esn = 1
	};
	struct ibv_flow_action *action =
		ibv_create_flow_action_esp(self->ctx, &attr);

	if (!action)
		rg_unsupported_or_fail(errno, "ibv_create_flow_action_esp");
	attr.esn = 2;
	RG_EXPECT_EQ(ibv_modify_flow_action_esp(action, &attr), 0);
	RG_EXPECT_EQ(ibv_destroy_flow_action(action), 0);
}
