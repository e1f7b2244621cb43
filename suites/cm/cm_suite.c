// SPDX-License-Identifier: MIT
/*
 * The cm suite: every librdmacm call on the device under test (the CM over
 * its IP address, the rdma_verbs.h helpers, rsockets), each test in its own
 * process with a timeout, since a CM call that never completes blocks.
 */
#include "cm_common.h"
#include "cm_tests.h"

/* The CM retries a lost request after seconds: a slow guest needs time. */
#define CM_REGISTER(name) RG_TEST(name, .timeout_s = 60),

RG_SUITE(cm, NULL, NULL, CM_TESTS(CM_REGISTER))
