#!/usr/bin/python3
"""Benchmark: cold and warm fetch of one stack (default debian-12).

Cold: an empty cache (apt lists, packages, unpack; a root file system too for
stacks that need one). Warm: the same fetch again, from the cache.
Usage: bench/stacks_fetch.py [STACK]"""
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RDMAGATE = Path(__file__).resolve().parents[1] / "rdmagate"


def timed_fetch(stack: str, cache: str) -> float:
    start = time.monotonic()
    subprocess.run([sys.executable, str(RDMAGATE), "stacks", "fetch", stack],
                   env={"RDMAGATE_CACHE": cache, "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.monotonic() - start


def main() -> int:
    stack = sys.argv[1] if len(sys.argv) > 1 else "debian-12"
    with tempfile.TemporaryDirectory(prefix="rdmagate-bench-") as cache:
        cold = timed_fetch(stack, cache)
        warm = timed_fetch(stack, cache)
    print(f"stacks fetch {stack}: cold {cold:.1f} s, warm {warm:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
