"""Run rdmagate-harness on a plan: stream its KTAP, keep what it finished."""
import signal
import subprocess
from pathlib import Path

from . import junit, ktap, results
from .progress import Progress


def command(harness: Path, run_dir: Path) -> list[str]:
    """The harness argv for a run directory (also what the lab runs in a guest)."""
    return [str(harness), "--plan", str(run_dir / "plan.json"),
            "--results", str(run_dir / "results.jsonl"), "--junit", str(run_dir / "junit.xml")]


def follow(lines, run_dir: Path, progress: Progress) -> None:
    """Copy KTAP lines to ktap.log and turn them into the live status line."""
    reader = ktap.Reader()
    with (run_dir / "ktap.log").open("a", encoding="utf-8") as log:
        for line in lines:
            log.write(line)
            log.flush()
            event = reader.feed(line.rstrip("\n"))
            if event is None or event.kind == "suite":
                continue
            text = _status(event.suite)
            if event.kind == "suite_end":
                progress.done(text)
            else:
                progress.update(text)


def _status(suite: ktap.SuiteProgress) -> str:
    total = suite.planned or "?"
    parts = [f"{n} {o.lower()}" for o, n in sorted(suite.by_outcome.items())]
    return f"{suite.name}: {suite.done}/{total}  " + ", ".join(parts)


def run(harness: Path, run_dir: Path, progress: Progress, env: dict | None = None) -> int:
    """Run the harness locally; return its exit status (negative: killed by a signal)."""
    proc = subprocess.Popen(command(harness, run_dir), stdout=subprocess.PIPE, text=True,
                            env=env, start_new_session=True)
    try:
        follow(proc.stdout, run_dir, progress)
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
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        ensure_junit(run_dir)


def ensure_junit(run_dir: Path) -> list[dict]:
    """Read the finished results; rebuild junit.xml when the harness did not
    write it (killed) or wrote it before the last results (never)."""
    records = results.read(run_dir / "results.jsonl")
    if not (run_dir / "junit.xml").exists():
        junit.write(records, run_dir / "junit.xml")
    return records
