"""The batch job of a fleet run: one allocation of the nodes, held by a
script that only sleeps, so every step of the run (preflight, suites) goes
to its node with `srun --jobid` and is followed there; scancel ends it.
--no-kill keeps the job when one node fails (the others still count), and
--no-requeue keeps a failed node's job from starting over."""
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ..errors import InfraError, UsageError

SCRIPT = """#!/bin/sh
# rdmagate fleet: holds the nodes of this run; its steps come with srun --jobid.
exec sleep {seconds}
"""
# a partition, a node or a hostlist expression (n[1-4],gpu01): nothing that
# another program could take as an option or a path
NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-\[\],]*\Z")


@dataclass(frozen=True)
class JobRequest:
    run_dir: Path
    nodes: int | None = None
    nodelist: str | None = None
    partition: str | None = None
    hold_s: int = 3600          # the job's time limit: it never outlives a lost rdmagate


def check_name(option: str, value: str | None) -> None:
    if value is not None and not NAME.match(value):
        raise UsageError(f"{option} {value!r}: not a Slurm name or hostlist "
                         "(letters, digits, _ . - [ ] , and not starting with -)")


def argv(request: JobRequest, script: Path) -> list[str]:
    where = ([f"--nodes={request.nodes}"] if request.nodelist is None
             else [f"--nodelist={request.nodelist}"])
    return ["sbatch", "--parsable", "--job-name=rdmagate-fleet", *where,
            "--ntasks-per-node=1", "--no-kill", "--no-requeue",
            f"--time={max(1, -(-request.hold_s // 60))}",
            *([f"--partition={request.partition}"] if request.partition else []),
            f"--output={request.run_dir / 'job.out'}", str(script)]


def submit(request: JobRequest) -> str:
    """Submit the job; its id."""
    check_name("--nodelist", request.nodelist)
    check_name("--partition", request.partition)
    script = request.run_dir / "job.sh"
    script.write_text(SCRIPT.format(seconds=request.hold_s), encoding="utf-8")
    script.chmod(0o755)
    done = call(argv(request, script))
    if done.returncode != 0:
        said = done.stderr.strip().splitlines()
        raise InfraError("sbatch failed: " + (said[-1].removeprefix("sbatch: error: ") if said
                                              else f"exit {done.returncode}"))
    return done.stdout.strip().split(";")[0]


def cancel(job_id: str) -> None:
    call(["scancel", job_id])


def call(command: list[str]) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(command, capture_output=True, text=True,
                              errors="replace", timeout=60, check=False)
    except FileNotFoundError:
        raise InfraError(f"{command[0]} is not installed: run ci/setup "
                         "(slurm-client), or use --scheduler local") from None
    except subprocess.TimeoutExpired:
        raise InfraError(f"{command[0]} did not answer in 60 s: is slurmctld up?") from None


def drain_argv(node: str, why: str) -> list[str]:
    """The scontrol line that drains a node, with an rdmagate: reason."""
    check_name("node", node)
    reason = "rdmagate: " + " ".join(why.split())[:120]
    return ["scontrol", "update", f"NodeName={node}", "State=DRAIN", f"Reason={reason}"]
