"""rdmagate check: run suites for one stack on one device."""
import json
import sys
from pathlib import Path

from .. import build, coverage, harness_run, host_rxe, ktap, lab, options, outcomes, plan, \
    profiles, results, rundir, stacks, suites, where
from ..errors import InfraError, RunCutShort
from ..abi import suite as abi_suite
from ..perf import suite as perf_suite
from ..stacks import layout
from ..progress import Progress
from ..result import Result


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "check", help="run suites for one stack on one device",
        description="Build the harness against a stack, run the selected suites on a "
        "device (or in the lab, soft-RoCE under QEMU, where there is none or the stack "
        "needs its own root), and write results/<run-id>/ (run.json, results.jsonl, "
        "junit.xml, ktap.log).")
    options.add_stack(parser)
    options.add_device(parser)
    options.add_suite(parser)
    parser.add_argument("--filter", action="append", metavar="GLOB",
                        help="only tests whose id suite.name matches (repeatable)")
    parser.add_argument("--timeout", type=int, default=plan.DEFAULT_TIMEOUT_S, metavar="S",
                        help="default per-test timeout in seconds (default: %(default)s)")
    parser.add_argument("--built-for", metavar="STACK",
                        help="binary compatibility: run the suites as built against this "
                        "(older) stack's headers and libraries on --stack's libraries, as an "
                        "application built there and not rebuilt")
    options.add_results(parser)
    options.add_json(parser)
    parser.set_defaults(func=run)


def run(args) -> int:
    chosen = suites.select(args.suite)
    progress = Progress()
    stack = stacks.resolve(args.stack)
    fetched = stacks.fetch(stack, say=progress.say)
    place = where.choose(args.device, args.lab, any(s.needs_device for s in chosen),
                         fetched.needs_rootfs and any(s.runs_in == "harness" for s in chosen))
    profile = profiles.load_for_device(
        profiles.name_for(place.profile, place.place, stack), say=progress.say)
    harness, label = None, None
    if args.built_for:
        built = stacks.resolve(args.built_for)
        built_fetched = stacks.fetch(built, say=progress.say)
        harness = build.build_harness(built.name, None if built.kind == "host"
                                      else built_fetched.root, say=progress.say)
        label = f"{built.name}-build-on-{stack.name}"
    run_dir, finished, code = execute(stack, fetched, chosen, place, profile, progress,
                                      filters=args.filter, timeout_s=args.timeout,
                                      results_dir=args.results, harness=harness, label=label)
    if args.built_for:
        rundir.RunRecord.amend(run_dir, built_for=args.built_for)
    _summarize(run_dir, finished, code, args.json)
    return code


def execute(stack, fetched, chosen, place, profile, progress, filters=None,
            timeout_s=plan.DEFAULT_TIMEOUT_S, results_dir=None, command="check",
            harness=None, guest_prefix=None, label=None):
    """Run the chosen suites of a stack at a place; (run_dir, results, exit code).

    profile None: no expectations (profile capture records raw outcomes).
    harness: one built for another stack (binary compatibility), run on this
    stack's libraries. guest_prefix(run_dir) -> argv put before the harness."""
    selected = [s for s in chosen if s.runs_in == "harness"]
    in_runner = [s for s in chosen if s.runs_in == "runner"]
    own_build = harness is None
    if selected and own_build:
        try:
            harness = build.build_harness(stack.name, None if stack.kind == "host"
                                          else fetched.root, say=progress.say)
        except build.BuildError as err:
            if err.compile_error is None:
                raise
            return _api_break(stack, place, chosen, err, results_dir, command, label, progress)
    if not selected:
        harness = None
    expect = {}
    if profile is not None:
        # The harness checks the expectations against its tests too; listing
        # them here names the profile in the error, where it can run here.
        known = None if fetched.needs_rootfs or not harness else build.list_tests(harness)
        expect = profiles.expectations(profile, known)
    run_dir = rundir.create(results_dir, command, label or stack.name).resolve()
    record = rundir.RunRecord(run_dir, command, stack=stack.name, device=place.device,
                              where=place.place, where_why=place.why,
                              suites=[s.name for s in chosen],
                              profile=profile["path"] if profile else None,
                              versions={"harness": str(harness), "rdma_core": stack.rdma_core})
    plan.write(plan.build(stack.name, place.device, [s.name for s in selected], filters,
                          expect=expect, timeout_s=timeout_s, capture=profile is None),
               run_dir / "plan.json")
    progress.say(f"running {', '.join(s.name for s in chosen)} on {place.device} "
                 f"({place.place}: {place.why}); results in {run_dir}")
    status = -1
    stopped = None
    counting = False
    try:
        argv = harness_run.command(harness, run_dir) if harness else []
        if harness and not own_build:
            # The build's runpath names its own stack: the libraries must be
            # this stack's, as for a binary built elsewhere and copied here.
            argv = ["env", f"LD_LIBRARY_PATH={layout.runtime_libdir(fetched, place.place)}"] + argv
        counting = bool(harness and own_build and coverage.preload(harness, run_dir))
        if counting:
            argv = ["env", *coverage.preload(harness, run_dir)] + argv
        if harness and guest_prefix:
            argv = guest_prefix(run_dir) + argv
        status = _run_harness(place, stack.name, harness, argv, run_dir, progress, record) \
            if harness else 0
        if where.vanished(place):
            raise InfraError(f"device {place.device} vanished during the run")
        for suite in in_runner:  # after the harness, which starts results.jsonl afresh
            if suite.name == "perf":
                lines = perf_suite.run(stack, fetched, place,
                                       Path(profile["path"]).stem if profile else place.profile,
                                       profile, run_dir, say=progress.say)
            else:
                lines = abi_suite.run(stack.name, place.device, run_dir, say=progress.say)
            follower = harness_run.Follower(run_dir, progress)
            for line in ktap.document(suite.name, lines):
                follower.line(line)
            follower.close()
            (run_dir / "junit.xml").unlink(missing_ok=True)  # rebuilt with every suite
    except InfraError as err:
        stopped = err
    finally:
        if counting and (run_dir / "coverage.bin").is_file():
            # also of a run cut short: the harness writes it after each test
            measured = coverage.write(harness, run_dir, _include_dir(stack, fetched))
            record.update(coverage={lib: [d["called"], d["total"]] for lib, d in measured.items()})
            for line in coverage.summary(measured):
                progress.say(line)
        finished = harness_run.ensure_junit(run_dir)
        code = _exit_code(status, finished)
        record.finish(code, counts=results.counts(finished), harness_status=status,
                      **({"stopped": str(stopped)} if stopped else {}))
    if stopped and finished:
        raise RunCutShort(f"{stopped}; {len(finished)} test(s) had finished, kept in "
                          f"{run_dir}", run_dir, finished) from stopped
    if stopped:
        raise stopped
    return run_dir, finished, code


def _api_break(stack, place, chosen, err, results_dir, command, label, progress):
    """The suites, code written against the rdma-core API, do not compile
    against this stack's headers: a FAIL of the stack (an API break), with the
    compiler's first error, not an infrastructure error."""
    run_dir = rundir.create(results_dir, command, label or stack.name).resolve()
    record = rundir.RunRecord(run_dir, command, stack=stack.name, device=place.device,
                              where=place.place, where_why=place.why,
                              suites=[s.name for s in chosen])
    broken = Result("build.compile", "build", "compile", "FAIL", raw_outcome="FAIL",
                    reason="API break: the suites do not compile against the stack's headers",
                    message=err.compile_error, stack=stack.name, device=place.device)
    (run_dir / "results.jsonl").write_text(broken.line())
    progress.say(f"API break: {err.compile_error}")
    finished = harness_run.ensure_junit(run_dir)
    record.finish(1, counts=results.counts(finished), harness_status=None)
    return run_dir, finished, 1


def _include_dir(stack, fetched) -> Path:
    return Path("/usr/include") if stack.kind == "host" else fetched.root / "usr" / "include"


def _run_harness(place, stack_name, harness, argv, run_dir, progress, record) -> int:
    if place.place == "host":
        return harness_run.run(argv, run_dir, progress)
    if place.place == "host-rxe":
        with host_rxe.link():
            return harness_run.run(argv, run_dir, progress)
    follower = harness_run.Follower(run_dir, progress)
    try:
        result = lab.run(stack_name, argv,
                         binds=[(run_dir, True), (build.tree_of(harness), False)],
                         on_line=follower.line, say=progress.say)
    finally:
        follower.close()
    record.update(lab={"kernel": result.kernel, "accel": result.accel,
                       "boot_to_active_s": result.boot_to_active_s})
    return result.exit_status


def _exit_code(status: int, finished: list[Result]) -> int:
    """The harness's verdict, unless it died or failed to run (infrastructure)."""
    if status == 2:
        return 2
    if status not in (0, 1, 3):
        return 3
    return results.exit_code(finished) or status


def _summarize(run_dir, finished: list[Result], code: int, as_json: bool) -> None:
    if as_json:
        json.dump({"run_dir": str(run_dir), "exit_code": code, "counts": results.counts(finished),
                   "results": [r.to_json() for r in finished]}, sys.stdout, indent=2)
        print()
        return
    for result in finished:
        if result.outcome not in outcomes.AS_EXPECTED:
            print(f"{result.outcome:<8} {result.test}: {result.why}")
    print(f"{len(finished)} tests: {results.tally(finished) or 'none ran'} -> {run_dir}")
