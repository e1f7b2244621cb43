#!/usr/bin/python3
"""Benchmark: wall time and peak memory of `rdmagate abi` for a stack pair,
both stacks already cached. Usage: bench/abi_diff.py [FROM TO]"""
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RDMAGATE = Path(__file__).resolve().parents[1] / "rdmagate"


def main() -> int:
    old, new = sys.argv[1:3] if len(sys.argv) == 3 else ("debian-11", "debian-sid")
    for name in (old, new):  # warm the cache, untimed
        subprocess.run([sys.executable, str(RDMAGATE), "stacks", "fetch", name],
                       check=True, capture_output=True)
    with tempfile.TemporaryDirectory() as results:
        start = time.monotonic()
        child = subprocess.Popen([sys.executable, str(RDMAGATE), "abi", "--from", old, "--to",
                                  new, "--results", results], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
        # wait4: the rusage of this one run (it and the tools it waited for),
        # not of the untimed warm-up, which RUSAGE_CHILDREN would include.
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        wall = time.monotonic() - start
    peak_mib = usage.ru_maxrss / 1024
    # CPU time too: on a shared machine the wall time measures the neighbours
    cpu = usage.ru_utime + usage.ru_stime
    print(f"abi {old} -> {new}: {wall:.2f} s wall, {cpu:.2f} s CPU, peak memory {peak_mib:.0f} MiB "
          f"(largest process: rdmagate or a tool it ran), exit {child.returncode}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
