// SPDX-License-Identifier: MIT
/*
 * The loopback connection: two RC QPs on one device connected to each other
 * through the device (as perftest does on one node), one CQ for both, one
 * registered buffer whose first half is local and second half remote.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <rdmagate/outcomes.h>

#include "perf.h"

/*
 * One stderr line naming the call. Verbs report errors either as a positive
 * return value or as -1/NULL with errno, so err > 0 wins over errno.
 */
int perf_fail(const char *call, int err)
{
	if (err <= 0)
		err = errno;
	fprintf(stderr, "rdmagate-perf: %s: %s (errno %d)\n", call,
		strerror(err), err);
	return PERF_FAILED;
}

/* CLOCK_MONOTONIC_RAW: not slewed by NTP while a run is timed. */
long long perf_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static struct ibv_context *open_device(const char *name)
{
	struct ibv_device **list = ibv_get_device_list(NULL);
	struct ibv_context *ctx = NULL;
	int i, err = ENODEV;

	for (i = 0; list && list[i]; i++)
		if (!strcmp(ibv_get_device_name(list[i]), name)) {
			ctx = ibv_open_device(list[i]);
			err = errno;
		}
	if (list)
		ibv_free_device_list(list);
	/* The caller reports why ibv_open_device failed, not the cleanup. */
	errno = err;
	return ctx;
}

static int to_rts(struct bench *b, struct ibv_qp *qp, uint32_t remote_qpn)
{
	struct ibv_qp_attr attr = {
		.qp_state = IBV_QPS_INIT,
		.pkey_index = 0,
		.port_num = b->port,
		.qp_access_flags = b->access,
	};
	int ret;

	ret = ibv_modify_qp(qp, &attr,
			    IBV_QP_STATE | IBV_QP_PKEY_INDEX | IBV_QP_PORT |
				    IBV_QP_ACCESS_FLAGS);
	if (ret)
		return perf_fail("ibv_modify_qp to INIT", ret);
	memset(&attr, 0, sizeof(attr));
	attr.qp_state = IBV_QPS_RTR;
	attr.path_mtu = IBV_MTU_1024;
	attr.dest_qp_num = remote_qpn;
	attr.max_dest_rd_atomic = 1;
	attr.min_rnr_timer = 12;
	attr.ah_attr.is_global = 1;
	attr.ah_attr.grh.dgid = b->gid;
	attr.ah_attr.grh.sgid_index = b->gid_index;
	attr.ah_attr.grh.hop_limit = 1;
	attr.ah_attr.port_num = b->port;
	ret = ibv_modify_qp(qp, &attr,
			    IBV_QP_STATE | IBV_QP_AV | IBV_QP_PATH_MTU |
				    IBV_QP_DEST_QPN | IBV_QP_RQ_PSN |
				    IBV_QP_MAX_DEST_RD_ATOMIC |
				    IBV_QP_MIN_RNR_TIMER);
	if (ret)
		return perf_fail("ibv_modify_qp to RTR", ret);
	memset(&attr, 0, sizeof(attr));
	attr.qp_state = IBV_QPS_RTS;
	attr.timeout = 14;
	attr.retry_cnt = 7;
	attr.rnr_retry = 7;
	attr.max_rd_atomic = 1;
	ret = ibv_modify_qp(qp, &attr,
			    IBV_QP_STATE | IBV_QP_TIMEOUT | IBV_QP_RETRY_CNT |
				    IBV_QP_RNR_RETRY | IBV_QP_SQ_PSN |
				    IBV_QP_MAX_QP_RD_ATOMIC);
	if (ret)
		return perf_fail("ibv_modify_qp to RTS", ret);
	return 0;
}

/* Atomics are optional: a device without them is not a broken stack. */
static int check_atomics(struct bench *b, const char *device)
{
	struct ibv_device_attr attr;
	int ret = ibv_query_device(b->ctx, &attr);

	if (ret)
		return perf_fail("ibv_query_device", ret);
	if (attr.atomic_cap == IBV_ATOMIC_NONE) {
		fprintf(stderr,
			"rdmagate-perf: unsupported: %s has no atomics "
			"(atomic_cap IBV_ATOMIC_NONE)\n",
			device);
		return PERF_UNSUPPORTED;
	}
	b->access |= IBV_ACCESS_REMOTE_ATOMIC;
	return 0;
}

/*
 * The sender for ibv_wr_*: the same QP as ibv_create_qp makes, plus the one
 * send op it uses. A provider or library without the extended QP answers
 * with an errno of rg_unsupported_errno(), the harness's one rule; that is
 * not a failure.
 */
static int create_qp_ex(struct bench *b, const struct ibv_qp_init_attr *init)
{
	struct ibv_qp_init_attr_ex attr = {
		.send_cq = init->send_cq,
		.recv_cq = init->recv_cq,
		.cap = init->cap,
		.qp_type = init->qp_type,
		.comp_mask =
			IBV_QP_INIT_ATTR_PD | IBV_QP_INIT_ATTR_SEND_OPS_FLAGS,
		.pd = b->pd,
		.send_ops_flags = IBV_QP_EX_WITH_RDMA_WRITE,
	};

	b->qp[0] = ibv_create_qp_ex(b->ctx, &attr);
	if (!b->qp[0] && rg_unsupported_errno(errno)) {
		fprintf(stderr,
			"rdmagate-perf: unsupported: ibv_create_qp_ex with "
			"IBV_QP_EX_WITH_RDMA_WRITE: %s\n",
			strerror(errno));
		return PERF_UNSUPPORTED;
	}
	if (!b->qp[0])
		return perf_fail("ibv_create_qp_ex", 0);
	b->qpx = ibv_qp_to_qp_ex(b->qp[0]);
	if (!b->qpx) {
		fprintf(stderr, "rdmagate-perf: unsupported: ibv_qp_to_qp_ex "
				"returned NULL\n");
		return PERF_UNSUPPORTED;
	}
	return 0;
}

int perf_setup(struct bench *b, const struct options *o, const struct test *t)
{
	struct ibv_qp_init_attr init = {
		.qp_type = IBV_QPT_RC,
		.cap = { .max_send_wr = 16,
			 .max_recv_wr = 16,
			 .max_send_sge = 1,
			 .max_recv_sge = 1,
			 .max_inline_data = PERF_INLINE_MAX },
	};
	int ret;

	b->port = 1;
	b->gid_index = o->gid_index;
	b->size = o->size;
	b->batch = o->batch;
	/* Halves on 64-byte boundaries: the atomic word must be 8-aligned. */
	b->half = (o->size + 63) & ~(size_t)63;
	if (!b->half)
		b->half = 64;
	b->access = IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ;
	b->ctx = open_device(o->device);
	if (!b->ctx)
		return perf_fail(o->device, 0);
	if ((t->flags & T_ATOMIC) && (ret = check_atomics(b, o->device)))
		return ret;
	ret = ibv_query_gid(b->ctx, b->port, b->gid_index, &b->gid);
	if (ret)
		return perf_fail("ibv_query_gid", ret);
	b->pd = ibv_alloc_pd(b->ctx);
	if (!b->pd)
		return perf_fail("ibv_alloc_pd", 0);
	/* Page-aligned and written once, so no test times first-touch faults.
	 */
	ret = posix_memalign((void **)&b->buf, 4096, 2 * b->half);
	if (ret)
		return perf_fail("posix_memalign", ret);
	memset(b->buf, 0xa5, 2 * b->half);
	b->mr = ibv_reg_mr(b->pd, b->buf, 2 * b->half,
			   IBV_ACCESS_LOCAL_WRITE | b->access);
	if (!b->mr)
		return perf_fail("ibv_reg_mr", 0);
	b->sge = (struct ibv_sge){ .addr = (uintptr_t)b->buf,
				   .length = b->size,
				   .lkey = b->mr->lkey };
	b->cq = ibv_create_cq(b->ctx, 64, NULL, NULL, 0);
	if (!b->cq)
		return perf_fail("ibv_create_cq", 0);
	init.send_cq = init.recv_cq = b->cq;
	if (b->batch > (long)init.cap.max_send_wr)
		init.cap.max_send_wr = b->batch;
	if (t->flags & T_QP_EX)
		ret = create_qp_ex(b, &init);
	else if (!(b->qp[0] = ibv_create_qp(b->pd, &init)))
		ret = perf_fail("ibv_create_qp", 0);
	if (ret)
		return ret;
	b->qp[1] = ibv_create_qp(b->pd, &init);
	if (!b->qp[1])
		return perf_fail("ibv_create_qp", 0);
	ret = to_rts(b, b->qp[0], b->qp[1]->qp_num);
	if (!ret)
		ret = to_rts(b, b->qp[1], b->qp[0]->qp_num);
	if (!ret && t->prepare)
		ret = t->prepare(b);
	return ret;
}
