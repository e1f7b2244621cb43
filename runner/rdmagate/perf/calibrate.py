"""Comparing measurements taken on two machines (or one machine in two
states) through a calibration: rdmagate-calibrate (suites/perf/calibrate.c),
a fixed CPU and memory workload run in the same boot as the measurements,
several runs of it interleaved with theirs.

When a baseline comes from another machine, or the calibration shows this
machine running the same instructions at another speed than when the
baseline was recorded (a guest sharing the host, a different CPU), the
ratio of the two calibrations is taken out of each measurement's ratio, and
the interval is widened by the calibration's own uncertainty and by
CORRECTION_DOUBT of the correction itself: the fast path under emulation
does not scale exactly as a CPU loop does, so a large correction is a
doubtful one, and a doubtful comparison ends inconclusive rather than
slower. Where no calibration exists on a side, or the machines differ in a
way no CPU loop measures (an emulator against a device, another device),
the comparison is "not comparable: recorded on X, measured on Y".

A lab baseline recorded while the host was loaded (perf/machine.py's
host_load) has slow figures, which its calibration did not correct in the
case measured (same-stack checks against it said faster): a comparison
against it says so, and a "faster" against it is inconclusive, since faster
than a slow baseline is the false alarm that load gives."""
import math

from . import machine, stats

CALIBRATION = "calibrate"     # its job name (CALIBRATION.K), beside the measurements'
ITERS = 300
RUNS_A_BOOT = 2               # its runs in each boot (a boot's speed is what it measures)
CORRECTION_DOUBT = 0.5        # the correction is trusted to within half of itself
SAME_SPEED = 0.02             # same machine, calibrations within 2%: no correction
NOT_COMPARABLE = "not comparable"
SLOW_BASELINE = "faster than a slow baseline"
SLOW_CURRENT = "slower on a loaded host"
# facts no calibration can bridge: emulated against real, one device against another,
# and the guest's CPUs: soft-RoCE's loopback in the guest changed speed with them
# (write_lat-2 about 1.2 times slower on 2 guest CPUs than on 1, bench/perf_verdict.py
# set (b)) while the single-threaded calibration moved by 0 to 3%
INCOMPARABLE = ("where", "accel", "device", "guest_cpus")


def adjustment(base_machine: dict | None, base_cal: list | None, now_machine: dict,
               now_cal: list | None) -> tuple[stats.Adjustment | None, str]:
    """(adjustment or None, why not comparable or ""). None with "" means
    the same machine at the same speed: compare as measured."""
    if not base_machine:
        return None, (f"{NOT_COMPARABLE}: recorded on an unknown machine (a format-1 "
                      f"baseline), measured on {machine.describe(now_machine)}")
    differs = machine.differences(base_machine, now_machine)
    bridged = [d for d in differs if d.split(":")[0] in INCOMPARABLE]
    not_comparable = (f"{NOT_COMPARABLE}: recorded on {machine.describe(base_machine)}, "
                      f"measured on {machine.describe(now_machine)}")
    if bridged:
        return None, f"{not_comparable} ({'; '.join(bridged)})"
    if not base_cal or not now_cal or min(len(base_cal), len(now_cal)) < stats.MIN_RUNS:
        if not differs:
            return None, ""
        return None, f"{not_comparable}, and no calibration on both sides"
    a, b = stats.side(base_cal, "calibration (baseline)"), stats.side(now_cal, "calibration")
    shift = b.mean - a.mean
    var_a, var_b = a.var / a.runs, b.var / b.runs
    # on the same machine, correct only for a change of speed the calibration
    # shows clearly: a correction by its noise would only widen every interval
    noise = stats.t_quantile(0.995, max(1, a.runs + b.runs - 2)) * math.sqrt(var_a + var_b)
    if not differs and abs(shift) <= max(math.log1p(SAME_SPEED), noise):
        return None, ""
    doubt = (CORRECTION_DOUBT * shift) ** 2
    # the doubt term is a judgement, not an estimate: it gets the calibration's df
    df_terms = [(var_a, a.runs - 1), (var_b, b.runs - 1)]
    var = var_a + var_b + doubt
    df = (var_a + var_b) ** 2 / sum(v * v / d for v, d in df_terms if v > 0) \
        if var_a + var_b > 0 else math.inf
    return stats.Adjustment(shift, var, df), ""


def note(adjust: stats.Adjustment | None) -> str:
    if adjust is None:
        return ""
    return (f"corrected by the calibration ratio {math.exp(adjust.shift):.3f} "
            f"(this machine over the baseline's)")


def against_load(base_machine: dict | None, cmp: stats.Comparison,
                 current: dict | None = None) -> stats.Comparison:
    """cmp with a note for each side measured in the lab on a loaded host (its
    figures are slow): a faster than a loaded baseline, or a slower on a
    loaded host, is made inconclusive, as the load alone can explain it."""
    for facts, side, verdict, why, again in (
            (base_machine, "the baseline was recorded", "faster", SLOW_BASELINE, "record it"),
            (current, "this run measured", "slower", SLOW_CURRENT, "run the check")):
        load = machine.loaded(facts)
        if load is None:
            continue
        said = (f"{side} at host load {load:.1f} per core (over {machine.LOADED:.1f}: its "
                f"figures are slow; {again} again on a quiet machine)")
        if cmp.verdict == verdict:
            cmp = cmp.with_note(f"{why}: {said}", verdict="inconclusive", first=True)
        else:
            cmp = cmp.with_note(said)
    return cmp


def settled(cmp: stats.Comparison) -> bool:
    """Whether more runs could change the verdict: not when it is decisive,
    nor when the two sides cannot be compared at all, nor when it is faster
    than a baseline that is slow or slower on a loaded host (more runs would
    only make it surer)."""
    return cmp.verdict != "inconclusive" or \
        cmp.note.startswith((NOT_COMPARABLE, SLOW_BASELINE, SLOW_CURRENT))
