"""Where things live: the checkout, the cache, the per-stack build trees."""
import os
from pathlib import Path

from .errors import UsageError

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


def within(root: Path, *parts: str) -> Path:
    """root / parts, checked to stay below root once resolved: a name read
    from input ('..', '../../x', a link) never lands a file outside it."""
    path = Path(root).joinpath(*parts)
    real_root, real = Path(root).resolve(), path.resolve()
    if real == real_root or not real.is_relative_to(real_root):
        raise UsageError(f"{'/'.join(parts)!r}: would be {real}, outside {real_root}; "
                         "a name must stay inside its directory")
    return path


def build_dir(stack_name: str) -> Path:
    """The CMake build tree of the harness built against one stack."""
    safe = stack_name.replace("/", "_").replace(":", "_")
    return within(REPO_ROOT / "build" / "stacks", safe)
