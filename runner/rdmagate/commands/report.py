"""rdmagate report: rebuild a run's reports from its results, also after a kill."""
from pathlib import Path

from ..outputs import junit, results, rundir
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
    if (run_dir / "run.json").is_file():
        # the command that made the run says which record its reports come from:
        # never another command's (an upgrade run's findings.json is not an abi run)
        command = rundir.load(run_dir).command
    elif (run_dir / "fleet.json").is_file():
        return _fleet(run_dir)
    elif (run_dir / "results.jsonl").is_file():
        command = "check"   # the harness run by hand (or killed first) writes no run.json
    else:
        raise UsageError(f"{run_dir}: not a run directory (no run.json, fleet.json or "
                         "results.jsonl)")
    needed = {"upgrade": "upgrade.json", "abi": "findings.json", "check": "results.jsonl",
              "profile": "results.jsonl"}.get(command)
    if needed is None:
        raise UsageError(f"{run_dir}: a run of rdmagate {command}: report rebuilds the "
                         "reports of check, abi, upgrade and fleet runs")
    if not (run_dir / needed).is_file():
        raise UsageError(f"{run_dir}: a run of rdmagate {command} without its {needed}: "
                         "nothing to rebuild its reports from (it stopped before writing it)")
    if command == "upgrade":
        return _upgrade(run_dir)
    if command == "abi":
        code = abi.rebuild_report(run_dir)
        print(f"{run_dir}: ABI diff, exit {code}; wrote report.html")
        return code
    records = results.read(run_dir / needed)
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
