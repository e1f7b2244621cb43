"""perftest's results table, read robustly across the Debian versions
(4.4 in Debian 11, 4.5 in 12, 25.01 in 13 and sid).

The table is the block after the `#bytes ...` header line. Column names hold
single spaces (`BW peak[MB/sec]`), columns are separated by runs of spaces
or tabs. perftest's `MB/sec` always meant 2^20 bytes per second; newer
versions print `MiB/sec` for the same number (linux-rdma/perftest#257), so
both become bytes per second here. Nothing that is not a positive, finite
number becomes a result: a broken table is an error, never a zero latency."""
import math
import re
from pathlib import Path

from ..errors import UsageError

MIB = 1048576
_SPLIT = re.compile(r"\s{2,}|\t+")
_UNIT = re.compile(r"^(?P<name>.*?)\s*\[(?P<unit>[^\]]+)\]$")
# column name as printed -> (our key, factor to our unit)
LATENCY = {"t_min": "min_us", "t_max": "max_us", "t_typical": "typical_us",
           "t_avg": "avg_us", "t_stdev": "stdev_us", "99% percentile": "p99_us",
           "99.9% percentile": "p999_us"}
BANDWIDTH = {"BW peak": "bw_peak_Bps", "BW average": "bw_avg_Bps"}
UNIT_FACTORS = {"usec": 1.0, "MB/sec": MIB, "MiB/sec": MIB, "Gb/sec": 1e9 / 8,
                "Mpps": 1e6}


def _columns(header: str) -> list[tuple[str, str | None]]:
    # "#bytes #iterations" is set off by one space only: '#' starts a column too
    names = [part.strip() for c in _SPLIT.split(header.strip())
             for part in re.split(r"\s+(?=#)", c) if part.strip()]
    out = []
    for name in names:
        match = _UNIT.match(name)
        out.append((match.group("name"), match.group("unit")) if match else (name, None))
    return out


def _number(text: str, where: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise UsageError(f"{where}: {text!r} is not a number") from None
    if not math.isfinite(value) or value < 0:
        raise UsageError(f"{where}: {text!r} is not a usable measurement")
    return value


def parse(text: str, source: str = "perftest output") -> list[dict]:
    """One dict per message size: bytes, iterations, and the measurements in
    microseconds (latency tests) or bytes per second and Mpps (bandwidth)."""
    lines = text.splitlines()
    starts = [i for i, line in enumerate(lines) if line.strip().startswith("#bytes")]
    if not starts:
        raise UsageError(f"{source}: no results table (no '#bytes' header): "
                         "the test did not finish, or this is not perftest output")
    start = starts[-1]
    columns = [("bytes", None) if name == "#bytes" else (name, unit)
               for name, unit in _columns(lines[start])]
    rows = []
    for number, line in enumerate(lines[start + 1:], start=start + 2):
        if not line.strip() or line.strip().startswith("---"):
            if rows:
                break
            continue
        cells = line.split()
        where = f"{source}:{number}"
        if len(cells) != len(columns):
            raise UsageError(f"{where}: {len(cells)} values for {len(columns)} columns")
        rows.append(_row(columns, cells, where))
    if not rows:
        raise UsageError(f"{source}: the results table is empty (the test was cut short)")
    return rows


def _row(columns, cells, where: str) -> dict:
    row = {}
    for (name, unit), cell in zip(columns, cells):
        value = _number(cell, where)
        if name == "bytes":
            row["bytes"] = int(value)
        elif name == "#iterations":
            row["iterations"] = int(value)
        elif name in LATENCY or name in BANDWIDTH:
            if unit not in UNIT_FACTORS:
                raise UsageError(f"{where}: unknown unit [{unit}] of {name}")
            row[(LATENCY | BANDWIDTH)[name]] = value * UNIT_FACTORS[unit]
        elif name == "MsgRate":
            row["msg_rate_Mpps"] = value
    if "bytes" not in row or "iterations" not in row:
        raise UsageError(f"{where}: no #bytes or #iterations column")
    measured = [k for k in row if k not in ("bytes", "iterations")]
    if not measured or any(row[k] <= 0 for k in measured
                           if k in ("typical_us", "avg_us", "min_us", "bw_avg_Bps")):
        raise UsageError(f"{where}: a zero or missing measurement is not a result")
    return row


def parse_file(path: Path) -> list[dict]:
    try:
        return parse(path.read_text(errors="replace"), str(path))
    except OSError as err:
        raise UsageError(f"{path}: cannot read ({err.strerror})") from None
