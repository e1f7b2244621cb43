"""The test files themselves, read statically: a class written after a
file's `if __name__ == "__main__":` block is skipped when the file runs as a
script, and a test module importing another runs that one's tests twice
and ties the two together (shared helpers live in tests/support.py)."""
import ast
import unittest
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]


def is_main_guard(node: ast.stmt) -> bool:
    return isinstance(node, ast.If) and isinstance(node.test, ast.Compare) and \
        isinstance(node.test.left, ast.Name) and node.test.left.id == "__name__"


def after_main_guard(tree: ast.Module) -> list[str]:
    """Names defined after the main guard (nothing should be)."""
    guards = [i for i, node in enumerate(tree.body) if is_main_guard(node)]
    if not guards:
        return []
    return [getattr(node, "name", type(node).__name__) for node in tree.body[guards[0] + 1:]]


def imports_of_test_modules(tree: ast.Module) -> list[str]:
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names += [f"{node.module}.{alias.name}" for alias in node.names]
    return [name for name in names if name.startswith(("tests.unit.", "tests.daemon.", "tests.lab."))]


class TestFiles(unittest.TestCase):
    def setUp(self):
        self.files = sorted(TESTS.glob("*/test_*.py"))
        self.assertIn(Path(__file__).resolve(), self.files)

    def test_nothing_follows_the_main_guard(self):
        late = {f"{p.relative_to(TESTS)}": names for p in self.files
                if (names := after_main_guard(ast.parse(p.read_text())))}
        self.assertEqual(late, {}, "move these above `if __name__ == \"__main__\":`")

    def test_no_test_module_imports_another(self):
        found = {f"{p.relative_to(TESTS)}": names for p in self.files
                 if (names := imports_of_test_modules(ast.parse(p.read_text())))}
        self.assertEqual(found, {}, "shared helpers belong in tests/support.py")


if __name__ == "__main__":
    unittest.main()
