"""Performance baselines: baselines/perf/<profile>/<stack>.json, every run
(every sample of each, ns per operation) of each measurement of one stack on
one kind of device, with the machine it was recorded on and a calibration
measured in the same boots, recorded by `rdmagate baseline record --suite
perf`. Format (version 2):

    {"format": 2, "profile": "rxe-6.1", "stack": "debian-12",
     "rdma_core": "44.0-2", "kernel": "6.1.0-50-amd64", "accel": "tcg",
     "recorded": "2026-12-02", "iters": 500, "warmup": 200, "boots": 2,
     "clock": "CLOCK_MONOTONIC_RAW", "unit": "ns",
     "machine": {"where": "lab", "cpu_model": "AMD EPYC", "cores": 2, ...},
     "calibration": {"runs": [[8612, ...], ...]},
     "measurements": {"write_lat-2": {"higher_is_better": false,
                                      "runs": [[31012, ...], [30980, ...]]}}}

A baseline recorded in the lab is on QEMU's instruction clock (perf/clock.py):
"clock": "instructions", "unit": "virtual ns", and what its figures depend
on besides the software:

     "instruction_clock": {"qemu": "7.2.22 (Debian ...)", "cpu_model":
                           "Skylake-Client-v4", "icount": "shift=0,sleep=off",
                           "kernel": "6.1.0-50-amd64", "stack": "debian-12"}

It is compared on any host without a calibration (perf/exact.py), and is
"not comparable" with a run on another QEMU version, CPU model or icount
setting. Every other baseline ("clock": "CLOCK_MONOTONIC_RAW", or none) is
on the wall clock, and never compared with instruction-clock figures.

Format 1 (one run a measurement, "samples", no machine) still loads: its
one run becomes "runs": [samples], and its machine is unknown, so a check
against it is "not comparable" (perf/calibrate.py) until it is recorded
again."""
import datetime
import json
import math
from pathlib import Path
from typing import Annotated, Literal

from .. import files
from ..errors import UsageError
from ..outputs import records
from ..outputs.records import Range
from ..paths import REPO_ROOT, within
from . import calibrate, clock, exact, machine, native, stats
from .machine import boot_effect   # compare's parameter `machine` hides the module
from .stats import MIN_SAMPLES

BASELINES = REPO_ROOT / "baselines" / "perf"
FORMAT = 2
# Ten times what a run keeps; the comparison's time grows with it (a
# baseline of 10^6 samples took 76 s to compare).
MAX_SAMPLES = 20_000
MAX_RUNS = 64       # four times the most runs a recording takes
# each field as records.convert checks it (bool is not int, ints bounded, sets)
TYPES = {"profile": str, "stack": str, "rdma_core": str, "kernel": str, "accel": str,
         "recorded": str, "iters": Annotated[int, Range(1, 10**9)],
         "warmup": Annotated[int, Range(0, 10**9)], "boots": Annotated[int, Range(1, MAX_RUNS)],
         "clock": Literal["CLOCK_MONOTONIC_RAW", "instructions"],
         "unit": Literal["ns", "virtual ns"]}


def path_for(profile: str, stack: str, root: Path | None = None) -> Path:
    # BASELINES read when called, so a test can point it at its own directory
    return within(root or BASELINES, profile, f"{stack}.json")   # both names come from input


WALL_CLOCK = "CLOCK_MONOTONIC_RAW"   # what a wall-clock baseline's "clock" says
CLOCK_FACTS = (*clock.SAME_FOR_COMPARING, "kernel", "stack")


def clock_of(data: dict) -> str:
    """The clock of a loaded baseline's figures (perf/clock.py)."""
    return clock.INSTRUCTIONS if data.get("clock") == clock.INSTRUCTIONS else clock.WALL


def write(path: Path, profile: str, session, measurements: dict) -> Path:
    """session: the perf suite's Session that measured (its stack, machine,
    kernel, boots, calibration runs)."""
    stack = session.stack
    on = clock.of(session.machine)
    timing: dict[str, object] = {"clock": WALL_CLOCK, "unit": "ns"} if on == clock.WALL else {
        "clock": clock.INSTRUCTIONS, "unit": clock.SHORT_UNITS[on],
        "instruction_clock": {**{k: clock.facts(session.machine).get(k)
                                 for k in clock.SAME_FOR_COMPARING},
                              "kernel": session.kernel, "stack": stack.name}}
    data = {"format": FORMAT, "profile": profile, "stack": stack.name,
            "rdma_core": stack.rdma_core, "kernel": session.kernel,
            "accel": session.machine.get("accel", "none (on the host's device)"),
            "recorded": datetime.date.today().isoformat(), "iters": session.iters,
            "warmup": session.warmup, "boots": session.boots,
            **timing, "machine": session.machine,
            "calibration": {"runs": session.calibration},
            "measurements": {name: {"higher_is_better": m["higher_is_better"],
                                    "runs": m["runs"]}
                             for name, m in sorted(measurements.items()) if "runs" in m}}
    path.parent.mkdir(parents=True, exist_ok=True)
    # one run per line keeps the file diffable
    text = json.dumps(data, separators=(",", ":")).replace('],[', '],\n[').replace('},"', '},\n"')
    files.write_atomic(path, text + "\n", "the baseline")
    return path


def _runs(path: Path, where: str, runs, indexed: bool = True) -> list:
    """runs, each a list of MIN_SAMPLES to MAX_SAMPLES positive integers (a
    bool is an int to Python: a sample of true once read as 1 ns)."""
    if not isinstance(runs, list) or not runs or len(runs) > MAX_RUNS:
        raise UsageError(f"{path}: field {where}: needs 1 to {MAX_RUNS} runs")
    for k, run in enumerate(runs):
        if not isinstance(run, list) or not MIN_SAMPLES <= len(run) <= MAX_SAMPLES or \
                not all(type(s) is int and 0 < s <= records.MAX_INT for s in run):
            raise UsageError(f"{path}: field {where}{f'[{k}]' if indexed else ''}: needs "
                             f"{MIN_SAMPLES} to {MAX_SAMPLES} positive integers")
    return runs


def load(path: Path) -> dict:
    """A baseline, validated and in format 2's shape (a format-1 file with
    machine None); UsageError naming the file and field."""
    text = files.read_text(path, "a perf baseline")
    try:
        data = json.loads(text)
    except RecursionError:
        raise UsageError(f"{path}: not a valid baseline (nested too deeply)") from None
    except json.JSONDecodeError as err:
        raise UsageError(f"{path}: not a valid baseline (JSON error at line {err.lineno})") from None
    if not isinstance(data, dict) or data.get("format") not in (1, FORMAT):
        raise UsageError(f"{path}: field format: must be 1 or {FORMAT}")
    for name, kind in TYPES.items():
        try:
            if data.get(name) is not None:
                records.convert(kind, data[name], name)
        except records.Mismatch as err:
            raise UsageError(f"{path}: {err}") from None
    measurements = data.get("measurements")
    if not isinstance(measurements, dict) or not measurements:
        raise UsageError(f"{path}: field measurements: missing or empty")
    for field, named in (("stack", path.stem), ("profile", path.parent.name)):
        if field in data and data[field] != named:   # copied or renamed by hand
            raise UsageError(f"{path}: field {field}: {data[field]!r}, but the file is the "
                             f"baseline of {named!r} (record it again for {named})")
    old = data["format"] == 1
    for name, m in measurements.items():
        if not isinstance(m, dict):
            raise UsageError(f"{path}: field measurements.{name}: must be an object")
        if old:    # one run, the best of three, in "samples"
            m["runs"] = _runs(path, f"measurements.{name}.samples", [m.pop("samples", None)],
                              indexed=False)
        else:
            _runs(path, f"measurements.{name}.runs", m.get("runs"))
        if not isinstance(m.get("higher_is_better"), bool):
            raise UsageError(f"{path}: field measurements.{name}.higher_is_better: "
                             "must be true or false")
        known = native.MEASUREMENTS[name][1] if name in native.MEASUREMENTS else \
            False if "_lat" in name else m["higher_is_better"]   # a latency: lower is better
        if m["higher_is_better"] != known:
            raise UsageError(f"{path}: field measurements.{name}.higher_is_better: must be "
                             f"{json.dumps(known)} for {name}")
    if clock_of(data) == clock.INSTRUCTIONS:
        facts = data.get("instruction_clock")
        if not isinstance(facts, dict) or not all(isinstance(facts.get(k), str) and facts[k]
                                                  for k in CLOCK_FACTS):
            raise UsageError(f"{path}: field instruction_clock: must give "
                             f"{', '.join(CLOCK_FACTS)} (record the baseline again)")
    if old:
        data.update(machine=None, calibration={"runs": []})
    else:
        if not isinstance(data.get("machine"), dict) or not data["machine"].get("where"):
            raise UsageError(f"{path}: field machine: must say where it was recorded "
                             "(record the baseline again)")
        try:
            records.convert(Literal[machine.WHERE], data["machine"]["where"], "machine.where")
        except records.Mismatch as err:
            raise UsageError(f"{path}: {err}") from None
        load = data["machine"].get("host_load")   # absent in baselines recorded before it
        if load is not None and (type(load) not in (int, float) or not 0 <= load < math.inf):
            raise UsageError(f"{path}: field machine.host_load: must be a load per core "
                             f"(a number), not {json.dumps(load)[:40]}")
        cal = data.get("calibration")
        if not isinstance(cal, dict):
            raise UsageError(f"{path}: field calibration: must be an object with runs")
        if cal.get("runs"):
            _runs(path, "calibration.runs", cal["runs"])
        else:
            cal["runs"] = []
    return data


def compare(stored: dict, name: str, runs: list, threshold: float,
            machine: dict | None = None, calibration: list | None = None,
            boots: int = 1) -> stats.Comparison:
    """The verdict of new runs of measurement NAME (measured on `machine`
    in `boots` boots, with `calibration` runs of the same boots) against a
    loaded baseline, in the direction the baseline records. A baseline from
    another machine is corrected by the calibration, or not comparable
    (inconclusive, with why)."""
    kept = stored["measurements"][name]
    on = clock.of(machine)
    mixed = clock.mixed(clock_of(stored), on)
    if mixed:
        return _not_comparable(kept["runs"], runs, mixed, on)
    if on == clock.INSTRUCTIONS:
        return _exact(stored, kept, runs, threshold, machine)
    adjust, why = calibrate.adjustment(stored["machine"], stored["calibration"]["runs"],
                                       machine or {}, calibration)
    cmp = stats.compare(kept["runs"], runs, threshold, higher_is_better=kept["higher_is_better"],
                        adjust=adjust, boot=boot_effect(machine),
                        boots=(stored.get("boots") or 1, boots))
    if why:
        return stats.Comparison(cmp.ratio, 0.0, float("inf"), "inconclusive", cmp.n_a,
                                cmp.n_b, cmp.runs_a, cmp.runs_b, why)
    if adjust is not None:
        cmp = cmp.with_note(calibrate.note(adjust), first=True)
    return calibrate.against_load(stored["machine"], cmp, machine)


def _not_comparable(base_runs: list, runs: list, why: str, on: str) -> stats.Comparison:
    count = sum(1 if isinstance(r, (int, float)) else len(r) for r in base_runs)
    now = sum(1 if isinstance(r, (int, float)) else len(r) for r in runs)
    return stats.Comparison(0.0, 0.0, math.inf, "inconclusive", count, now,
                            len(base_runs), len(runs), why, clock=on)


def _exact(stored: dict, kept: dict, runs: list, threshold: float,
           machine: dict | None) -> stats.Comparison:
    """Instruction-clock runs against an instruction-clock baseline: exact
    when QEMU, the guest CPU model and icount are the baseline's."""
    base, now = stored["instruction_clock"], clock.facts(machine)
    differ = clock.differences(base, now)
    if differ:
        return _not_comparable(kept["runs"], runs, (
            f"{calibrate.NOT_COMPARABLE}: the baseline's instruction clock was "
            f"{describe_clock(base)}, this run's {describe_clock(now)} ({'; '.join(differ)}); "
            "a guest instruction count depends on both (record the baseline again here, "
            "or compare two stacks in one run as the upgrade gate does)"), clock.INSTRUCTIONS)
    cmp = exact.compare(kept["runs"], runs, threshold, higher_is_better=kept["higher_is_better"])
    return cmp


def describe_clock(facts: dict) -> str:
    """'QEMU 7.2.22, Skylake-Client-v4, icount shift=0,sleep=off'."""
    return (f"QEMU {str(facts.get('qemu')).split()[0]}, {facts.get('cpu_model')}, "
            f"icount {facts.get('icount')}")


def host_load(facts: dict | None) -> str:
    """The host's load when the measurements were taken, in a line."""
    load = (facts or {}).get("host_load")
    if load is None:
        return "host load: not recorded"
    return f"host load: {load:.2f} per core" + (
        f" (over {machine.LOADED:.1f}: the figures are slow; record it again on a quiet machine)"
        if machine.loaded(facts) else "")


def summary(data: dict) -> list[str]:
    """A loaded baseline in a few lines: where, when, and each measurement's runs."""
    cal = data["calibration"]["runs"]
    lines = [f"format {data['format']}, {data.get('profile', '?')} / {data.get('stack', '?')}, "
             f"recorded {data.get('recorded', '?')} in {data.get('boots', 1)} boot(s) on "
             f"{machine.describe(data['machine'])}",
             f"calibration: {len(cal)} runs" + (
                 f", median {stats.run_spread(cal)[0]:.0f} ns" if cal else " (none)"),
             host_load(data["machine"])]
    on = clock_of(data)
    lines.append(f"unit: {clock.UNITS[on]}" + (
        f"; {describe_clock(data['instruction_clock'])}" if on == clock.INSTRUCTIONS else ""))
    for name, m in sorted(data["measurements"].items()):
        centre, low, high = stats.run_spread(m["runs"])
        lines.append(f"{name}: {len(m['runs'])} runs, median {centre:.0f} "
                     f"{clock.SHORT_UNITS[on]} "
                     f"(runs {low:.0f}-{high:.0f})"
                     + (" higher is better" if m["higher_is_better"] else ""))
    return lines
