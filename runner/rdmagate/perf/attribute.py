"""Where the software path got longer: a profile of each side's timed loop,
and the functions whose share of the virtual time grew from A to B.

On the instruction clock `perf record -e cpu-clock` (a software event: TCG
has no PMU) samples the guest every 50 virtual us, so a function's share of
the samples is its share of the path's instructions, kernel and user alike.
The profiles are taken in the measuring boot, after the measured runs
(sampling lengthens the path: 12971 virtual ns against 12709 to 12884
unsampled): one `perf record` of the whole guest over a run of each
measurement to profile (targets/scripts/profile_job.sh), written to the
guest's tmpfs. `perf script` lists the samples with their times, and each
run's timed loop says when it ran on the same clock (rdmagate-perf's
RDMAGATE_PERF_WINDOW): a sample inside it is that measurement's. A root
without perf, or a profile that fails, gives "unattributed: why", shown in
place of the functions."""
import re
from pathlib import Path

from . import native

TOP = 5
ITERS, WARMUP = 2000, 200     # a loop of ~30 to 60 virtual ms: 600 to 1200 samples
PREFIX = "profile-"
# perf script -F time,ip,sym,dso:
#   "1796700059.321563:  ffffffffa010d2ad finish_task_switch.isra.0 ([kernel.kallsyms])"
SAMPLE = re.compile(r"^\s*(\d+\.\d+):\s+([0-9a-f]+)\s+(.*?)\s+\((.*)\)\s*$")
KERNEL_SPACE = 0xffff800000000000   # x86-64: the upper half is the kernel's


def jobs(perf: Path, names, device: str) -> list:
    """Jobs (native.write_jobs's form) that profile each measurement once."""
    return [(f"{PREFIX}{name}", native.job_words(perf, name, ITERS, WARMUP, device))
            for name in names]


def _windows(out: Path, names) -> list:
    """[(start, end, name)] of each profiled run's timed loop that said when it ran."""
    found = []
    for name in names:
        try:
            start, end = (float(w) for w in (out / f"{PREFIX}{name}.window").read_text().split())
        except (OSError, ValueError):
            continue
        found.append((start, end, name))
    return found


def read(out: Path, names) -> dict:
    """name -> {"shares": {function: percent of its samples}} or {"why": ...}
    for each name, from profile_job.sh's directory."""
    def each(why: str) -> dict:
        return {name: {"why": why} for name in names}
    why = out / "why"
    if why.is_file():
        return each((why.read_text(errors="replace").strip().splitlines() or
                     ["unattributed: the profile failed"])[0])
    try:
        samples = (out / "samples.txt").read_text(errors="replace").splitlines()
    except OSError:
        return each("unattributed: the profile run left no samples")
    windows = _windows(out, names)
    counts: dict = {}
    for line in samples:
        got = SAMPLE.match(line)
        if not got:
            continue
        at, ip, symbol, dso = float(got[1]), int(got[2], 16), got[3], got[4]
        owner = next((name for start, end, name in windows if start <= at <= end), None)
        if owner is None:
            continue
        where = "kernel" if ip >= KERNEL_SPACE else Path(dso).name
        key = f"{symbol or '[unknown]'} ({where})"
        mine = counts.setdefault(owner, {})
        mine[key] = mine.get(key, 0) + 1
    found: dict = {}
    for name in names:
        mine = counts.get(name)
        if not mine:
            found[name] = {"why": f"unattributed: the profile of {name} has no samples"}
            continue
        total = sum(mine.values())
        found[name] = {"shares": {k: 100.0 * v / total for k, v in mine.items()}}
    return found


def grew(before: dict, after: dict, top: int = TOP) -> dict:
    """The `top` functions whose share grew most from before to after, with
    both shares (percent of the samples), or {"why": ...} when a side has no
    profile."""
    why = before.get("why") or after.get("why")
    if why:
        return {"why": why}
    a, b = before["shares"], after["shares"]
    growth = sorted(((b.get(f, 0.0) - a.get(f, 0.0), f) for f in set(a) | set(b)),
                    key=lambda item: (-item[0], item[1]))
    return {"functions": [{"function": f, "before": round(a.get(f, 0.0), 2),
                           "after": round(b.get(f, 0.0), 2)}
                          for delta, f in growth[:top] if delta > 0]}


def describe(found: dict) -> str:
    """One line: 'rxe_requester (kernel) 8.1% -> 14.0%, ...' or why not."""
    if "why" in found:
        return found["why"]
    return ", ".join(f"{f['function']} {f['before']:.1f}% -> {f['after']:.1f}%"
                     for f in found["functions"]) or "no function's share grew"
