"""The perf history of a machine: each `check --suite perf` keeps its runs'
medians beside its run directory, and the next check compares with the
last LAST of them on the same machine, so a nightly CI sees a drift from
its own recent past, not only from the committed baseline.

Stored form (format 1): RESULTS/perf-history/<machine id>/<profile>/<stack>.jsonl,
RESULTS being the folder that holds the run directories; one JSON line per
check, appended when it ends:

    {"format": 1, "run_id": "20261202-010203-check-debian-12",
     "recorded": "2026-12-02T01:02:03+0000", "machine": {...perf/machine.py...},
     "calibration": [8612.0, 8590.5, ...],          # the median of each run, ns
     "measurements": {"write_lat-2": {"higher_is_better": false,
                                      "medians": [20110.0, 19870.5, ...]}}}

The machine id is a digest of the machine's fingerprint: a machine whose
facts change starts a new history. A run's median is all the verdict needs
of it (perf/stats.py tests per-run statistics), so the history is small.
The comparison pools the runs of the last LAST checks as side A (runs from
as many boots and days: the variance between them is in the interval), and
the calibration corrects a change of speed as against a baseline."""
import hashlib
import json
import statistics
import time
from pathlib import Path

from ..errors import UsageError
from . import calibrate, clock, exact, machine, stats

FORMAT = 1
LAST = 5          # checks compared with
FOLDER = "perf-history"


def ident(facts: dict) -> str:
    text = json.dumps({k: facts.get(k) for k in machine.FINGERPRINT
                       if k not in machine.OPTIONAL or facts.get(k) is not None}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def path_for(results: Path, facts: dict, profile: str, stack: str) -> Path:
    return results / FOLDER / ident(facts) / profile / f"{stack}.jsonl"


def append(path: Path, run_id: str, session) -> None:
    measurements = {name: {"higher_is_better": m["higher_is_better"],
                           "medians": [float(statistics.median(r)) for r in m["runs"]]}
                    for name, m in sorted(session.results.items()) if "runs" in m}
    if not measurements:
        return
    entry = {"format": FORMAT, "run_id": run_id,
             "recorded": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "machine": session.machine,
             "calibration": [float(statistics.median(r)) for r in session.calibration],
             "measurements": measurements}
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as out:   # one line: appends do not interleave
        out.write(json.dumps(entry, separators=(",", ":")) + "\n")


def last(path: Path, count: int = LAST) -> list[dict]:
    """The last `count` checks kept, oldest first; UsageError naming file and line."""
    if not path.is_file():
        return []
    entries = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            raise UsageError(f"{path}:{number}: not a perf history line (JSON); remove the "
                             "line or the file") from None
        if not isinstance(entry, dict) or entry.get("format") != FORMAT or not isinstance(
                entry.get("measurements"), dict) or not isinstance(entry.get("calibration"), list):
            raise UsageError(f"{path}:{number}: not a perf history line of format {FORMAT}")
        entries.append(entry)
    return entries[-count:]


def compare(entries: list[dict], name: str, runs: list, threshold: float, facts: dict,
            calibration: list, boots: int = 1) -> stats.Comparison | None:
    """New runs of NAME (from `boots` boots) against the pooled runs of the
    checks kept (a boot or more each); None when fewer than two runs of it
    were kept."""
    kept = [e["measurements"][name] for e in entries if name in e["measurements"]]
    medians = [m for k in kept for m in k["medians"]]
    if len(medians) < stats.MIN_RUNS:
        return None
    if clock.of(facts) == clock.INSTRUCTIONS:   # the history's machine id holds the clock
        return exact.compare(medians, runs, threshold,
                             higher_is_better=kept[-1]["higher_is_better"])
    try:
        base_cal = [c for e in entries for c in e["calibration"]]
        adjust, why = calibrate.adjustment(entries[-1]["machine"], base_cal, facts, calibration)
        cmp = stats.compare(medians, runs, threshold, higher_is_better=kept[-1]["higher_is_better"],
                            adjust=adjust, boot=machine.boot_effect(facts),
                            boots=(len(kept), boots))
    except (KeyError, TypeError) as err:
        raise UsageError(f"perf history of {name}: a line lacks {err}") from None
    if why:
        return stats.Comparison(cmp.ratio, 0.0, float("inf"), "inconclusive", cmp.n_a, cmp.n_b,
                                cmp.runs_a, cmp.runs_b, why)
    return calibrate.against_load(None, cmp, facts)
