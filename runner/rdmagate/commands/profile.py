"""rdmagate profile capture: a hardware profile from the real device."""
import datetime
import shutil
import sys
from pathlib import Path

import yaml

from .. import devinfo, options, outcomes, profiles, stacks, suites, where
from ..errors import InfraError
from ..perf import baseline as perf_baseline, suite as perf_suite
from ..progress import Progress
from . import check

CAPTURE_SCRIPT = Path(__file__).resolve().parent.parent / "capture_devinfo.sh"
# A FAIL is captured as a known defect; what else went wrong says nothing of the device.
UNCAPTURABLE = (outcomes.UNEXPECTED | outcomes.INFRA) - {"FAIL"}


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "profile", help="capture a hardware profile from a real device",
        description="Hardware profiles (hw-profiles/*.yaml) say what each test is expected "
        "to do on a kind of device: PASS, UNSUPPORTED with the device's reason, FAIL for a "
        "known defect, and what a test of bad input observes (the errno or completion "
        "status). `capture` runs the device suites with no expectations and writes what the "
        "device did, with its capabilities (ibv_devinfo -v).")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    capture = actions.add_parser("capture", help="run the device suites and write the profile",
                                 description="Run the suites that need a device with no "
                                 "expectations and write hw-profiles/<kind>-<kernel>.yaml "
                                 "(rxe-6.12.yaml for soft-RoCE on Linux 6.12). A test that "
                                 "ends in TIMEOUT, CRASH or ERROR cannot be captured: nothing "
                                 "is written then. Notes added by hand to an existing "
                                 "profile's entries are kept.")
    options.add_stack(capture)
    options.add_device(capture)
    options.add_suite(capture)
    capture.add_argument("--out", metavar="FILE",
                         help="where to write the profile (default: hw-profiles/<kind>-<kernel>.yaml)")
    options.add_results(capture)
    parser.set_defaults(func=run)


def run(args) -> int:
    chosen = [s for s in suites.select(args.suite) if s.runs_in == "harness"]
    progress = Progress()
    stack = stacks.resolve(args.stack)
    fetched = stacks.fetch(stack, say=progress.say)
    place = where.choose(args.device, args.lab, True, fetched.needs_rootfs)
    kind = place.profile
    release = _kernel_release(place, stack)
    name = f"{kind}-{profiles.kernel_series(release)}"
    out = Path(args.out) if args.out else profiles.PROFILES_DIR / f"{name}.yaml"

    def devinfo_first(run_dir: Path) -> list[str]:
        shutil.copy2(CAPTURE_SCRIPT, run_dir / CAPTURE_SCRIPT.name)
        return ["sh", str(run_dir / CAPTURE_SCRIPT.name), str(run_dir / "devinfo.txt"),
                place.device, "--"]

    run_dir, finished, _ = check.execute(stack, fetched, chosen, place, None, progress,
                                         results_dir=args.results, command="profile",
                                         guest_prefix=devinfo_first, label=name)
    broken = [r for r in finished if r.outcome in UNCAPTURABLE]
    if broken or not finished:
        listed = ", ".join(f"{r.test} ({r.outcome})" for r in broken[:5])
        raise InfraError(f"cannot capture a profile from {run_dir}: "
                         f"{listed or 'no test finished'}; {out} left as it was")
    try:
        capabilities = devinfo.parse((run_dir / "devinfo.txt").read_text())
    except (OSError, ValueError) as err:
        raise InfraError(f"{run_dir / 'devinfo.txt'}: no device capabilities ({err})") from None
    profile = _profile(kind, release, stack, place, capabilities, finished, _notes(out))
    profile["perf"] = _perf_section(name, out)
    _write(out, profile, args)
    known = [r.test for r in finished if r.outcome == "FAIL"]
    print(f"wrote {out}: {len(profile['expect'])} expectations from {len(finished)} tests "
          f"(run {run_dir})")
    if known:
        print(f"{len(known)} tests FAIL on this device and stack, recorded as known defects; "
              f"review them: {', '.join(known)}", file=sys.stderr)
    return 0


def _kernel_release(place, stack) -> str:
    if place.place == "lab":
        from ..lab.kernel import kernel_stack
        return kernel_stack(stack).kernel["release"]
    import os
    return os.uname().release


def _expectation(result) -> dict | None:
    """What the profile says of one raw result; None: the default (PASS)."""
    outcome = result.outcome
    if outcome == "UNSUPPORTED":
        return {"outcome": "UNSUPPORTED", "reason": result.reason}
    if outcome == "FAIL":
        return {"outcome": "FAIL", "reason": result.why}
    if outcome == "PASS" and result.observed:
        return {"outcome": "PASS", "observed": result.observed}
    return None


def _perf_section(name: str, path: Path) -> dict:
    """The perf baselines recorded for this profile, and its verdict threshold
    (kept when the existing profile sets one: it comes from bench/perf_verdict.py)."""
    existing = yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else None
    threshold = ((existing or {}).get("perf") or {}).get("threshold", perf_suite.DEFAULT_THRESHOLD)
    found = sorted(perf_baseline.BASELINES.glob(f"{name}/*.json"))
    return {"threshold": threshold,
            "baselines": [str(p.relative_to(perf_baseline.BASELINES.parents[1])) for p in found]}


def _notes(path: Path) -> dict:
    """Hand-written notes of an existing profile, by test id."""
    if not path.is_file():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {test: spec["note"] for test, spec in (data.get("expect") or {}).items()
            if isinstance(spec, dict) and "note" in spec}


def _profile(kind, release, stack, place, capabilities, finished, notes) -> dict:
    expect = {}
    for result in finished:
        spec = _expectation(result)
        if spec is None:
            continue
        if result.test in notes:
            spec["note"] = notes[result.test]
        expect[result.test] = spec
    return {
        "device": kind,
        "description": f"{kind} on Linux {release}, captured with stack {stack.name}",
        "verified": True,
        "captured": {
            "date": datetime.date.today().isoformat(),
            "kernel": release,
            "stack": stack.name,
            "rdma_core": stack.rdma_core,
            "where": place.place,
            "command": f"rdmagate profile capture --stack {stack.name}"
                       + (" --lab" if place.place == "lab" else f" --device {place.device}"),
        },
        "capabilities": capabilities,
        "expect": dict(sorted(expect.items())),
    }


def _write(out: Path, profile: dict, args) -> None:
    header = ("# Captured from the real device by `rdmagate profile capture`; do not edit\n"
              "# the expectations by hand, capture again. A `note` on an entry is kept.\n")
    text = header + yaml.safe_dump(profile, sort_keys=False, allow_unicode=True, width=100)
    tmp = out.with_suffix(".yaml.tmp")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(out)
