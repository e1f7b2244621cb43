"""The history pipelines: add finished runs to the database, report what
the runs kept since a time say (changes, flaky tests, perf drift)."""
import datetime
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from .. import files
from ..errors import InfraError, UsageError
from ..history import analysis, db, ingest
from ..history.report import Report, page


@dataclass(frozen=True)
class AddRequest:
    db: Path
    runs: tuple[str, ...]


@dataclass(frozen=True)
class ReportRequest:
    db: Path
    since: str = "14d"
    html: Path | None = None
    threshold: float = 0.10


def add(request: AddRequest) -> list[tuple[str, bool]]:
    """Each run read first (a bad one stops before anything is written),
    then each kept in its own transaction; (run, added) for each."""
    runs = [ingest.read(Path(path)) for path in request.runs]
    conn = db.connect(request.db)
    try:
        return [(run.path, db.add(conn, run)) for run in runs]
    except sqlite3.Error as err:   # still locked after the busy timeout, a full disk
        raise InfraError(f"--db {request.db}: {err}") from None
    finally:
        conn.close()


def since(text: str, now: datetime.datetime | None = None) -> str:
    match = re.fullmatch(r"(\d{1,9})([dh])", text)
    if not match:
        raise UsageError(f"--since {text[:40]}: a number of days or hours (14d, 36h)")
    amount = int(match.group(1))
    delta = datetime.timedelta(days=amount) if match.group(2) == "d" \
        else datetime.timedelta(hours=amount)
    now = now or datetime.datetime.now(datetime.timezone.utc)
    try:
        return (now - delta).isoformat(timespec="seconds")
    except OverflowError:   # before the year 1: every run kept
        return datetime.datetime.min.replace(tzinfo=datetime.timezone.utc).isoformat()


def report(request: ReportRequest) -> Report:
    start = since(request.since)
    conn = db.connect(request.db, create=False)
    try:
        runs = conn.execute("SELECT COUNT(*) FROM runs WHERE started >= ?", (start,)).fetchone()[0]
        outcomes = analysis.series(conn, "results", start)
        trends = analysis.series(conn, "measures", start)
    except sqlite3.Error as err:
        raise InfraError(f"--db {request.db}: {err}") from None
    finally:
        conn.close()
    found = Report(start, runs, analysis.changed(outcomes), analysis.flaky(outcomes),
                   analysis.drifts(trends, request.threshold), trends,
                   [s for s in outcomes if not all(analysis.ok(p[2]) for p in s.points)])
    if request.html:
        try:
            files.write_atomic(request.html, page(found), "the history page")
        except OSError as err:
            raise UsageError(f"--html {request.html}: cannot write ({err.strerror})") from None
    return found
