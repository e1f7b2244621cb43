"""rdmagate report: rebuild a run's reports from its results, also after a kill."""
import sys
from pathlib import Path

from .. import junit, results
from ..errors import UsageError


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "report", help="rebuild junit.xml and the summary of a run directory",
        description="Rebuild junit.xml and print the summary of a run from its "
        "results.jsonl, also for a run that was killed. The HTML report is not built yet.")
    parser.add_argument("run_dir", metavar="RUN_DIR", help="a directory under results/")
    parser.set_defaults(func=run)


def run(args) -> int:
    run_dir = Path(args.run_dir)
    source = run_dir / "results.jsonl"
    if not source.is_file():
        raise UsageError(f"{run_dir}: not a run directory (no results.jsonl)")
    records = results.read(source)
    junit.write(records, run_dir / "junit.xml")
    tally = ", ".join(f"{n} {o.lower()}" for o, n in results.counts(records).items() if n)
    print(f"{run_dir}: {len(records)} tests: {tally or 'none'}; wrote junit.xml")
    print("report.html: not built yet (the upgrade gate's report)", file=sys.stderr)
    return results.exit_code(records)
