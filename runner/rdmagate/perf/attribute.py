"""Where the software path got longer: a profile of each side's timed loop,
and the functions whose share of the virtual time grew from A to B.

On the instruction clock `perf record -e cpu-clock` (a software event: TCG
has no PMU) samples the guest every 50 virtual us, so a function's share of
the samples is its share of the path's instructions, kernel and user alike.
The profile is taken in a run of its own after the measured runs (sampling
lengthens the path: 12971 virtual ns against 12709 to 12884 unsampled),
over the timed loop only (rdmagate-perf enables and disables the sampling
through perf's control FIFO; targets/scripts/profile_job.sh), and written
to the guest's tmpfs. A root without perf, or a profile that fails, gives
"unattributed: why", shown in place of the functions."""
import re
import shutil
from pathlib import Path

from ..targets import scripts
from . import native

TOP = 5
ITERS, WARMUP = 2000, 200     # a loop of ~30 to 60 virtual ms: 600 to 1200 samples
PREFIX = "profile-"
# perf report --stdio --sort dso,sym: "    20.15%  [kernel.kallsyms]  [k] rxe_requester"
LINE = re.compile(r"^\s*(\d+(?:\.\d+)?)%\s+(\S+)\s+\[([k.])\]\s+(.+?)\s*$")


def jobs(perf: Path, names, run_dir: Path, out: Path, device: str) -> list:
    """Jobs (native.run_jobs's form) that profile each measurement once;
    the script is copied into run_dir (shared with the target)."""
    script = run_dir / scripts.PROFILE_JOB.name
    shutil.copyfile(scripts.PROFILE_JOB, script)
    found = []
    for name in names:
        words = native.job_words(perf, name, ITERS, WARMUP, device)
        found.append((f"{PREFIX}{name}", ["sh", str(script), str(out / f"{PREFIX}{name}.report"),
                                          *words]))
    return found


def read(out: Path, name: str) -> dict:
    """{"shares": {function: percent}} of a profile, or {"why": ...}."""
    path = out / f"{PREFIX}{name}.report"
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return {"why": f"unattributed: the profile run left no report ({path.name})"}
    if text.startswith("unattributed:"):
        return {"why": text.strip().splitlines()[0]}
    shares: dict = {}
    for line in text.splitlines():
        got = LINE.match(line)
        if got:
            percent, dso, space, symbol = got.groups()
            where = "kernel" if space == "k" else Path(dso).name
            key = f"{symbol} ({where})"
            shares[key] = shares.get(key, 0.0) + float(percent)
    if not shares:
        return {"why": "unattributed: the profile has no samples"}
    return {"shares": shares}


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
