/* SPDX-License-Identifier: MIT */
/* The cm suite's tests, in the order they run. */
#ifndef RDMAGATE_CM_TESTS_H
#define RDMAGATE_CM_TESTS_H

#define CM_TESTS(X) \
	X(event_channel) \
	X(get_devices) \
	X(event_str) \
	X(bind_listen) \
	X(resolve) \
	X(resolve_unreachable) \
	X(connect_accept_disconnect) \
	X(reject) \
	X(reject_ece) \
	X(connect_no_listener) \
	X(ud) \
	X(multicast) \
	X(migrate_ece_init_attr_notify) \
	X(srq_and_qp_ex) \
	X(addrinfo_ep) \
	X(verbs_helpers) \
	X(rsockets)

#define CM_DECLARE(name) void test_##name(void);
CM_TESTS(CM_DECLARE)

#endif
