"""Performance baselines: baselines/perf/<profile>/<stack>.json, the
distribution (every sample, ns per operation) of each measurement of one
stack on one kind of device, recorded by `rdmagate baseline record --suite
perf`. Format (version 1):

    {"format": 1, "profile": "rxe-6.1", "stack": "debian-12",
     "rdma_core": "44.0-2", "kernel": "6.1.0-50-amd64", "accel": "tcg",
     "recorded": "2026-11-25", "iters": 2000, "warmup": 200,
     "clock": "CLOCK_MONOTONIC_RAW", "unit": "ns",
     "measurements": {"write_lat-2": {"higher_is_better": false,
                                      "samples": [31012, ...]}}}
"""
import datetime
import json
from pathlib import Path

from ..errors import UsageError
from ..paths import REPO_ROOT, within
from . import stats
from .stats import MIN_SAMPLES

BASELINES = REPO_ROOT / "baselines" / "perf"
FORMAT = 1


def path_for(profile: str, stack: str, root: Path = BASELINES) -> Path:
    return within(root, profile, f"{stack}.json")   # both names come from input


def write(path: Path, profile: str, stack, ran, iters: int, warmup: int,
          measurements: dict) -> Path:
    """ran: the target's Ran of the measurement (its kernel; the lab's accelerator)."""
    data = {"format": FORMAT, "profile": profile, "stack": stack.name,
            "rdma_core": stack.rdma_core, "kernel": ran.kernel,
            "accel": ran.record.get("lab", {}).get("accel", "none (on the host's device)"),
            "recorded": datetime.date.today().isoformat(), "iters": iters, "warmup": warmup,
            "clock": "CLOCK_MONOTONIC_RAW", "unit": "ns",
            "measurements": {name: {"higher_is_better": m["higher_is_better"],
                                    "samples": m["samples"]}
                             for name, m in sorted(measurements.items()) if "samples" in m}}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    # one sample list per line keeps the file diffable and small
    tmp.write_text(json.dumps(data, separators=(",", ":")).replace('},"', '},\n"') + "\n")
    tmp.replace(path)
    return path


def load(path: Path) -> dict:
    """A baseline, validated; UsageError naming the file and field."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise UsageError(f"{path}: cannot read the baseline ({err.strerror})") from None
    except json.JSONDecodeError as err:
        raise UsageError(f"{path}: not a valid baseline (JSON error at line {err.lineno})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise UsageError(f"{path}: field format: must be {FORMAT}")
    measurements = data.get("measurements")
    if not isinstance(measurements, dict) or not measurements:
        raise UsageError(f"{path}: field measurements: missing or empty")
    for name, m in measurements.items():
        samples = m.get("samples") if isinstance(m, dict) else None
        if not isinstance(samples, list) or len(samples) < MIN_SAMPLES or not all(
                isinstance(s, int) and s > 0 for s in samples):
            raise UsageError(f"{path}: field measurements.{name}.samples: needs at least "
                             f"{MIN_SAMPLES} positive integers")
        if not isinstance(m.get("higher_is_better"), bool):
            raise UsageError(f"{path}: field measurements.{name}.higher_is_better: "
                             "must be true or false")
    return data


def compare(stored: dict, name: str, samples: list, threshold: float):
    """The verdict of new samples of measurement NAME against a loaded
    baseline (perf/stats.compare, in the direction the baseline records)."""
    kept = stored["measurements"][name]
    return stats.compare(kept["samples"], samples, threshold,
                         higher_is_better=kept["higher_is_better"])
