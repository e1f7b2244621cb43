"""rdmagate report: rebuild a run's reports from its results, also after a kill."""
from pathlib import Path

from ..outputs import junit, results
from ..errors import UsageError
from ..pipelines import abi, upgrade
from ..upgrade import record, verdict
from .upgrade import summarize


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "report", help="rebuild the reports of a run directory",
        description="Rebuild a run's reports from what it recorded, also for a run that "
        "was killed: for a fleet run, report.html and junit.xml from fleet.json; for an "
        "upgrade run, report.html, junit.xml and findings.sarif from upgrade.json, its answer "
        "printed again (the "
        "verdict is decided again from the phases that ended); for an abi run, report.html "
        "from findings.json and providers.json; for a check, junit.xml "
        "and the summary from results.jsonl.")
    parser.add_argument("run_dir", metavar="RUN_DIR", help="a directory under results/")
    parser.set_defaults(func=run)


def run(args) -> int:
    run_dir = Path(args.run_dir)
    if (run_dir / "upgrade.json").is_file():
        return _upgrade(run_dir)
    if (run_dir / "fleet.json").is_file():
        return _fleet(run_dir)
    source = run_dir / "results.jsonl"
    if (run_dir / "findings.json").is_file() and not source.is_file():   # an abi run
        code = abi.rebuild_report(run_dir)
        print(f"{run_dir}: ABI diff, exit {code}; wrote report.html")
        return code
    if not source.is_file():
        raise UsageError(f"{run_dir}: not a run directory (no results.jsonl or upgrade.json)")
    records = results.read(source)
    junit.write(records, run_dir / "junit.xml")
    print(f"{run_dir}: {len(records)} tests: {results.tally(records) or 'none'}; wrote junit.xml")
    return results.exit_code(records)


def _fleet(run_dir: Path) -> int:
    from ..fleet import junit as fleet_junit, record, report as fleet_report
    fleet = record.load(run_dir / "fleet.json")
    fleet_junit.write(fleet, run_dir)
    fleet_report.write(fleet, run_dir)
    print(f"{run_dir}: fleet of {len(fleet.nodes)} node(s), exit {fleet.exit_code}; "
          "wrote report.html and junit.xml")
    return fleet.exit_code if fleet.exit_code is not None else 3


def _upgrade(run_dir: Path) -> int:
    found = verdict.decided(record.load(run_dir / "upgrade.json"))
    upgrade.write_outputs(run_dir, found)
    print(f"wrote {run_dir}/report.html, junit.xml and findings.sarif")
    summarize(found, run_dir)
    return upgrade.exit_code(found)
