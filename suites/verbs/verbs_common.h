/* SPDX-License-Identifier: MIT */
/*
 * The verbs suite: every libibverbs call on the device under test, each
 * test in its own process (the harness forks), so a test that leaves a QP
 * in error or crashes a provider harms nothing after it.
 *
 * Its fixtures: the device under test opened, with a protection domain
 * (device); queue pairs connected to each other on the same port (loopback),
 * which is how a single soft-RoCE or HCA port can both send and receive
 * (rc_pair, ud_pair). Setup that fails is ERROR: the test could not run,
 * which says nothing about the call under test.
 */
#ifndef RDMAGATE_VERBS_COMMON_H
#define RDMAGATE_VERBS_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <infiniband/verbs.h>

#include <rdmagate/harness.h>

#define V_PORT 1
#define V_BUF_SIZE 65536
#define V_POLL_MS 5000
#define V_INLINE 64 /* max_inline_data v_qp asks for */

struct vdev {
	struct ibv_context *ctx;
	struct ibv_pd *pd;
	struct ibv_device_attr attr;
	struct ibv_port_attr port;
	int gid_index;
	union ibv_gid gid;
	bool roce; /* Ethernet link layer: addresses are GIDs, every AH is
		      global */
};

/* One end of a connection: its QP, CQ and a registered buffer. */
struct vend {
	struct ibv_cq *cq;
	struct ibv_qp *qp;
	uint8_t *buf;
	struct ibv_mr *mr;
};

struct vpair {
	struct vdev dev;
	struct vend a,
		b; /* a sends, b receives, unless a test says otherwise */
};

/* Connection knobs that tests of failure need to change. */
struct vconn {
	uint8_t rnr_retry;
	uint8_t retry_cnt;
	uint8_t timeout;
	int access; /* the responder's QP access flags */
};

#define V_CONN_DEFAULT                                                         \
	((struct vconn){ .rnr_retry = 7,                                       \
			 .retry_cnt = 7,                                       \
			 .timeout = 14,                                        \
			 .access = IBV_ACCESS_REMOTE_WRITE |                   \
				   IBV_ACCESS_REMOTE_READ |                    \
				   IBV_ACCESS_REMOTE_ATOMIC })

#define V_MR_ACCESS                                                            \
	(IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE |                    \
	 IBV_ACCESS_REMOTE_READ | IBV_ACCESS_REMOTE_ATOMIC)

/* The device under test, opened and queried, with a PD. */
void v_open(struct vdev *dev);
struct ibv_cq *v_cq(struct vdev *dev, int cqe);
struct ibv_mr *v_mr(struct vdev *dev, void *buf, size_t len, int access);
/* A QP of this type in RESET, with modest capacities. */
struct ibv_qp *v_qp(struct vdev *dev, enum ibv_qp_type type, struct ibv_cq *cq,
		    struct ibv_srq *srq);
/* The capacities the QP was granted (ibv_query_qp). */
struct ibv_qp_cap v_qp_cap(struct ibv_qp *qp);
/* The address of this port's own GID (loopback). */
void v_ah_attr(const struct vdev *dev, struct ibv_ah_attr *ah);

/* RESET -> INIT -> RTR -> RTS for a connected QP whose peer is remote_qpn. */
int v_qp_init(struct vdev *dev, struct ibv_qp *qp, int access);
int v_qp_rtr(struct vdev *dev, struct ibv_qp *qp, uint32_t remote_qpn);
int v_qp_rts(struct ibv_qp *qp, const struct vconn *conn);
void v_connect(struct vdev *dev, struct ibv_qp *a, struct ibv_qp *b,
	       const struct vconn *conn);
/* A UD QP made ready to send and receive (qkey V_QKEY). */
#define V_QKEY 0x11111111u
void v_ud_ready(struct vdev *dev, struct ibv_qp *qp);

/* The device opened and two ends of this type, each with a V_BUF_SIZE
 * buffer: RC or UC connected to each other, UD ready (conn unused). */
void v_pair(struct vpair *pair, enum ibv_qp_type type,
	    const struct vconn *conn);

/* v_open() */
RG_FIXTURE_DECLARE(device, struct vdev);
/* v_pair(RC, V_CONN_DEFAULT) */
RG_FIXTURE_DECLARE(rc_pair, struct vpair);
/* v_pair(UD) */
RG_FIXTURE_DECLARE(ud_pair, struct vpair);

/* The initializer of a signaled work request of one scatter/gather entry:
 * struct ibv_send_wr wr = V_SEND_WR(wr_id, opcode, &sge); */
#define V_SEND_WR(id, op, sgep)                                                \
	{                                                                      \
		.wr_id = (id), .sg_list = (sgep), .num_sge = 1,                \
		.opcode = (op), .send_flags = IBV_SEND_SIGNALED                \
	}

/* Post one work request; rg_error on a post failure. */
void v_post_send(struct ibv_qp *qp, struct ibv_send_wr *wr);
void v_post_recv(struct ibv_qp *qp, uint64_t wr_id, void *addr, uint32_t len,
		 uint32_t lkey);
void v_sge(struct ibv_sge *sge, void *addr, uint32_t len, uint32_t lkey);

/* One completion within V_POLL_MS, or a FAIL naming what was awaited. */
void v_wait(struct ibv_cq *cq, struct ibv_wc *wc, const char *what);
/* Post wr (a signaled SEND) on qp and wait for both of its completions on
 * cq, which the sender and the receiver share, in whichever order they
 * come: the send's (wr->wr_id) and the receive's (recv_wr_id), which is
 * returned in *recv for the caller to check its length and bytes. */
void v_send_and_recv(struct ibv_qp *qp, struct ibv_send_wr *wr,
		     struct ibv_cq *cq, uint64_t recv_wr_id,
		     struct ibv_wc *recv, const char *what);
/* A datagram of len bytes of v_fill(seed) from the start of from's buffer
 * to QP qpn (qkey V_QKEY) through ah, as a signaled SEND (wr_id) whose
 * completion on from's CQ is awaited and checked. */
void v_ud_send(struct vend *from, struct ibv_ah *ah, uint32_t qpn,
	       uint64_t wr_id, uint32_t len, uint8_t seed);
/* True when no completion arrives within ms. */
bool v_none_within(struct ibv_cq *cq, int ms);
/* The completion succeeded with this opcode and wr_id. */
void v_expect_wc(const struct ibv_wc *wc, enum ibv_wc_opcode opcode,
		 uint64_t wr_id);

/* len zeroed bytes, page-aligned (a registered region's usual start); an
 * allocation that fails ends the test as ERROR, not as a crash later. */
void *v_buf(size_t len);
void v_fill(uint8_t *buf, size_t len, uint8_t seed);
bool v_check(const uint8_t *buf, size_t len, uint8_t seed);
/* How many of the first len bytes are v_fill's: where a partial delivery
 * stopped, for a message that says so. */
size_t v_arrived(const uint8_t *buf, size_t len, uint8_t seed);

/* verbs_mw.c: a type 2 window over b's first page, bound by a work request
 * on b's QP (wr_id 5); returns its new rkey. */
uint32_t v_mw2_bind(struct vpair *p, struct ibv_mw **mwp);

#endif
