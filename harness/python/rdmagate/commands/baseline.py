"""rdmagate baseline: record a stack's ABI into baselines/ (committed)."""
from .. import options
from ..abi import baseline
from ..errors import UsageError
from ..progress import Progress


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "baseline", help="record ABI baselines of stacks into baselines/",
        description="Record a stack's ABI (symbol inventory, abidw corpora of its libraries "
        "and of its public header types) under baselines/abi/NAME/, so `rdmagate abi` can "
        "compare with it without downloading the stack. Performance baselines (--suite "
        "perf) are not built yet.")
    sub = parser.add_subparsers(dest="baseline_command", metavar="ACTION", required=True)
    recording = sub.add_parser("record", help="record the baseline of a stack")
    options.add_stack(recording, default=None)
    options.add_suite(recording)
    recording.set_defaults(func=run_record)


def run_record(args) -> int:
    if not args.stack:
        raise UsageError("baseline record needs --stack NAME")
    if args.suite and args.suite != ["abi"]:
        raise UsageError(f"--suite {args.suite[0]}: only abi baselines can be recorded so far")
    progress = Progress()
    where = baseline.record(args.stack, say=progress.say)
    print(f"{args.stack}: ABI baseline recorded in {where}")
    return 0
