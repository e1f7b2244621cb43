"""The runner's imports, read statically: imports go down the layers only
(LAYERS, described in runner/README.md), no module of the rdmagate package
imports itself through others (a cycle works only until someone reorders a
line), and no file of the runner or bench/ sets sys.path by hand (the entry
script's directory is on it already; anything else hides a layout problem)."""
import ast
import importlib
import shutil
import tempfile
import unittest
from pathlib import Path

from tests.support import REPO_ROOT

RUNNER = REPO_ROOT / "runner"
PACKAGE = RUNNER / "rdmagate"


# Top to bottom; a module may import its own layer and those below it. Each
# entry is a top-level name of the package; BASE is every one not named.
LAYERS = (
    ("entry", {"rdmagate", "rdmagate.__main__", "rdmagate.cli"}),
    ("commands", {"rdmagate.commands"}),
    ("pipelines", {"rdmagate.pipelines"}),
    ("domain", {"rdmagate.abi", "rdmagate.kabi", "rdmagate.perf", "rdmagate.upgrade",
                "rdmagate.fleet", "rdmagate.history", "rdmagate.report",
                "rdmagate.harness", "rdmagate.suites", "rdmagate.compat"}),
)
BASE = "base"   # targets, stacks, outputs and the plain modules (files, errors, ...)
LAYER_NAMES = [name for name, _ in LAYERS] + [BASE]


def layer_of(module: str) -> str:
    """The layer of a dotted module name: its own entry, or its top-level
    package's under rdmagate."""
    top = ".".join(module.split(".")[:2])
    for name, members in LAYERS:
        if module in members or top in members:
            return name
    return BASE


def upward(graph: dict[str, set[str]]) -> list[str]:
    """Every import of the graph that goes up a layer, as "a (layer) -> b (layer)"."""
    found = []
    for name, targets in sorted(graph.items()):
        below = LAYER_NAMES.index(layer_of(name))
        for target in sorted(targets):
            if LAYER_NAMES.index(layer_of(target)) < below:
                found.append(f"{name} ({layer_of(name)}) -> {target} ({layer_of(target)})")
    return found


def module_names(package: Path) -> dict[str, Path]:
    """Dotted name -> file of every module of the package (a package's own
    code is its __init__.py)."""
    names = {}
    for path in package.rglob("*.py"):
        parts = path.relative_to(package.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names[".".join(parts)] = path
    return names


def _ancestors(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def imported(name: str, path: Path, known: set[str]) -> set[str]:
    """The package's modules that importing `name` runs, from every import
    statement of its file, those inside functions included. Importing a.b.c
    runs a and a.b first, unless they are this module's own ancestors (they
    were running before it started); `from a import x` imports a.x when it is
    a module."""
    own_package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:   # "." is own_package, ".." its parent, ...
                parts = own_package.split(".")
                anchor = parts[:len(parts) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            targets.add(base)
            targets.update(f"{base}.{alias.name}" for alias in node.names)
    ran = set()
    for target in targets:
        ran.update(_ancestors(target) + [target])
    return {t for t in ran & known if t not in _ancestors(name) and t != name}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph as [a, b, ..., a], or None."""
    done: set[str] = set()
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        if node in path:
            return path[path.index(node):] + [node]
        if node in done:
            return None
        path.append(node)
        for following in sorted(graph[node]):
            cycle = visit(following)
            if cycle:
                return cycle
        path.pop()
        done.add(node)
        return None

    for start in sorted(graph):
        cycle = visit(start)
        if cycle:
            return cycle
    return None


def import_graph(package: Path) -> dict[str, set[str]]:
    modules = module_names(package)
    return {name: imported(name, path, set(modules)) for name, path in modules.items()}


def touches_sys_path(path: Path) -> list[int]:
    """Lines whose code uses sys.path (reading it included: an alias of the
    list changes it as well) or site.addsitedir."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and \
                (node.value.id, node.attr) in (("sys", "path"), ("site", "addsitedir")):
            lines.append(node.lineno)
        elif isinstance(node, ast.ImportFrom) and node.module in ("sys", "site") and \
                any(alias.name in ("path", "addsitedir") for alias in node.names):
            lines.append(node.lineno)
    return lines


class Imports(unittest.TestCase):
    def test_the_package_has_no_import_cycle(self):
        graph = import_graph(PACKAGE)
        self.assertIn("rdmagate.abi.compare", graph)   # the walk found the package
        self.assertIn("rdmagate.abi.baseline", graph["rdmagate.abi.compare"])
        cycle = find_cycle(graph)
        self.assertIsNone(cycle, "import cycle: " + " -> ".join(cycle or []))

    def test_imports_go_down_the_layers(self):
        graph = import_graph(PACKAGE)
        self.assertEqual(layer_of("rdmagate.pipelines.check"), "pipelines")
        self.assertEqual(layer_of("rdmagate.outputs.records"), BASE)
        self.assertEqual(upward(graph), [], "imports that go up a layer")

    def test_every_module_imports(self):
        """A name moved or removed in one module breaks its importers at once,
        not when a command that reaches them first runs."""
        package = REPO_ROOT / "runner"
        for path in sorted((package / "rdmagate").rglob("*.py")):
            name = ".".join(path.relative_to(package).with_suffix("").parts)
            if name.endswith("__main__"):
                continue
            with self.subTest(module=name):
                importlib.import_module(name.removesuffix(".__init__"))

    def test_no_file_sets_sys_path(self):
        files = sorted(RUNNER.rglob("*.py")) + sorted((REPO_ROOT / "bench").rglob("*.py"))
        self.assertIn(RUNNER / "main.py", files)
        found = [f"{path.relative_to(REPO_ROOT)}:{line}"
                 for path in files for line in touches_sys_path(path)]
        self.assertEqual(found, [], "sys.path set by hand (run from runner/ or with "
                         "PYTHONPATH=runner instead)")


class ImportReader(unittest.TestCase):
    """The reader itself, on a package written for it."""

    def write_package(self, files: dict[str, str]) -> Path:
        top = Path(tempfile.mkdtemp(prefix="rdmagate-imports-"))
        self.addCleanup(shutil.rmtree, top)
        for name, text in files.items():
            (top / name).parent.mkdir(parents=True, exist_ok=True)
            (top / name).write_text(text)
        return top / "pkg"

    def test_a_cycle_through_a_function_level_import_is_named(self):
        package = self.write_package({
            "pkg/__init__.py": "",
            "pkg/sub/a.py": "from . import b\n",
            "pkg/sub/b.py": "def late():\n    from ..c import f\n",
            "pkg/c.py": "from .sub.a import g\n"})
        self.assertEqual(find_cycle(import_graph(package)),
                         ["pkg.c", "pkg.sub.a", "pkg.sub.b", "pkg.c"])

    def test_an_import_up_a_layer_is_named(self):
        """A domain module that imports a pipeline, even inside a function,
        and an output module that imports a domain package."""
        package = self.write_package({
            "rdmagate/__init__.py": "",
            "rdmagate/pipelines/__init__.py": "",
            "rdmagate/pipelines/check.py": "from ..abi import findings\n",
            "rdmagate/abi/__init__.py": "",
            "rdmagate/abi/findings.py": "from ..outputs import records\n",
            "rdmagate/upgrade/__init__.py": "",
            "rdmagate/upgrade/gate.py": "def late():\n    from ..pipelines import check\n",
            "rdmagate/outputs/__init__.py": "",
            "rdmagate/outputs/records.py": "import os\n",
            "rdmagate/outputs/rundir.py": "from rdmagate.abi.findings import Verdict\n"})
        self.assertEqual(upward(import_graph(package.parent / "rdmagate")), [
            "rdmagate.outputs.rundir (base) -> rdmagate.abi (domain)",
            "rdmagate.outputs.rundir (base) -> rdmagate.abi.findings (domain)",
            "rdmagate.upgrade.gate (domain) -> rdmagate.pipelines (pipelines)",
            "rdmagate.upgrade.gate (domain) -> rdmagate.pipelines.check (pipelines)"])

    def test_a_package_importing_its_own_modules_is_no_cycle(self):
        package = self.write_package({
            "pkg/__init__.py": "from .a import f\n",
            "pkg/a.py": "from .b import g\nfrom pkg import b\n",
            "pkg/b.py": "import os\n"})
        graph = import_graph(package)
        self.assertEqual(graph["pkg"], {"pkg.a"})
        self.assertEqual(graph["pkg.a"], {"pkg.b"})
        self.assertIsNone(find_cycle(graph))


if __name__ == "__main__":
    unittest.main()
