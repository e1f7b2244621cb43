"""rdmagate upgrade: may I move from stack A to stack B? One verdict."""
import json
import sys
from pathlib import Path

from .. import options
from ..outputs import records
from ..pipelines.upgrade import UpgradeRequest, upgrade
from ..progress import Progress
from .. import terminal
from ..pipelines import gate
from ..upgrade import actions
from ..upgrade.record import Upgrade

HEIGHT = 20   # lines of the verdict on a terminal; the rest is in the report


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "upgrade", help="the upgrade gate: A to B, one verdict (GO, GO WITH RISKS, NO-GO)",
        description="Fetch both stacks, diff their ABI per audience with the consumers of "
        "this host, compare their kernels' RDMA exports and check given out-of-tree modules "
        "(--modules), build the suites against both (does code written for A still compile "
        "against B? does A's build run on B's libraries?), run the verbs suites on each "
        "stack (on the device, or in the lab on each stack's own kernel), measure A and B "
        "in the same session, and decide: GO, GO WITH RISKS or NO-GO, with its reasons "
        "one line a cause and the actions ranked, in 20 lines. Writes results/<run>/"
        "upgrade.json, report.html (self-contained; verdict, actions and one line per pillar "
        "first), junit.xml (a testcase per cause) and findings.sarif (SARIF 2.1.0). Exit 0 for GO and GO WITH RISKS, 1 for NO-GO, 3 for NOT TESTED (no "
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
                        help="lab nodes (implies --lab): with 2, perftest measures "
                        "bandwidth and message rate from a client on a second guest to a "
                        "server on the first, over a virtual link (one guest measures only "
                        "the latency sweep, on the instruction clock); the suites and the "
                        "native latency stay on one")
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
    for line in verdict_lines(upgrade, run_dir / "report.html"):
        print(line)


def verdict_lines(upgrade: Upgrade, report: Path, height: int = HEIGHT) -> list[str]:
    """The verdict, its causes (one line each) and the actions, in at most
    height lines of 80 columns; the report's path last."""
    items = [i for i in actions.why(upgrade) if i.key != "phases"]
    todo = actions.actions(upgrade)
    done = [p.name for p in upgrade.phases if p.status == "done"]
    missing = [p.name for p in upgrade.phases if p.status != "done"]
    found = sum(len(i.reasons) for i in items)
    head = [f"{upgrade.old.name} -> {upgrade.new.name}: {upgrade.verdict}"]
    tail = [terminal.clip(f"tested: {' '.join(done) or 'nothing'}"
                          + (f"; not tested: {' '.join(missing)}" if missing else "")),
            f"report: {terminal.shown(report)}"]
    room = height - len(head) - len(tail) - 2   # the two headings
    todo_lines = []
    for n, action in enumerate(todo, start=1):
        todo_lines.append(terminal.wrapped(action.text, f"  {n}. ", "     ", lines=2))
    # the actions first; the causes get what is left, at least four lines
    cause_room = max(4, room - sum(len(t) for t in todo_lines))
    why = [terminal.clip(f"  {i.category:<6} {i.title} [{i.audience}]") for i in items]
    if len(why) > cause_room:
        why = why[:cause_room - 1] + [f"  ... and {len(items) - cause_room + 1} more causes "
                                      "in the report"]
    todo_room = room - len(why)
    shown_todo: list[str] = []
    for lines in todo_lines:
        if len(shown_todo) + len(lines) > todo_room:
            shown_todo.append("  ... and more in the report")
            break
        shown_todo += lines
    return (head + [f"Why ({found} reasons in {len(items)} causes):"] + why
            + ["What to do:"] + shown_todo + tail)
