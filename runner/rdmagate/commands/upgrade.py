"""rdmagate upgrade: may I move from stack A to stack B? One verdict."""
import json
import sys
from pathlib import Path

from .. import options
from ..outputs import records
from ..pipelines.upgrade import UpgradeRequest, upgrade
from ..progress import Progress
from ..pipelines import gate
from ..upgrade.record import Upgrade

SHOWN = 12


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "upgrade", help="the upgrade gate: A to B, one verdict (GO, GO WITH RISKS, NO-GO)",
        description="Fetch both stacks, diff their ABI per audience with the consumers of "
        "this host, compare their kernels' RDMA exports and check given out-of-tree modules "
        "(--modules), build the suites against both (does code written for A still compile "
        "against B? does A's build run on B's libraries?), run the verbs suites on each "
        "stack (on the device, or in the lab on each stack's own kernel), measure A and B "
        "in the same session, and decide: GO, GO WITH RISKS or NO-GO, with the reasons "
        "ranked. Writes results/<run>/upgrade.json, report.html (self-contained) and "
        "junit.xml. Exit 0 for GO and GO WITH RISKS, 1 for NO-GO, 3 for NOT TESTED (no "
        "phase but fetch ended: all skipped or failed).")
    options.add_stack(parser, default=None, flag="--from", help_text="the stack in use now")
    options.add_stack(parser, default=None, flag="--to", help_text="the stack to move to")
    options.add_consumers(parser)
    options.add_device(parser)
    parser.add_argument("--kernel", metavar="RELEASE", default=None, type=options.kernel_spec,
                        help="--to's userspace on another Debian kernel (a release, or a stack "
                        "whose kernel it is): the same as --to STACK@RELEASE, e.g. --from "
                        "debian-12 --to debian-12 --kernel 6.12.95+deb12-amd64, the move to "
                        "bookworm-backports' 6.12 many sites make first")
    parser.add_argument("--nodes", type=int, choices=(1, 2), default=1,
                        help="lab nodes (implies --lab): with 2, perftest's server and "
                        "client run on two guests joined by a virtual link instead of one "
                        "guest's loopback; the suites and the native latency stay on one")
    parser.add_argument("--modules", nargs="+", action="extend", default=[], metavar="PATH",
                        help="out-of-tree kernel modules (.ko, directories, .deb) that must "
                        "load on --to's kernel: one that would not is NO-GO (phase kabi)")
    parser.add_argument("--skip", action="append", default=[], choices=gate.PHASES,
                        metavar="PHASE", help=f"skip a phase ({', '.join(gate.PHASES)}); "
                        "the verdict then says it was not tested")
    options.add_results(parser)
    options.add_json(parser)
    parser.set_defaults(func=run)


def run(args) -> int:
    old, new = options.from_to(args, "upgrade")
    if args.kernel:
        new = f"{new}@{args.kernel}"
    request = UpgradeRequest(old, new, device=args.device, use_lab=args.lab, nodes=args.nodes,
                             consumers=options.consumers(args), skip=tuple(args.skip),
                             modules=tuple(args.modules),
                             results_dir=args.results)
    done = upgrade(request, Progress())
    if args.json:
        json.dump({"run_dir": str(done.run_dir), "exit_code": done.exit_code,
                   **records.to_json(done.record)}, sys.stdout, indent=2)
        print()
    else:
        summarize(done.record, done.run_dir)
    return done.exit_code


def summarize(upgrade: Upgrade, run_dir: Path) -> None:
    print(f"{upgrade.old.name} -> {upgrade.new.name}: {upgrade.verdict}")
    for reason in upgrade.reasons[:SHOWN]:
        print(f"  {reason.rank:>2}. [{reason.category}] {reason.audience}: {reason.text}")
    if len(upgrade.reasons) > SHOWN:
        print(f"  ... and {len(upgrade.reasons) - SHOWN} more in the report")
    for phase in upgrade.phases:
        print(f"  phase {phase.name:<6} {phase.status:<8} {phase.seconds:>6.1f} s"
              f"  {phase.note[:100]}")
    print(f"report: {run_dir / 'report.html'}")
