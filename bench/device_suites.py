#!/usr/bin/python3
"""Benchmark: the wall time of the full device suites (api, verbs, cm) in the
lab, per stack, boot included, with the harness already built (issue 6's
target under TCG: under 3 minutes per stack).
Usage: bench/device_suites.py [STACK...]   (default: debian-12 debian-13)"""
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SUITES = ("api", "verbs", "cm")


def check(stack: str) -> subprocess.CompletedProcess:
    argv = [sys.executable, str(ROOT / "rdmagate"), "check", "--stack", stack, "--json"]
    for suite in SUITES:
        argv += ["--suite", suite]
    return subprocess.run(argv, capture_output=True, text=True, check=False)


def main() -> int:
    stacks = sys.argv[1:] or ["debian-12", "debian-13"]
    print(f"{'stack':<12} {'tests':>5} {'as expected':>11} {'wall s':>7} {'boot to ACTIVE s':>17}")
    for stack in stacks:
        check(stack)   # builds the harness; not timed
        started = time.monotonic()
        done = check(stack)
        wall = time.monotonic() - started
        report = json.loads(done.stdout)
        run = json.loads((Path(report["run_dir"]) / "run.json").read_text())
        boot = run.get("lab", {}).get("boot_to_active_s", {})
        expected = sum(1 for r in report["results"]
                       if r["outcome"] in ("PASS", "UNSUPPORTED", "SKIP", "XFAIL"))
        print(f"{stack:<12} {len(report['results']):>5} {expected:>11} {wall:>7.1f} "
              f"{next(iter(boot.values()), 0):>17}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
