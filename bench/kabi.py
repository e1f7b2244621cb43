#!/usr/bin/python3
"""Benchmark: wall time of `rdmagate kabi --from debian-11 --to debian-sid`
with both kernels' headers cached (best of 3, --area rdma and --area all),
and of one lab proof (the test module of suites/kabi, built against
debian-12's headers, loaded into debian-13's kernel in a guest).
Usage: PYTHONPATH=runner bench/kabi.py [--no-lab]"""
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rdmagate.kabi import build, facts

RDMAGATE = Path(__file__).resolve().parents[1] / "rdmagate"


def timed(*args: str) -> tuple[float, int]:
    start = time.monotonic()
    done = subprocess.run([sys.executable, str(RDMAGATE), "kabi", *args],
                          capture_output=True, text=True, check=False)
    return time.monotonic() - start, done.returncode


def main() -> int:
    for name in ("debian-11", "debian-sid", "debian-12", "debian-13"):   # warm, untimed
        facts.side(name, full=True)
    with tempfile.TemporaryDirectory() as tmp:
        for area in ("rdma", "all"):
            runs = [timed("--from", "debian-11", "--to", "debian-sid", "--area", area,
                          "--results", tmp) for _ in range(3)]
            print(f"kabi debian-11 -> debian-sid --area {area}: best {min(r[0] for r in runs):.2f} s"
                  f" of 3 ({', '.join(f'{r[0]:.2f}' for r in runs)}), exit {runs[0][1]}")
        if "--no-lab" in sys.argv:
            return 0
        (ko,) = build.build("debian-12", Path(tmp) / "build")
        seconds, code = timed("--from", "debian-12", "--to", "debian-13", "--modules", str(ko),
                              "--lab", "--results", tmp)
        print(f"kabi --lab, one module into debian-13's 6.12 (one guest boot): {seconds:.1f} s, "
              f"exit {code} (1: refused, as predicted)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
