"""Pairs of nodes: perftest's server on one node, its client on the other,
in rounds where each node is in one pair at most (ring: each node with the
next; all: every pair once, n-1 rounds of n/2 pairs by the circle method).
Each measurement is a few runs, judged two ways: against the fleet's median
of the same measurement, so a slow link (one pair off) or a slow node (every
pair of it off) stands out from a slower stack (every pair alike); and
against the profile's stored pair baseline (perf/pair_baseline.py) with the
statistics of `check --suite perf`, so a stack slower than it was is told
too. In the lab a "slower" is soft-RoCE under an emulated CPU: a lab finding,
not a device's."""
import dataclasses
import math
import statistics
from pathlib import Path

from ..errors import InfraError, UsageError
from ..perf import pair_baseline, perftest_run, stats, suite as perf_suite
from .record import NOT_TESTED, TESTED, Pair

MODES = ("none", "ring", "all")
# three runs a measurement: the fewest that give a verdict an interval with
# some degrees of freedom, in a pair that stays short under TCG
SWEEP = perftest_run.Sweep(("write_lat", "write_bw"), lat_sizes=(2,), bw_sizes=(65536,),
                           lat_iters=300, bw_iters=300, job_timeout_s=60, repeats=3)
# what `baseline record` stores: the same jobs, more runs a boot (and several boots)
BASELINE_SWEEP = dataclasses.replace(SWEEP, repeats=4)
MEASUREMENTS = [f"ib_{job['name']}" for job in dataclasses.replace(SWEEP, repeats=1).jobs()]
METRICS = {"ib_write_lat": "typical_us", "ib_write_bw": "bw_avg_Bps"}   # lower, higher is better
OFF = 0.5       # off the fleet's median by more than half: TCG's noise is ~20%


def rounds(nodes: list[str], mode: str) -> list[list[tuple[str, str]]]:
    """[[(server, client), ...] per round]."""
    if mode not in MODES:
        raise UsageError(f"--pairs {mode}: one of {', '.join(MODES)}")
    if mode == "none" or len(nodes) < 2:
        return []
    if mode == "all":
        ring = list(nodes) + ([None] if len(nodes) % 2 else [])
        out: list[list[tuple[str, str]]] = []
        for _ in range(len(ring) - 1):
            half = len(ring) // 2
            out.append([(a, b) for a, b in zip(ring[:half], reversed(ring[half:]))
                        if a is not None and b is not None])
            ring = [ring[0], ring[-1], *ring[1:-1]]
        return out
    edges = [(nodes[i], nodes[(i + 1) % len(nodes)]) for i in range(len(nodes))]
    out = []
    for edge in edges[:1] if len(nodes) == 2 else edges:
        free = next((r for r in out if not {n for p in r for n in p} & set(edge)), None)
        if free is None:
            free = []
            out.append(free)
        free.append(edge)
    return out


def run_pair(pair: Pair, target, fleet_dir: Path, say=lambda text: None) -> Pair:
    """perftest's short pair sweep at a target of two nodes (the server on the
    first); the raw outputs in pairs/<server>-<client>/perftest/. Each
    measurement's entry: its runs, their centre as value, the machine."""
    pair_dir = fleet_dir / "pairs" / f"{pair.server}-{pair.client}"
    pair_dir.mkdir(parents=True, exist_ok=True)
    try:
        found = perftest_run.run_sweep(target, pair_dir, SWEEP, say=say)
    except InfraError as err:
        pair.status, pair.reason = NOT_TESTED, str(err)
        return pair
    pair.status = TESTED
    measured = pair_baseline.measurements(found, METRICS)
    for name in MEASUREMENTS:
        entry: dict = {"measurement": name, "metric": METRICS[name.rsplit("-", 1)[0]]}
        failed = [r["error"] for r in found if f"{r['tool']}-{r['size']}" == name
                  and not r["ok"]]
        if name in measured:
            runs = measured[name].runs
            entry.update(value=stats.run_spread(runs)[0], runs=runs,
                         iterations=measured[name].iterations)
            if failed:   # judged on the runs that gave a figure; why the others did not
                entry["failed_runs"] = failed
        else:
            entry["error"] = failed[0] if failed else "not run"
        pair.verdicts.append(entry)
    pair.machine = found[0]["machine"] if found else {}
    return pair


def judge(pairs: list[Pair]) -> None:
    """Each measurement of each pair against the fleet's median of it."""
    values: dict[str, list[float]] = {}
    for pair in pairs:
        for v in pair.verdicts:
            if "value" in v:
                values.setdefault(v["measurement"], []).append(v["value"])
    for pair in pairs:
        for v in pair.verdicts:
            if "value" not in v:
                v["verdict"] = "not measured"
                continue
            median = statistics.median(values[v["measurement"]])
            ratio = v["value"] / median if median else 1.0
            worse = ratio > 1 + OFF if v["metric"].endswith("_us") else ratio < 1 / (1 + OFF)
            v.update(fleet_median=median, ratio=round(ratio, 3),
                     verdict="off the fleet" if worse else "as the fleet")


def against_baseline(pairs: list[Pair], path: Path, threshold: float) -> None:
    """Each measured pair's runs against the stored pair baseline at path
    (perf/pair_baseline.py): a verdict of perf/stats.py in v["baseline"], or
    the said state when none is stored or it lacks the measurement."""
    stored = pair_baseline.load(path) if path.is_file() else None
    shown = str(path.relative_to(pair_baseline.BASELINES.parents[1])) \
        if path.is_relative_to(pair_baseline.BASELINES.parents[1]) else str(path)
    for pair in pairs:
        for v in pair.verdicts:
            if "runs" not in v:
                continue
            if stored is None:
                v["baseline"] = {"verdict": "none stored",
                                 "note": f"no baseline stored for {path.parent.name}/"
                                 f"{path.stem} ({shown})"}
            elif v["measurement"] not in stored.measurements:
                v["baseline"] = {"verdict": "none stored", "path": shown,
                                 "note": f"{shown} has no {v['measurement']}"}
            elif stored.measurements[v["measurement"]].iterations != v.get("iterations"):
                # runs of another length are another measurement (a sweep changed since)
                v["baseline"] = {"verdict": "none stored", "path": shown,
                                 "note": f"{shown} has {v['measurement']} of "
                                 f"{stored.measurements[v['measurement']].iterations} "
                                 f"iterations, the pair ran {v.get('iterations')}: record "
                                 "it again"}
            else:
                cmp = pair_baseline.compare(stored, v["measurement"], v["runs"], threshold,
                                            pair.machine)
                v["baseline"] = {**cmp.as_dict(), "path": shown, "threshold": threshold,
                                 "where": pair.machine.get("where", "")}


def against(v: dict) -> dict | None:
    """A measurement's verdict against the stored pair baseline; None when
    it has none (not measured, or a fleet.json from before pair baselines,
    whose "baseline" was the string "none stored")."""
    b = v.get("baseline")
    return b if isinstance(b, dict) else None


def baseline_text(b: dict) -> str:
    """One verdict against the stored pair baseline, worded as check's perf suite does."""
    if b["verdict"] == "none stored":
        return b["note"]
    low, high = b["ci"] or (0.0, math.inf)
    (n_a, n_b), (runs_a, runs_b) = b["n"], b["runs"]
    cmp = stats.Comparison(b["ratio"], low, high, b["verdict"], n_a, n_b, runs_a, runs_b,
                           b["note"])
    return perf_suite.verdict_message(f"the baseline {b['path']}", cmp, b["threshold"],
                                      b["where"] or "where unknown")


def slower(pairs: list[Pair], where: str | None = None) -> list[tuple[Pair, dict]]:
    """(pair, measurement) slower than the stored pair baseline (measured
    where: lab or device; None: anywhere)."""
    return [(p, v) for p in pairs for v in p.verdicts
            if (against(v) or {}).get("verdict") == "slower"
            and where in (None, v["baseline"].get("where"))]


def outliers(pairs: list[Pair]) -> tuple[list[str], list[str]]:
    """(nodes every measured pair of which is off, links off on their own)."""
    off = {(p.server, p.client) for p in pairs
           if any(v.get("verdict") == "off the fleet" for v in p.verdicts)}
    measured: dict[str, list[bool]] = {}
    for p in pairs:
        if p.status == TESTED:
            for node in (p.server, p.client):
                measured.setdefault(node, []).append((p.server, p.client) in off)
    nodes = sorted(n for n, flags in measured.items() if len(flags) >= 2 and all(flags))
    links = sorted(f"{a}-{b}" for a, b in off if a not in nodes and b not in nodes)
    return nodes, links
