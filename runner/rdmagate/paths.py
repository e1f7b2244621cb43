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
    """root / parts, checked to stay below root: a name read from input
    ('..', '../../x', '/etc') never lands a file outside it. The check is on
    the names, not on links: a cache entry linked elsewhere by its owner is
    theirs to keep."""
    path = Path(root).joinpath(*parts)
    base, joined = os.path.normpath(os.path.abspath(root)), os.path.normpath(os.path.abspath(path))
    if joined == base or not joined.startswith(base.rstrip("/") + "/"):
        raise UsageError(f"{'/'.join(parts)!r}: would be {joined}, outside {base}; "
                         "a name must stay inside its directory")
    return path


def build_dir(stack_name: str) -> Path:
    """The CMake build tree of the harness built against one stack."""
    safe = stack_name.replace("/", "_").replace(":", "_")
    return within(REPO_ROOT / "build" / "stacks", safe)
