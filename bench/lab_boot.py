#!/usr/bin/python3
"""Benchmark: the lab's cost per kernel. For each Debian stack, boots its
kernel with soft-RoCE and runs `true`: prints the time from start to an
ACTIVE rxe0 port and the whole run (boot, command, power-off), best of N,
both counted from QEMU's start; preparation before it (kernel download,
depmod, initramfs, KVM probe: once per kernel, then cached) apart.
Usage: bench/lab_boot.py [--runs N] [STACK...]   (stacks fetched beforehand)"""
import argparse
import sys

try:   # the runner package: PYTHONPATH=runner, as the README says
    from rdmagate.targets import lab
    from rdmagate.stacks import fetch, resolve
except ModuleNotFoundError:
    sys.exit("bench/lab_boot.py: run it from the checkout as PYTHONPATH=runner bench/lab_boot.py")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("stacks", nargs="*",
                        default=["debian-11", "debian-12", "debian-13", "debian-sid"])
    args = parser.parse_args()
    print(f"{'stack':<12} {'kernel':<24} {'accel':<5} {'to ACTIVE s':>12} {'total s':>8} {'prepare s':>10}")
    for name in args.stacks:
        fetch(resolve(name))  # not timed: the cache is warm in practice
        results = [lab.run(lab.Boot(name), ["true"], on_line=lambda line: None)
                   for _ in range(args.runs)]
        best = min(results, key=lambda r: r.total_s)
        print(f"{name:<12} {best.kernel:<24} {best.accel:<5} "
              f"{best.boot_to_active_s['node1']:>12.1f} {best.total_s:>8.1f} "
              f"{max(r.prepare_s for r in results):>10.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
