/* SPDX-License-Identifier: MIT */
/*
 * The cm suite: every librdmacm call on the device under test (the CM over
 * its IP address, the rdma_verbs.h helpers, rsockets), each test in its own
 * process with a timeout, since a CM call that never completes blocks.
 *
 * Its helpers: the device's own IPv4 address (from its RoCE v2
 * GID table, or the plan's "address"), a port no other test uses, a
 * passive side run in a thread, and CM events awaited with a deadline.
 */
#ifndef RDMAGATE_CM_COMMON_H
#define RDMAGATE_CM_COMMON_H

#include <stdbool.h>
#include <netinet/in.h>
#include <pthread.h>
#include <rdma/rdma_cma.h>
#include <rdma/rdma_verbs.h>

#include <rdmagate/harness.h>

#define CM_WAIT_MS 5000

/* The CM retries a lost request after seconds: a slow guest needs time. */
#define CM_TEST(name) RG_TEST(cm, name, .timeout_s = 60)

/* This device's address with the given port. */
void cm_address(struct sockaddr_in *addr, uint16_t port);
/* A port for this test (from its pid: tests run one at a time, in turn). */
uint16_t cm_port(void);
/* The next event on the channel, which must be of this type, or a FAIL. */
struct rdma_cm_event *cm_expect(struct rdma_event_channel *ch,
				enum rdma_cm_event_type type, const char *what);
/* The next event within CM_WAIT_MS, whatever it is; NULL when none came. */
struct rdma_cm_event *cm_next(struct rdma_event_channel *ch);
/* Client side: an id on its own channel, address and route resolved. */
struct rdma_cm_id *cm_resolved(struct rdma_event_channel *ch,
			       enum rdma_port_space ps,
			       const struct sockaddr_in *to);
/* Small queue pair attributes for rdma_create_qp. */
void cm_qp_attr(struct ibv_qp_init_attr *attr, enum ibv_qp_type type);

#endif
