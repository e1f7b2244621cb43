"""rdmagate check: run suites for one stack on one device."""
import json
import sys

from .. import build, devices, harness_run, options, plan, profiles, results, rundir, suites
from ..errors import UsageError
from ..progress import Progress


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "check", help="run suites for one stack on one device",
        description="Build the harness against a stack, run the selected suites on a "
        "device, and write results/<run-id>/ (run.json, results.jsonl, junit.xml).")
    options.add_stack(parser)
    options.add_device(parser)
    options.add_suite(parser)
    parser.add_argument("--filter", action="append", metavar="GLOB",
                        help="only tests whose id suite.name matches (repeatable)")
    parser.add_argument("--timeout", type=int, default=plan.DEFAULT_TIMEOUT_S, metavar="S",
                        help="default per-test timeout in seconds (default: %(default)s)")
    options.add_results(parser)
    options.add_json(parser)
    parser.set_defaults(func=run)


def choose_device(requested: str | None, lab: bool, selected: list[suites.Suite]) -> str:
    """The device to test, or 'none' when no selected suite needs one."""
    if lab:
        raise UsageError("--lab: the lab is not built yet; run on a host with an RDMA device")
    found = devices.present()
    if requested:
        if requested not in found:
            raise UsageError(f"--device {requested}: no such RDMA device here "
                             f"(present: {', '.join(found) or 'none'})")
        return requested
    if not any(suite.needs_device for suite in selected):
        return "none"
    if not found:
        needing = ", ".join(s.name for s in selected if s.needs_device)
        raise UsageError(f"suite {needing} needs an RDMA device and this host has none "
                         f"({devices.SYSFS} is empty); name one with --device")
    return found[0]


def profile_name(device: str) -> str:
    """The hardware profile for a device; only the no-device one exists yet."""
    if device == "none":
        return "none"
    raise UsageError(f"--device {device}: no hardware profile for real devices yet "
                     "(hw-profiles/ has only 'none')")


def run(args) -> int:
    selected = suites.select(args.suite)
    device = choose_device(args.device, args.lab, selected)
    progress = Progress()
    if args.stack != "host":
        raise UsageError(f"--stack {args.stack}: only the host stack can be checked so far")
    harness = build.build_harness(args.stack, None, say=progress.say)
    profile = profiles.load(profile_name(device))
    expect = profiles.expectations(profile, build.list_tests(harness))
    run_dir = rundir.create(args.results, "check", args.stack)
    record = rundir.RunRecord(run_dir, "check", stack=args.stack, device=device, where="host",
                              suites=[s.name for s in selected],
                              profile=profile["path"], versions={"harness": str(harness)})
    the_plan = plan.build(args.stack, device, [s.name for s in selected], args.filter,
                          expect=expect, timeout_s=args.timeout)
    plan.write(the_plan, run_dir / "plan.json")
    progress.say(f"running {', '.join(s.name for s in selected)} on {device}; results in {run_dir}")
    status = -1
    try:
        status = harness_run.run(harness, run_dir, progress)
    finally:
        finished = results.read(run_dir / "results.jsonl")
        code = _exit_code(status, finished)
        record.finish(code, counts=results.counts(finished), harness_status=status)
    _summarize(run_dir, finished, code, args.json)
    return code


def _exit_code(status: int, finished: list[dict]) -> int:
    """The harness's verdict, unless it died or failed to run (infrastructure)."""
    if status == 2:
        return 2
    if status not in (0, 1, 3):
        return 3
    return results.exit_code(finished) or status


def _summarize(run_dir, finished: list[dict], code: int, as_json: bool) -> None:
    tally = results.counts(finished)
    if as_json:
        json.dump({"run_dir": str(run_dir), "exit_code": code, "counts": tally,
                   "results": finished}, sys.stdout, indent=2)
        print()
        return
    for record in finished:
        if record["outcome"] not in results.AS_EXPECTED:
            print(f"{record['outcome']:<8} {record['test']}: {record.get('message') or record.get('reason', '')}")
    summary = ", ".join(f"{n} {o.lower()}" for o, n in tally.items() if n)
    print(f"{len(finished)} tests: {summary or 'none ran'} -> {run_dir}")
