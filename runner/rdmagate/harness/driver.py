"""The harness's side of a run: its argv, its KTAP followed live, and the
run's junit.xml written from what it finished."""
from pathlib import Path

from ..outputs import junit, ktap, results
from ..progress import Progress
from ..outputs.result import Result


def command(harness: Path, run_dir: Path) -> list[str]:
    """The harness argv for a run directory (the same at every target)."""
    return [str(harness), "--plan", str(run_dir / "plan.json"),
            "--results", str(run_dir / "results.jsonl")]


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


def write_junit(run_dir: Path) -> list[Result]:
    """Read the finished results and write junit.xml from them (also after a
    harness that was killed); the results."""
    records = results.read(run_dir / "results.jsonl")
    junit.write(records, run_dir / "junit.xml")
    return records
