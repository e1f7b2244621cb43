#!/usr/bin/python3
"""Benchmark: `rdmagate fleet run --suite api` on 2 and 4 nodes of a private
Slurm cluster on this machine (and on as many local nodes, no scheduler),
and the scheduler's overhead: from sbatch to the job RUNNING in squeue, and
to the first task of a job step started on a node (best of N).
Usage: PYTHONPATH=runner bench/fleet.py [--runs N] [--nodes 2 4]"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

try:   # the runner package and the tests' private cluster: PYTHONPATH=runner
    from rdmagate.fleet import follow, job
    from tests.slurm_cluster import Cluster
except ModuleNotFoundError:
    sys.exit("bench/fleet.py: run it from the checkout as PYTHONPATH=runner bench/fleet.py")

RDMAGATE = Path(__file__).resolve().parent.parent / "rdmagate"


def fleet_run(scheduler: str, nodes: int, env: dict | None = None) -> float:
    with tempfile.TemporaryDirectory() as results:
        start = time.monotonic()
        done = subprocess.run([sys.executable, str(RDMAGATE), "fleet", "run", "--scheduler",
                               scheduler, "--nodes", str(nodes), "--suite", "api",
                               "--results", results], capture_output=True, text=True, env=env)
        took = time.monotonic() - start
        if done.returncode != 0:
            sys.exit(f"fleet run exited {done.returncode}: {done.stderr.strip()[-500:]}")
    return took


def overhead(cluster: Cluster) -> tuple[float, float]:
    """(sbatch to RUNNING, sbatch to the first task of a step) in seconds."""
    with tempfile.TemporaryDirectory() as run_dir:
        os.environ["SLURM_CONF"] = str(cluster.conf)
        try:
            start, wall = time.monotonic(), time.time()
            job_id = job.submit(job.JobRequest(Path(run_dir), nodes=1, hold_s=120))
            try:
                follow.wait_running(job_id, 60, poll_s=0.02)
                running = time.monotonic() - start
                step = subprocess.run(["srun", f"--jobid={job_id}", "--nodes=1", "--ntasks=1",
                                       "--overlap", "date", "+%s.%N"],
                                      capture_output=True, text=True, check=True)
                first_task = float(step.stdout.strip()) - wall   # the task's own clock
            finally:
                job.cancel(job_id)
        finally:
            del os.environ["SLURM_CONF"]
    return running, first_task


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--nodes", type=int, nargs="+", default=[2, 4])
    args = parser.parse_args()
    fleet_run("local", 1)   # warm the harness build: not timed
    print(f"{'nodes':>5} {'slurm s':>8} {'local s':>8} {'cluster up s':>12} "
          f"{'to RUNNING s':>12} {'to 1st task s':>13}")
    for n in args.nodes:
        slurm, local, up, running, task = [], [], [], [], []
        for _ in range(args.runs):
            start = time.monotonic()
            with Cluster(n) as cluster:
                up.append(time.monotonic() - start)
                r, t = overhead(cluster)
                running.append(r)
                task.append(t)
                slurm.append(fleet_run("slurm", n, cluster.env))
            local.append(fleet_run("local", n))
        print(f"{n:>5} {min(slurm):>8.1f} {min(local):>8.1f} {min(up):>12.1f} "
              f"{min(running):>12.2f} {min(task):>13.2f}")
    print(json.dumps({"note": "best of runs; 2 cores shared, load "
                      f"{os.getloadavg()[0]:.1f}"}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
