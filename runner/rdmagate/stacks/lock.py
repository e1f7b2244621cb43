"""One writer at a time per directory (a cache entry, a build tree), and the
mess of a killed fetcher swept.

A fetch killed mid-way leaves its temporary directory (named .*.partial-*)
but never the final name, so an entry is complete exactly when it exists.
Under the lock no other fetcher is running, so those leftovers are safe to
remove."""
import contextlib
import fcntl
import shutil
from pathlib import Path


@contextlib.contextmanager
def locked(directory: Path):
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / ".lock", "w", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        for leftover in directory.glob(".*.partial-*"):
            shutil.rmtree(leftover, ignore_errors=True)
        for leftover in directory.glob(".partial-*"):
            shutil.rmtree(leftover, ignore_errors=True)
        yield
