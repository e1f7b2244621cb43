"""The run directory: results/<run-id>/ and its run.json."""
import datetime
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

from . import records
from .. import files, tools
from .audience import AudienceVerdict
from ..errors import InfraError, UsageError
from ..paths import REPO_ROOT
from ..stacks import names


def now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def read_json(path: Path) -> dict:
    """A JSON object file of a run; a UsageError naming the file when it is not one."""
    text = files.read_text(path, "a JSON file of a run")
    try:
        data = json.loads(text)
    except (RecursionError, json.JSONDecodeError) as err:
        raise UsageError(f"{path}: not JSON ({err})") from None
    if not isinstance(data, dict):
        raise UsageError(f"{path}: not a JSON object")
    return data


def git_revision() -> str:
    try:
        # without the index lock: killed at its limit, git leaves none behind
        done = tools.run(["git", "--no-optional-locks", "-C", str(REPO_ROOT), "describe",
                          "--always", "--dirty"], 10)
    except InfraError:
        return "unknown"
    return done.stdout.strip() or "unknown"


def create(results: str | None, command: str, label: str) -> Path:
    """Make a new, empty run directory and return it."""
    base = Path(results) if results else REPO_ROOT / "results"
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    safe_label = "".join(c if c.isalnum() or c in "-_." else "_" for c in label)
    try:
        base.mkdir(parents=True, exist_ok=True)
        for attempt in range(100):
            suffix = f"-{attempt}" if attempt else ""
            run = base / f"{stamp}-{command}-{safe_label}{suffix}"
            try:
                run.mkdir()
                return run
            except FileExistsError:
                continue
    except OSError as err:
        raise UsageError(f"--results {base}: cannot create a run directory there ({err.strerror})") from None
    raise UsageError(f"--results {base}: too many runs started in the same second")


FORMAT = 1
# The commands that make a run directory with a run.json, each with its own
# record beside it (check: results.jsonl, abi: findings.json, upgrade:
# upgrade.json); a fleet run has fleet.json instead.
Command = Literal["check", "profile", "abi", "kabi", "upgrade", "compat"]
COMMANDS = get_args(Command)


@dataclass(frozen=True)
class LabRun:
    kernel: str
    accel: str               # kvm or tcg
    boot_to_active_s: dict[str, float]    # per node: seconds from QEMU start to an ACTIVE port
    guest_cpus: int = 0      # each guest's (0: not recorded, before --guest-cpus)
    guest_memory_mb: int = 0


@dataclass(frozen=True)
class SlurmRun:
    job: str                 # the Slurm job whose step ran it
    node: str


@dataclass(frozen=True)
class Run:
    """run.json: what ran, where, with which versions, and how it ended."""
    run_id: records.Name
    command: Command   # the rdmagate subcommand
    argv: list[str]
    started: str             # ISO 8601 UTC
    finished: str | None     # None while running, or after a kill
    git_revision: str
    exit_code: int | None
    stack: str | None = None
    from_stack: str | None = None    # abi, upgrade
    built_for: str | None = None     # check --built-for
    device: str | None = None
    where: str | None = None         # host, host-rxe, lab
    where_why: str | None = None
    suites: list[str] | None = None
    profile: str | None = None       # the hardware profile's path
    judged: bool | None = None       # False: no profile exists for the device (path it would have)
    versions: dict[str, str | None] | None = None
    counts: dict[str, int] | None = None      # tests per outcome
    harness_status: int | None = None
    stopped: str | None = None       # why a run was cut short
    coverage: dict[str, list[int]] | None = None   # library -> [called, total]
    lab: LabRun | None = None
    slurm: SlurmRun | None = None   # a fleet node's run, as a step of its job
    verdict: str | None = None       # upgrade
    verdicts: dict[str, AudienceVerdict] | None = None   # abi, per audience
    format: int = FORMAT


def load(run_dir: Path) -> Run:
    return records.load(Run, run_dir / "run.json", "a run record (run.json)")


def _with(run: Run, fields: dict, where: Path) -> Run:
    """run with fields changed, checked as a reader will check them."""
    try:
        return records.from_json(Run, {**records.to_json(run), **records.to_json(fields)})
    except records.Mismatch as err:
        raise TypeError(f"{where}: {err}") from None   # a bug of the caller, not of input


class RunRecord:
    """run.json, written at the start and rewritten at the end (atomically)."""

    def __init__(self, run_dir: Path, command: Command, **fields):
        self.path = run_dir / "run.json"
        # A mirror URI's user and password never reach a file a CI job keeps.
        argv = [names.redact(word) for word in sys.argv]
        self.run = _with(Run(run_dir.name, command, argv, now(), None, git_revision(),
                             None), fields, self.path)
        self.write()

    def update(self, **fields) -> None:
        self.run = _with(self.run, fields, self.path)
        self.write()

    def finish(self, exit_code: int, **fields) -> None:
        self.update(finished=now(), exit_code=exit_code, **fields)

    @staticmethod
    def amend(run_dir: Path, **fields) -> None:
        """Add fields to a finished run's run.json."""
        records.write(_with(load(run_dir), fields, run_dir / "run.json"),
                      run_dir / "run.json", sort_keys=True)

    def write(self) -> None:
        records.write(self.run, self.path, sort_keys=True)
