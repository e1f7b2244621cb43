"""Helpers shared by the runner's tests: run the real entry script."""
import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
RDMAGATE = REPO_ROOT / "rdmagate"


def rdmagate(*args: str, env: dict | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run ./rdmagate as a user would; capture its output."""
    full_env = dict(os.environ, **(env or {}))
    return subprocess.run([sys.executable, str(RDMAGATE), *args], capture_output=True,
                          text=True, env=full_env, timeout=timeout, check=False)


def result_line(test: str, outcome: str, **extra) -> dict:
    suite, name = test.split(".", 1)
    return {"test": test, "suite": suite, "name": name, "outcome": outcome,
            "raw_outcome": outcome, "expected": "PASS", "reason": "", "message": "",
            "observed": "", "duration_s": 0.01, "stack": "host", "device": "none", **extra}


def result(test: str, outcome: str, **extra):
    """result_line as the Result the runner reads back."""
    from rdmagate.result import Result
    return Result(**result_line(test, outcome, **extra))


def readelf_versions(path: Path, section: str = "definition") -> dict[str, set[str]]:
    """Version nodes as binutils' readelf reads them: section "definition"
    gives {"": nodes defined}; "needs" gives {library: nodes needed}."""
    import re
    out = subprocess.run(["readelf", "-V", "-W", str(path)], capture_output=True, text=True,
                         check=True).stdout
    if section == "definition":
        block = out.split("Version definition section", 1)[-1].split("Version needs section", 1)[0] \
            if "Version definition section" in out else ""
        return {"": set(re.findall(r"Name: (\S+)", block))}
    needs = {}
    block = out.split("Version needs section", 1)[1] if "Version needs section" in out else ""
    for part in block.split("File: ")[1:]:
        needs[part.split()[0]] = set(re.findall(r"Name: (\S+)", part))
    return needs
