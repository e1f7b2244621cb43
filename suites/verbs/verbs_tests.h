/* SPDX-License-Identifier: MIT */
/* The verbs suite's tests, in the order they run: families first, data
 * paths next, bad input last. Each file defines its family's test_NAME(). */
#ifndef RDMAGATE_VERBS_TESTS_H
#define RDMAGATE_VERBS_TESTS_H

#define VERBS_TESTS(X) \
	X(device_list) \
	X(open_close_device) \
	X(query_device) \
	X(query_port) \
	X(query_gid) \
	X(query_gid_ex) \
	X(query_gid_table) \
	X(query_pkey) \
	X(rate_conversions) \
	X(resolve_eth_l2) \
	X(async_event_none) \
	X(async_event_srq_limit) \
	X(import_device) \
	X(query_rt_values) \
	X(alloc_pd) \
	X(reg_mr_access) \
	X(reg_mr_iova) \
	X(rereg_mr) \
	X(reg_dmabuf_mr) \
	X(advise_mr) \
	X(mw_type1) \
	X(mw_type2) \
	X(create_cq) \
	X(resize_cq) \
	X(modify_cq) \
	X(comp_channel_notify) \
	X(notify_solicited) \
	X(cq_ex) \
	X(srq) \
	X(srq_ex) \
	X(xrc) \
	X(create_ah) \
	X(mcast_attach) \
	X(flow) \
	X(counters) \
	X(dm) \
	X(wq) \
	X(td_parent_domain) \
	X(create_qp_rc) \
	X(create_qp_uc) \
	X(create_qp_ud) \
	X(qp_state_machine) \
	X(qp_invalid_transition) \
	X(qp_wrong_attr_mask) \
	X(qp_ece) \
	X(qp_data_in_order) \
	X(qp_ex_wr_api) \
	X(qp_ex_sge_list) \
	X(send) \
	X(send_with_imm) \
	X(send_inline) \
	X(send_multi_packet) \
	X(rdma_write) \
	X(rdma_write_with_imm) \
	X(rdma_read) \
	X(atomic_cmp_swap) \
	X(atomic_fetch_add) \
	X(multi_sge) \
	X(selective_signaling) \
	X(uc_write_send) \
	X(ud_send_and_ah_from_wc) \
	X(bad_lkey) \
	X(bad_rkey) \
	X(write_out_of_bounds) \
	X(read_out_of_bounds) \
	X(write_without_remote_access) \
	X(recv_too_small) \
	X(rnr_retry_exceeded) \
	X(too_many_sge) \
	X(send_queue_overflow) \
	X(recv_queue_overflow) \
	X(post_send_in_reset) \
	X(dealloc_pd_in_use) \
	X(destroy_cq_in_use) \
	X(destroy_channel_in_use) \
	X(reg_mr_bad_access) \
	X(create_qp_too_large) \
	X(create_cq_too_large)

#define VERBS_DECLARE(name) void test_##name(void);
VERBS_TESTS(VERBS_DECLARE)

#endif
