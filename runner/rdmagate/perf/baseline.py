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

from .. import files
from ..errors import UsageError
from ..paths import REPO_ROOT, within
from . import stats
from .stats import MIN_SAMPLES

BASELINES = REPO_ROOT / "baselines" / "perf"
FORMAT = 1
# Ten times what a recording keeps; the comparison's time grows with it
# (a baseline of 10^6 samples took 76 s to compare).
MAX_SAMPLES = 20_000
TYPES = {"profile": str, "stack": str, "rdma_core": str, "kernel": str, "accel": str,
         "recorded": str, "iters": int, "warmup": int, "clock": str, "unit": str}


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
    # one sample list per line keeps the file diffable and small
    files.write_atomic(path, json.dumps(data, separators=(",", ":")).replace('},"', '},\n"')
                       + "\n", "the baseline")
    return path


def load(path: Path) -> dict:
    """A baseline, validated; UsageError naming the file and field."""
    text = files.read_text(path, "a perf baseline")
    try:
        data = json.loads(text)
    except RecursionError:
        raise UsageError(f"{path}: not a valid baseline (nested too deeply)") from None
    except json.JSONDecodeError as err:
        raise UsageError(f"{path}: not a valid baseline (JSON error at line {err.lineno})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise UsageError(f"{path}: field format: must be {FORMAT}")
    for name, kind in TYPES.items():
        if data.get(name) is not None and (not isinstance(data[name], kind) or
                                           isinstance(data[name], bool)):
            raise UsageError(f"{path}: field {name}: must be {kind.__name__}, not "
                             f"{json.dumps(data[name])[:40]}")
    measurements = data.get("measurements")
    if not isinstance(measurements, dict) or not measurements:
        raise UsageError(f"{path}: field measurements: missing or empty")
    for name, m in measurements.items():
        samples = m.get("samples") if isinstance(m, dict) else None
        if not isinstance(samples, list) or not MIN_SAMPLES <= len(samples) <= MAX_SAMPLES or \
                not all(type(s) is int and s > 0 for s in samples):   # bool is an int too
            raise UsageError(f"{path}: field measurements.{name}.samples: needs {MIN_SAMPLES} "
                             f"to {MAX_SAMPLES} positive integers")
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
