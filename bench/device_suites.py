#!/usr/bin/python3
"""Benchmark: the wall time of the device suites (api, verbs, cm) in the lab,
per stack, boot included, with the harness already built (the target
under TCG: under 90 s per stack). Prints each stack's counts per outcome,
check's exit code (0: every outcome as its profile expects) and the slowest
tests, which are where the time goes.
Usage: bench/device_suites.py [STACK...]   (default: debian-12 debian-13 debian-sid)"""
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SUITES = ("api", "verbs", "cm")
TARGET_S = 90


def check(stack: str) -> subprocess.CompletedProcess:
    argv = [sys.executable, str(ROOT / "rdmagate"), "check", "--stack", stack, "--lab", "--json"]
    for suite in SUITES:
        argv += ["--suite", suite]
    return subprocess.run(argv, capture_output=True, text=True, check=False)


def main() -> int:
    stacks = sys.argv[1:] or ["debian-12", "debian-13", "debian-sid"]
    print(f"{'stack':<12} {'tests':>5} {'exit':>4} {'wall s':>7} {'boot to ACTIVE s':>17}  "
          f"outcomes; slowest")
    over = 0
    for stack in stacks:
        check(stack)   # builds the harness; not timed
        started = time.monotonic()
        done = check(stack)
        wall = time.monotonic() - started
        if not done.stdout.startswith("{"):
            print(f"{stack:<12} check failed (exit {done.returncode}): "
                  f"{done.stderr.strip().splitlines()[-1:]}")
            over += 1
            continue
        report = json.loads(done.stdout)
        run = json.loads((Path(report["run_dir"]) / "run.json").read_text())
        boot = run.get("lab", {}).get("boot_to_active_s", {})
        counts = ", ".join(f"{n} {o}" for o, n in report["counts"].items() if n)
        slowest = sorted(report["results"], key=lambda r: -r["duration_s"])[:3]
        slow = ", ".join(f"{r['test']} {r['duration_s']:.1f}" for r in slowest)
        print(f"{stack:<12} {len(report['results']):>5} {report['exit_code']:>4} {wall:>7.1f} "
              f"{next(iter(boot.values()), 0):>17}  {counts}; {slow}")
        over += wall > TARGET_S
    print(f"target: under {TARGET_S} s per stack including boot; {over} stack(s) over or failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
