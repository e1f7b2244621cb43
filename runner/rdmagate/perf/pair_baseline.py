"""The perftest pair baseline: baselines/perftest/<profile>/<stack>.json,
the fleet's pair measurements (fleet/pairs.py's sweep: perftest's server on
one node, its client on the other) recorded by `rdmagate baseline record
--suite perf` (or `--suite perftest` for this part alone), several runs of
each, one figure a run (perftest keeps no samples), with the machine it was
recorded on. A fleet's pairs are judged against it (fleet/pairs.py) with the
statistics of `check --suite perf` (perf/stats.py): the run is the unit of
replication. Its own file, beside the native baseline of the same profile
and stack, so recording one never rewrites the other. Format (version 1):

    {"format": 1, "profile": "rxe-6.1", "stack": "host", "rdma_core": "44.0-2",
     "kernel": "6.1.0-50-amd64", "perftest": "4.5+0.17-1", "recorded": "2026-12-02",
     "boots": 2, "pair": "two lab guests joined by the lab's link",
     "machine": {"where": "lab", ...},
     "measurements": {"ib_write_lat-2": {"tool": "ib_write_lat", "size": 2,
         "iterations": 300, "metric": "typical_us", "higher_is_better": false,
         "runs": [9512.3, ...]}}}

There is no calibration workload in a pair (two guests, or two nodes): a
baseline from another machine is "not comparable" (perf/calibrate.py)."""
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from .. import files
from ..errors import UsageError
from ..outputs import records
from ..outputs.records import Range
from ..paths import REPO_ROOT, within
from . import calibrate, machine, perftest, stats

BASELINES = REPO_ROOT / "baselines" / "perftest"
FORMAT = 1
MAX_RUNS = 64


@dataclass
class Measurement:
    tool: records.Name      # ib_write_lat
    size: Annotated[int, Range(1, 2**31)]   # bytes
    iterations: Annotated[int, Range(1, 10**9)]
    # the keys come from perftest's column tables: read at run time, not by mypy
    metric: Literal[perftest.METRICS]   # type: ignore[valid-type]  # perftest.parse's key: typical_us, bw_avg_Bps
    higher_is_better: bool
    runs: list[float]       # one figure a run, in the metric's unit

    def __post_init__(self):
        if not 1 <= len(self.runs) <= MAX_RUNS or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool)
                and math.isfinite(v) and v > 0 for v in self.runs):
            raise ValueError(f"field runs: needs 1 to {MAX_RUNS} positive numbers")
        if self.higher_is_better is not higher_is_better(self.metric):
            raise ValueError(f"field higher_is_better: must be "
                             f"{json.dumps(higher_is_better(self.metric))} for {self.metric}")


@dataclass
class PairBaseline:
    profile: str
    stack: str
    rdma_core: str | None   # None: the host stack (this machine's own libraries)
    kernel: str
    perftest: str           # the perftest package's version
    recorded: str           # the date
    boots: Annotated[int, Range(1, MAX_RUNS)]   # boots (target runs) the runs were spread over
    pair: str               # what the pair was: two lab guests, two nodes
    machine: dict
    measurements: dict[str, Measurement]
    format: int = FORMAT

    def __post_init__(self):
        if not self.measurements:
            raise ValueError("field measurements: empty")
        if not self.machine.get("where"):
            raise ValueError("field machine: must say where it was recorded")
        records.convert(Literal[machine.WHERE], self.machine["where"], "machine.where")


def higher_is_better(metric: str) -> bool:
    """A time (*_us) is better lower; a bandwidth or a rate higher."""
    return not metric.endswith("_us")


def path_for(profile: str, stack: str, root: Path = BASELINES) -> Path:
    return within(root, profile, f"{stack}.json")   # both names come from input


def measurements(results: list[dict], metrics: dict[str, str]) -> dict[str, Measurement]:
    """perftest_run's results of every run (NAME.K jobs) by measurement
    (TOOL-SIZE): each ok run's figure of the tool's metric (metrics: tool ->
    metric; *_us lower is better, the rest higher). Failed runs are left out."""
    out: dict[str, Measurement] = {}
    for r in results:
        if not r.get("ok"):
            continue
        metric = metrics[r["tool"]]
        name = f"{r['tool']}-{r['size']}"
        if name not in out:
            out[name] = Measurement(r["tool"], r["size"], r["iterations"], metric,
                                    higher_is_better(metric), [r["metrics"][metric]])
        else:
            out[name].runs.append(r["metrics"][metric])
    return out


def write(baseline: PairBaseline, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    records.write(baseline, path)
    return path


def is_one(path: Path) -> bool:
    """Whether a file reads as a pair baseline rather than a native one (it
    says what its pair was); anything unreadable is left to the loaders."""
    try:
        data = json.loads(files.read_text(path, "a baseline"))
    except (UsageError, ValueError, RecursionError):
        return False
    return isinstance(data, dict) and "pair" in data


def load(path: Path) -> PairBaseline:
    """A pair baseline, checked; UsageError naming the file and field."""
    found = records.load(PairBaseline, path, "a perftest pair baseline")
    for name, named in (("stack", path.stem), ("profile", path.parent.name)):
        if getattr(found, name) != named:   # copied or renamed by hand
            raise UsageError(f"{path}: field {name}: {getattr(found, name)!r}, but the file "
                             f"is the pair baseline of {named!r} (record it again for {named})")
    return found


def compare(stored: PairBaseline, name: str, runs: list[float], threshold: float,
            now_machine: dict) -> stats.Comparison:
    """New runs of measurement NAME against the stored ones, in the direction
    the baseline records; another machine is not comparable (inconclusive, why)."""
    kept = stored.measurements[name]
    _, why = calibrate.adjustment(stored.machine, None, now_machine, None)
    # the pair's runs are one job on one boot of each guest; the baseline's span its boots
    cmp = stats.compare(kept.runs, runs, threshold, higher_is_better=kept.higher_is_better,
                        boot=machine.boot_effect(now_machine), boots=(stored.boots, 1))
    if why:
        return stats.Comparison(cmp.ratio, 0.0, math.inf, "inconclusive", cmp.n_a, cmp.n_b,
                                cmp.runs_a, cmp.runs_b, why)
    return cmp


def summary(b: PairBaseline) -> list[str]:
    """A loaded pair baseline in a few lines: where, when, each measurement's runs."""
    lines = [f"perftest pair baseline, format {b.format}, {b.profile} / {b.stack} "
             f"(rdma-core {b.rdma_core or 'of the host'}, perftest {b.perftest}, kernel {b.kernel}), "
             f"recorded {b.recorded} in {b.boots} boot(s) between {b.pair} on "
             f"{machine.describe(b.machine)}"]
    for name, m in sorted(b.measurements.items()):
        centre, low, high = stats.run_spread(m.runs)
        lines.append(f"{name}: {len(m.runs)} runs of {m.iterations} iterations, {m.metric} "
                     f"median {centre:.4g} (runs {low:.4g}-{high:.4g})"
                     + (" higher is better" if m.higher_is_better else ""))
    return lines
