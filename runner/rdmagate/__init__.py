"""rdmagate: ABI conformance tests for RDMA software stacks (the runner)."""
