"""perftest's results table, read robustly across the Debian versions
(4.4 in Debian 11, 4.5 in 12, 25.01 in 13 and sid).

The table is the block after the `#bytes ...` header line. Column names hold
single spaces (`BW peak[MB/sec]`), columns are separated by runs of spaces
or tabs. perftest's `MB/sec` always meant 2^20 bytes per second; newer
versions print `MiB/sec` for the same number (linux-rdma/perftest#257), so
both become bytes per second here. Nothing that is not a positive, finite
number becomes a result: a broken table is an error, never a zero latency.

perftest 25.01's --out_json report is read too (parse_json). 4.5 writes the
same report but not as JSON (unquoted keys, trailing commas), and 4.4 has no
such option, so the table is what every version can be read from."""
import json
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
METRICS = (*LATENCY.values(), *BANDWIDTH.values(), "msg_rate_Mpps")   # every key a figure has
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
    rows: list[dict] = []
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
    row: dict[str, float] = {}
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
    return _checked(row, where)


# Zero here means "not measured": the receiving side of ib_send_bw prints a
# BW peak of 0.00, and MsgRate (6 decimals of Mpps) rounds below half a
# message a second to 0.
NOT_MEASURED_WHEN_ZERO = ("bw_peak_Bps", "msg_rate_Mpps")
MUST_BE_POSITIVE = ("typical_us", "avg_us", "min_us", "bw_avg_Bps")


def _checked(row: dict, where: str) -> dict:
    row = {k: v for k, v in row.items() if not (k in NOT_MEASURED_WHEN_ZERO and v == 0)}
    measured = [k for k in row if k not in ("bytes", "iterations")]
    if not measured or any(row[k] <= 0 for k in measured if k in MUST_BE_POSITIVE):
        raise UsageError(f"{where}: a zero or missing measurement is not a result")
    return row


def parse_file(path: Path) -> list[dict]:
    try:
        return parse(path.read_text(errors="replace"), str(path))
    except OSError as err:
        raise UsageError(f"{path}: cannot read ({err.strerror})") from None


# --out_json's "results" keys -> (our key, factor). The report carries no
# units: they are the table's, usec and MiB/sec unless --report_gbits was
# given (rdmagate never gives it; perftest_run checks the two agree).
JSON_RESULTS = {"t_min": ("min_us", 1.0), "t_max": ("max_us", 1.0),
                "t_typical": ("typical_us", 1.0), "t_avg": ("avg_us", 1.0),
                "t_stdev": ("stdev_us", 1.0), "percentile_99": ("p99_us", 1.0),
                "percentile_99.9": ("p999_us", 1.0), "BW_peak": ("bw_peak_Bps", MIB),
                "BW_average": ("bw_avg_Bps", MIB), "MsgRate": ("msg_rate_Mpps", 1.0)}


def parse_json(text: str, source: str = "perftest JSON report") -> dict:
    """One result from a --out_json report (perftest 25.01), as parse() gives
    a row; UsageError when it is not JSON (4.5's report is not) or not usable."""
    try:
        results = json.loads(text)["results"]
    except (ValueError, TypeError, KeyError, RecursionError):
        raise UsageError(f"{source}: not a JSON report with results") from None
    if not isinstance(results, dict):
        raise UsageError(f"{source}: results is not one object")
    row: dict[str, float] = {}
    for key, value in results.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise UsageError(f"{source}: {key}: {value!r} is not a number")
        value = _number(str(value), f"{source}: {key}")
        if key == "MsgSize":
            row["bytes"] = int(value)
        elif key == "n_iterations":
            row["iterations"] = int(value)
        elif key in JSON_RESULTS:
            ours, factor = JSON_RESULTS[key]
            row[ours] = value * factor
    if "bytes" not in row or "iterations" not in row:
        raise UsageError(f"{source}: no MsgSize or n_iterations")
    return _checked(row, source)
