"""Root causes: a change and its consequences are one finding. A struct that
grew on crafted headers (through the real abi command: gcc, abidw, the type
rules), a version node with the providers that fail for it, a kernel-wide
change with its CRC changes counted, and the gate's answer on a terminal."""
import json
import tempfile
import unittest
from pathlib import Path

from rdmagate.abi import causes
from rdmagate.abi.findings import Finding
from rdmagate.commands.upgrade import verdict_lines
from tests.support import abi_json, build_header_stack, failing, gate_record, node_findings, \
    rdmagate

# four members after the array: each moves when it grows by one byte; ibv_qp
# embeds it, ibv_use_plain (HEADER_PARTS) takes it
QP = "struct ibv_context *context;\n\tuint32_t qp_num;\n\tstruct ibv_plain embedded;"
GREW = {"plain": "char name[65];\n\tuint32_t a;\n\tuint32_t b;\n\tuint32_t c;\n\tuint32_t d;",
        "qp": QP}
BEFORE = {"plain": "char name[64];\n\tuint32_t a;\n\tuint32_t b;\n\tuint32_t c;\n\tuint32_t d;",
          "qp": QP}


class StructGrowth(unittest.TestCase):
    """Crafted headers through `rdmagate abi`: findings.json and findings.sarif."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        top = Path(cls.tmp.name)
        cls.old = old = build_header_stack(top / "old", **BEFORE)
        cls.new = build_header_stack(top / "new", **GREW)
        cls.done, cls.report = abi_json(f"prefix:{old}", f"prefix:{cls.new}", "--no-consumers",
                                        results=top / "results")
        cls.run_dir = Path(cls.report["run_dir"]) if cls.report else None

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_one_cause_with_its_moved_members_under_it(self):
        self.assertEqual(self.done.returncode, 1, self.done.stderr)
        findings = [Finding(**f) for f in self.report["findings"]]
        mine = [f for f in findings if f.cause == "type:ibv_plain"]
        self.assertEqual(sorted(f.kind for f in mine),
                         ["embedded in", "member moved", "member moved", "member moved",
                          "member moved", "member type changed", "taken by"])
        found = causes.group(findings)
        (cause,) = [c for c in found if c.id == "type:ibv_plain"]
        self.assertEqual(len(cause.findings), 7)
        self.assertEqual(cause.findings[0].kind, "member type changed")   # the root first
        self.assertEqual(cause.consequences, ["embedded in (1): ibv_qp",
                                              "member moved (4): a, b, c, d",
                                              "taken by (1): ibv_use_plain"])
        self.assertIn("char[64] -> char[65]", cause.headline)
        # every finding of findings.json has its cause
        self.assertTrue(all(f["cause"] for f in self.report["findings"]))

    def test_the_terminal_says_it_once_and_ends_with_what_to_do(self):
        done = rdmagate("abi", "--from", f"prefix:{self.old}",
                        "--to", f"prefix:{self.new}", "--no-consumers", "--results",
                        str(Path(self.tmp.name) / "text"))
        lines = done.stdout.splitlines()
        why, todo = lines.index("Why (one line a cause; removed names first):"), \
            lines.index("What to do:")
        self.assertEqual(sum("ibv_plain" in line for line in lines[why:todo]), 1, done.stdout)
        self.assertTrue(lines[todo + 1].startswith(
            "  1. rebuild applications that use struct ibv_plain (infiniband/verbs.h"),
            done.stdout)
        self.assertTrue(lines[-1].startswith("report: "), done.stdout)

    def test_sarif_locates_the_member_on_its_header_line(self):
        sarif = json.loads((self.run_dir / "findings.sarif").read_text())
        results = sarif["runs"][0]["results"]
        (result,) = [r for r in results if r["properties"]["cause"] == "type:ibv_plain"]
        header = (self.new / "usr/include/infiniband/verbs.h").read_text().splitlines()
        line = next(i for i, text in enumerate(header, start=1) if "name[65]" in text)
        where = result["locations"][0]["physicalLocation"]
        self.assertEqual(where["artifactLocation"],
                         {"uri": "infiniband/verbs.h", "uriBaseId": "INCLUDEDIR"})
        self.assertEqual(where["region"]["startLine"], line)
        related = {r["physicalLocation"]["region"]["startLine"] for r in result["relatedLocations"]
                   if "moved" in r["message"]["text"]}
        self.assertEqual(related, {line + 1, line + 2, line + 3, line + 4})   # a, b, c, d


class Grouping(unittest.TestCase):
    def test_a_node_and_the_providers_and_binaries_that_fail_for_it(self):
        runs = [failing(["bnxt_re", "cxgb4", "efa", "mlx5"])]
        (cause,) = causes.group(node_findings(), runs)
        self.assertEqual(cause.id, "node:IBVERBS_PRIVATE_33")
        self.assertEqual(len(cause.findings), 2)
        self.assertIn("4 of old's 4 providers do not load with new's libibverbs: bnxt_re, "
                      "cxgb4, efa, mlx5", cause.consequences)
        (action, needless) = causes.actions([cause], runs)
        self.assertEqual(action.text, "rebuild out-of-tree providers against IBVERBS_PRIVATE_34 "
                         "(4 of old's do not load: bnxt_re, cxgb4, efa, ...)")
        self.assertEqual(needless.text, "applications of libibverbs and librdmacm need nothing")

    def test_a_kernel_wide_change_counts_its_crcs_and_names_removed_exports_first(self):
        found = [Finding("kernel", "vermagic changed", "breaking", "kernel modules",
                         "'5.10.0-32-amd64 SMP' -> '6.1.0-50-amd64 SMP': rebuild"),
                 Finding("kernel", "struct module size changed", "breaking", "kernel modules",
                         "960 -> 896 bytes")]
        found += [Finding("ib_core", "CRC changed", "breaking", "kernel modules", "0x1 -> 0x2",
                          f"ib_f{i}") for i in range(300)]
        found += [Finding("ib_core", "export removed", "breaking", "kernel modules",
                          f"{s} is no longer exported", s) for s in ("ib_create_qp", "ib_x")]
        grouped = causes.group(found)
        self.assertEqual([c.id for c in grouped],
                         ["kind:export-removed/kernel-modules", "kernel"])
        self.assertEqual(grouped[0].title, "export removed (2): ib_create_qp, ib_x")
        self.assertEqual(grouped[1].consequences, ["300 CRC changed"])
        self.assertEqual(len(grouped[1].findings), 302)
        (action,) = causes.actions(grouped)   # no userspace: nothing said of applications
        self.assertEqual(action.text, "rebuild out-of-tree kernel modules for 6.1.0-50-amd64 "
                         "(2 exports removed: ib_create_qp, ib_x)")
        self.assertEqual(action.covers, ["kind:export-removed/kernel-modules", "kernel"])

    def test_a_new_kind_of_finding_gets_a_cause_of_its_own(self):
        found = [Finding("libibverbs", "a kind from tomorrow", "review", "applications",
                         f"thing {i}", f"s{i}") for i in range(3)]
        (cause,) = causes.group(found)
        self.assertEqual(cause.id, "kind:a-kind-from-tomorrow/applications")
        self.assertEqual(cause.title, "a kind from tomorrow (3): s0, s1, s2")
        self.assertEqual(causes.action(cause), "review for applications: " + cause.title)

    def test_a_type_only_providers_take_is_theirs_to_rebuild(self):
        found = [Finding("infiniband/verbs.h", "member moved", "breaking", "providers",
                         "struct ibv_mw_bind.send_flags: offset 256 -> 64 bits",
                         "ibv_mw_bind.send_flags"),
                 Finding("infiniband/verbs.h", "member removed", "breaking", "build",
                         "struct ibv_mw_bind.addr is gone", "ibv_mw_bind.addr")]
        (cause,) = causes.group(causes.assign(found))
        self.assertEqual(causes.action(cause), "rebuild providers that use struct ibv_mw_bind "
                         "(infiniband/verbs.h: it changed)")


class KabiText(unittest.TestCase):
    def test_removed_exports_are_named_on_the_first_screen(self):
        """debian-11 to debian-12 (the committed kernel baselines): all 24
        removed exports before the 702 CRC changes, which are counted."""
        with tempfile.TemporaryDirectory() as tmp:
            done = rdmagate("kabi", "--from", "debian-11", "--to", "debian-12", "--results", tmp)
            self.assertEqual(done.returncode, 0, done.stderr[-2000:])
            kabi = json.loads(next(Path(tmp).iterdir()).joinpath("kabi.json").read_text())
        removed = [f["symbol"] for f in kabi["findings"] if f["kind"] == "export removed"]
        self.assertEqual(len(removed), 24)
        lines = done.stdout.splitlines()
        first = "\n".join(lines[:24])
        for name in removed:
            self.assertRegex(first, rf"\b{name}\b")
        self.assertIn("ib_create_qp", first)
        self.assertLess(first.index("ib_create_qp"), done.stdout.index("702 CRC changed"))
        self.assertLessEqual(len(lines), 24, done.stdout)
        self.assertTrue(all(len(line) <= 80 for line in lines[1:-1]), done.stdout)


class GateTerminal(unittest.TestCase):
    def test_twenty_lines_one_line_a_cause_one_action_for_the_providers(self):
        upgrade = gate_record(moved=11)
        self.assertEqual(upgrade.verdict, "GO WITH RISKS")   # the rules are unchanged
        self.assertEqual(len(upgrade.reasons), 14)
        lines = verdict_lines(upgrade, Path("/r/report.html"))
        self.assertLessEqual(len(lines), 20, "\n".join(lines))
        self.assertTrue(all(len(line) <= 80 for line in lines[:-1]), "\n".join(lines))
        self.assertEqual(lines[-1], "report: /r/report.html")
        self.assertEqual(sum("ibnd_node" in line for line in lines[:lines.index("What to do:")]),
                         1, "\n".join(lines))
        providers = [line for line in lines if "IBVERBS_PRIVATE_34 (15 of" in line]
        self.assertEqual(len(providers), 1, "\n".join(lines))
        self.assertIn("  1. rebuild tools that link libibnetdisc (struct ibnd_node grew)", lines)

    def test_junit_has_one_testcase_a_cause(self):
        import xml.etree.ElementTree as ET
        from rdmagate.upgrade import junit_of
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "junit.xml"
            junit_of.write(gate_record(moved=11), path)
            cases = [c.get("name") for c in ET.parse(path).getroot().iter("testcase")]
        causes_ = [c for c in cases if c.startswith("cause ")]
        self.assertEqual(sorted(causes_), ["cause kind:provider-removed/applications",
                                           "cause node:IBVERBS_PRIVATE_33",
                                           "cause type:ibnd_node"])
        self.assertIn("verdict", cases)

if __name__ == "__main__":
    unittest.main()
