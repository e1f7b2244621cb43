"""rdmagate baseline: record a stack's ABI or performance into baselines/ (committed)."""
import tempfile
from pathlib import Path

from .. import options, profiles, stacks, where
from ..abi import baseline
from ..errors import EXIT_OK, InfraError, UsageError
from ..perf import baseline as perf_baseline, native, suite as perf_suite
from ..progress import Progress


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "baseline", help="record ABI baselines of stacks into baselines/",
        description="Record a stack's ABI (symbol inventory, abidw corpora of its libraries "
        "and of its public header types) under baselines/abi/NAME/, so `rdmagate abi` can "
        "compare with it without downloading the stack. With --suite perf: run the native "
        "fast-path measurements of the stack on --device, or in the lab (its own kernel, "
        "soft-RoCE; the default where this host has no RDMA device), and store every sample "
        "under baselines/perf/<profile>/NAME.json.")
    sub = parser.add_subparsers(dest="baseline_command", metavar="ACTION", required=True)
    recording = sub.add_parser("record", help="record the baseline of a stack")
    options.add_stack(recording, default=None)
    options.add_suite(recording)
    options.add_device(recording)
    recording.add_argument("--iters", type=int, default=perf_suite.ITERS, metavar="N",
                           help="perf: samples per measurement (default: %(default)s)")
    recording.set_defaults(func=run_record)


def run_record(args) -> int:
    if not args.stack:
        raise UsageError("baseline record needs --stack NAME")
    if args.suite == ["perf"]:
        return _record_perf(args)
    if args.suite and args.suite != ["abi"]:
        raise UsageError(f"--suite {args.suite[0]}: baselines exist for abi and perf")
    progress = Progress()
    where = baseline.record(args.stack, say=progress.say)
    print(f"{args.stack}: ABI baseline recorded in {where}")
    return EXIT_OK


def _record_perf(args) -> int:
    progress = Progress()
    stack = stacks.resolve(args.stack)
    fetched = stacks.fetch(stack, say=progress.say)
    place = where.choose(args.device, args.lab, True, fetched.needs_rootfs)
    profile = profiles.name_for(place.profile, place.place, stack)
    with tempfile.TemporaryDirectory(prefix="rdmagate-perf-") as tmp:
        measured, lab_result = perf_suite.measure(stack, fetched, place, Path(tmp),
                                                  list(native.MEASUREMENTS), iters=args.iters,
                                                  say=progress.say)
    failed = {n: m["error"] for n, m in measured.items() if "error" in m}
    if failed:
        raise InfraError(f"perf baseline of {stack.name}: {', '.join(failed)} failed "
                         f"({next(iter(failed.values()))}); nothing written")
    path = perf_baseline.write(perf_baseline.path_for(profile, stack.name), profile, stack,
                               lab_result, args.iters, perf_suite.WARMUP, measured)
    kept = [n for n, m in measured.items() if "samples" in m]
    print(f"{stack.name}: perf baseline of {len(kept)} measurements recorded in {path}")
    return EXIT_OK
