"""The run directory: results/<run-id>/ and its run.json."""
import datetime
import json
import subprocess
import sys
from pathlib import Path

from .errors import UsageError
from .paths import REPO_ROOT


def now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def read_json(path: Path) -> dict:
    """A JSON object file of a run; a UsageError naming the file when it is not one."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise UsageError(f"{path}: cannot read ({err.strerror})") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise UsageError(f"{path}: not JSON ({err})") from None
    if not isinstance(data, dict):
        raise UsageError(f"{path}: not a JSON object")
    return data


def git_revision() -> str:
    try:
        done = subprocess.run(["git", "-C", str(REPO_ROOT), "describe", "--always", "--dirty"],
                              capture_output=True, text=True, timeout=10, check=False)
    except OSError:
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


class RunRecord:
    """run.json, written at the start and rewritten at the end (atomically)."""

    def __init__(self, run_dir: Path, command: str, **fields):
        self.path = run_dir / "run.json"
        self.data = {"run_id": run_dir.name, "command": command, "argv": sys.argv,
                     "started": now(), "finished": None, "git_revision": git_revision(),
                     "exit_code": None, **fields}
        self.write()

    def update(self, **fields) -> None:
        self.data.update(fields)
        self.write()

    def finish(self, exit_code: int, **fields) -> None:
        self.update(finished=now(), exit_code=exit_code, **fields)

    @staticmethod
    def amend(run_dir: Path, **fields) -> None:
        """Add fields to a finished run's run.json."""
        path = run_dir / "run.json"
        data = json.loads(path.read_text(encoding="utf-8"))
        data.update(fields)
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        tmp.replace(path)

    def write(self) -> None:
        tmp = self.path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(self.data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        tmp.replace(self.path)
