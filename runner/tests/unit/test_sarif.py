"""findings.sarif (SARIF 2.1.0) of abi, kabi and the gate: the structure
every result must have, and a known location: debian-11 to debian-12's
struct ibnd_node, on the line of nodedesc in infiniband/ibnetdisc.h."""
import json
import re
import tempfile
import unittest
from pathlib import Path

from rdmagate.upgrade import actions
from rdmagate.outputs import sarif
from tests.support import REPO_ROOT, abi_json, gate_record, rdmagate

LEVELS = {"error", "warning", "note", "none"}


def nodedesc_line() -> int:
    """nodedesc's line in debian-12's ibnetdisc.h, as its recorded corpus says
    (the DWARF of the headers, built by `rdmagate baseline record`)."""
    corpus = (REPO_ROOT / "baselines/abi/debian-12/headers.abi").read_text()
    match = re.search(r"<var-decl name='nodedesc'[^>]*filepath='[^']*/infiniband/ibnetdisc\.h' "
                      r"line='(\d+)'", corpus)
    return int(match.group(1))


class Structure(unittest.TestCase):
    def check(self, document: dict) -> list[dict]:
        """Every part SARIF 2.1.0 requires, and what rdmagate promises of each result."""
        self.assertEqual(document["version"], "2.1.0")
        self.assertIn("sarif-2.1.0", document["$schema"])
        (run,) = document["runs"]
        driver = run["tool"]["driver"]
        self.assertEqual(driver["name"], "rdmagate")
        rules = driver["rules"]
        self.assertEqual(len({r["id"] for r in rules}), len(rules))
        self.assertTrue(run["originalUriBaseIds"]["INCLUDEDIR"]["uri"].endswith("/"))
        for result in run["results"]:
            with self.subTest(result=result["ruleId"]):
                self.assertEqual(rules[result["ruleIndex"]]["id"], result["ruleId"])
                self.assertIn(result["level"], LEVELS)
                self.assertTrue(result["message"]["text"].strip())
                self.assertTrue(result["properties"]["cause"])
                for where in result.get("locations", []) + result.get("relatedLocations", []):
                    if "physicalLocation" in where:
                        artifact = where["physicalLocation"]["artifactLocation"]
                        self.assertFalse(artifact["uri"].startswith("/"), artifact)
                        self.assertEqual(artifact["uriBaseId"], "INCLUDEDIR")
                        self.assertGreaterEqual(
                            where["physicalLocation"].get("region", {"startLine": 1})
                            ["startLine"], 1)
                    else:
                        self.assertTrue(where["logicalLocations"][0]["name"])
        return run["results"]

    def test_abi_debian_11_to_12_locates_nodedesc(self):
        with tempfile.TemporaryDirectory() as tmp:
            done, report = abi_json("debian-11", "debian-12", "--no-consumers",
                                    results=Path(tmp))
            self.assertIn(done.returncode, (0, 1), done.stderr[-2000:])
            document = json.loads((Path(report["run_dir"]) / "findings.sarif").read_text())
        results = self.check(document)
        (node,) = [r for r in results if r["properties"]["cause"] == "type:ibnd_node"]
        self.assertEqual(node["level"], "error")
        self.assertEqual(node["ruleId"], "applications/breaking/member-type-changed")
        where = node["locations"][0]["physicalLocation"]
        self.assertEqual(where["artifactLocation"]["uri"], "infiniband/ibnetdisc.h")
        self.assertEqual(where["region"]["startLine"], nodedesc_line())
        moved = [r for r in node["relatedLocations"]
                 if r["message"]["text"].startswith("member moved")]
        self.assertEqual(len(moved), 11)   # the members it moved, each on its line
        self.assertTrue(all(r["physicalLocation"]["region"]["startLine"] > nodedesc_line()
                            for r in moved))
        # one result per cause: the twelve findings are one result
        self.assertEqual(sum("ibnd_node" in r["message"]["text"] for r in results), 1)

    def test_kabi_names_the_removed_exports(self):
        with tempfile.TemporaryDirectory() as tmp:
            done = rdmagate("kabi", "--from", "debian-11", "--to", "debian-12", "--results", tmp)
            self.assertEqual(done.returncode, 0, done.stderr[-2000:])
            (run_dir,) = Path(tmp).iterdir()
            results = self.check(json.loads((run_dir / "findings.sarif").read_text()))
        removed = results[0]
        self.assertEqual(removed["properties"]["cause"], "kind:export-removed/kernel-modules")
        self.assertIn("ib_create_qp", removed["message"]["text"])
        self.assertEqual(removed["locations"][0]["logicalLocations"][0]["kind"], "module")
        (kernel,) = [r for r in results if r["properties"]["cause"] == "kernel"]
        self.assertIn("702 CRC changed", kernel["message"]["text"])

    def test_the_gate_levels_follow_its_categories(self):
        document = sarif.document(actions.sarif_entries(gate_record(moved=11)), "test")
        results = self.check(document)
        levels = {r["properties"]["cause"]: r["level"] for r in results}
        # a management library's break is a risk for the gate: a warning
        self.assertEqual(levels["type:ibnd_node"], "warning")
        self.assertEqual(levels["node:IBVERBS_PRIVATE_33"], "warning")

    def test_a_level_sarif_does_not_know_is_refused(self):
        with self.assertRaises(ValueError):
            sarif.Entry("r", "t", "fatal", "m")


if __name__ == "__main__":
    unittest.main()
