"""Hardware profiles (hw-profiles/*.yaml): what each test is expected to do."""
from pathlib import Path

import yaml

from . import files
from .errors import UsageError
from .paths import REPO_ROOT

PROFILES_DIR = REPO_ROOT / "hw-profiles"
EXPECTABLE = ("PASS", "UNSUPPORTED", "FAIL")   # FAIL: a known defect, reason required
GENERIC = "generic"   # a device of a kind with no profile: every test expected to PASS
# Every key a profile and an entry of its expect may have: any other is a typo
# that would drop a check silently (`expcet:` left every test expected to PASS).
FIELDS = ("device", "description", "expect", "verified", "capabilities", "captured", "perf")
ENTRY_FIELDS = ("outcome", "reason", "observed", "note")


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
        if spec["outcome"] == "FAIL" and not spec.get("reason"):
            raise UsageError(f"{where}: an expected FAIL (a known defect) needs its reason")
        for key in ("reason", "observed"):
            if not isinstance(spec.get(key, ""), str):
                raise UsageError(f"{where}: {key} must be a string")
    data["expect"] = expect
    data["path"] = str(path)
    return data


def kernel_series(release: str) -> str:
    """'6.12' of '6.12.117+deb13-amd64': the kernel a profile is captured on."""
    return ".".join(release.split("-")[0].split("+")[0].split(".")[:2])


def name_for(target, profiles_dir: Path = PROFILES_DIR) -> str:
    """The profile of the target's device kind on the target's kernel. A
    device behaves as its kernel driver does (soft-RoCE as its kernel's
    rdma_rxe), so captured profiles are per kernel series (rxe-6.1.yaml,
    mlx5-6.12.yaml); the kind's own (rxe.yaml) when that kernel has none;
    load_for_device() falls back to the generic one when the kind has none
    either."""
    kind = target.kind
    if kind == "none":
        return kind
    specific = f"{kind}-{kernel_series(target.kernel_release())}"
    return specific if (profiles_dir / f"{specific}.yaml").is_file() else kind


def load_for_device(name: str, say=lambda text: None, profiles_dir: Path = PROFILES_DIR) -> dict:
    """The profile of a device kind; for a kind no profile exists of yet
    (a device this project never ran on), the generic one, which expects
    every test to PASS, and a word saying how to capture the real one."""
    if (profiles_dir / f"{name}.yaml").is_file():
        return load(name, profiles_dir)
    say(f"no hardware profile {name!r} in {profiles_dir}: every test is expected to PASS; "
        f"`rdmagate profile capture --device DEV` writes one from the device")
    return load(GENERIC, profiles_dir)


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
    """What a captured profile says of one raw result; None: the default (PASS)."""
    outcome = result.outcome
    if outcome == "UNSUPPORTED":
        return {"outcome": "UNSUPPORTED", "reason": result.reason}
    if outcome == "FAIL":
        return {"outcome": "FAIL", "reason": result.why}
    if outcome == "PASS" and result.observed:
        return {"outcome": "PASS", "observed": result.observed}
    return None


def notes_of(path: Path) -> dict:
    """Hand-written notes of an existing profile, by test id."""
    if not path.is_file():
        return {}
    data = files.load_yaml(path, "a hardware profile") or {}
    if not isinstance(data, dict) or not isinstance(data.get("expect") or {}, dict):
        return {}
    return {test: spec["note"] for test, spec in (data.get("expect") or {}).items()
            if isinstance(spec, dict) and "note" in spec}


def write(out: Path, profile: dict) -> None:
    """A captured profile, written atomically with the header that says so."""
    header = ("# Captured from the real device by `rdmagate profile capture`; do not edit\n"
              "# the expectations by hand, capture again. A `note` on an entry is kept.\n")
    text = header + yaml.safe_dump(profile, sort_keys=False, allow_unicode=True, width=100)
    out.parent.mkdir(parents=True, exist_ok=True)
    files.write_atomic(out, text, "the profile")
