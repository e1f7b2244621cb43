// SPDX-License-Identifier: MIT
/*
 * The api suite: calls of libibverbs, librdmacm and libibumad that need no
 * RDMA device. They show the stack's headers compile, its libraries load and
 * resolve, and its device-independent calls behave as documented.
 */
#include <dlfcn.h>
#include <link.h>
#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <infiniband/umad.h>
#include <infiniband/verbs.h>
#include <rdma/rdma_cma.h>

#include <rdmagate/harness.h>

RG_TEST(api, get_device_list)
{
	struct ibv_device **list;
	int num = -1;

	errno = 0;
	list = ibv_get_device_list(&num);
	if (!list) {
		/* No RDMA subsystem in this kernel: documented as ENOSYS. */
		RG_EXPECT_ERRNO(errno, ENOSYS);
		return;
	}
	RG_EXPECT_GE(num, 0);
	RG_EXPECT_NULL(list[num]);
	ibv_free_device_list(list);
}

RG_TEST(api, wc_status_str)
{
	int status;

	for (status = IBV_WC_SUCCESS; status <= IBV_WC_GENERAL_ERR; status++) {
		const char *text = ibv_wc_status_str(status);

		RG_ASSERT_NOT_NULL(text);
		RG_EXPECT_STR_NE(text, "unknown");
	}
	RG_EXPECT_STR_EQ(ibv_wc_status_str(IBV_WC_GENERAL_ERR + 100),
			 "unknown");
}

/* Every value in [first, last] has its own name; one past the end is "unknown".
 */
static void check_names(const char *(*to_str)(int), int first, int last)
{
	const char *seen[64];
	int v, w;

	RG_ASSERT_LT(last - first, 64);
	for (v = first; v <= last; v++) {
		seen[v - first] = to_str(v);
		RG_ASSERT_NOT_NULL(seen[v - first]);
		RG_EXPECT_STR_NE(seen[v - first], "unknown");
		for (w = first; w < v; w++)
			RG_EXPECT_STR_NE(seen[w - first], seen[v - first]);
	}
	RG_EXPECT_STR_EQ(to_str(last + 1000), "unknown");
}

static const char *node_type_name(int v)
{
	return ibv_node_type_str(v);
}

static const char *port_state_name(int v)
{
	return ibv_port_state_str(v);
}

RG_TEST(api, node_type_str)
{
	check_names(node_type_name, IBV_NODE_CA, IBV_NODE_RNIC);
}

RG_TEST(api, port_state_str)
{
	check_names(port_state_name, IBV_PORT_NOP, IBV_PORT_ACTIVE_DEFER);
}

RG_TEST(api, event_type_str)
{
	int event;

	for (event = IBV_EVENT_CQ_ERR; event <= IBV_EVENT_GID_CHANGE; event++) {
		const char *text = ibv_event_type_str(event);

		RG_ASSERT_NOT_NULL(text);
		RG_EXPECT_STR_NE(text, "unknown");
	}
}

RG_TEST(api, is_fork_initialized)
{
#ifdef HAVE_IBV_IS_FORK_INITIALIZED
	/* A fresh process has not asked for fork protection. */
	enum ibv_fork_status status = ibv_is_fork_initialized();

	RG_EXPECT(status == IBV_FORK_DISABLED || status == IBV_FORK_UNNEEDED);
#else
	rg_skip("stack lacks ibv_is_fork_initialized (rdma-core < 35)");
#endif
}

RG_TEST(api, fork_init)
{
	RG_EXPECT_EQ(ibv_fork_init(), 0);
#ifdef HAVE_IBV_IS_FORK_INITIALIZED
	{
		enum ibv_fork_status status = ibv_is_fork_initialized();

		RG_EXPECT(status == IBV_FORK_ENABLED ||
			  status == IBV_FORK_UNNEEDED);
	}
#endif
}

RG_TEST(api, rdma_event_channel)
{
	struct rdma_event_channel *channel;

	errno = 0;
	channel = rdma_create_event_channel();
	if (!channel)
		rg_unsupported_or_fail(errno, "rdma_create_event_channel");
	RG_EXPECT_GE(channel->fd, 0);
	rdma_destroy_event_channel(channel);
}

/* Which libibverbs the process runs on, by its real file name
 * (libibverbs.so.1.14.44.0 is rdma-core 44's): what binary compatibility
 * runs (a build of one stack on another's libraries) are about. Printed as
 * a KTAP diagnostic, not observed: it names the stack, not the device. */
RG_TEST(api, loaded_library)
{
	void *handle = dlopen("libibverbs.so.1", RTLD_NOW | RTLD_NOLOAD);
	struct link_map *map = NULL;
	char *path;

	RG_ASSERT_NOT_NULL(handle);
	RG_ASSERT_EQ(dlinfo(handle, RTLD_DI_LINKMAP, &map), 0);
	path = realpath(map->l_name, NULL);
	RG_ASSERT_NOT_NULL(path);
	printf("# api.loaded_library: %s\n",
	       strrchr(path, '/') ? strrchr(path, '/') + 1 : path);
	fflush(stdout);
	free(path);
	dlclose(handle);
}

RG_TEST(api, umad_cas)
{
	char names[UMAD_MAX_DEVICES][UMAD_CA_NAME_LEN];
	int n;

	RG_ASSERT_EQ(umad_init(), 0);
	n = umad_get_cas_names(names, UMAD_MAX_DEVICES);
	RG_EXPECT_GE(n, 0);
	RG_EXPECT_LE(n, UMAD_MAX_DEVICES);
	RG_EXPECT_EQ(umad_done(), 0);
}
