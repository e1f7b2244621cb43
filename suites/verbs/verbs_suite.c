// SPDX-License-Identifier: MIT
/*
 * The verbs suite: every libibverbs call on the device under test, each
 * test in its own process (the harness forks), so a test that leaves a QP
 * in error or crashes a provider harms nothing after it.
 */
#include "verbs_common.h"
#include "verbs_tests.h"

#define VERBS_REGISTER(name) RG_TEST(name),

RG_SUITE(verbs, NULL, NULL, VERBS_TESTS(VERBS_REGISTER))
