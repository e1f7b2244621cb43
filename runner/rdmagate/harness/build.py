"""Configure and build the harness against one stack's headers and libraries."""
import shutil
from pathlib import Path

from .. import tools
from ..errors import InfraError
from ..paths import build_dir, REPO_ROOT
from ..stacks.lock import locked

HARNESS_NAME = "rdmagate-harness"


PERF_NAME = "rdmagate-perf"
SHIM_NAME = "librdmagate-slowdown.so"
CALIBRATE_NAME = "rdmagate-calibrate"   # beside rdmagate-perf (perf/calibrate.py)


def build_harness(stack_name: str, stack_root: Path | None, say=print) -> Path:
    """Build (incrementally) and return the path of rdmagate-harness for a stack.

    stack_root None means the host's own stack. The build log of a failure is
    kept in the build tree and named in the error."""
    tree = _build(stack_name, stack_root, [HARNESS_NAME], say)
    harness = find_harness(tree)
    if harness is None:
        raise InfraError(f"the build of stack {stack_name} made no {HARNESS_NAME}; "
                         f"see {tree / 'build.log'}")
    return harness


def build_perf(stack_name: str, stack_root: Path | None, say=print) -> Path:
    """rdmagate-perf built against a stack (and the slowdown shim and the
    calibration workload beside it)."""
    tree = _build(stack_name, stack_root, [PERF_NAME, "rdmagate-slowdown", CALIBRATE_NAME], say)
    return tree / "suites" / "perf" / PERF_NAME


def _build(stack_name: str, stack_root: Path | None, targets: list[str], say) -> Path:
    if shutil.which("cmake") is None:
        raise InfraError("cmake is not installed: run ci/setup")
    tree = build_dir(stack_name)
    # One build of a tree at a time: two runs of one stack at once (parallel
    # tests, a fleet beside a check) would configure over each other.
    with locked(tree):
        return _build_locked(tree, stack_name, stack_root, targets, say)


def _build_locked(tree: Path, stack_name: str, stack_root: Path | None, targets: list[str],
                  say) -> Path:
    log = tree / "build.log"
    configure = ["cmake", "-S", str(REPO_ROOT), "-B", str(tree),
                 f"-DRDMAGATE_STACK_NAME={stack_name}",
                 f"-DRDMAGATE_STACK_ROOT={stack_root or ''}",
                 "-DRDMAGATE_PYTHON_TESTS=OFF", "-DCMAKE_BUILD_TYPE=RelWithDebInfo"]
    compile_ = ["cmake", "--build", str(tree), "--target", *targets, "--parallel", "2"]
    say(f"building {', '.join(targets)} for stack {stack_name} in {tree}")
    with log.open("w", encoding="utf-8") as out:
        for step in (configure, compile_):
            done = tools.run(step, tools.BUILD, stdout=out)
            if done.returncode != 0:
                first = _first_error(log) if step is compile_ else None
                raise BuildError(f"building {', '.join(targets)} for stack {stack_name} "
                                 f"failed ({' '.join(step[:2])})"
                                 + (f": {first}" if first else "") + f"; see {log}", first)
    return tree


class BuildError(InfraError):
    """The build failed. compile_error: the compiler's first error when the
    suites did not compile against the stack's headers (an API break of that
    stack, not an infrastructure failure); None when the configure failed."""

    def __init__(self, message: str, compile_error: str | None):
        super().__init__(message)
        self.compile_error = compile_error


def _first_error(log: Path) -> str | None:
    for line in log.read_text(errors="replace").splitlines():
        if ": error: " in line:
            return line.split(str(REPO_ROOT) + "/", 1)[-1].strip()
    return None


def find_harness(tree: Path) -> Path | None:
    for candidate in (tree / "harness" / HARNESS_NAME, tree / HARNESS_NAME):
        if candidate.is_file():
            return candidate
    return None


def list_tests(harness: Path) -> list[str]:
    """Every test id (suite.name) the built harness has."""
    done = tools.run([str(harness), "--list"], tools.QUICK)
    if done.returncode != 0:
        raise InfraError(f"{harness} --list failed: {done.stderr.strip()}")
    return done.stdout.split()


def tree_of(harness: Path) -> Path:
    """The build tree a harness executable belongs to."""
    return harness.parent.parent
