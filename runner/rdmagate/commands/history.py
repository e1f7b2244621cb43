"""rdmagate history add|report: finished runs kept in SQLite, and what they say."""
from pathlib import Path

from ..options import bounded
from ..paths import REPO_ROOT
from ..pipelines.history import AddRequest, ReportRequest, add, report
from ..history.report import text

DEFAULT_DB = REPO_ROOT / "results" / "history.sqlite"


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "history", help="keep finished runs in a SQLite history; report changes, "
        "flaky tests, perf drift",
        description="Keep finished runs (check, upgrade, fleet) in a SQLite database and "
        "report what they say over time, per node, stack and profile.")
    sub = parser.add_subparsers(dest="history_command", metavar="ACTION", required=True)
    add_parser = sub.add_parser("add", help="add finished run directories",
                                description="Add finished run directories (check, upgrade, "
                                "fleet) to the history; a run kept already is skipped, and "
                                "a part of a run (an upgrade's runs/, a fleet's nodes/) is "
                                "added with that run only. Several writers may add at once. "
                                "The database is marked as rdmagate's (SQLite application_id "
                                "0x52444d47); another program's SQLite file is refused "
                                "untouched.")
    add_parser.add_argument("runs", nargs="+", metavar="RUN", help="a run directory")
    report_parser = sub.add_parser(
        "report", help="changes, flaky tests and perf drift since a time",
        description="What changed since the run before, which tests flip between PASS "
        "and FAIL on the same node, stack and profile (flaky), and which perf "
        "measurements drifted, with the run where they changed.")
    report_parser.add_argument("--since", default="14d", metavar="AGE",
                               help="runs started within AGE: 14d, 36h (default: %(default)s)")
    report_parser.add_argument("--html", type=Path, metavar="FILE",
                               help="also write the report with perf trend plots (SVG) here")
    report_parser.add_argument("--threshold", type=bounded("--threshold", float, 0, 100),
                               default=0.10, metavar="F",
                               help="a drift is a change of the median by more than F "
                               "(default: %(default)s)")
    for each in (add_parser, report_parser):
        each.add_argument("--db", type=Path, default=DEFAULT_DB, metavar="PATH",
                          help="the history database (default: results/history.sqlite)")
    add_parser.set_defaults(func=run_add)
    report_parser.set_defaults(func=run_report)


def run_add(args) -> int:
    for path, added in add(AddRequest(args.db, tuple(args.runs))):
        print(f"{'added' if added else 'kept already'}: {path}")
    return 0


def run_report(args) -> int:
    found = report(ReportRequest(args.db, args.since, args.html, args.threshold))
    for line in text(found):
        print(line)
    return 0
