"""rdmagate check: run suites for one stack on one device."""
import json
import sys

from .. import options, outcomes
from ..outputs import plan, results
from ..pipelines.check import CheckRequest, check
from ..progress import Progress
from ..outputs.result import Result


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "check", help="run suites for one stack on one device",
        description="Build the harness against a stack, run the selected suites on a "
        "device (or in the lab, soft-RoCE under QEMU, where there is none or the stack "
        "needs its own root), and write results/<run-id>/ (run.json, results.jsonl, "
        "junit.xml, ktap.log).")
    options.add_stack(parser)
    options.add_device(parser)
    options.add_kernel(parser)
    options.add_guest_cpus(parser)
    options.add_suite(parser)
    options.add_filter(parser)
    parser.add_argument("--timeout", type=options.bounded("--timeout", int, 1, 7 * 86400),
                        default=plan.DEFAULT_TIMEOUT_S, metavar="S",
                        help="default per-test timeout in seconds (default: %(default)s)")
    parser.add_argument("--built-for", metavar="STACK",
                        help="binary compatibility: run the suites as built against this "
                        "(older) stack's headers and libraries on --stack's libraries, as an "
                        "application built there and not rebuilt")
    options.add_results(parser)
    options.add_json(parser)
    parser.set_defaults(func=run)


def run(args) -> int:
    request = CheckRequest(stack=args.stack, suites=tuple(args.suite or ()), device=args.device,
                           use_lab=args.lab, filters=tuple(args.filter or ()),
                           timeout_s=args.timeout, results_dir=args.results,
                           built_for=args.built_for, kernel=args.kernel,
                           guest_cpus=args.guest_cpus)
    done = check(request, Progress())
    _summarize(done.run_dir, done.finished, done.exit_code, args.json)
    return done.exit_code


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
