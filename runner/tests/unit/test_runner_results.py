import json
import tempfile
import unittest
import xml.etree.ElementTree as ET
from pathlib import Path

from rdmagate.outputs import junit, results
from rdmagate import outcomes
from rdmagate.errors import UsageError
from tests.support import result, result_line


class ReadResults(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.path = Path(self.dir.name) / "results.jsonl"

    def tearDown(self):
        self.dir.cleanup()

    def write(self, text):
        self.path.write_text(text, encoding="utf-8")

    def test_torn_last_line_is_dropped_with_a_warning(self):
        good = json.dumps(result_line("api.a", "PASS")) + "\n"
        self.write(good + good.replace("api.a", "api.b") + '{"test": "api.c", "sui')
        warnings = []
        records = results.read(self.path, warn=warnings.append)
        self.assertEqual([r.test for r in records], ["api.a", "api.b"])
        self.assertEqual(len(warnings), 1)
        self.assertIn("incomplete", warnings[0])

    def test_corrupt_line_in_the_middle_is_an_error_naming_the_line(self):
        good = json.dumps(result_line("api.a", "PASS")) + "\n"
        self.write(good + "garbage\n" + good)
        with self.assertRaisesRegex(UsageError, r"results.jsonl:2: not a JSON result line"):
            results.read(self.path)

    def test_unknown_outcome_is_an_error(self):
        self.write(json.dumps(result_line("api.a", "MAYBE")) + "\n")
        with self.assertRaisesRegex(UsageError, "unknown outcome 'MAYBE'"):
            results.read(self.path)

    def test_missing_file_means_nothing_finished(self):
        self.assertEqual(results.read(self.path), [])

    def test_exit_code_ranks_failures_over_errors(self):
        passed = result("api.a", "PASS")
        self.assertEqual(results.exit_code([passed, result("api.b", "UNSUPPORTED")]), 0)
        self.assertEqual(results.exit_code([passed, result("api.b", "ERROR")]), 3)
        self.assertEqual(results.exit_code([result("api.b", "ERROR"),
                                            result("api.c", "CRASH")]), 1)
        self.assertEqual(results.exit_code([result("api.c", "TIMEOUT")]), 1)

    def test_counts_cover_every_outcome(self):
        tally = results.counts([result("api.a", "PASS"), result("api.b", "PASS"),
                                result("api.c", "SKIP")])
        self.assertEqual(tally["PASS"], 2)
        self.assertEqual(tally["SKIP"], 1)
        self.assertEqual(set(tally), set(outcomes.NAMES))


class JUnitFromResults(unittest.TestCase):
    def test_each_outcome_maps_to_its_junit_element(self):
        records = [result("api.ok", "PASS"),
                   result("api.bad", "FAIL", message="x.c:3: CU_ASSERT(a)"),
                   result("api.boom", "CRASH", reason="SIGSEGV"),
                   result("api.slow", "TIMEOUT", reason="timed out after 1 s"),
                   result("api.env", "ERROR", reason="no /dev"),
                   result("api.gone", "UNSUPPORTED", reason="no MW"),
                   result("verbs.old", "SKIP", reason="stack lacks ibv_wr_*")]
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "junit.xml"
            junit.write(records, path)
            root = ET.parse(path).getroot()
        suites = {s.get("name"): s for s in root.iter("testsuite")}
        self.assertEqual(set(suites), {"api", "verbs"})
        api = suites["api"]
        self.assertEqual((api.get("tests"), api.get("failures"), api.get("errors"), api.get("skipped")),
                         ("6", "3", "1", "1"))
        cases = {c.get("name"): c for c in root.iter("testcase")}
        self.assertEqual(len(list(cases["ok"])), 0)
        self.assertIn("CU_ASSERT(a)", cases["bad"].find("failure").text)
        self.assertEqual(cases["boom"].find("failure").get("type"), "CRASH")
        self.assertIn("UNSUPPORTED", cases["gone"].find("skipped").get("message"))
        self.assertIsNotNone(cases["old"].find("skipped"))

    def test_xml_special_characters_survive(self):
        records = [result("api.x", "FAIL", message='a < b && "c" > d')]
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "junit.xml"
            junit.write(records, path)
            failure = ET.parse(path).getroot().find(".//failure")
        self.assertEqual(failure.text, 'a < b && "c" > d')


if __name__ == "__main__":
    unittest.main()
