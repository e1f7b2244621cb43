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

static void test_get_device_list(void)
{
	struct ibv_device **list;
	int num = -1;

	errno = 0;
	list = ibv_get_device_list(&num);
	if (!list) {
		/* No RDMA subsystem in this kernel: documented as ENOSYS. */
		CU_ASSERT_EQUAL(errno, ENOSYS);
		return;
	}
	CU_ASSERT(num >= 0);
	CU_ASSERT_PTR_NULL(list[num]);
	ibv_free_device_list(list);
}

static void test_wc_status_str(void)
{
	int status;

	for (status = IBV_WC_SUCCESS; status <= IBV_WC_GENERAL_ERR; status++) {
		const char *text = ibv_wc_status_str(status);

		CU_ASSERT_PTR_NOT_NULL_FATAL(text);
		CU_ASSERT_STRING_NOT_EQUAL(text, "unknown");
	}
	CU_ASSERT_STRING_EQUAL(ibv_wc_status_str(IBV_WC_GENERAL_ERR + 100), "unknown");
}

/* Every value in [first, last] has its own name; one past the end is "unknown". */
static void check_names(const char *(*to_str)(int), int first, int last)
{
	const char *seen[64];
	int v, w;

	CU_ASSERT_FATAL(last - first < 64);
	for (v = first; v <= last; v++) {
		seen[v - first] = to_str(v);
		CU_ASSERT_PTR_NOT_NULL_FATAL(seen[v - first]);
		CU_ASSERT_STRING_NOT_EQUAL(seen[v - first], "unknown");
		for (w = first; w < v; w++)
			CU_ASSERT_STRING_NOT_EQUAL(seen[w - first], seen[v - first]);
	}
	CU_ASSERT_STRING_EQUAL(to_str(last + 1000), "unknown");
}

static const char *node_type_name(int v)
{
	return ibv_node_type_str(v);
}

static const char *port_state_name(int v)
{
	return ibv_port_state_str(v);
}

static void test_node_type_str(void)
{
	check_names(node_type_name, IBV_NODE_CA, IBV_NODE_RNIC);
}

static void test_port_state_str(void)
{
	check_names(port_state_name, IBV_PORT_NOP, IBV_PORT_ACTIVE_DEFER);
}

static void test_event_type_str(void)
{
	int event;

	for (event = IBV_EVENT_CQ_ERR; event <= IBV_EVENT_GID_CHANGE; event++) {
		const char *text = ibv_event_type_str(event);

		CU_ASSERT_PTR_NOT_NULL_FATAL(text);
		CU_ASSERT_STRING_NOT_EQUAL(text, "unknown");
	}
}

static void test_fork_init(void)
{
	CU_ASSERT_EQUAL(ibv_fork_init(), 0);
#ifdef HAVE_IBV_IS_FORK_INITIALIZED
	{
		enum ibv_fork_status status = ibv_is_fork_initialized();

		CU_ASSERT(status == IBV_FORK_ENABLED || status == IBV_FORK_UNNEEDED);
	}
#endif
}

static void test_is_fork_initialized(void)
{
#ifdef HAVE_IBV_IS_FORK_INITIALIZED
	/* A fresh process has not asked for fork protection. */
	enum ibv_fork_status status = ibv_is_fork_initialized();

	CU_ASSERT(status == IBV_FORK_DISABLED || status == IBV_FORK_UNNEEDED);
#else
	rg_skip("stack lacks ibv_is_fork_initialized (rdma-core < 35)");
#endif
}

static void test_rdma_event_channel(void)
{
	struct rdma_event_channel *channel;

	errno = 0;
	channel = rdma_create_event_channel();
	if (!channel)
		rg_unsupported("rdma_create_event_channel: %s", strerror(errno));
	CU_ASSERT(channel->fd >= 0);
	rdma_destroy_event_channel(channel);
}

/* Which libibverbs the process runs on, by its real file name
 * (libibverbs.so.1.14.44.0 is rdma-core 44's): what binary compatibility
 * runs (a build of one stack on another's libraries) are about. Printed as
 * a KTAP diagnostic, not observed: it names the stack, not the device. */
static void test_loaded_library(void)
{
	void *handle = dlopen("libibverbs.so.1", RTLD_NOW | RTLD_NOLOAD);
	struct link_map *map = NULL;
	char *path;

	CU_ASSERT_PTR_NOT_NULL_FATAL(handle);
	CU_ASSERT_EQUAL_FATAL(dlinfo(handle, RTLD_DI_LINKMAP, &map), 0);
	path = realpath(map->l_name, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(path);
	printf("# api.loaded_library: %s\n", strrchr(path, '/') ? strrchr(path, '/') + 1 : path);
	fflush(stdout);
	free(path);
	dlclose(handle);
}

static void test_umad_cas(void)
{
	char names[UMAD_MAX_DEVICES][UMAD_CA_NAME_LEN];
	int n;

	CU_ASSERT_EQUAL_FATAL(umad_init(), 0);
	n = umad_get_cas_names(names, UMAD_MAX_DEVICES);
	CU_ASSERT(n >= 0 && n <= UMAD_MAX_DEVICES);
	CU_ASSERT_EQUAL(umad_done(), 0);
}

RG_SUITE(api, NULL, NULL,
	 RG_TEST(get_device_list),
	 RG_TEST(wc_status_str),
	 RG_TEST(node_type_str),
	 RG_TEST(port_state_str),
	 RG_TEST(event_type_str),
	 RG_TEST(is_fork_initialized),
	 RG_TEST(fork_init),
	 RG_TEST(rdma_event_channel),
	 RG_TEST(loaded_library),
	 RG_TEST(umad_cas))
