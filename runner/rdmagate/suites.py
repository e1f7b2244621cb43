"""The suites in suites/*/ and what each needs (suites/<name>/suite.yaml)."""
from dataclasses import dataclass
from pathlib import Path

import yaml

from .errors import UsageError
from .paths import REPO_ROOT

SUITES_DIR = REPO_ROOT / "suites"


@dataclass(frozen=True)
class Suite:
    name: str
    description: str
    needs_device: bool
    runs_in: str = "harness"   # harness (C, rdmagate-harness) or runner (Python)


def _load(path: Path) -> Suite:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as err:
        raise UsageError(f"{path}: cannot read suite description ({err})") from None
    if not isinstance(data, dict) or not isinstance(data.get("needs_device"), bool):
        raise UsageError(f"{path}: field needs_device must be true or false")
    runs_in = data.get("runs_in", "harness")
    if runs_in not in ("harness", "runner"):
        raise UsageError(f"{path}: field runs_in must be harness or runner")
    return Suite(path.parent.name, str(data.get("description", "")), data["needs_device"], runs_in)


def known(suites_dir: Path = SUITES_DIR) -> dict[str, Suite]:
    return {suite.name: suite for suite in map(_load, sorted(suites_dir.glob("*/suite.yaml")))}


def select(names: list[str] | None, suites_dir: Path = SUITES_DIR) -> list[Suite]:
    """The suites named on the command line (all when none), or a UsageError."""
    available = known(suites_dir)
    if not names:
        return list(available.values())
    unknown = [name for name in names if name not in available]
    if unknown:
        raise UsageError(f"--suite {unknown[0]}: no such suite (known: {', '.join(available)})")
    return [available[name] for name in names]
