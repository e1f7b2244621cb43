"""The check pipeline: build the harness against a stack, run its suites at
a target, keep what finished.

check(CheckRequest) resolves the stack, the target and the profile from
names and options; run_suites(SuiteRun) takes them resolved, as the gate
and profile capture build them."""
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import shutil

from ..harness import build, coverage, driver
from ..outputs import ktap, plan, results, rundir
from .. import devinfo, files, profiles, stacks, suites, targets
from ..errors import EXIT_INFRA, EXIT_UNEXPECTED, EXIT_USAGE, InfraError, RunCutShort
from ..progress import Progress
from ..outputs.result import Result, append_results
from ..stacks import layout
from ..targets import scripts


@dataclass(frozen=True)
class CheckRequest:
    stack: str = "host"
    suites: tuple[str, ...] = ()      # empty: every suite
    device: str | None = None
    use_lab: bool = False
    filters: tuple[str, ...] = ()
    timeout_s: int = plan.DEFAULT_TIMEOUT_S
    results_dir: str | None = None
    built_for: str | None = None      # binary compatibility: the suites built against this stack
    kernel: str | None = None         # another Debian kernel (a release, or a stack's) in the lab
    guest_cpus: int | None = None     # the lab guest's CPUs (default: the lab's)


@dataclass
class SuiteRun:
    """One run of suites with everything resolved."""
    stack: object
    fetched: object
    suites: list
    target: targets.Target
    profile: dict | None              # None: no expectations (profile capture keeps raw outcomes);
                                      # one with judged False: none exists, nothing is judged
    results_dir: str | None = None
    command: str = "check"
    label: str | None = None          # the run directory's name (default: the stack's)
    harness: Path | None = None       # built for another stack, run on this stack's libraries
    argv_prefix: Callable[[Path], list[str]] | None = None   # run_dir -> argv before the harness
    filters: tuple[str, ...] = ()
    timeout_s: int = plan.DEFAULT_TIMEOUT_S
    own_harness: Path | None = None   # the stack's own build, made already (a fleet builds once)
    run_dir: Path | None = None       # an empty directory to run in (a fleet's nodes/<node>/)
    not_run: dict = field(default_factory=dict)   # capture: known defects with run: false


@dataclass
class CheckDone:
    run_dir: Path
    finished: list[Result] = field(default_factory=list)
    exit_code: int = 0


def check(request: CheckRequest, progress: Progress) -> CheckDone:
    chosen = suites.select(list(request.suites) or None)
    suites.check_filters(chosen, request.filters)
    stack = stacks.resolve(request.stack)
    fetched = stacks.fetch(stack, say=progress.say)
    target = targets.choose(request.device, request.use_lab,
                            any(s.needs_device for s in chosen),
                            fetched.needs_rootfs and any(s.in_harness for s in chosen),
                            stack.name, kernel=stacks.kernel_release(request.kernel),
                            guest_cpus=request.guest_cpus)
    profile = profiles.load_for_device(profiles.name_for(target), say=progress.say)
    run = SuiteRun(stack, fetched, chosen, target, profile, results_dir=request.results_dir,
                   filters=request.filters, timeout_s=request.timeout_s)
    if request.built_for:
        built = stacks.resolve(request.built_for)
        built_fetched = stacks.fetch(built, say=progress.say)
        run.harness = build.build_harness(built.name, None if built.kind == "host"
                                          else built_fetched.root, say=progress.say)
        run.label = f"{built.name}-build-on-{stack.name}"
    done = run_suites(run, progress)
    if request.built_for:
        rundir.RunRecord.amend(done.run_dir, built_for=request.built_for)
    return done


def run_suites(run: SuiteRun, progress: Progress) -> CheckDone:
    """Run the chosen suites: the harness suites in one harness run at the
    target, then each runner suite; a device or guest that goes mid-run ends
    in RunCutShort with what finished."""
    stack, fetched, target = run.stack, run.fetched, run.target
    in_harness = [s for s in run.suites if s.in_harness]
    in_runner = [s for s in run.suites if not s.in_harness]
    harness = run.harness or run.own_harness
    own_build = run.harness is None
    if in_harness and harness is None:
        try:
            harness = build.build_harness(stack.name, None if stack.kind == "host"
                                          else fetched.root, say=progress.say)
        except build.BuildError as err:
            if err.compile_error is None:
                raise
            return _api_break(run, err, progress)
    if not in_harness:
        harness = None
    expect = {}
    judged = run.profile is not None and run.profile.get("judged", True)
    if judged:
        # The harness checks the expectations against its tests too; listing
        # them here names the profile in the error, where it can run here.
        known = None if fetched.needs_rootfs or not harness else build.list_tests(harness)
        expect = profiles.expectations(run.profile, known)
    expect.update(run.not_run)
    run_dir, record = _start(run, versions={"harness": str(harness),
                                            "rdma_core": stack.rdma_core})
    plan.write(plan.build(stack.name, target.device, [s.name for s in in_harness],
                          list(run.filters), expect=expect, timeout_s=run.timeout_s,
                          capture=not judged),
               run_dir / "plan.json")
    progress.say(f"running {', '.join(s.name for s in run.suites)} on {target.describe()}; "
                 f"results in {run_dir}")
    status = -1
    stopped = None
    counting = False
    try:
        argv = driver.command(harness, run_dir) if harness else []
        if harness and not own_build:
            # The build's runpath names its own stack: the libraries must be
            # this stack's, as for a binary built elsewhere and copied here.
            libdir = layout.runtime_libdir(fetched, target.in_own_root())
            argv = ["env", f"LD_LIBRARY_PATH={libdir}"] + argv
        counting = bool(harness and own_build and coverage.preload(harness, run_dir))
        if counting:
            argv = ["env", *coverage.preload(harness, run_dir)] + argv
        if harness and run.argv_prefix:
            argv = run.argv_prefix(run_dir) + argv
        if harness and target.kind != "none":
            argv = _devinfo_first(run_dir, target) + argv
        status = _run_harness(target, harness, argv, run_dir, progress, record) \
            if harness else 0
        gone = target.gone()
        if gone:
            raise InfraError(gone)
        if harness and judged and run.profile.get("capabilities"):
            follower = driver.Follower(run_dir, progress)
            compared = compare_capabilities(run_dir, run.profile)
            append_results(compared, run_dir / "results.jsonl")
            for line in ktap.document("capabilities", compared):
                follower.line(line)
            follower.close()
        context = suites.Context(stack, fetched, target, run.profile,
                                 Path(run.profile["path"]).stem if run.profile else target.kind,
                                 run_dir, progress.say)
        for suite in in_runner:   # after the harness, which starts results.jsonl afresh
            follower = driver.Follower(run_dir, progress)
            for line in ktap.document(suite.name, suite.run(context)):
                follower.line(line)
            follower.close()
    except InfraError as err:
        stopped = err
    finally:
        if counting and (run_dir / "coverage.bin").is_file():
            # also of a run cut short: the harness writes it after each test
            measured = coverage.write(harness, run_dir, _include_dir(stack, fetched))
            record.update(coverage={lib: [d["called"], d["total"]] for lib, d in measured.items()})
            for line in coverage.summary(measured):
                progress.say(line)
        finished = driver.write_junit(run_dir)
        code = _exit_code(status, finished)
        if run.profile is not None and not judged:
            # Only what is wrong on any device counts; an infrastructure
            # failure stays one.
            if code == EXIT_UNEXPECTED:
                code = profiles.unjudged_exit_code(finished)
            progress.say(f"not judged: no hardware profile {Path(run.profile['path']).name}; "
                         f"{len(finished)} outcomes and the device's capabilities (devinfo.txt) "
                         f"recorded in {run_dir}; `rdmagate profile capture --stack "
                         f"{stack.name} {' '.join(target.flags())}` writes the profile")
        record.finish(code, counts=results.counts(finished), harness_status=status,
                      **({"stopped": str(stopped)} if stopped else {}))
    if stopped and finished:
        raise RunCutShort(f"{stopped}; {len(finished)} test(s) had finished, kept in "
                          f"{run_dir}", run_dir, finished) from stopped
    if stopped:
        raise stopped
    return CheckDone(run_dir, finished, code)


def _start(run: SuiteRun, **fields) -> tuple[Path, rundir.RunRecord]:
    """The run directory and its run.json, as the run starts."""
    run_dir = run.run_dir or rundir.create(run.results_dir, run.command,
                                           run.label or run.stack.name).resolve()
    record = rundir.RunRecord(run_dir, run.command, stack=run.stack.name,
                              device=run.target.device, where=run.target.name,
                              where_why=run.target.why, suites=[s.name for s in run.suites],
                              profile=run.profile["path"] if run.profile else None,
                              judged=run.profile.get("judged", True) if run.profile else None,
                              **fields)
    return run_dir, record


def _api_break(run: SuiteRun, err, progress: Progress) -> CheckDone:
    """The suites, code written against the rdma-core API, do not compile
    against this stack's headers: a FAIL of the stack (an API break), with the
    compiler's first error, not an infrastructure error."""
    run_dir, record = _start(run)
    broken = Result("build.compile", "build", "compile", "FAIL", raw_outcome="FAIL",
                    reason="API break: the suites do not compile against the stack's headers",
                    message=err.compile_error, stack=run.stack.name, device=run.target.device)
    files.write_atomic(run_dir / "results.jsonl", broken.line(), "results.jsonl")
    progress.say(f"API break: {err.compile_error}")
    finished = driver.write_junit(run_dir)
    record.finish(EXIT_UNEXPECTED, counts=results.counts(finished), harness_status=None)
    return CheckDone(run_dir, finished, EXIT_UNEXPECTED)


def _devinfo_first(run_dir: Path, target) -> list[str]:
    """The argv that records the device's capabilities (devinfo.txt) at the
    start of the run, where the harness runs, then runs the harness."""
    shutil.copy2(scripts.CAPTURE_DEVINFO, run_dir / scripts.CAPTURE_DEVINFO.name)
    return ["sh", str(run_dir / scripts.CAPTURE_DEVINFO.name), str(run_dir / "devinfo.txt"),
            target.device, "--"]


def compare_capabilities(run_dir: Path, profile: dict) -> list[Result]:
    """The profile's capabilities against the device's at the start of this
    run: each one that shrank is a FAIL of its own, named, even when the
    tests that need it now say UNSUPPORTED (which the profile may allow)."""
    where = run_dir / "devinfo.txt"
    try:
        now = devinfo.parse(where.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        return [Result("capabilities.compared", "capabilities", "compared", "ERROR",
                       raw_outcome="ERROR", reason=f"{where}: no device capabilities ({err})")]
    found = [Result(f"capabilities.{name}", "capabilities", name, "FAIL", raw_outcome="FAIL",
                    reason="capability shrank", failure="capability shrank",
                    message=f"{name}: {was} in {profile['path']}, {is_now} on the device now")
             for name, was, is_now in devinfo.shrunk(profile["capabilities"], now)]
    return found or [Result("capabilities.compared", "capabilities", "compared", "PASS",
                            raw_outcome="PASS", message="no capability of the profile shrank")]


def _include_dir(stack, fetched) -> Path:
    if stack.kind == "host":
        return Path("/usr/include")
    found = fetched.layout   # usr/include, or include/ of a prefix install
    return found.include_dir if found and found.include_dir else fetched.root / "usr" / "include"


def _run_harness(target, harness, argv, run_dir, progress, record) -> int:
    follower = driver.Follower(run_dir, progress)
    try:
        ran = target.run(argv, shares=[(run_dir, True), (build.tree_of(harness), False)],
                         on_line=follower.line, say=progress.say)
    finally:
        follower.close()
    record.update(**ran.record)
    return ran.exit_status


def _exit_code(status: int, finished: list[Result]) -> int:
    """The harness's verdict, unless it died or failed to run (infrastructure)."""
    if status == EXIT_USAGE:
        return EXIT_USAGE
    if status not in (0, EXIT_UNEXPECTED, EXIT_INFRA):
        return EXIT_INFRA
    return results.exit_code(finished) or status
