"""One run of suites at a target, everything resolved (SuiteRun): build the
harness against a stack, run its suites, keep what finished. The check
pipeline, the gate, profile capture and a fleet's nodes run suites this way."""
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import shutil

from . import build, coverage, driver
from ..outputs import ktap, plan, results, rundir
from .. import devinfo, files, profiles, suites, targets
from ..errors import EXIT_INFRA, EXIT_UNEXPECTED, EXIT_USAGE, InfraError, RunCutShort
from ..progress import Progress
from ..outputs.result import Result, append_results
from ..stacks import FetchedStack, Stack, layout
from ..targets import scripts


@dataclass
class SuiteRun:
    """One run of suites with everything resolved."""
    stack: Stack
    fetched: FetchedStack
    suites: list
    target: targets.Target
    profile: profiles.ForDevice       # judged against, absent, or captured (profiles.CAPTURE)
    results_dir: str | None = None
    command: rundir.Command = "check"
    label: str | None = None          # the run directory's name (default: the stack's)
    harness: Path | None = None       # made already (None: build the stack's own)
    built_for: str | None = None      # the harness's stack when another: run on this one's libraries
    argv_prefix: Callable[[Path], list[str]] | None = None   # run_dir -> argv before the harness
    filters: tuple[str, ...] = ()
    timeout_s: int = plan.DEFAULT_TIMEOUT_S
    run_dir: Path | None = None       # an empty directory to run in (a fleet's nodes/<node>/)
    not_run: dict = field(default_factory=dict)   # capture: known defects with run: false

    @property
    def in_harness(self) -> list:
        return [s for s in self.suites if s.in_harness]


@dataclass
class CheckDone:
    run_dir: Path
    finished: list[Result] = field(default_factory=list)
    exit_code: int = 0


@dataclass
class _Started:
    """A run under way: its directory, its run.json and the harness it runs
    (None: no harness suite chosen)."""
    run_dir: Path
    record: rundir.RunRecord
    harness: Path | None
    counting: bool = False            # the coverage hooks are preloaded
    status: int = -1                  # the harness's exit status
    stopped: InfraError | None = None


def run_suites(run: SuiteRun, progress: Progress) -> CheckDone:
    """Run the chosen suites: the harness suites in one harness run at the
    target, then each runner suite; a device or guest that goes mid-run ends
    in RunCutShort with what finished. Suites that do not compile against
    the stack's headers are its API break (a FAIL), not an error."""
    try:
        harness = _build(run, progress)
    except build.BuildError as err:
        if err.compile_error is None:
            raise
        return _api_break(run, err, progress)
    started = _plan(run, harness, progress)
    try:
        _run(run, started, progress)
    except InfraError as err:
        started.stopped = err
    finally:
        done = _finish(run, started, progress)
    if started.stopped and done.finished:
        raise RunCutShort(f"{started.stopped}; {len(done.finished)} test(s) had finished, kept "
                          f"in {done.run_dir}", done.run_dir, done.finished) from started.stopped
    if started.stopped:
        raise started.stopped
    return done


def _build(run: SuiteRun, progress: Progress) -> Path | None:
    """The harness to run: the one given, or the stack's own built now; None
    when no harness suite is chosen."""
    if not run.in_harness:
        return None
    if run.harness:
        return run.harness
    return build.build_harness(run.stack.name, None if run.stack.kind == "host"
                               else run.fetched.root, say=progress.say)


def _plan(run: SuiteRun, harness: Path | None, progress: Progress) -> _Started:
    """The run directory, its run.json and plan.json (with the profile's
    expectations when judged)."""
    expect = {}
    if run.profile.judged:
        # The harness checks the expectations against its tests too; listing
        # them here names the profile in the error, where it can run here.
        known = None if run.fetched.needs_rootfs or not harness else build.list_tests(harness)
        expect = profiles.expectations(run.profile.data, known)
    expect.update(run.not_run)
    run_dir, record = _start(run, versions={"harness": str(harness),
                                            "rdma_core": run.stack.rdma_core})
    plan.write(plan.build(run.stack.name, run.target.device, [s.name for s in run.in_harness],
                          list(run.filters), expect=expect, timeout_s=run.timeout_s,
                          capture=not run.profile.judged),
               run_dir / "plan.json")
    progress.say(f"running {', '.join(s.name for s in run.suites)} on "
                 f"{run.target.describe()}; results in {run_dir}")
    return _Started(run_dir, record, harness)


def _run(run: SuiteRun, started: _Started, progress: Progress) -> None:
    """The harness at the target, the capabilities compared, then each
    runner suite; InfraError when the target went."""
    target, run_dir = run.target, started.run_dir
    if started.harness:
        started.status = _run_harness(target, started.harness, _argv(run, started), run_dir,
                                      progress, started.record)
    else:
        started.status = 0
    gone = target.gone()
    if gone:
        raise InfraError(gone)
    if started.harness and run.profile.judged and run.profile.data.get("capabilities"):
        compared = compare_capabilities(run_dir, run.profile.data)
        append_results(compared, run_dir / "results.jsonl")
        _follow(run_dir, progress, ktap.document("capabilities", compared))
    captured = run.profile.judging is profiles.Judging.CAPTURE
    context = suites.Context(run.stack, run.fetched, target, None if captured else run.profile.data,
                             target.kind if captured else Path(run.profile.data["path"]).stem,
                             run_dir, progress.say)
    for suite in (s for s in run.suites if not s.in_harness):
        # after the harness, which starts results.jsonl afresh
        _follow(run_dir, progress, ktap.document(suite.name, suite.run(context)))


def _argv(run: SuiteRun, started: _Started) -> list[str]:
    """The harness's argv at the target, with what goes before it: this
    stack's libraries for a build of another, the coverage hooks for its
    own, the caller's prefix, the device's capabilities recorded first."""
    harness, run_dir = started.harness, started.run_dir
    assert harness is not None   # _run runs the harness only when there is one
    argv = driver.command(harness, run_dir)
    if run.built_for:
        # The build's runpath names its own stack: the libraries must be
        # this stack's, as for a binary built elsewhere and copied here.
        libdir = layout.runtime_libdir(run.fetched, run.target.in_own_root())
        argv = ["env", f"LD_LIBRARY_PATH={libdir}"] + argv
    else:
        hooks = coverage.preload(harness, run_dir)
        started.counting = bool(hooks)
        if hooks:
            argv = ["env", *hooks] + argv
    if run.argv_prefix:
        argv = run.argv_prefix(run_dir) + argv
    if run.target.kind != "none":
        argv = _devinfo_first(run_dir, run.target) + argv
    return argv


def _follow(run_dir: Path, progress: Progress, lines) -> None:
    follower = driver.Follower(run_dir, progress)
    for line in lines:
        follower.line(line)
    follower.close()


def _finish(run: SuiteRun, started: _Started, progress: Progress) -> CheckDone:
    """Coverage (also of a run cut short: the harness writes it after each
    test), junit.xml, the exit code and run.json's end."""
    run_dir, record = started.run_dir, started.record
    if started.counting and (run_dir / "coverage.bin").is_file():
        assert started.harness is not None   # counting: _argv preloaded its hooks
        measured = coverage.write(started.harness, run_dir, _include_dir(run.stack, run.fetched))
        record.update(coverage={lib: [d["called"], d["total"]] for lib, d in measured.items()})
        for line in coverage.summary(measured):
            progress.say(line)
    finished = driver.write_junit(run_dir)
    code = _exit_code(started.status, finished)
    if run.profile.judging is profiles.Judging.NO_PROFILE:
        # Only what is wrong on any device counts; an infrastructure
        # failure stays one.
        if code == EXIT_UNEXPECTED:
            code = profiles.unjudged_exit_code(finished)
        progress.say(f"not judged: no hardware profile {Path(run.profile.data['path']).name}; "
                     f"{len(finished)} outcomes and the device's capabilities (devinfo.txt) "
                     f"recorded in {run_dir}; `rdmagate profile capture --stack "
                     f"{run.stack.name} {' '.join(run.target.flags())}` writes the profile")
    record.finish(code, counts=results.counts(finished), harness_status=started.status,
                  **({"stopped": str(started.stopped)} if started.stopped else {}))
    return CheckDone(run_dir, finished, code)


def _start(run: SuiteRun, **fields) -> tuple[Path, rundir.RunRecord]:
    """The run directory and its run.json, as the run starts."""
    run_dir = run.run_dir or rundir.create(run.results_dir, run.command,
                                           run.label or run.stack.name).resolve()
    record = rundir.RunRecord(run_dir, run.command, stack=run.stack.name,
                              device=run.target.device, where=run.target.name,
                              where_why=run.target.why, suites=[s.name for s in run.suites],
                              profile=run.profile.data.get("path"),
                              judged=None if run.profile.judging is profiles.Judging.CAPTURE
                              else run.profile.judged,
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
