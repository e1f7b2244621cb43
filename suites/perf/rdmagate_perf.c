// SPDX-License-Identifier: MIT
/*
 * rdmagate-perf: fast-path microbenchmarks that record every sample.
 *
 * Two RC QPs on one device are connected to each other (loopback through the
 * device, as perftest does on one node). One measurement is one round trip
 * of the fast path an application runs: ibv_post_send of one signaled work
 * request, then ibv_poll_cq until its completion. Each round trip is timed
 * with clock_gettime(CLOCK_MONOTONIC_RAW) (not slewed by NTP), after a
 * warm-up that is not recorded. Samples are written in nanoseconds, one per
 * line, so the runner's statistics see the whole distribution.
 *
 *   rdmagate-perf --device rxe0 [--gid-index 1] --test write|send|write_inline
 *                 [--size BYTES] [--iters N] [--warmup N] --out FILE
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <infiniband/verbs.h>

struct bench {
	struct ibv_context *ctx;
	struct ibv_pd *pd;
	struct ibv_mr *mr;
	struct ibv_cq *cq;
	struct ibv_qp *qp[2];
	char *buf;
	size_t size;
	int gid_index;
	union ibv_gid gid;
	uint8_t port;
};

struct options {
	const char *device, *test, *out;
	size_t size;
	long iters, warmup;
	int gid_index;
};

static int die(const char *what)
{
	fprintf(stderr, "rdmagate-perf: %s: %s\n", what, strerror(errno));
	return -1;
}

static struct ibv_context *open_device(const char *name)
{
	struct ibv_device **list = ibv_get_device_list(NULL);
	struct ibv_context *ctx = NULL;
	int i;

	for (i = 0; list && list[i]; i++)
		if (!strcmp(ibv_get_device_name(list[i]), name))
			ctx = ibv_open_device(list[i]);
	if (list)
		ibv_free_device_list(list);
	return ctx;
}

static int to_rts(struct bench *b, struct ibv_qp *qp, uint32_t remote_qpn)
{
	struct ibv_qp_attr attr = {
		.qp_state = IBV_QPS_INIT, .pkey_index = 0, .port_num = b->port,
		.qp_access_flags = IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ,
	};

	if (ibv_modify_qp(qp, &attr, IBV_QP_STATE | IBV_QP_PKEY_INDEX | IBV_QP_PORT |
			  IBV_QP_ACCESS_FLAGS))
		return die("modify QP to INIT");
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
	if (ibv_modify_qp(qp, &attr, IBV_QP_STATE | IBV_QP_AV | IBV_QP_PATH_MTU |
			  IBV_QP_DEST_QPN | IBV_QP_RQ_PSN | IBV_QP_MAX_DEST_RD_ATOMIC |
			  IBV_QP_MIN_RNR_TIMER))
		return die("modify QP to RTR");
	memset(&attr, 0, sizeof(attr));
	attr.qp_state = IBV_QPS_RTS;
	attr.timeout = 14;
	attr.retry_cnt = 7;
	attr.rnr_retry = 7;
	attr.max_rd_atomic = 1;
	if (ibv_modify_qp(qp, &attr, IBV_QP_STATE | IBV_QP_TIMEOUT | IBV_QP_RETRY_CNT |
			  IBV_QP_RNR_RETRY | IBV_QP_SQ_PSN | IBV_QP_MAX_QP_RD_ATOMIC))
		return die("modify QP to RTS");
	return 0;
}

static int setup(struct bench *b, const struct options *o)
{
	struct ibv_qp_init_attr init = {
		.qp_type = IBV_QPT_RC,
		.cap = { .max_send_wr = 16, .max_recv_wr = 16, .max_send_sge = 1,
			 .max_recv_sge = 1, .max_inline_data = 64 },
	};
	int i;

	b->port = 1;
	b->gid_index = o->gid_index;
	b->size = o->size;
	b->ctx = open_device(o->device);
	if (!b->ctx)
		return die(o->device);
	if (ibv_query_gid(b->ctx, b->port, b->gid_index, &b->gid))
		return die("ibv_query_gid");
	b->pd = ibv_alloc_pd(b->ctx);
	b->buf = calloc(2, b->size ? b->size : 1);
	if (!b->pd || !b->buf)
		return die("ibv_alloc_pd");
	b->mr = ibv_reg_mr(b->pd, b->buf, 2 * (b->size ? b->size : 1),
			   IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE |
				   IBV_ACCESS_REMOTE_READ);
	b->cq = ibv_create_cq(b->ctx, 64, NULL, NULL, 0);
	if (!b->mr || !b->cq)
		return die("ibv_reg_mr/ibv_create_cq");
	init.send_cq = init.recv_cq = b->cq;
	for (i = 0; i < 2; i++) {
		b->qp[i] = ibv_create_qp(b->pd, &init);
		if (!b->qp[i])
			return die("ibv_create_qp");
	}
	return to_rts(b, b->qp[0], b->qp[1]->qp_num) || to_rts(b, b->qp[1], b->qp[0]->qp_num) ?
		       -1 : 0;
}

/* Post a receive on the peer (for SEND), then one signaled request. */
static int round_trip(struct bench *b, const char *test)
{
	struct ibv_sge sge = { .addr = (uintptr_t)b->buf, .length = b->size,
			       .lkey = b->mr->lkey };
	struct ibv_sge rsge = { .addr = (uintptr_t)b->buf + b->size, .length = b->size,
				.lkey = b->mr->lkey };
	struct ibv_recv_wr rwr = { .wr_id = 2, .sg_list = &rsge, .num_sge = 1 }, *bad_rwr;
	struct ibv_send_wr wr = { .wr_id = 1, .sg_list = &sge, .num_sge = 1,
				  .send_flags = IBV_SEND_SIGNALED }, *bad;
	struct ibv_wc wc[2];
	int want = 1, got = 0, n;

	if (!strcmp(test, "send")) {
		if (ibv_post_recv(b->qp[1], &rwr, &bad_rwr))
			return die("ibv_post_recv");
		wr.opcode = IBV_WR_SEND;
		want = 2;
	} else {
		wr.opcode = IBV_WR_RDMA_WRITE;
		wr.wr.rdma.remote_addr = (uintptr_t)b->buf + b->size;
		wr.wr.rdma.rkey = b->mr->rkey;
		if (!strcmp(test, "write_inline"))
			wr.send_flags |= IBV_SEND_INLINE;
	}
	if (ibv_post_send(b->qp[0], &wr, &bad))
		return die("ibv_post_send");
	while (got < want) {
		n = ibv_poll_cq(b->cq, 2, wc);
		if (n < 0)
			return die("ibv_poll_cq");
		for (int i = 0; i < n; i++)
			if (wc[i].status != IBV_WC_SUCCESS) {
				fprintf(stderr, "rdmagate-perf: completion: %s\n",
					ibv_wc_status_str(wc[i].status));
				return -1;
			}
		got += n;
	}
	return 0;
}

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int parse(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "device", required_argument, NULL, 'd' }, { "test", required_argument, NULL, 't' },
		{ "size", required_argument, NULL, 's' },   { "iters", required_argument, NULL, 'n' },
		{ "warmup", required_argument, NULL, 'w' }, { "gid-index", required_argument, NULL, 'g' },
		{ "out", required_argument, NULL, 'o' },    { 0 },
	};
	int c;

	*o = (struct options){ .size = 2, .iters = 1000, .warmup = 100, .gid_index = 1 };
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'd': o->device = optarg; break;
		case 't': o->test = optarg; break;
		case 's': o->size = strtoul(optarg, NULL, 0); break;
		case 'n': o->iters = strtol(optarg, NULL, 0); break;
		case 'w': o->warmup = strtol(optarg, NULL, 0); break;
		case 'g': o->gid_index = atoi(optarg); break;
		case 'o': o->out = optarg; break;
		default: return -1;
		}
	}
	if (!o->device || !o->test || !o->out || o->iters <= 0 || o->warmup < 0 ||
	    (strcmp(o->test, "write") && strcmp(o->test, "send") &&
	     strcmp(o->test, "write_inline")) ||
	    (!strcmp(o->test, "write_inline") && o->size > 64)) {
		fprintf(stderr, "usage: rdmagate-perf --device DEV --test write|send|write_inline "
				"[--size B] [--iters N] [--warmup N] [--gid-index I] --out FILE\n");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct bench b = { 0 };
	struct options o;
	long long *samples, start;
	FILE *out;
	long i;

	if (parse(argc, argv, &o))
		return 2;
	samples = calloc(o.iters, sizeof(*samples));
	if (!samples || setup(&b, &o))
		return 3;
	for (i = 0; i < o.warmup; i++)
		if (round_trip(&b, o.test))
			return 3;
	for (i = 0; i < o.iters; i++) {
		start = now_ns();
		if (round_trip(&b, o.test))
			return 3;
		samples[i] = now_ns() - start;
	}
	out = fopen(o.out, "w");
	if (!out)
		return die(o.out) ? 3 : 3;
	fprintf(out, "# rdmagate-perf test=%s size=%zu iters=%ld warmup=%ld clock=CLOCK_MONOTONIC_RAW unit=ns\n",
		o.test, o.size, o.iters, o.warmup);
	for (i = 0; i < o.iters; i++)
		fprintf(out, "%lld\n", samples[i]);
	return fclose(out) ? 3 : 0;
}
