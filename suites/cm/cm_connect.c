// SPDX-License-Identifier: MIT
/*
 * librdmacm, asynchronous: event channels, ids, address and route
 * resolution, connect / accept / reject / disconnect with the events each
 * side must see, UD through the CM, multicast, options, ECE. Both sides run
 * in the test's own thread: every call is asynchronous and each side has
 * its own event channel.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <infiniband/verbs.h>

#include "cm_common.h"

CM_TEST(event_channel)
{
	struct rdma_event_channel *ch = rdma_create_event_channel();
	struct rdma_cm_id *tcp, *udp, *sync;

	RG_ASSERT_NOT_NULL(ch);
	RG_EXPECT_GE(ch->fd, 0);
	RG_ASSERT_EQ(rdma_create_id(ch, &tcp, NULL, RDMA_PS_TCP), 0);
	RG_ASSERT_EQ(rdma_create_id(ch, &udp, NULL, RDMA_PS_UDP), 0);
	RG_EXPECT_EQ(tcp->ps, RDMA_PS_TCP);
	RG_EXPECT_EQ(udp->ps, RDMA_PS_UDP);
	RG_EXPECT_PTR_EQ(tcp->channel, ch);
	/* Without a channel the id is synchronous. */
	RG_ASSERT_EQ(rdma_create_id(NULL, &sync, NULL, RDMA_PS_TCP), 0);
	RG_EXPECT_EQ(rdma_destroy_id(sync), 0);
	RG_EXPECT_EQ(rdma_destroy_id(udp), 0);
	RG_EXPECT_EQ(rdma_destroy_id(tcp), 0);
	rdma_destroy_event_channel(ch);
}

/* rdma_write_cm_event (rdma-core 65): a user event written to an id comes
 * back from its channel with the status and argument given. */
CM_TEST(write_cm_event)
{
#ifdef HAVE_RDMA_WRITE_CM_EVENT
	struct rdma_event_channel *ch = rdma_create_event_channel();
	struct rdma_cm_event *event;
	struct rdma_cm_id *id;

	RG_ASSERT_NOT_NULL(ch);
	RG_ASSERT_EQ(rdma_create_id(ch, &id, NULL, RDMA_PS_TCP), 0);
	if (rdma_write_cm_event(id, RDMA_CM_EVENT_USER, 7, 0x1234abcdull))
		rg_unsupported_or_fail(
			errno, "rdma_write_cm_event(RDMA_CM_EVENT_USER)");
	event = cm_expect(ch, RDMA_CM_EVENT_USER, "the event written");
	RG_EXPECT_PTR_EQ(event->id, id);
	RG_EXPECT_EQ(event->status, 7);
	RG_EXPECT_EQ(event->param.arg, 0x1234abcdull);
	RG_EXPECT_EQ(rdma_ack_cm_event(event), 0);
	RG_EXPECT_EQ(rdma_destroy_id(id), 0);
	rdma_destroy_event_channel(ch);
#else
	rg_skip("stack lacks rdma_write_cm_event (newer than this rdma-core)");
#endif
}

CM_TEST(get_devices)
{
	struct ibv_context **list;
	int i, n = -1;
	bool found = false;

	list = rdma_get_devices(&n);
	RG_ASSERT_NOT_NULL(list);
	RG_EXPECT_GE(n, 1);
	for (i = 0; i < n; i++)
		found |= !strcmp(ibv_get_device_name(list[i]->device),
				 rg_device());
	RG_EXPECT(found);
	rdma_free_devices(list);
}

CM_TEST(event_str)
{
	RG_EXPECT_STR_EQ(rdma_event_str(RDMA_CM_EVENT_ESTABLISHED),
			 "RDMA_CM_EVENT_ESTABLISHED");
	RG_EXPECT_STR_EQ(rdma_event_str(RDMA_CM_EVENT_REJECTED),
			 "RDMA_CM_EVENT_REJECTED");
}

CM_TEST(bind_listen)
{
	struct rdma_event_channel *ch = rdma_create_event_channel();
	struct rdma_cm_id *id, *other;
	struct sockaddr_in addr, *local;
	int ret, reuse = 1;

	cm_address(&addr, cm_port());
	RG_ASSERT_EQ(rdma_create_id(ch, &id, NULL, RDMA_PS_TCP), 0);
	RG_EXPECT_EQ(rdma_set_option(id, RDMA_OPTION_ID,
				     RDMA_OPTION_ID_REUSEADDR, &reuse,
				     sizeof(reuse)),
		     0);
	RG_ASSERT_EQ(rdma_bind_addr(id, (struct sockaddr *)&addr), 0);
	RG_EXPECT_EQ(rdma_get_src_port(id), addr.sin_port);
	RG_EXPECT_EQ(rdma_get_dst_port(id), 0);
	local = (struct sockaddr_in *)rdma_get_local_addr(id);
	RG_EXPECT_EQ(local->sin_addr.s_addr, addr.sin_addr.s_addr);
	RG_EXPECT_NOT_NULL(id->verbs); /* bound to a device's address */
	RG_EXPECT_EQ(rdma_listen(id, 4), 0);
	/* The same address and port again: in use. */
	RG_ASSERT_EQ(rdma_create_id(ch, &other, NULL, RDMA_PS_TCP), 0);
	ret = rdma_bind_addr(other, (struct sockaddr *)&addr);
	RG_EXPECT_NE(ret, 0);
	rg_observe_errno("second_bind", "a second bind to the same address",
			 ret ? errno : 0);
	rdma_destroy_id(other);
	rdma_destroy_id(id);
	rdma_destroy_event_channel(ch);
}

CM_TEST(resolve)
{
	struct rdma_event_channel *ch = rdma_create_event_channel();
	struct sockaddr_in addr;
	struct rdma_cm_id *id;

	cm_address(&addr, cm_port());
	id = cm_resolved(ch, RDMA_PS_TCP, &addr);
	RG_EXPECT_NOT_NULL(id->verbs);
	RG_EXPECT_STR_EQ(ibv_get_device_name(id->verbs->device), rg_device());
	RG_EXPECT_EQ(
		((struct sockaddr_in *)rdma_get_peer_addr(id))->sin_addr.s_addr,
		addr.sin_addr.s_addr);
	RG_EXPECT_GE(id->route.num_paths, 1);
	rdma_destroy_id(id);
	rdma_destroy_event_channel(ch);
}

CM_TEST(resolve_unreachable)
{
	struct rdma_event_channel *ch = rdma_create_event_channel();
	struct rdma_cm_event *event;
	struct sockaddr_in addr;
	struct rdma_cm_id *id;
	int ret;

	/* A neighbour that does not answer on the device's own subnet. */
	cm_address(&addr, cm_port());
	addr.sin_addr.s_addr =
		htonl((ntohl(addr.sin_addr.s_addr) & ~0xffu) | 0xfe);
	RG_ASSERT_EQ(rdma_create_id(ch, &id, NULL, RDMA_PS_TCP), 0);
	ret = rdma_resolve_addr(id, NULL, (struct sockaddr *)&addr, 500);
	if (ret) {
		rg_observe_errno("resolve_addr",
				 "resolve_addr of an unreachable neighbour",
				 errno);
		return;
	}
	event = cm_next(ch);
	RG_ASSERT_NOT_NULL(event);
	RG_EXPECT_NE(event->event, RDMA_CM_EVENT_ADDR_RESOLVED);
	rg_observe("event", "the event for an unreachable neighbour",
		   rdma_event_str(event->event));
	rdma_ack_cm_event(event);
	rdma_destroy_id(id);
}

/* A listener on this device's address; its channel carries its events. */
static struct rdma_cm_id *listener(struct rdma_event_channel *ch,
				   enum rdma_port_space ps,
				   struct sockaddr_in *addr)
{
	struct rdma_cm_id *id;

	cm_address(addr, cm_port());
	if (rdma_create_id(ch, &id, NULL, ps) ||
	    rdma_bind_addr(id, (struct sockaddr *)addr) || rdma_listen(id, 4))
		rg_error("listening on port %u: %s", ntohs(addr->sin_port),
			 strerror(errno));
	return id;
}

CM_TEST(connect_accept_disconnect)
{
	struct rdma_event_channel *sch = rdma_create_event_channel();
	struct rdma_event_channel *cch = rdma_create_event_channel();
	struct rdma_conn_param param = { .responder_resources = 1,
					 .initiator_depth = 1,
					 .retry_count = 7,
					 .rnr_retry_count = 7 };
	struct ibv_qp_init_attr attr;
	struct rdma_cm_event *event;
	struct rdma_cm_id *listen_id, *client, *server;
	struct sockaddr_in addr;
	struct ibv_wc wc;
	struct ibv_mr *smr, *cmr;
	struct ibv_pd *cpd, *spd;
	char hello[] = "hello over rdma_cm", got[64] = "";
	char request_data[] = "req", reply_data[] = "rep";

	listen_id = listener(sch, RDMA_PS_TCP, &addr);
	client = cm_resolved(cch, RDMA_PS_TCP, &addr);
	cm_qp_attr(&attr, IBV_QPT_RC);
	cpd = ibv_alloc_pd(client->verbs);
	RG_ASSERT_EQ(rdma_create_qp(client, cpd, &attr), 0);
	param.private_data = request_data;
	param.private_data_len = sizeof(request_data);
	RG_ASSERT_EQ(rdma_connect(client, &param), 0);

	event = cm_expect(sch, RDMA_CM_EVENT_CONNECT_REQUEST, "passive side");
	server = event->id;
	RG_EXPECT_PTR_EQ(event->listen_id, listen_id);
	RG_ASSERT_NOT_NULL(event->param.conn.private_data);
	RG_EXPECT_DATA(!memcmp(event->param.conn.private_data, request_data,
			       sizeof(request_data)));
	rdma_ack_cm_event(event);
	spd = ibv_alloc_pd(server->verbs);
	cm_qp_attr(&attr,
		   attr.qp_type); /* the client's call filled in its CQs */
	RG_ASSERT_EQ(rdma_create_qp(server, spd, &attr), 0);
	smr = ibv_reg_mr(spd, got, sizeof(got), IBV_ACCESS_LOCAL_WRITE);
	RG_ASSERT_NOT_NULL(smr);
	RG_ASSERT_EQ(rdma_post_recv(server, NULL, got, sizeof(got), smr), 0);
	param.private_data = reply_data;
	param.private_data_len = sizeof(reply_data);
	RG_ASSERT_EQ(rdma_accept(server, &param), 0);

	event = cm_expect(cch, RDMA_CM_EVENT_ESTABLISHED, "active side");
	RG_ASSERT_NOT_NULL(event->param.conn.private_data);
	RG_EXPECT_DATA(!memcmp(event->param.conn.private_data, reply_data,
			       sizeof(reply_data)));
	rdma_ack_cm_event(event);
	rdma_ack_cm_event(
		cm_expect(sch, RDMA_CM_EVENT_ESTABLISHED, "passive side"));
	RG_EXPECT_EQ(rdma_get_dst_port(client), addr.sin_port);
	RG_EXPECT_EQ(rdma_get_src_port(server), addr.sin_port);

	cmr = ibv_reg_mr(cpd, hello, sizeof(hello), IBV_ACCESS_LOCAL_WRITE);
	RG_ASSERT_NOT_NULL(cmr);
	RG_ASSERT_EQ(rdma_post_send(client, NULL, hello, sizeof(hello), cmr,
				    IBV_SEND_SIGNALED),
		     0);
	RG_EXPECT_EQ(rdma_get_send_comp(client, &wc), 1);
	RG_EXPECT_EQ(wc.status, IBV_WC_SUCCESS);
	RG_EXPECT_EQ(rdma_get_recv_comp(server, &wc), 1);
	RG_EXPECT_EQ(wc.byte_len, sizeof(hello));
	RG_EXPECT_DATA(!strcmp(got, hello));

	/* One side asks (DREQ); the other sees it and answers in kind (DREP).
	 */
	RG_EXPECT_EQ(rdma_disconnect(client), 0);
	rdma_ack_cm_event(
		cm_expect(sch, RDMA_CM_EVENT_DISCONNECTED, "passive side"));
	RG_EXPECT_EQ(rdma_disconnect(server), 0);
	rdma_ack_cm_event(
		cm_expect(cch, RDMA_CM_EVENT_DISCONNECTED, "active side"));
	rdma_dereg_mr(cmr);
	rdma_dereg_mr(smr);
	rdma_destroy_qp(server);
	rdma_destroy_qp(client);
	RG_EXPECT_EQ(rdma_destroy_id(server), 0);
	RG_EXPECT_EQ(rdma_destroy_id(client), 0);
	RG_EXPECT_EQ(rdma_destroy_id(listen_id), 0);
}

static void reject_case(bool with_ece)
{
	struct rdma_event_channel *sch = rdma_create_event_channel();
	struct rdma_event_channel *cch = rdma_create_event_channel();
	struct rdma_conn_param param = { .retry_count = 7 };
	struct ibv_qp_init_attr attr;
	struct rdma_cm_event *event;
	struct rdma_cm_id *listen_id, *client;
	struct sockaddr_in addr;
	char why[] = "go away";
	char status[16];
	int ret;

	listen_id = listener(sch, RDMA_PS_TCP, &addr);
	client = cm_resolved(cch, RDMA_PS_TCP, &addr);
	cm_qp_attr(&attr, IBV_QPT_RC);
	RG_ASSERT_EQ(rdma_create_qp(client, NULL, &attr), 0);
	RG_ASSERT_EQ(rdma_connect(client, &param), 0);
	event = cm_expect(sch, RDMA_CM_EVENT_CONNECT_REQUEST, "passive side");
	ret = with_ece ? rdma_reject_ece(event->id, why, sizeof(why))
		       : rdma_reject(event->id, why, sizeof(why));
	RG_EXPECT_EQ(ret, 0);
	rdma_destroy_id(event->id);
	rdma_ack_cm_event(event);
	event = cm_expect(cch, RDMA_CM_EVENT_REJECTED, "active side");
	if (event->param.conn.private_data)
		RG_EXPECT_DATA(!memcmp(event->param.conn.private_data, why,
				       sizeof(why)));
	snprintf(status, sizeof(status), "%d", event->status);
	rg_observe("reject_status", "the reject's status", status);
	rdma_ack_cm_event(event);
	rdma_destroy_qp(client);
	rdma_destroy_id(client);
	rdma_destroy_id(listen_id);
}

CM_TEST(reject)
{
	reject_case(false);
}

CM_TEST(reject_ece)
{
	reject_case(true);
}

CM_TEST(connect_no_listener)
{
	struct rdma_event_channel *cch = rdma_create_event_channel();
	struct rdma_conn_param param = { .retry_count = 1 };
	struct ibv_qp_init_attr attr;
	struct rdma_cm_event *event;
	struct rdma_cm_id *client;
	struct sockaddr_in addr;

	cm_address(&addr, cm_port());
	client = cm_resolved(cch, RDMA_PS_TCP, &addr);
	cm_qp_attr(&attr, IBV_QPT_RC);
	RG_ASSERT_EQ(rdma_create_qp(client, NULL, &attr), 0);
	RG_ASSERT_EQ(rdma_connect(client, &param), 0);
	event = cm_next(cch);
	RG_ASSERT_NOT_NULL(event);
	RG_EXPECT_NE(event->event, RDMA_CM_EVENT_ESTABLISHED);
	rg_observe("event", "the event of a connect with no listener",
		   rdma_event_str(event->event));
	rdma_ack_cm_event(event);
}

/* UD through the CM: the request is answered with the server's QP number
 * and Q_Key, with which the client sends a datagram. */
CM_TEST(ud)
{
	struct rdma_event_channel *sch = rdma_create_event_channel();
	struct rdma_event_channel *cch = rdma_create_event_channel();
	struct rdma_conn_param param = { 0 };
	struct ibv_qp_init_attr attr;
	struct rdma_cm_event *event;
	struct rdma_cm_id *listen_id, *client, *server;
	struct sockaddr_in addr;
	struct ibv_ah *ah;
	struct ibv_mr *smr, *cmr;
	struct ibv_pd *cpd, *spd;
	struct ibv_wc wc;
	char buf[40 + 64] = "", msg[] = "datagram via cm";
	uint32_t qpn, qkey;

	listen_id = listener(sch, RDMA_PS_UDP, &addr);
	client = cm_resolved(cch, RDMA_PS_UDP, &addr);
	cm_qp_attr(&attr, IBV_QPT_UD);
	cpd = ibv_alloc_pd(client->verbs);
	RG_ASSERT_EQ(rdma_create_qp(client, cpd, &attr), 0);
	RG_ASSERT_EQ(rdma_connect(client, &param), 0);
	event = cm_expect(sch, RDMA_CM_EVENT_CONNECT_REQUEST,
			  "UD passive side");
	server = event->id;
	rdma_ack_cm_event(event);
	spd = ibv_alloc_pd(server->verbs);
	cm_qp_attr(&attr,
		   attr.qp_type); /* the client's call filled in its CQs */
	RG_ASSERT_EQ(rdma_create_qp(server, spd, &attr), 0);
	smr = ibv_reg_mr(spd, buf, sizeof(buf), IBV_ACCESS_LOCAL_WRITE);
	RG_ASSERT_EQ(rdma_post_recv(server, NULL, buf, sizeof(buf), smr), 0);
	param.qp_num = server->qp->qp_num;
	RG_ASSERT_EQ(rdma_accept(server, &param), 0);
	event = cm_expect(cch, RDMA_CM_EVENT_ESTABLISHED, "UD active side");
	qpn = event->param.ud.qp_num;
	qkey = event->param.ud.qkey;
	RG_EXPECT_EQ(qpn, server->qp->qp_num);
	/* The CM's UDP port space uses one well-known Q_Key, which
	 * rdma_post_ud_send sends with: the reply must carry it. */
	RG_EXPECT_EQ(qkey, RDMA_UDP_QKEY);
	{
		struct ibv_qp_attr qa;
		struct ibv_qp_init_attr qi;

		RG_ASSERT_EQ(ibv_query_qp(server->qp, &qa, IBV_QP_QKEY, &qi),
			     0);
		RG_EXPECT_EQ(qa.qkey, qkey);
	}
	ah = ibv_create_ah(cpd, &event->param.ud.ah_attr);
	rdma_ack_cm_event(event);
	RG_ASSERT_NOT_NULL(ah);
	cmr = ibv_reg_mr(cpd, msg, sizeof(msg), IBV_ACCESS_LOCAL_WRITE);
	RG_ASSERT_EQ(rdma_post_ud_send(client, NULL, msg, sizeof(msg), cmr,
				       IBV_SEND_SIGNALED, ah, qpn),
		     0);
	RG_EXPECT_EQ(rdma_get_send_comp(client, &wc), 1);
	RG_EXPECT_EQ(wc.status, IBV_WC_SUCCESS);
	RG_EXPECT_EQ(rdma_get_recv_comp(server, &wc), 1);
	RG_EXPECT_EQ(wc.byte_len, 40 + sizeof(msg));
	RG_EXPECT_DATA(!strcmp(buf + 40, msg));
	ibv_destroy_ah(ah);
	rdma_destroy_id(listen_id);
}

/* A UDP id bound to this device with a UD QP, which joins group (the join
 * event, acked, is returned for its address). */
static struct rdma_cm_event *mc_member(struct rdma_event_channel *ch,
				       struct rdma_cm_id **id,
				       struct sockaddr_in *group)
{
	struct sockaddr_in addr;
	struct ibv_qp_init_attr attr;
	struct rdma_cm_event *event;

	cm_address(&addr, 0);
	RG_ASSERT_EQ(rdma_create_id(ch, id, NULL, RDMA_PS_UDP), 0);
	RG_ASSERT_EQ(rdma_bind_addr(*id, (struct sockaddr *)&addr), 0);
	cm_qp_attr(&attr, IBV_QPT_UD);
	RG_ASSERT_EQ(rdma_create_qp(*id, NULL, &attr), 0);
	if (rdma_join_multicast(*id, (struct sockaddr *)group, NULL))
		rg_unsupported_or_fail(errno, "rdma_join_multicast");
	event = cm_next(ch);
	RG_ASSERT_NOT_NULL(event);
	if (event->event != RDMA_CM_EVENT_MULTICAST_JOIN)
		rg_unsupported_or_fail(
			-event->status, "joining a group: %s (status %d)",
			rdma_event_str(event->event), event->status);
	return event;
}

/* Two members of a group: a datagram one sends to the group's address
 * reaches the other. Then the extended join of another group. */
CM_TEST(multicast)
{
	struct rdma_event_channel *ch = rdma_create_event_channel();
	struct rdma_event_channel *rch = rdma_create_event_channel();
	struct rdma_cm_event *event;
	struct rdma_cm_id *id, *rx;
	struct sockaddr_in group = { .sin_family = AF_INET };
	struct rdma_cm_join_mc_attr_ex ex = { 0 };
	struct ibv_ah *ah;
	struct ibv_mr *smr, *rmr;
	struct ibv_sge sge;
	struct ibv_send_wr wr = { .wr_id = 1,
				  .sg_list = &sge,
				  .num_sge = 1,
				  .opcode = IBV_WR_SEND,
				  .send_flags = IBV_SEND_SIGNALED },
			   *bad;
	struct ibv_wc wc;
	static char msg[] = "a datagram to 239.1.2.3", got[40 + 64];

	inet_pton(AF_INET, "239.1.2.3", &group.sin_addr);
	rdma_ack_cm_event(mc_member(rch, &rx, &group));
	rmr = ibv_reg_mr(rx->qp->pd, got, sizeof(got), IBV_ACCESS_LOCAL_WRITE);
	RG_ASSERT_NOT_NULL(rmr);
	RG_ASSERT_EQ(rdma_post_recv(rx, NULL, got, sizeof(got), rmr), 0);
	event = mc_member(ch, &id, &group);
	RG_EXPECT(event->param.ud.ah_attr.is_global);
	ah = ibv_create_ah(id->qp->pd, &event->param.ud.ah_attr);
	RG_ASSERT_NOT_NULL(ah);
	smr = ibv_reg_mr(id->qp->pd, msg, sizeof(msg), IBV_ACCESS_LOCAL_WRITE);
	RG_ASSERT_NOT_NULL(smr);
	sge = (struct ibv_sge){ .addr = (uintptr_t)msg,
				.length = sizeof(msg),
				.lkey = smr->lkey };
	wr.wr.ud.ah = ah;
	wr.wr.ud.remote_qpn = event->param.ud.qp_num;
	wr.wr.ud.remote_qkey = event->param.ud.qkey;
	rdma_ack_cm_event(event);
	RG_ASSERT_EQ(ibv_post_send(id->qp, &wr, &bad), 0);
	RG_EXPECT_EQ(rdma_get_send_comp(id, &wc), 1);
	RG_EXPECT_EQ(wc.status, IBV_WC_SUCCESS);
	RG_EXPECT_EQ(rdma_get_recv_comp(rx, &wc), 1);
	RG_EXPECT_EQ(wc.status, IBV_WC_SUCCESS);
	RG_EXPECT_EQ(wc.byte_len, 40 + sizeof(msg));
	RG_EXPECT_DATA(!strcmp(got + 40, msg));
	ibv_destroy_ah(ah);
	RG_EXPECT_EQ(rdma_leave_multicast(id, (struct sockaddr *)&group), 0);
	RG_EXPECT_EQ(rdma_leave_multicast(rx, (struct sockaddr *)&group), 0);
	/* The extended join, full member, of another group. */
	inet_pton(AF_INET, "239.1.2.4", &group.sin_addr);
	ex.comp_mask =
		RDMA_CM_JOIN_MC_ATTR_ADDRESS | RDMA_CM_JOIN_MC_ATTR_JOIN_FLAGS;
	ex.join_flags = RDMA_MC_JOIN_FLAG_FULLMEMBER;
	ex.addr = (struct sockaddr *)&group;
	RG_ASSERT_EQ(rdma_join_multicast_ex(id, &ex, NULL), 0);
	event = cm_next(ch);
	RG_ASSERT_NOT_NULL(event);
	RG_EXPECT_EQ(event->event, RDMA_CM_EVENT_MULTICAST_JOIN);
	rdma_ack_cm_event(event);
	RG_EXPECT_EQ(rdma_leave_multicast(id, (struct sockaddr *)&group), 0);
}

/* An id moved to another channel has its events there; ECE values can be
 * set before connecting and read after; the QP attributes the CM would use
 * are those of the connection; notify is accepted on a connected id. */
CM_TEST(migrate_ece_init_attr_notify)
{
	struct rdma_event_channel *sch = rdma_create_event_channel();
	struct rdma_event_channel *old = rdma_create_event_channel();
	struct rdma_event_channel *cch = rdma_create_event_channel();
	struct rdma_conn_param param = { .responder_resources = 1,
					 .initiator_depth = 1,
					 .retry_count = 7 };
	struct ibv_qp_init_attr attr;
	struct ibv_qp_attr qp_attr = { .qp_state = IBV_QPS_RTS };
	struct rdma_cm_event *event;
	struct rdma_cm_id *listen_id, *client, *server;
	struct sockaddr_in addr;
	struct ibv_ece ece = { 0 };
	int mask = 0, ret;

	listen_id = listener(sch, RDMA_PS_TCP, &addr);
	client = cm_resolved(old, RDMA_PS_TCP, &addr);
	RG_ASSERT_EQ(rdma_migrate_id(client, cch), 0);
	rdma_destroy_event_channel(old);
	RG_EXPECT_PTR_EQ(client->channel, cch);
	cm_qp_attr(&attr, IBV_QPT_RC);
	RG_ASSERT_EQ(rdma_create_qp(client, NULL, &attr), 0);
	ret = rdma_set_local_ece(client, &ece);
	rg_observe_errno("set_local_ece", "set_local_ece after connecting",
			 ret ? errno : 0);
	RG_ASSERT_EQ(rdma_connect(client, &param), 0);
	event = cm_expect(sch, RDMA_CM_EVENT_CONNECT_REQUEST, "passive side");
	server = event->id;
	rdma_ack_cm_event(event);
	RG_ASSERT_EQ(rdma_create_qp(server, NULL, &attr), 0);
	RG_ASSERT_EQ(rdma_accept(server, &param), 0);
	rdma_ack_cm_event(
		cm_expect(cch, RDMA_CM_EVENT_ESTABLISHED, "the migrated id"));
	rdma_ack_cm_event(
		cm_expect(sch, RDMA_CM_EVENT_ESTABLISHED, "passive side"));
	ret = rdma_get_remote_ece(client, &ece);
	rg_observe_errno("get_remote_ece", "get_remote_ece before any reply",
			 ret ? errno : 0);
	RG_EXPECT_EQ(rdma_init_qp_attr(client, &qp_attr, &mask), 0);
	RG_EXPECT(mask & IBV_QP_STATE);
	ret = rdma_notify(client, IBV_EVENT_COMM_EST);
	rg_observe_errno("notify", "rdma_notify on a connected id",
			 ret ? errno : 0);
	/* Establishing again what the CM established: refused. */
	ret = rdma_establish(client);
	rg_observe_errno("establish", "rdma_establish of an established id",
			 ret ? errno : 0);
	rdma_disconnect(client);
	rdma_destroy_id(listen_id);
}

CM_TEST(srq_and_qp_ex)
{
	struct rdma_event_channel *ch = rdma_create_event_channel();
	struct sockaddr_in addr;
	struct rdma_cm_id *id, *id2;
	struct ibv_srq_init_attr sattr = { .attr = { .max_wr = 8,
						     .max_sge = 1 } };
	struct ibv_srq_init_attr_ex sattr_ex = {
		.attr = { .max_wr = 8, .max_sge = 1 },
		.comp_mask = IBV_SRQ_INIT_ATTR_TYPE,
		.srq_type = IBV_SRQT_BASIC
	};
	struct ibv_qp_init_attr_ex qattr = { .qp_type = IBV_QPT_RC,
					     .cap = { .max_send_wr = 4,
						      .max_send_sge = 1 },
					     .comp_mask = IBV_QP_INIT_ATTR_PD };
	struct ibv_pd *pd;

	cm_address(&addr, cm_port());
	id = cm_resolved(ch, RDMA_PS_TCP, &addr);
	pd = ibv_alloc_pd(id->verbs);
	RG_ASSERT_EQ(rdma_create_srq(id, pd, &sattr), 0);
	RG_ASSERT_NOT_NULL(id->srq);
	qattr.pd = pd;
	qattr.srq = id->srq;
	qattr.send_cq = qattr.recv_cq =
		ibv_create_cq(id->verbs, 8, NULL, NULL, 0);
	RG_ASSERT_NOT_NULL(qattr.send_cq);
	RG_ASSERT_EQ(rdma_create_qp_ex(id, &qattr), 0);
	RG_EXPECT_NOT_NULL(id->qp);
	rdma_destroy_qp(id);
	rdma_destroy_srq(id);
	id2 = cm_resolved(ch, RDMA_PS_TCP, &addr);
	sattr_ex.comp_mask |= IBV_SRQ_INIT_ATTR_PD;
	sattr_ex.pd = pd;
	RG_ASSERT_EQ(rdma_create_srq_ex(id2, &sattr_ex), 0);
	RG_EXPECT_NOT_NULL(id2->srq);
	rdma_destroy_srq(id2);
}
