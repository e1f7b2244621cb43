"""What rdmagate does, one pipeline a file, each taking one typed request:

    check.check(CheckRequest) -> CheckDone          suites of one stack at a target
    check.run_suites(SuiteRun) -> CheckDone         the same with everything resolved
    profile_capture.capture(CaptureRequest)         a hardware profile from the device
    baseline_record.record(BaselineRequest)         an ABI or perf baseline
    upgrade.upgrade(UpgradeRequest) -> UpgradeDone  the gate, A to B
    abi.diff(AbiRequest) -> AbiDone                 the ABI of two stacks, per audience
    kabi.kabi(KabiRequest) -> KabiReport           kernel exports A to B, module loads on B

Commands (../commands/) parse options into a request, call one of these and
print; pipelines print nothing but progress (stderr)."""
