"""rdmagate upgrade: may I move from stack A to stack B? One verdict."""
import json
import sys
from pathlib import Path

from .. import options, records, report_html, rundir, stacks
from ..errors import UsageError
from ..progress import Progress
from ..upgrade import gate, junit_of
from ..upgrade.record import Upgrade

SHOWN = 12


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "upgrade", help="the upgrade gate: A to B, one verdict (GO, GO WITH RISKS, NO-GO)",
        description="Fetch both stacks, diff their ABI per audience with the consumers of "
        "this host, build the suites against both (does code written for A still compile "
        "against B? does A's build run on B's libraries?), run the verbs suites on each "
        "stack (on the device, or in the lab on each stack's own kernel), measure A and B "
        "in the same session, and decide: GO, GO WITH RISKS or NO-GO, with the reasons "
        "ranked. Writes results/<run>/upgrade.json, report.html (self-contained) and "
        "junit.xml. Exit 0 for GO and GO WITH RISKS, 1 for NO-GO, 3 when nothing could "
        "be tested.")
    options.add_stack(parser, default=None, flag="--from", help_text="the stack in use now")
    options.add_stack(parser, default=None, flag="--to", help_text="the stack to move to")
    options.add_consumers(parser)
    options.add_device(parser)
    parser.add_argument("--nodes", type=int, choices=(1, 2), default=1,
                        help="lab nodes (implies --lab): with 2, perftest's server and "
                        "client run on two guests joined by a virtual link instead of one "
                        "guest's loopback; the suites and the native latency stay on one")
    parser.add_argument("--skip", action="append", default=[], choices=gate.PHASES,
                        metavar="PHASE", help=f"skip a phase ({', '.join(gate.PHASES)}); "
                        "the verdict then says it was not tested")
    options.add_results(parser)
    options.add_json(parser)
    parser.set_defaults(func=run)


def run(args) -> int:
    old, new = args.__dict__.get("from"), args.to
    if not old or not new:
        raise UsageError("upgrade needs --from STACK and --to STACK")
    if args.nodes == 2 and args.device:
        raise UsageError("--nodes 2 is for the lab; with --device the second node would be "
                         "another host, which the gate does not drive")
    use_lab = args.lab or args.nodes == 2
    for name in (old, new):   # a misspelt stack is a usage error, before anything runs
        stacks.resolve(name)
    progress = Progress()
    run_dir = rundir.create(args.results, "upgrade", f"{old}-{new}").resolve()
    record = rundir.RunRecord(run_dir, "upgrade", stack=new, from_stack=old,
                              device=args.device or "auto", where="lab" if use_lab else "auto")
    the_gate = gate.Gate(old, new, run_dir, args.device, use_lab, options.consumers(args),
                         args.skip, progress, nodes=args.nodes)
    the_gate.data["commands"].insert(0, " ".join(["rdmagate", *sys.argv[1:]]))
    try:
        the_gate.run()
    finally:
        # A killed gate still leaves what it found, as a report.
        the_gate.save()
        write_outputs(run_dir, the_gate.record)
        code = exit_code(the_gate.record)
        record.finish(code, verdict=the_gate.record.verdict)
    if args.json:
        json.dump({"run_dir": str(run_dir), "exit_code": code,
                   **records.to_json(the_gate.record)}, sys.stdout, indent=2)
        print()
    else:
        summarize(the_gate.record, run_dir)
    return code


def write_outputs(run_dir: Path, upgrade: Upgrade) -> None:
    report_html.write(upgrade, run_dir / "report.html")
    junit_of.write(upgrade, run_dir / "junit.xml")


def exit_code(upgrade: Upgrade) -> int:
    if all(p.status != "done" for p in upgrade.phases):
        return 3
    return 1 if upgrade.verdict == "NO-GO" else 0


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
