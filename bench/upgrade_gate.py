#!/usr/bin/python3
"""Benchmark: the upgrade gate's wall time for the README's pair, by phase
(target on a 2-core machine under TCG: under 15 minutes). Stacks, kernels
and builds are cached after the first run; pass --cold to empty the build
trees first (the stack cache is kept: bench/stacks_fetch.py measures it).
--perf-only skips every phase but fetch and perf (target for the perf phase
in the lab, on an idle machine: at most 90 s, one boot a stack).
Usage: bench/upgrade_gate.py [--from debian-11] [--to debian-13] [--cold] [--perf-only]"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--from", dest="old", default="debian-11")
    parser.add_argument("--to", dest="new", default="debian-13")
    parser.add_argument("--cold", action="store_true")
    parser.add_argument("--perf-only", action="store_true")
    args = parser.parse_args()
    if args.cold:
        for name in (args.old, args.new):
            shutil.rmtree(ROOT / "build" / "stacks" / name, ignore_errors=True)
    skips = [word for phase in ("abi", "kabi", "api", "verbs") for word in ("--skip", phase)] \
        if args.perf_only else []
    load = os.getloadavg()[0]
    started = time.monotonic()
    done = subprocess.run([sys.executable, str(ROOT / "rdmagate"), "upgrade", "--from",
                           args.old, "--to", args.new, *skips, "--json"],
                          capture_output=True, text=True, check=False)
    total = time.monotonic() - started
    try:
        data = json.loads(done.stdout)
    except json.JSONDecodeError:
        sys.exit(f"upgrade_gate: the gate failed (exit {done.returncode}): {done.stderr[-500:]}")
    print(f"{args.old} -> {args.new}: {data['verdict']} (exit {done.returncode}), "
          f"{'cold builds' if args.cold else 'warm'}, host load {load:.1f} at the start")
    for phase in data["phases"]:
        print(f"  {phase['name']:<6} {phase['status']:<8} {phase['seconds']:>7.1f} s"
              + (f"  ({phase['note']})" if phase["name"] == "perf" and phase["note"] else ""))
    print(f"  total  {total:>16.1f} s ({total / 60:.1f} min)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
