"""Following a job with the scheduler's own commands: squeue while it is
known to the controller, scontrol for its nodes; no accounting database."""
import re
import time
from dataclasses import dataclass

from ..errors import InfraError
from .job import call

NODE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]*\Z")   # never "..", never a path


@dataclass
class Started:
    nodes: list[str]
    waited_s: float              # from submission to RUNNING


class PendingTooLong(InfraError):
    """The job did not start in time (it was cancelled)."""

    def __init__(self, message: str, reason: str):
        super().__init__(message)
        self.reason = reason


def state(job_id: str) -> tuple[str, str, str]:
    """(state, reason, node list) of a job; ("", "", "") once it is gone."""
    done = call(["squeue", "--noheader", f"--jobs={job_id}", "--format=%T|%r|%N"])
    fields = done.stdout.strip().split("|") if done.returncode == 0 else []
    return (fields[0], fields[1], fields[2]) if len(fields) == 3 else ("", "", "")


def hostnames(nodelist: str) -> list[str]:
    """The nodes of a hostlist; each becomes a directory name (nodes/<node>)."""
    done = call(["scontrol", "show", "hostnames", nodelist])
    if done.returncode != 0:
        raise InfraError(f"scontrol show hostnames {nodelist}: {done.stderr.strip()}")
    names = done.stdout.split()
    odd = [n for n in names if not NODE.match(n)]
    if odd:
        raise InfraError(f"scontrol show hostnames {nodelist}: node name {odd[0]!r} is not "
                         "a plain host name")
    return names


def wait_running(job_id: str, timeout_s: float, poll_s: float = 0.2,
                 on_state=lambda state, reason: None) -> Started:
    """Wait until the job runs; a job still pending (or requeued, or held)
    after timeout_s is PendingTooLong (its submitter cancels it, as it
    cancels every job it submitted)."""
    start = time.monotonic()
    last = None
    while True:
        now_state, reason, nodes = state(job_id)
        if (now_state, reason) != last:
            on_state(now_state, reason)
            last = (now_state, reason)
        if now_state == "RUNNING":
            return Started(hostnames(nodes), time.monotonic() - start)
        if now_state not in ("PENDING", "CONFIGURING", "REQUEUED", "REQUEUE_HOLD"):
            raise InfraError(f"Slurm job {job_id} ended before it ran "
                             f"({now_state or 'no longer known to squeue'}"
                             + (f", {reason}" if reason and reason != "None" else "") + ")")
        if time.monotonic() - start > timeout_s:
            raise PendingTooLong(f"Slurm job {job_id} was still {now_state} ({reason}) after "
                                 f"{timeout_s:g} s: cancelled", f"{now_state} ({reason})")
        time.sleep(poll_s)
