"""rdmagate abi: what changes in the ABI between two stacks, and for whom."""
import json
import sys
from pathlib import Path

from .. import options
from ..outputs import records
from ..pipelines.abi import AbiRequest, diff
from ..progress import Progress

SHOWN = 25


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "abi", help="diff the ABI of two stacks, classified by who is hurt",
        description="Compare every library of two stacks (symbols, version nodes, the "
        "providers' private ABI, the C library floor, the provider set) and the types of "
        "their public headers (DWARF built from the headers, read by libabigail, judged by "
        "rdma-core's extension rules), and say who each change hurts: applications, "
        "providers, or the build. abidiff runs on each pair as a second opinion; its reports "
        "are kept in the run directory. Consumer impact: whether the binaries that use the "
        "RDMA libraries still load on --to. A stack not fetched is read from its recorded "
        "baseline (baselines/abi/). Exit 1 when something breaks for applications or providers.")
    options.add_stack(parser, default=None, flag="--from", help_text="the stack in use")
    options.add_stack(parser, default=None, flag="--to", help_text="the stack to move to")
    options.add_consumers(parser)
    parser.add_argument("--suppressions", action="append", default=[], metavar="FILE",
                        help="a libabigail suppression file, for abidiff and rdmagate's own "
                        "findings (repeatable)")
    parser.add_argument("--no-default-suppressions", action="store_true",
                        help="do not apply suites/abi/rdma-core.suppr (benign changes, each "
                        "with the reason)")
    options.add_results(parser)
    options.add_json(parser)
    parser.set_defaults(func=run)


def run(args) -> int:
    old, new = options.from_to(args, "abi")
    request = AbiRequest(old, new,
                         suppressions=tuple(Path(p) for p in args.suppressions),
                         default_suppressions=not args.no_default_suppressions,
                         consumers=options.consumers(args), results_dir=args.results)
    done = diff(request, Progress())
    if args.json:
        json.dump({"run_dir": str(done.run_dir), "exit_code": done.exit_code,
                   **records.to_json(done.report.record())}, sys.stdout, indent=2)
        print()
    else:
        _summary(done.report, done.run_dir)
    return done.exit_code


def _summary(report, run_dir) -> None:
    old, new = report.old["stack"]["name"], report.new["stack"]["name"]
    print(f"ABI {old} -> {new}")
    for audience, verdict in report.verdicts.items():
        counts = ", ".join(f"{n} {s}" for s, n in verdict["counts"].items() if n) or "no changes"
        print(f"  {audience:<13} {verdict['verdict']:<13} ({counts})")
    worst = [f for f in report.findings if f.severity in ("breaking", "review")]
    for finding in worst[:SHOWN]:
        what = f" {finding.symbol}@{finding.version}" if finding.symbol and finding.version \
            else ""
        print(f"  {finding.severity:<8} {finding.audience:<12} {finding.library}: "
              f"{finding.kind}{what}: {finding.detail}")
    if len(worst) > SHOWN:
        print(f"  ... and {len(worst) - SHOWN} more in findings.json")
    if report.consumers:
        broken = [c for c in report.consumers if c.verdict.startswith("fails")]
        replaced = [c for c in report.consumers if c.verdict == "replaced by the upgrade"]
        unchecked = [c for c in report.consumers if c.verdict == "not checked"]
        print(f"  consumers: {len(report.consumers) - len(unchecked)} checked, "
              f"{len(broken)} would break on {new}"
              + (f", {len(replaced)} replaced by the upgrade itself" if replaced else "")
              + (f", {len(unchecked)} not checked" if unchecked else ""))
        for consumer in unchecked[:SHOWN]:
            print(f"  not checked  {consumer.consumer}: {consumer.reason}")
    if report.suppressed:
        print(f"  suppressed: {len(report.suppressed)} (see findings.json)")
    print(f"findings: {run_dir / 'findings.json'}")
