"""The suites in suites/*/, one object each, chosen from its suite.yaml.

Harness suites are C (suites/<name>/*.c), built into rdmagate-harness and
run together by it at the target: the check pipeline runs the harness once
for all of them. Runner suites are Python objects with run(context) ->
result lines, run after the harness at the same target: the abi suite (the
stack's ABI against its reference) and the perf suite (fast-path latency
against the stored baseline). suite.yaml says which a suite is (runs_in)."""
import fnmatch
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from . import files
from .errors import UsageError
from .outputs.result import Result
from .paths import REPO_ROOT
from .stacks import FetchedStack, Stack
from .targets import Target

SUITES_DIR = REPO_ROOT / "suites"


@dataclass(frozen=True)
class Suite:
    name: str
    description: str
    needs_device: bool
    in_harness = True


@dataclass(frozen=True)
class Context:
    """What a runner suite needs: the stack and target of the check, the
    profile chosen for the device (None: capturing one) and the run directory."""
    stack: Stack
    fetched: FetchedStack
    target: Target
    profile: dict | None
    profile_name: str
    run_dir: Path
    say: Callable[[str], None]


class AbiSuite(Suite):
    in_harness = False

    def run(self, ctx: Context) -> list[Result]:
        from .abi import suite
        return suite.run(ctx.stack.name, ctx.target.device, ctx.run_dir, say=ctx.say)


class PerfSuite(Suite):
    in_harness = False

    def run(self, ctx: Context) -> list[Result]:
        from .perf import suite
        return suite.run(ctx.stack, ctx.fetched, ctx.target, ctx.profile_name, ctx.profile,
                         ctx.run_dir, say=ctx.say)


RUNNER_SUITES = {"abi": AbiSuite, "perf": PerfSuite}


def _load(path: Path) -> Suite:
    data = files.load_yaml(path, "a suite description")
    if not isinstance(data, dict) or not isinstance(data.get("needs_device"), bool):
        raise UsageError(f"{path}: field needs_device must be true or false")
    name = path.parent.name
    runs_in = data.get("runs_in", "harness")
    if runs_in == "harness":
        kind = Suite
    elif runs_in == "runner" and name in RUNNER_SUITES:
        kind = RUNNER_SUITES[name]
    elif runs_in == "runner":
        raise UsageError(f"{path}: field runs_in: the runner has no suite {name!r} "
                         f"(it has {', '.join(RUNNER_SUITES)})")
    else:
        raise UsageError(f"{path}: field runs_in must be harness or runner")
    return kind(name, str(data.get("description", "")), data["needs_device"])


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


# RG_TEST(suite, name ...) and RG_TEST_F(suite, name, fixture ...) at a line's
# start (harness.h), and a suite's own wrapper: #define CM_TEST(name) RG_TEST(cm, name, ...)
_DECLARED = re.compile(r"^RG_TEST(?:_F)?\(\s*(\w+)\s*,\s*(\w+)", re.M)
_WRAPPER = re.compile(r"#define\s+(\w+)\((\w+)\)\s*RG_TEST(?:_F)?\(\s*(\w+)\s*,\s*\2\b")


def declared(suite: Suite, suites_dir: Path = SUITES_DIR) -> set[str]:
    """The test ids (suite.name) a harness suite's C sources declare: what
    the built harness lists (a unit test holds the two equal), known
    before anything is built."""
    text = "\n".join(files.read_text(p, "a suite's source")
                     for p in sorted((suites_dir / suite.name).glob("*.[ch]")))
    ids = {f"{s}.{t}" for s, t in _DECLARED.findall(text)}
    for macro, _, of_suite in _WRAPPER.findall(text):
        ids |= {f"{of_suite}.{t}" for t in re.findall(rf"^{macro}\(\s*(\w+)\s*\)", text, re.M)}
    return ids


def check_filters(chosen: list[Suite], filters: tuple[str, ...]) -> None:
    """A --filter that matches no test of the chosen harness suites is a
    mistake, said before a build is spent on it (the harness matches with
    fnmatch(3), as fnmatchcase does but for a backslash: such a glob is left
    to the harness)."""
    harness = [s for s in chosen if s.in_harness]
    if not filters or not harness or any("\\" in glob for glob in filters):
        return
    # a runner suite's results are suite.something too, and it runs whole
    tests = set().union(*(declared(s) for s in harness))
    ids = tests | {f"{s.name}.*" for s in chosen if not s.in_harness}
    if not any(fnmatch.fnmatchcase(i, glob) for i in ids for glob in filters):
        raise UsageError(f"--filter {' --filter '.join(filters)}: matches none of the "
                         f"{len(tests)} tests of {', '.join(s.name for s in harness)} "
                         "(ids are suite.name: verbs.*, api.get_device_list)")


def device_suites() -> list[Suite]:
    """The harness suites (what runs on the device, and what a profile covers)."""
    return [suite for suite in select(None) if suite.in_harness]
