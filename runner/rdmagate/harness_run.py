"""Run rdmagate-harness on a plan: stream its KTAP, keep what it finished."""
import signal
import subprocess
from pathlib import Path

from . import junit, ktap, results
from .progress import Progress
from .result import Result


def command(harness: Path, run_dir: Path) -> list[str]:
    """The harness argv for a run directory (also what the lab runs in a guest)."""
    return [str(harness), "--plan", str(run_dir / "plan.json"),
            "--results", str(run_dir / "results.jsonl"), "--junit", str(run_dir / "junit.xml")]


class Follower:
    """Copies KTAP lines to ktap.log and turns them into the live status line;
    fed by a local harness's stdout or by a lab guest's console."""

    def __init__(self, run_dir: Path, progress: Progress):
        self.log = (run_dir / "ktap.log").open("a", encoding="utf-8")
        self.reader = ktap.Reader()
        self.progress = progress

    def line(self, text: str) -> None:
        text = text.rstrip("\n")
        self.log.write(text + "\n")
        self.log.flush()
        event = self.reader.feed(text)
        if event is None or event.kind == "suite":
            return
        status = _status(event.suite)
        if event.kind == "suite_end":
            self.progress.done(status)
        else:
            self.progress.update(status)

    def close(self) -> None:
        self.log.close()


def _status(suite: ktap.SuiteProgress) -> str:
    total = suite.planned or "?"
    parts = [f"{n} {o.lower()}" for o, n in sorted(suite.by_outcome.items())]
    return f"{suite.name}: {suite.done}/{total}  " + ", ".join(parts)


def run(argv: list[str], run_dir: Path, progress: Progress, env: dict | None = None) -> int:
    """Run the harness (argv from command()) locally; return its exit status
    (negative: killed by a signal)."""
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True,
                            env=env, start_new_session=True)
    follower = Follower(run_dir, progress)
    try:
        for line in proc.stdout:
            follower.line(line)
        return proc.wait()
    except KeyboardInterrupt:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        raise
    finally:
        follower.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        ensure_junit(run_dir)


def ensure_junit(run_dir: Path) -> list[Result]:
    """Read the finished results; rebuild junit.xml when the harness did not
    write it (killed) or wrote it before the last results (never)."""
    records = results.read(run_dir / "results.jsonl")
    if not (run_dir / "junit.xml").exists():
        junit.write(records, run_dir / "junit.xml")
    return records
