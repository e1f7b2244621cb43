"""The outcomes of the C harness and of the runner are one list."""
import re
import unittest

from rdmagate import outcomes
from tests.support import REPO_ROOT

HEADER = REPO_ROOT / "harness" / "include" / "rdmagate" / "outcomes.h"
ENTRY = re.compile(r"X\((\w+),\s*RG_(AS_EXPECTED|UNEXPECTED|INFRA)\)")


def c_outcomes(text: str) -> dict[str, str]:
    return dict(ENTRY.findall(text))


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

    def test_exit_code_of_each_class(self):
        self.assertEqual(outcomes.exit_code(["PASS", "XFAIL", "SKIP", "UNSUPPORTED"]), 0)
        self.assertEqual(outcomes.exit_code(["PASS", "ERROR"]), 3)
        self.assertEqual(outcomes.exit_code(["ERROR", "CRASH"]), 1)
        self.assertEqual(outcomes.exit_code([]), 0)


if __name__ == "__main__":
    unittest.main()
