// SPDX-License-Identifier: MIT
/*
 * librdmacm, synchronous: rdma_getaddrinfo, rdma_create_ep, rdma_get_request
 * and the rdma_verbs.h helpers (register, post, wait for a completion),
 * and rsockets. Blocking calls need the passive side in a thread.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/uio.h>
#include <rdma/rdma_verbs.h>
#include <rdma/rsocket.h>

#include "cm_common.h"

struct exchange {
	char host[INET_ADDRSTRLEN], port[8];
	uint64_t addr; /* the server's buffer, for RDMA WRITE and READ */
	uint32_t rkey;
	char buf[256];
	int status; /* the server thread's: 0, or the step that failed */
};

static void where(struct exchange *x)
{
	struct sockaddr_in addr;

	cm_address(&addr, cm_port());
	inet_ntop(AF_INET, &addr.sin_addr, x->host, sizeof(x->host));
	snprintf(x->port, sizeof(x->port), "%u", ntohs(addr.sin_port));
}

static struct rdma_addrinfo *lookup(struct exchange *x, bool passive)
{
	struct rdma_addrinfo hints = { .ai_port_space = RDMA_PS_TCP },
			     *res = NULL;

	hints.ai_flags = passive ? RAI_PASSIVE : 0;
	if (rdma_getaddrinfo(x->host, x->port, &hints, &res))
		rg_fail("rdma_getaddrinfo(%s, %s): %s", x->host, x->port,
			strerror(errno));
	return res;
}

static pthread_mutex_t listening_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t listening_cond = PTHREAD_COND_INITIALIZER;
static bool listening;

/* A blocking call that never returns would only be a TIMEOUT; this says
 * where the passive side was (the child is disposable: ending it from the
 * handler is safe enough). */
static struct exchange *watched;

static void blocked(int sig)
{
	(void)sig;
	rg_fail("blocked for 45 s; the passive side was at step %d",
		watched->status);
}

static void start(pthread_t *thread, void *(*fn)(void *), void *arg)
{
	struct timespec until;

	watched = arg;
	signal(SIGALRM, blocked);
	alarm(45);
	listening = false;
	RG_ASSERT_EQ(pthread_create(thread, NULL, fn, arg), 0);
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 5;
	pthread_mutex_lock(&listening_lock);
	while (!listening)
		if (pthread_cond_timedwait(&listening_cond, &listening_lock,
					   &until))
			break;
	pthread_mutex_unlock(&listening_lock);
	if (!listening)
		rg_fail("the passive side did not listen within 5 s");
}

static void say_listening(void)
{
	pthread_mutex_lock(&listening_lock);
	listening = true;
	pthread_cond_signal(&listening_cond);
	pthread_mutex_unlock(&listening_lock);
}

/* The passive side, all synchronous: rdma_get_request blocks for the
 * connect, the QP comes with the request (the listener's QP attributes),
 * accept, then one message each way. status: the step it stopped at. */
static struct rdma_cm_id *ep_listener;

static void *ep_server(void *arg)
{
	struct exchange *x = arg;
	struct rdma_cm_id *id = NULL;
	struct ibv_mr *mr;
	struct ibv_wc wc;

	x->status = 1;
	say_listening();
	if (rdma_get_request(ep_listener, &id) || !id || !id->qp)
		return NULL;
	x->status = 2;
	mr = rdma_reg_msgs(id, x->buf, sizeof(x->buf));
	if (!mr || rdma_post_recv(id, NULL, x->buf, 64, mr))
		return NULL;
	x->status = 3;
	if (rdma_accept(id, NULL))
		return NULL;
	x->status = 4;
	if (rdma_get_recv_comp(id, &wc) != 1 || wc.status != IBV_WC_SUCCESS ||
	    wc.byte_len != 32 || strcmp(x->buf, "synchronous hello"))
		return NULL;
	x->status = 5;
	strcpy(x->buf + 64, "synchronous reply");
	if (rdma_post_send(id, NULL, x->buf + 64, 32, mr, IBV_SEND_SIGNALED) ||
	    rdma_get_send_comp(id, &wc) != 1 || wc.status != IBV_WC_SUCCESS)
		return NULL;
	x->status = 0;
	return NULL;
}

/* Endpoints from rdma_getaddrinfo: a passive one listens, an active one
 * resolves its address and route and gets its QP, synchronously; they
 * connect (rdma_get_request's success path) and move a message each way. */
CM_TEST(addrinfo_ep)
{
	static struct exchange x;
	struct rdma_addrinfo *passive, *active;
	struct rdma_cm_id *id;
	struct ibv_qp_init_attr attr;
	struct sockaddr_in *dst;
	struct ibv_mr *mr;
	struct ibv_wc wc;
	static char buf[128];
	pthread_t server;

	where(&x);
	passive = lookup(&x, true);
	RG_EXPECT(passive->ai_flags & RAI_PASSIVE);
	cm_qp_attr(&attr, IBV_QPT_RC);
	RG_ASSERT_EQ(rdma_create_ep(&ep_listener, passive, NULL, &attr), 0);
	RG_ASSERT_EQ(rdma_listen(ep_listener, 1), 0);
	active = lookup(&x, false);
	dst = (struct sockaddr_in *)active->ai_dst_addr;
	RG_ASSERT_NOT_NULL(dst);
	RG_EXPECT_EQ(ntohs(dst->sin_port), (unsigned)atoi(x.port));
	cm_qp_attr(&attr, IBV_QPT_RC);
	RG_ASSERT_EQ(rdma_create_ep(&id, active, NULL, &attr), 0);
	RG_EXPECT_NOT_NULL(id->verbs);
	RG_ASSERT_NOT_NULL(id->qp);
	RG_EXPECT_NOT_NULL(id->pd);
	mr = rdma_reg_msgs(id, buf, sizeof(buf));
	RG_ASSERT_NOT_NULL(mr);
	RG_ASSERT_EQ(rdma_post_recv(id, NULL, buf + 64, 64, mr), 0);
	start(&server, ep_server, &x);
	/* Synchronous: returns once the connection is established. */
	RG_ASSERT_EQ(rdma_connect(id, NULL), 0);
	strcpy(buf, "synchronous hello");
	RG_ASSERT_EQ(rdma_post_send(id, NULL, buf, 32, mr, IBV_SEND_SIGNALED),
		     0);
	RG_EXPECT_EQ(rdma_get_send_comp(id, &wc), 1);
	RG_EXPECT_EQ(wc.status, IBV_WC_SUCCESS);
	RG_EXPECT_EQ(rdma_get_recv_comp(id, &wc), 1);
	RG_EXPECT_EQ(wc.status, IBV_WC_SUCCESS);
	RG_EXPECT_EQ(wc.byte_len, 32);
	pthread_join(server, NULL);
	if (x.status)
		rg_fail("the synchronous server stopped at step %d (1: "
			"get_request, 2: its "
			"QP's receive, 3: accept, 4: the message, 5: the "
			"reply)",
			x.status);
	RG_EXPECT_DATA(!strcmp(buf + 64, "synchronous reply"));
	/* No rdma_disconnect: on a synchronous id it waits for the peer's
	 * answer, which a passive side that has returned never gives;
	 * destroying the endpoint ends the connection. */
	rdma_dereg_mr(mr);
	rdma_destroy_ep(id);
	rdma_destroy_ep(ep_listener);
	rdma_freeaddrinfo(active);
	rdma_freeaddrinfo(passive);
}

/* rdma_resolve_addrinfo (RDMACM_1.4): rdma_getaddrinfo's lookup made
 * asynchronous on an id, answered by an event and read by
 * rdma_query_addrinfo. */
CM_TEST(resolve_addrinfo)
{
#ifdef HAVE_RDMA_RESOLVE_ADDRINFO
	struct exchange x;
	struct rdma_event_channel *ch = rdma_create_event_channel();
	struct rdma_addrinfo hints = { .ai_port_space = RDMA_PS_TCP },
			     *info = NULL;
	struct rdma_cm_event *event;
	struct rdma_cm_id *id;
	struct sockaddr_in *dst, want;
	int ret;

	where(&x);
	cm_address(&want, (uint16_t)atoi(x.port));
	RG_ASSERT_NOT_NULL(ch);
	RG_ASSERT_EQ(rdma_create_id(ch, &id, NULL, RDMA_PS_TCP), 0);
	ret = rdma_resolve_addrinfo(id, x.host, x.port, &hints);
	if (ret)
		rg_unsupported_or_fail(errno, "rdma_resolve_addrinfo(%s, %s)",
				       x.host, x.port);
	event = cm_expect(ch, RDMA_CM_EVENT_ADDRINFO_RESOLVED,
			  "rdma_resolve_addrinfo");
	rdma_ack_cm_event(event);
	RG_ASSERT_EQ(rdma_query_addrinfo(id, &info), 0);
	RG_ASSERT_NOT_NULL(info);
	dst = (struct sockaddr_in *)info->ai_dst_addr;
	RG_ASSERT_NOT_NULL(dst);
	RG_EXPECT_EQ(dst->sin_addr.s_addr, want.sin_addr.s_addr);
	RG_EXPECT_EQ(dst->sin_port, want.sin_port);
	rdma_freeaddrinfo(info);
	RG_EXPECT_EQ(rdma_destroy_id(id), 0);
	rdma_destroy_event_channel(ch);
#else
	rg_skip("stack lacks rdma_resolve_addrinfo (RDMACM_1.4; rdma-core 56 "
		"has not)");
#endif
}

/* The rdma_verbs.h helpers on a connection made through the CM: register,
 * post SEND, RDMA WRITE and READ, wait for completions. */
CM_TEST(verbs_helpers)
{
	struct rdma_event_channel *sch = rdma_create_event_channel();
	struct rdma_event_channel *cch = rdma_create_event_channel();
	struct rdma_conn_param param = { .responder_resources = 1,
					 .initiator_depth = 1,
					 .retry_count = 7 };
	struct ibv_qp_init_attr attr;
	struct rdma_cm_event *event;
	struct rdma_cm_id *listen_id, *client, *server, *none = NULL;
	struct sockaddr_in addr;
	struct ibv_mr *smr, *wmr, *rmr, *cmr;
	struct ibv_wc wc;
	static char sbuf[256], cbuf[256];
	int ret;

	cm_address(&addr, cm_port());
	if (rdma_create_id(sch, &listen_id, NULL, RDMA_PS_TCP) ||
	    rdma_bind_addr(listen_id, (struct sockaddr *)&addr) ||
	    rdma_listen(listen_id, 1))
		rg_error("listening: %s", strerror(errno));
	/* rdma_get_request is for synchronous listeners; this one has a
	 * channel. */
	ret = rdma_get_request(listen_id, &none);
	RG_EXPECT_NE(ret, 0);
	rg_observe_errno("get_request_async",
			 "get_request on an asynchronous id", ret ? errno : 0);
	client = cm_resolved(cch, RDMA_PS_TCP, &addr);
	cm_qp_attr(&attr, IBV_QPT_RC);
	attr.sq_sig_all = 1;
	RG_ASSERT_EQ(rdma_create_qp(client, ibv_alloc_pd(client->verbs), &attr),
		     0);
	RG_ASSERT_EQ(rdma_connect(client, &param), 0);
	event = cm_expect(sch, RDMA_CM_EVENT_CONNECT_REQUEST, "passive side");
	server = event->id;
	rdma_ack_cm_event(event);
	cm_qp_attr(&attr, IBV_QPT_RC);
	RG_ASSERT_EQ(rdma_create_qp(server, ibv_alloc_pd(server->verbs), &attr),
		     0);
	smr = rdma_reg_msgs(server, sbuf, 64);
	wmr = rdma_reg_write(server, sbuf + 128, 128);
	rmr = rdma_reg_read(server, sbuf + 128, 128);
	RG_ASSERT(smr && wmr && rmr);
	RG_ASSERT_EQ(rdma_post_recv(server, NULL, sbuf, 64, smr), 0);
	RG_ASSERT_EQ(rdma_accept(server, &param), 0);
	rdma_ack_cm_event(
		cm_expect(cch, RDMA_CM_EVENT_ESTABLISHED, "active side"));
	rdma_ack_cm_event(
		cm_expect(sch, RDMA_CM_EVENT_ESTABLISHED, "passive side"));

	cmr = rdma_reg_msgs(client, cbuf, sizeof(cbuf));
	RG_ASSERT_NOT_NULL(cmr);
	strcpy(cbuf, "hello from rdma_post_send");
	RG_ASSERT_EQ(rdma_post_send(client, NULL, cbuf, 64, cmr, 0), 0);
	RG_EXPECT_EQ(rdma_get_send_comp(client, &wc), 1);
	RG_EXPECT_EQ(wc.status, IBV_WC_SUCCESS);
	RG_EXPECT_EQ(rdma_get_recv_comp(server, &wc), 1);
	RG_EXPECT_DATA(!strcmp(sbuf, "hello from rdma_post_send"));
	/* WRITE into the server's buffer, READ it back elsewhere. */
	strcpy(cbuf + 64, "written by rdma_post_write");
	RG_ASSERT_EQ(rdma_post_write(client, NULL, cbuf + 64, 32, cmr, 0,
				     (uintptr_t)(sbuf + 128), wmr->rkey),
		     0);
	RG_EXPECT_EQ(rdma_get_send_comp(client, &wc), 1);
	RG_EXPECT_EQ(wc.status, IBV_WC_SUCCESS);
	RG_EXPECT_EQ(wc.opcode, IBV_WC_RDMA_WRITE);
	RG_ASSERT_EQ(rdma_post_read(client, NULL, cbuf + 128, 32, cmr, 0,
				    (uintptr_t)(sbuf + 128), rmr->rkey),
		     0);
	RG_EXPECT_EQ(rdma_get_send_comp(client, &wc), 1);
	RG_EXPECT_EQ(wc.status, IBV_WC_SUCCESS);
	RG_EXPECT_EQ(wc.opcode, IBV_WC_RDMA_READ);
	RG_EXPECT_DATA(!strcmp(cbuf + 128, "written by rdma_post_write"));
	RG_EXPECT_DATA(!strcmp(sbuf + 128, "written by rdma_post_write"));
	rdma_dereg_mr(rmr);
	rdma_dereg_mr(wmr);
}

/* rsockets: a stream socket over RDMA, the socket calls one for one. */
static int rs_listener;

static void *rs_server(void *arg)
{
	struct exchange *x = arg;
	struct sockaddr_in peer;
	socklen_t len = sizeof(peer);
	char buf[64];
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;
	int fd;
	off_t offset;

	x->status = 1;
	say_listening();
	fd = raccept(rs_listener, (struct sockaddr *)&peer, &len);
	if (fd < 0)
		return NULL;
	x->status = 2;
	offset = riomap(fd, x->buf + 128, 64, PROT_WRITE, 0, 0);
	if (offset != 0) /* the client writes at offset 0 */
		return NULL;
	/* Each step checks the bytes, not only the count; status names the
	 * first that went wrong (3: hello ... 9: done). */
	x->status = 3;
	n = rrecv(fd, buf, 5, MSG_WAITALL);
	if (n != 5 || memcmp(buf, "hello", 5))
		return NULL;
	x->status = 4;
	if (rsend(fd, "world", 5, 0) != 5)
		return NULL;
	x->status = 5;
	n = rread(fd, buf, 4);
	if (n != 4 || memcmp(buf, "read", 4))
		return NULL;
	x->status = 6;
	iov.iov_len = 4; /* a stream: ask for exactly what comes next */
	n = rrecvmsg(fd, &msg, 0);
	if (n != 4 || memcmp(buf, "msg!", 4))
		return NULL;
	x->status = 7;
	n = rrecvfrom(fd, buf, 4, 0, NULL, NULL);
	if (n != 4 || memcmp(buf, "from", 4))
		return NULL;
	x->status = 8;
	iov.iov_len = 6;
	n = rreadv(fd, &iov, 1);
	if (n != 6 || memcmp(buf, "vector", 6))
		return NULL;
	x->status = 9;
	n = rrecv(fd, buf, 4, MSG_WAITALL); /* riowrite landed before */
	if (n != 4 || memcmp(buf, "done", 4))
		return NULL;
	riounmap(fd, x->buf + 128, 64);
	x->status = 0;
	rshutdown(fd, SHUT_RDWR);
	rclose(fd);
	return NULL;
}

CM_TEST(rsockets)
{
	static struct exchange x;
	struct sockaddr_in addr, name;
	socklen_t len = sizeof(name);
	struct pollfd pfd;
	struct iovec iov = { .iov_base = "vector", .iov_len = 6 };
	struct msghdr msg = { .msg_iov = &(struct iovec){ .iov_base = "msg!",
							  .iov_len = 4 },
			      .msg_iovlen = 1 };
	char buf[16] = "";
	int fd, one = 1, value = 0, mapsize = 1;
	socklen_t vlen = sizeof(value);
	fd_set readable;
	struct timeval tv = { .tv_sec = 5 };
	pthread_t server;

	cm_address(&addr, cm_port());
	rs_listener = rsocket(AF_INET, SOCK_STREAM, 0);
	RG_ASSERT_GE(rs_listener, 0);
	RG_EXPECT_EQ(rsetsockopt(rs_listener, SOL_SOCKET, SO_REUSEADDR, &one,
				 sizeof(one)),
		     0);
	RG_EXPECT_EQ(rgetsockopt(rs_listener, SOL_SOCKET, SO_REUSEADDR, &value,
				 &vlen),
		     0);
	RG_EXPECT_NE(value, 0);
	RG_EXPECT_EQ(rsetsockopt(rs_listener, SOL_RDMA, RDMA_IOMAPSIZE,
				 &mapsize, sizeof(mapsize)),
		     0);
	RG_ASSERT_EQ(rbind(rs_listener, (struct sockaddr *)&addr, sizeof(addr)),
		     0);
	RG_ASSERT_EQ(rlisten(rs_listener, 1), 0);
	RG_EXPECT_EQ(rgetsockname(rs_listener, (struct sockaddr *)&name, &len),
		     0);
	RG_EXPECT_EQ(name.sin_port, addr.sin_port);
	start(&server, rs_server, &x);

	fd = rsocket(AF_INET, SOCK_STREAM, 0);
	RG_ASSERT_GE(fd, 0);
	RG_EXPECT_EQ(rsetsockopt(fd, SOL_RDMA, RDMA_IOMAPSIZE, &mapsize,
				 sizeof(mapsize)),
		     0);
	RG_ASSERT_EQ(rconnect(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	len = sizeof(name);
	RG_EXPECT_EQ(rgetpeername(fd, (struct sockaddr *)&name, &len), 0);
	RG_EXPECT_EQ(name.sin_addr.s_addr, addr.sin_addr.s_addr);
	RG_EXPECT_EQ(rsend(fd, "hello", 5, 0), 5);
	pfd.fd = fd;
	pfd.events = POLLIN;
	RG_EXPECT_EQ(rpoll(&pfd, 1, 5000), 1);
#ifdef HAVE_REPOLL
	{
		/* The epoll form: the rsocket with "world" waiting is readable.
		 */
		struct epoll_event ev = { .events = EPOLLIN,
					  .data.u64 = 0x5eed },
				   got[2];
		int epfd = repoll_create(0);

		RG_ASSERT_GE(epfd, 0);
		RG_EXPECT_EQ(repoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev), 0);
		memset(got, 0, sizeof(got));
		RG_EXPECT_EQ(repoll_wait(epfd, got, 2, 5000), 1);
		RG_EXPECT(got[0].events & EPOLLIN);
		RG_EXPECT_EQ(got[0].data.u64, 0x5eed);
		RG_EXPECT_EQ(repoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL), 0);
		RG_EXPECT_EQ(repoll_wait(epfd, got, 2, 0), 0);
		RG_EXPECT_EQ(rclose(epfd), 0);
	}
#endif
	FD_ZERO(&readable);
	FD_SET(fd, &readable);
	RG_EXPECT_EQ(rselect(fd + 1, &readable, NULL, NULL, &tv), 1);
	RG_EXPECT_EQ(rrecv(fd, buf, 5, MSG_WAITALL), 5);
	RG_EXPECT_DATA(!memcmp(buf, "world", 5));
	RG_EXPECT_EQ(rwrite(fd, "read", 4), 4);
	RG_EXPECT_EQ(rsendmsg(fd, &msg, 0), 4);
	RG_EXPECT_EQ(rsendto(fd, "from", 4, 0, NULL, 0), 4);
	RG_EXPECT_EQ(rwritev(fd, &iov, 1), 6);
	/* The server mapped 64 bytes at offset 0 for us to write into. */
	RG_EXPECT_EQ(riowrite(fd, "iomapped", 9, 0, 0), 9);
	RG_EXPECT_EQ(rsend(fd, "done", 4, 0), 4);
	pthread_join(server, NULL);
	/* Steps 1 and 2 (raccept, riomap) move no bytes: not a data check. */
	if (x.status == 1 || x.status == 2)
		rg_fail("the rsocket server stopped at step %d (1: raccept, 2: "
			"riomap)",
			x.status);
	if (x.status)
		rg_fail_data("the rsocket server stopped at step %d (3-9: "
			     "hello, world, read, "
			     "msg!, from, vector, done)",
			     x.status);
	RG_EXPECT_DATA(!strcmp(x.buf + 128, "iomapped"));
	RG_EXPECT_EQ(rfcntl(fd, F_SETFL, O_NONBLOCK), 0);
	RG_EXPECT(rfcntl(fd, F_GETFL) & O_NONBLOCK);
	rclose(fd);
	rclose(rs_listener);
}
