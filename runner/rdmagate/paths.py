"""Where things live: the checkout, the cache, the per-stack build trees."""
import os
from pathlib import Path

# runner/rdmagate/paths.py: the package, its runner folder, the checkout.
RUNNER_DIR = Path(__file__).resolve().parent.parent
REPO_ROOT = RUNNER_DIR.parent


def cache_dir() -> Path:
    """The cache for fetched stacks, kernels and root file systems.

    RDMAGATE_CACHE wins, then $XDG_CACHE_HOME/rdmagate, then ~/.cache/rdmagate.
    Nothing is ever written outside it (or the run directory)."""
    explicit = os.environ.get("RDMAGATE_CACHE")
    if explicit:
        return Path(explicit).resolve()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return (base / "rdmagate").resolve()


def build_dir(stack_name: str) -> Path:
    """The CMake build tree of the harness built against one stack."""
    safe = stack_name.replace("/", "_").replace(":", "_")
    return REPO_ROOT / "build" / "stacks" / safe
