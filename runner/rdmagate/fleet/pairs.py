"""Pairs of nodes: perftest's server on one node, its client on the other,
in rounds where each node is in one pair at most (ring: each node with the
next; all: every pair once, n-1 rounds of n/2 pairs by the circle method),
each measurement judged against the fleet's median of the same measurement,
so a slow link (one pair off) or a slow node (every pair of it off) stands
out from a slower stack (every pair alike). perftest keeps no samples and
no perftest baseline is stored, so there is no verdict against a baseline."""
import statistics
from pathlib import Path

from ..errors import InfraError, UsageError
from ..perf import perftest_run
from .record import NOT_TESTED, TESTED, Pair

MODES = ("none", "ring", "all")
SWEEP = perftest_run.Sweep(("write_lat", "write_bw"), lat_sizes=(2,), bw_sizes=(65536,),
                           lat_iters=300, bw_iters=300, job_timeout_s=60)
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
        out = []
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
            out.append(free := [])
        free.append(edge)
    return out


def run_pair(pair: Pair, target, fleet_dir: Path, say=lambda text: None) -> Pair:
    """perftest's short pair sweep at a target of two nodes (the server on the
    first); the raw outputs in pairs/<server>-<client>/perftest/."""
    pair_dir = fleet_dir / "pairs" / f"{pair.server}-{pair.client}"
    pair_dir.mkdir(parents=True, exist_ok=True)
    try:
        found = perftest_run.run_sweep(target, pair_dir, SWEEP, say=say)
    except InfraError as err:
        pair.status, pair.reason = NOT_TESTED, str(err)
        return pair
    pair.status = TESTED
    for result in found:
        metric = METRICS[result["tool"]]
        entry = {"measurement": f"{result['tool']}-{result['size']}", "metric": metric}
        if result["ok"]:
            entry["value"] = result["metrics"][metric]
        else:
            entry["error"] = result["error"]
        pair.verdicts.append(entry)
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
                     verdict="off the fleet" if worse else "as the fleet", baseline="none stored")


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
