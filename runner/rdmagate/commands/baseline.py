"""rdmagate baseline: record a stack's ABI or performance into baselines/ (committed)."""
from pathlib import Path

from .. import options
from ..errors import UsageError
from ..perf import baseline as perf_baseline, pair_baseline, suite as perf_suite
from ..pipelines.baseline_record import (EXACT_BOOTS, NATIVE_BOOTS, PAIR_BOOTS,
                                         BaselineRequest, record)
from ..progress import Progress


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "baseline", help="record ABI baselines of stacks into baselines/",
        description="Record a stack's ABI (symbol inventory, abidw corpora of its libraries "
        "and of its public header types) under baselines/abi/NAME/, so `rdmagate abi` can "
        "compare with it without downloading the stack. With --suite perf: run the native "
        "fast-path measurements of the stack on --device, or in the lab (its own kernel, "
        "soft-RoCE; the default where this host has no RDMA device), and store every sample "
        "under baselines/perf/<profile>/NAME.json; then (without --device) the fleet's "
        "perftest pair (ib_write_lat 2 B, ib_write_bw 64 KiB) between two lab guests joined "
        "by the lab's link, several runs in each of --boots boots, under "
        "baselines/perftest/<profile>/NAME.json, which `fleet run --pairs` judges its pairs "
        "against. With --suite perftest: that pair baseline alone. With --suite kabi: "
        "the RDMA part of the "
        "kernel's Module.symvers and its kernel facts under baselines/kabi/NAME/.")
    sub = parser.add_subparsers(dest="baseline_command", metavar="ACTION", required=True)
    recording = sub.add_parser("record", help="record the baseline of a stack")
    options.add_stack(recording, default=None)
    options.add_suite(recording)
    options.add_device(recording)
    options.add_guest_cpus(recording)
    recording.add_argument("--iters", type=int, default=perf_suite.ITERS, metavar="N",
                           help="perf: samples per run (default: %(default)s)")
    recording.add_argument("--boots", type=int, default=None, metavar="N",
                           help=f"perf, perftest: boots (target runs) to spread the runs over, "
                           f"{perf_suite.RUNS} runs of each measurement in each (default: "
                           f"{NATIVE_BOOTS} for perf's native runs on a device, "
                           f"{EXACT_BOOTS} in the lab, whose instruction clock is exact, "
                           f"{PAIR_BOOTS} for the perftest pair)")
    recording.set_defaults(func=run_record)
    showing = sub.add_parser("show", help="check a perf or perftest pair baseline and say "
                             "where and when it was recorded (a perf baseline: at what "
                             "host load too)")
    showing.add_argument("path", metavar="FILE", help="a perf baseline, e.g. "
                         "baselines/perf/rxe-6.1/debian-12.json, or a pair baseline, e.g. "
                         "baselines/perftest/rxe-6.1/host.json")
    showing.set_defaults(func=run_show)


def run_record(args) -> int:
    if not args.stack:
        raise UsageError("baseline record needs --stack NAME")
    if args.iters < 5 or (args.boots is not None and args.boots < 1):
        raise UsageError(f"--iters {args.iters} --boots {args.boots}: at least 5 samples a run "
                         "and one boot")
    if args.suite and len(args.suite) > 1:
        raise UsageError("baseline record takes one --suite: abi, perf, perftest or kabi")
    request = BaselineRequest(stack=args.stack, kind=(args.suite or ["abi"])[0],
                              device=args.device, use_lab=args.lab, iters=args.iters,
                              boots=args.boots, guest_cpus=args.guest_cpus)
    done = record(request, Progress())
    print(f"{args.stack}: {done.what} recorded in {done.path}")
    return 0


def run_show(args) -> int:
    path = Path(args.path)
    if pair_baseline.is_one(path):
        lines = pair_baseline.summary(pair_baseline.load(path))
    else:
        lines = perf_baseline.summary(perf_baseline.load(path))
    for line in lines:
        print(line)
    return 0
