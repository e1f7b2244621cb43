"""Hardware profiles (hw-profiles/*.yaml): what each test is expected to do."""
import enum
from dataclasses import dataclass
from pathlib import Path

import yaml

from . import files, outcomes
from .errors import EXIT_INFRA, EXIT_OK, EXIT_UNEXPECTED, UsageError
from .paths import REPO_ROOT

PROFILES_DIR = REPO_ROOT / "hw-profiles"
EXPECTABLE = ("PASS", "UNSUPPORTED", "FAIL")
# What each expectation must state, so that it cannot bless another outcome:
# an UNSUPPORTED its reason (another reason is a FAIL), a FAIL (a known
# defect) why in a person's words and the failure it is (its message id).
REQUIRED = {"UNSUPPORTED": ("reason",), "FAIL": ("reason", "failure")}
# Every key a profile and an entry of its expect may have: any other is a typo
# that would drop a check silently (`expcet:` left every test expected to PASS).
FIELDS = ("device", "description", "expect", "verified", "capabilities", "captured", "perf")
ENTRY_FIELDS = ("outcome", "reason", "observed", "failure", "note", "run")


def load(name: str, profiles_dir: Path = PROFILES_DIR) -> dict:
    """A profile by name, validated; UsageError naming the file and field."""
    path = profiles_dir / f"{name}.yaml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in profiles_dir.glob("*.yaml")))
        raise UsageError(f"no hardware profile {name!r} in {profiles_dir} (known: {known})")
    data = files.load_yaml(path, "a hardware profile")
    if not isinstance(data, dict):
        raise UsageError(f"{path}: must be a mapping of fields")
    for field in sorted(set(data) - set(FIELDS), key=str):
        raise UsageError(f"{path}: field {field}: unknown{files.nearest(field, FIELDS)}")
    for field in ("device", "description"):
        if not isinstance(data.get(field), str):
            raise UsageError(f"{path}: field {field}: missing or not a string")
    if not isinstance(data.get("verified", False), bool):
        raise UsageError(f"{path}: field verified: must be true or false")
    perf = data.get("perf") or {}
    threshold = perf.get("threshold", 0.1) if isinstance(perf, dict) else None
    if not isinstance(threshold, (int, float)) or isinstance(threshold, bool) or \
            not 0 < threshold < 1:
        raise UsageError(f"{path}: field perf.threshold: must be a fraction between 0 and 1 "
                         "(0.1: 10% slower)")
    expect = data.get("expect") or {}
    if not isinstance(expect, dict):
        raise UsageError(f"{path}: field expect: must map test ids to expectations")
    for test, spec in expect.items():
        where = f"{path}: field expect.{test}"
        for field in sorted(set(spec if isinstance(spec, dict) else ()) - set(ENTRY_FIELDS), key=str):
            raise UsageError(f"{where}.{field}: unknown{files.nearest(field, ENTRY_FIELDS)}")
        if not isinstance(spec, dict) or spec.get("outcome") not in EXPECTABLE:
            raise UsageError(f"{where}: outcome must be one of {', '.join(EXPECTABLE)}")
        for key in ("reason", "observed", "failure", "note"):
            if not isinstance(spec.get(key, ""), str):
                raise UsageError(f"{where}: {key} must be a string")
        if not isinstance(spec.get("run", True), bool):
            raise UsageError(f"{where}: run must be true or false")
        if spec.get("run") is False and spec["outcome"] != "FAIL":
            raise UsageError(f"{where}: run: false is for an expected FAIL (a known defect "
                             "whose run harms the machine)")
        for key in REQUIRED.get(spec["outcome"], ()):
            if not spec.get(key):
                raise UsageError(f"{where}: an expected {spec['outcome']} needs its {key}"
                                 + (" (the message id of the failure it expects)"
                                    if key == "failure" else ""))
    data["expect"] = expect
    data["path"] = str(path)
    return data


class Judging(enum.Enum):
    """What a run's outcomes are held to."""
    PROFILE = "profile"         # the device's profile: each outcome is judged
    NO_PROFILE = "no profile"   # none exists for the device: outcomes recorded, not judged
    CAPTURE = "capture"         # profile capture: the raw outcomes, no expectations


@dataclass(frozen=True, eq=False)
class ForDevice:
    """A device's profile as a run holds its outcomes to it."""
    judging: Judging
    # the profile; with NO_PROFILE an empty one naming where it would be; {} for CAPTURE
    data: dict

    @property
    def judged(self) -> bool:
        return self.judging is Judging.PROFILE


CAPTURE = ForDevice(Judging.CAPTURE, {})


def kernel_series(release: str) -> str:
    """'6.12' of '6.12.117+deb13-amd64': the kernel a profile is captured on."""
    return ".".join(release.split("-")[0].split("+")[0].split(".")[:2])


def name_for(target) -> str:
    """The profile of the target's device kind on the target's kernel. A
    device behaves as its kernel driver does (soft-RoCE as its kernel's
    rdma_rxe), so profiles are per kernel series (rxe-6.12); hardware also
    by its vendor part id and firmware, since one provider drives several
    generations of devices (mlx5-part4125-fw22.36.1010-6.12)."""
    kind = target.kind
    if kind == "none":
        return kind
    identity = target.identity()
    keyed = [f"part{identity['vendor_part_id']}", f"fw{identity['fw_ver']}"] if identity else []
    return "-".join([kind, *keyed, kernel_series(target.kernel_release())])


def load_for_device(name: str, say=lambda text: None,
                    profiles_dir: Path = PROFILES_DIR) -> ForDevice:
    """The profile of a device; for one no profile exists of (hardware this
    project never ran on, a kernel no profile was captured on) an empty one
    that judges nothing: the run records outcomes and capabilities, and its
    exit code counts only what is wrong on any device (see unjudged_exit_code)."""
    path = profiles_dir / f"{name}.yaml"
    if path.is_file():
        return ForDevice(Judging.PROFILE, load(name, profiles_dir))
    say(f"no hardware profile {name!r} in {profiles_dir}: outcomes and capabilities are "
        f"recorded, not judged; `rdmagate profile capture` with the same --stack and "
        f"--device (or --lab) writes one")
    return ForDevice(Judging.NO_PROFILE, {"device": name, "description": "no profile: not judged",
                                          "expect": {}, "path": str(path)})


def unjudged_exit_code(finished) -> int:
    """The exit code of a run no profile judges: 1 for what is wrong on any
    device (a crash, a hang, or bytes that did not arrive as sent: a failure
    the test declared a data check), 3 when only the infrastructure failed,
    else 0."""
    wrong = [r for r in finished if r.outcome in ("CRASH", "TIMEOUT") or
             (r.outcome == "FAIL" and r.data_check)]
    if wrong:
        return EXIT_UNEXPECTED
    return EXIT_INFRA if any(r.outcome in outcomes.INFRA for r in finished) else EXIT_OK


def expectations(profile: dict, test_ids: list[str] | None) -> dict:
    """The plan's "expect" section; a test id the harness does not have is a
    mistake in the profile (a typo would otherwise hide a FAIL). test_ids None:
    the harness cannot run here to list them; it checks them itself."""
    unknown = sorted(set(profile["expect"]) - set(test_ids)) if test_ids is not None else []
    if unknown:
        raise UsageError(f"{profile['path']}: field expect.{unknown[0]}: no such test "
                         "in the harness (rdmagate-harness --list shows them)")
    return {test: dict(spec) for test, spec in profile["expect"].items()}


def expectation_of(result) -> dict | None:
    """What a captured profile says of one raw result; None: the default
    (PASS). A FAIL is never captured by itself: see known_defects()."""
    outcome = result.outcome
    if outcome == "UNSUPPORTED":
        return {"outcome": "UNSUPPORTED", "reason": result.reason}
    if outcome == "PASS" and result.observed:
        return {"outcome": "PASS", "observed": result.observed}
    return None


def captured(finished, notes: dict, known: dict) -> dict:
    """The expect section a capture writes, by test id: what each result
    says (expectation_of), a reviewed FAIL as the person wrote it (known,
    from known_defects()), and the note of the existing entry (notes, from
    notes_of()) on every test that ran. A PASS is the default, written
    only to keep what it says: its observation, or its note."""
    expect = {}
    for result in finished:
        spec = expectation_of(result)
        if result.outcome in ("FAIL", "XFAIL"):   # reviewed: a known defect, as it says
            spec = {key: value for key, value in known[result.test].items()
                    if key in ("outcome", "failure", "reason", "run")}
        if spec is None and result.outcome == "PASS" and result.test in notes:
            spec = {"outcome": "PASS"}
        if spec is None:
            continue
        if result.test in notes:
            spec["note"] = notes[result.test]
        expect[result.test] = spec
    return dict(sorted(expect.items()))


def _entries(path: Path) -> dict:
    """The expect section of an existing profile file as written (it may be a
    person's draft with only the known defects in it)."""
    if not path.is_file():
        return {}
    data = files.load_yaml(path, "a hardware profile") or {}
    expect = data.get("expect") if isinstance(data, dict) else None
    return {test: spec for test, spec in (expect or {}).items() if isinstance(spec, dict)}


def notes_of(path: Path) -> dict:
    """Hand-written notes of an existing profile, by test id."""
    return {test: spec["note"] for test, spec in _entries(path).items() if "note" in spec}


def known_defects(path: Path) -> dict:
    """The FAILs a person reviewed in an existing profile, by test id: each
    with its reason and the failure (message id) it is; with run: false, one
    not to run at all (it oopses or hangs the kernel)."""
    found = {}
    for test, spec in _entries(path).items():
        if spec.get("outcome") != "FAIL":
            continue
        if not (isinstance(spec.get("reason"), str) and spec["reason"] and
                isinstance(spec.get("failure"), str) and spec["failure"]):
            raise UsageError(f"{path}: field expect.{test}: a known defect needs its reason "
                             "and failure (the message id the capture printed)")
        found[test] = spec
    return found


def write(out: Path, profile: dict) -> None:
    """A captured profile, written atomically with the header that says so."""
    header = ("# Captured from the real device by `rdmagate profile capture`; do not edit\n"
              "# the expectations by hand, capture again. A `note` on an entry is kept, and\n"
              "# so is a FAIL (a known defect) a person wrote with its reason and failure.\n")
    text = header + yaml.safe_dump(profile, sort_keys=False, allow_unicode=True, width=100)
    out.parent.mkdir(parents=True, exist_ok=True)
    files.write_atomic(out, text, "the profile")
