"""The outcomes of the C harness and of the runner are one list."""
import re
import unittest

from rdmagate import outcomes
from tests.support import REPO_ROOT

HEADER = REPO_ROOT / "harness" / "include" / "rdmagate" / "outcomes.h"
ENTRY = re.compile(r"X\((\w+),\s*RG_(AS_EXPECTED|UNEXPECTED|INFRA)\)")


def c_outcomes(text: str) -> dict[str, str]:
    return dict(ENTRY.findall(text))


def documented(text: str) -> dict[str, str]:
    """The rows of a markdown table headed | outcome | meaning |, as name -> meaning."""
    _, found, rest = text.partition("| outcome | meaning |\n|---|---|\n")
    rows = {}
    for line in rest.splitlines() if found else []:
        if not line.startswith("|"):
            break
        name, meaning = (cell.strip() for cell in line.strip().strip("|").split("|", 1))
        rows[name] = meaning
    return rows


class SameInCAndPython(unittest.TestCase):
    def test_names_and_classes_agree(self):
        in_c = c_outcomes(HEADER.read_text(encoding="utf-8"))
        self.assertTrue(in_c, f"{HEADER}: no X(NAME, RG_CLASS) entries found")
        self.assertEqual(in_c, outcomes.OUTCOMES,
                         f"{HEADER} and rdmagate/outcomes.py disagree")

    def test_a_changed_class_is_seen(self):
        text = HEADER.read_text(encoding="utf-8").replace("X(ERROR, RG_INFRA)",
                                                          "X(ERROR, RG_UNEXPECTED)")
        self.assertNotEqual(c_outcomes(text), outcomes.OUTCOMES)

    def test_every_outcome_has_its_one_meaning(self):
        self.assertEqual(list(outcomes.MEANING), list(outcomes.NAMES))

    def test_the_documented_table_is_the_defined_one(self):
        """The outcome table of the README (or of the docs it moves to) says
        what outcomes.MEANING says, every outcome once."""
        pages = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]
        tables = [documented(path.read_text(encoding="utf-8")) for path in pages]
        tables = [table for table in tables if table]
        self.assertEqual(len(tables), 1, "one outcome table (| outcome | meaning |) in the docs")
        self.assertEqual(tables[0], outcomes.MEANING)
        self.assertNotEqual(documented("| outcome | meaning |\n|---|---|\n| PASS | ok |\n"),
                            outcomes.MEANING)

    def test_exit_code_of_each_class(self):
        self.assertEqual(outcomes.exit_code(["PASS", "XFAIL", "SKIP", "UNSUPPORTED"]), 0)
        self.assertEqual(outcomes.exit_code(["PASS", "ERROR"]), 3)
        self.assertEqual(outcomes.exit_code(["ERROR", "CRASH"]), 1)
        self.assertEqual(outcomes.exit_code([]), 0)


if __name__ == "__main__":
    unittest.main()
