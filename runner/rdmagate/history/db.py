"""The history database. Several writers may add runs at once (two nightly
pipelines finishing together): the file is in WAL mode, every connection
waits up to BUSY_S for a lock instead of failing, and each run goes in with
one BEGIN IMMEDIATE transaction, so a reader sees a run whole or not at all.

The file says it is rdmagate's: SQLite's application_id (APPLICATION_ID, in
the file's header, as `file` shows it) and user_version (the schema). Any
other SQLite file is refused untouched, so --db on another program's
database never writes into it. A history made before the mark is adopted
(marked) when its tables are exactly rdmagate's; an empty file becomes one."""
import contextlib
import datetime
import sqlite3
import time
from pathlib import Path

from ..errors import UsageError

SCHEMA_VERSION = 1
APPLICATION_ID = 0x52444D47   # "RDMG"
TABLES = ("measures", "results", "runs")
BUSY_S = 60.0
SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY, run_key TEXT NOT NULL UNIQUE, command TEXT NOT NULL,
    started TEXT NOT NULL, stack TEXT NOT NULL, git TEXT, exit_code INTEGER,
    verdict TEXT, path TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS results (
    run INTEGER NOT NULL REFERENCES runs(id), node TEXT NOT NULL, stack TEXT NOT NULL,
    profile TEXT NOT NULL, test TEXT NOT NULL, outcome TEXT NOT NULL, reason TEXT);
CREATE TABLE IF NOT EXISTS measures (
    run INTEGER NOT NULL REFERENCES runs(id), node TEXT NOT NULL, stack TEXT NOT NULL,
    profile TEXT NOT NULL, name TEXT NOT NULL, value REAL NOT NULL, unit TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS results_by_test ON results(node, stack, profile, test);
CREATE INDEX IF NOT EXISTS measures_by_name ON measures(node, stack, profile, name);
"""


def connect(path: Path, create: bool = True) -> sqlite3.Connection:
    """The database at path (made when create), checked to be a history."""
    if not create and not path.is_file():
        raise UsageError(f"--db {path}: no history there (rdmagate history add makes one)")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, timeout=BUSY_S, isolation_level=None)
        conn.execute(f"PRAGMA busy_timeout = {int(BUSY_S * 1000)}")
        with transaction(conn):   # two writers making one file: one makes, one sees it made
            _claim(conn, path, create)
        _retried(lambda: conn.execute("PRAGMA journal_mode = WAL"))
    except sqlite3.DatabaseError as err:
        raise UsageError(f"--db {path}: not an rdmagate history ({err})") from None
    except OSError as err:
        raise UsageError(f"--db {path}: cannot open ({err.strerror})") from None
    return conn


def _claim(conn: sqlite3.Connection, path: Path, create: bool) -> None:
    """Check that the file is an rdmagate history, making one of an empty
    file when create (a report only reads)."""
    app = conn.execute("PRAGMA application_id").fetchone()[0]
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    tables = tuple(sorted(row[0] for row in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table'")))
    if app == 0 and version == 0 and not tables and not create:
        raise UsageError(f"--db {path}: no history there, an empty file (rdmagate history "
                         "add makes one)")
    if app == 0 and version == 0 and not tables:   # new, or empty
        for statement in SCHEMA.split(";"):
            if statement.strip():
                conn.execute(statement)
        version = SCHEMA_VERSION
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    elif app == 0 and version == SCHEMA_VERSION and tables == TABLES:
        pass   # a history written before the mark: adopted below
    elif app != APPLICATION_ID:
        what = f"application_id {app:#x}" if app else \
            f"tables {', '.join(tables[:4])}{', ...' if len(tables) > 4 else ''}"
        raise UsageError(f"--db {path}: not an rdmagate history (a SQLite file of another "
                         f"program: {what}); left untouched")
    if version != SCHEMA_VERSION:
        raise UsageError(f"--db {path}: history schema version {version}, this rdmagate "
                         f"reads version {SCHEMA_VERSION}")
    if app == 0:
        conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")


def _retried(step):
    """step(), again while SQLite says the database is locked (up to BUSY_S):
    switching a new file to WAL while another writer holds it fails at once,
    without the busy handler ('database is locked' in a two-writer test)."""
    deadline = time.monotonic() + BUSY_S
    while True:
        try:
            return step()
        except sqlite3.OperationalError as err:
            if "locked" not in str(err) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


@contextlib.contextmanager
def transaction(conn: sqlite3.Connection):
    """BEGIN IMMEDIATE (the write lock taken at once, waited for) ... COMMIT,
    or ROLLBACK on any error."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def utc(stamp: str) -> str:
    """An ISO 8601 time (run.json's or upgrade.json's spelling) in UTC."""
    try:
        moment = datetime.datetime.fromisoformat(stamp)
    except ValueError:
        raise UsageError(f"started {stamp!r}: not an ISO 8601 time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return moment.astimezone(datetime.timezone.utc).isoformat(timespec="seconds")


def add(conn: sqlite3.Connection, run) -> bool:
    """Keep one run (ingest.Run) in one transaction; False when it is kept already."""
    with transaction(conn):
        if conn.execute("SELECT 1 FROM runs WHERE run_key = ?", (run.key,)).fetchone():
            return False
        run_id = conn.execute(
            "INSERT INTO runs (run_key, command, started, stack, git, exit_code, verdict, path)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (run.key, run.command, utc(run.started), run.stack, run.git, run.exit_code,
             run.verdict, run.path)).lastrowid
        for unit in run.units:
            where = (run_id, unit.node, unit.stack, unit.profile)
            conn.executemany("INSERT INTO results VALUES (?, ?, ?, ?, ?, ?, ?)",
                             [where + (r.test, r.outcome, r.reason)
                              for r in unit.results])
            conn.executemany("INSERT INTO measures VALUES (?, ?, ?, ?, ?, ?, ?)",
                             [where + m for m in unit.measures])
    return True
