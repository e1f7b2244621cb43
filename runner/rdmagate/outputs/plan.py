"""The plan the runner hands the harness (schema: harness/README.md)."""
import json
from pathlib import Path

from .. import files

PLAN_VERSION = 1
DEFAULT_TIMEOUT_S = 30


def build(stack: str, device: str, suites: list[str] | None = None,
          filters: list[str] | None = None, expect: dict | None = None,
          params: dict | None = None, timeout_s: int = DEFAULT_TIMEOUT_S,
          capture: bool = False) -> dict:
    plan = {"version": PLAN_VERSION, "stack": stack, "device": device, "timeout_s": timeout_s}
    if capture:
        plan["capture"] = True
    if suites:
        plan["suites"] = list(suites)
    if filters:
        plan["filter"] = list(filters)
    if expect:
        plan["expect"] = expect
    if params:
        plan["params"] = {key: str(value) for key, value in params.items()}
    return plan


def write(plan: dict, path: Path) -> Path:
    files.write_atomic(path, json.dumps(plan, indent=2) + "\n", "the plan")
    return path
