"""rdmagate check: run suites for one stack on one device."""
import json
import sys

from .. import options, plan, results
from ..pipelines.check import CheckRequest, check
from ..progress import Progress


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
    options.add_filter(parser)
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
    request = CheckRequest(stack=args.stack, suites=tuple(args.suite or ()), device=args.device,
                           use_lab=args.lab, filters=tuple(args.filter or ()),
                           timeout_s=args.timeout, results_dir=args.results,
                           built_for=args.built_for)
    done = check(request, Progress())
    _summarize(done.run_dir, done.finished, done.exit_code, args.json)
    return done.exit_code


def _summarize(run_dir, finished: list[dict], code: int, as_json: bool) -> None:
    tally = results.counts(finished)
    if as_json:
        json.dump({"run_dir": str(run_dir), "exit_code": code, "counts": tally,
                   "results": finished}, sys.stdout, indent=2)
        print()
        return
    for record in finished:
        if record["outcome"] not in results.AS_EXPECTED:
            print(f"{record['outcome']:<8} {record['test']}: "
                  f"{record.get('message') or record.get('reason', '')}")
    summary = ", ".join(f"{n} {o.lower()}" for o, n in tally.items() if n)
    print(f"{len(finished)} tests: {summary or 'none ran'} -> {run_dir}")
