// SPDX-License-Identifier: MIT
/* The cm suite's fixtures (see cm_common.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <infiniband/verbs.h>

#include "cm_common.h"

/* The IPv4 address of a RoCE v2 GID of the device (::ffff:a.b.c.d). */
static int roce_ipv4(struct in_addr *out)
{
	struct ibv_device **list;
	struct ibv_context *ctx = NULL;
	struct ibv_port_attr port;
	union ibv_gid gid;
	int i, n, found = -1;

	list = ibv_get_device_list(&n);
	for (i = 0; list && i < n && !ctx; i++)
		if (!strcmp(ibv_get_device_name(list[i]), rg_device()))
			ctx = ibv_open_device(list[i]);
	if (list)
		ibv_free_device_list(list);
	if (!ctx || ibv_query_port(ctx, 1, &port))
		return -1;
	for (i = 0; i < port.gid_tbl_len && found < 0; i++) {
		static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };

		if (!ibv_query_gid(ctx, 1, i, &gid) &&
		    !memcmp(gid.raw, mapped, 12)) {
			memcpy(&out->s_addr, gid.raw + 12, 4);
			found = i;
		}
	}
	ibv_close_device(ctx);
	return found < 0 ? -1 : 0;
}

void cm_address(struct sockaddr_in *addr, uint16_t port)
{
	const char *param = rg_param("address");

	memset(addr, 0, sizeof(*addr));
	addr->sin_family = AF_INET;
	addr->sin_port = htons(port);
	if (param) {
		if (inet_pton(AF_INET, param, &addr->sin_addr) != 1)
			rg_error("plan parameter address=%s is not an IPv4 "
				 "address",
				 param);
		return;
	}
	if (roce_ipv4(&addr->sin_addr))
		rg_error("%s has no IPv4 RoCE GID; name the address in the "
			 "plan (address=)",
			 rg_device());
}

uint16_t cm_port(void)
{
	return (uint16_t)(20000 + getpid() % 20000);
}

struct rdma_cm_event *cm_next(struct rdma_event_channel *ch)
{
	struct pollfd pfd = { .fd = ch->fd, .events = POLLIN };
	struct rdma_cm_event *event;

	if (poll(&pfd, 1, CM_WAIT_MS) != 1)
		return NULL;
	if (rdma_get_cm_event(ch, &event))
		rg_error("rdma_get_cm_event: %s", strerror(errno));
	return event;
}

struct rdma_cm_event *cm_expect(struct rdma_event_channel *ch,
				enum rdma_cm_event_type type, const char *what)
{
	struct rdma_cm_event *event = cm_next(ch);

	if (!event)
		rg_fail("%s: no %s within %d ms", what, rdma_event_str(type),
			CM_WAIT_MS);
	if (event->event != type)
		rg_fail("%s: %s (status %d), not %s", what,
			rdma_event_str(event->event), event->status,
			rdma_event_str(type));
	return event;
}

struct rdma_cm_id *cm_resolved(struct rdma_event_channel *ch,
			       enum rdma_port_space ps,
			       const struct sockaddr_in *to)
{
	struct rdma_cm_id *id;

	if (rdma_create_id(ch, &id, NULL, ps))
		rg_error("rdma_create_id: %s", strerror(errno));
	if (rdma_resolve_addr(id, NULL, (struct sockaddr *)to, 2000))
		rg_fail("rdma_resolve_addr: %s", strerror(errno));
	rdma_ack_cm_event(
		cm_expect(ch, RDMA_CM_EVENT_ADDR_RESOLVED, "resolve_addr"));
	if (rdma_resolve_route(id, 2000))
		rg_fail("rdma_resolve_route: %s", strerror(errno));
	rdma_ack_cm_event(
		cm_expect(ch, RDMA_CM_EVENT_ROUTE_RESOLVED, "resolve_route"));
	return id;
}

void cm_qp_attr(struct ibv_qp_init_attr *attr, enum ibv_qp_type type)
{
	memset(attr, 0, sizeof(*attr));
	attr->qp_type = type;
	attr->cap.max_send_wr = attr->cap.max_recv_wr = 8;
	attr->cap.max_send_sge = attr->cap.max_recv_sge = 1;
}
