"""Each output file is read back through the definition that wrote it: a
round trip keeps everything, and a corrupt, foreign or newer file is one
UsageError naming the file and the field."""
import copy
import dataclasses
import json
import tempfile
import unittest
from pathlib import Path

from rdmagate.outputs import records, results, rundir
from rdmagate.abi import findings
from rdmagate.outputs.audience import AudienceVerdict
from rdmagate.abi.consumers import Impact
from rdmagate.errors import UsageError
from rdmagate.perf import record as perf_record
from rdmagate.progress import Progress
from rdmagate.pipelines import gate
from rdmagate.upgrade import record
from tests.support import BASE, point, rdmagate, result_line, upgrade_of


class Files(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.addCleanup(self.dir.cleanup)
        self.run_dir = Path(self.dir.name)

    def rewrite(self, path: Path, change) -> None:
        data = json.loads(path.read_text())
        change(data)
        path.write_text(json.dumps(data))

    def assertFileError(self, load, path: Path, pattern: str):
        with self.assertRaises(UsageError) as caught:
            load()
        self.assertRegex(str(caught.exception), pattern)
        self.assertTrue(str(caught.exception).startswith(str(path)), caught.exception)
        self.assertNotIn("\n", str(caught.exception))

    def versions_are_checked(self, load, path: Path, known: int = 1):
        self.rewrite(path, lambda d: d.update(format=99))
        self.assertFileError(load, path, r"field format: version 99 .* newer than this "
                             rf"rdmagate reads \({known}\)")
        self.rewrite(path, lambda d: d.update(format="one"))
        self.assertFileError(load, path, r"field format: \"one\" is not a version")
        self.rewrite(path, lambda d: d.pop("format"))   # written before formats had versions
        self.assertEqual(load().format, known)   # read into the current shape

    def test_run_json(self):
        run = rundir.RunRecord(self.run_dir, "check", stack="host", device="none",
                               suites=["api"], versions={"harness": "h", "rdma_core": None})
        run.update(lab={"kernel": "6.1.0", "accel": "tcg", "boot_to_active_s": {"node1": 4.5}})
        run.finish(0, counts={"PASS": 1})
        rundir.RunRecord.amend(self.run_dir, built_for="debian-11")
        loaded = rundir.load(self.run_dir)
        self.assertEqual(loaded, dataclasses.replace(run.run, built_for="debian-11"))
        self.assertEqual((loaded.exit_code, loaded.lab.accel, loaded.built_for),
                         (0, "tcg", "debian-11"))
        written = json.loads((self.run_dir / "run.json").read_text())
        self.assertIsNone(written["versions"]["rdma_core"])
        self.assertNotIn("stopped", written)   # optional fields only when set
        path = self.run_dir / "run.json"
        load = lambda: rundir.load(self.run_dir)  # noqa: E731
        self.versions_are_checked(load, path)
        self.rewrite(path, lambda d: d.update(exit_code="zero"))
        self.assertFileError(load, path, r"not a run record \(run.json\): field exit_code: "
                             r"expected int")
        path.write_text('{"run_id": ')
        self.assertFileError(load, path, "not JSON")
        path.write_text('[]')
        self.assertFileError(load, path, "a JSON list, not an object")
        with self.assertRaisesRegex(TypeError, "field counts.PASS"):
            run.update(counts={"PASS": "one"})   # a caller's bug is caught when written

    def test_findings_json(self):
        found = findings.FindingsFile(
            {"name": "debian-11", "suite": None}, {"name": "debian-13", "suite": "trixie"},
            {"applications": AudienceVerdict("BREAKS", {"breaking": 1})},
            ["baseline a", "tree b"], {"libibverbs": 4},
            [Impact("/usr/bin/x", "fails to load", missing_versions=["IBVERBS_1.8"])],
            [findings.Suppressed("libibverbs", "type changed", "benign", "build", "d",
                                 suppressed_by="rdma-core.suppr:3")],
            [findings.Finding("libibverbs", "symbol removed", "breaking", "applications",
                              "ibv_foo gone", "ibv_foo", "IBVERBS_1.0")])
        path = self.run_dir / "findings.json"
        findings.write(found, path)
        self.assertEqual(findings.load(path), found)
        self.assertEqual(set(json.loads(path.read_text())),
                         {"format", "from", "to", "verdicts", "sources", "abidiff", "consumers",
                          "suppressed", "findings"})
        load = lambda: findings.load(path)  # noqa: E731
        self.versions_are_checked(load, path)
        self.rewrite(path, lambda d: d["findings"][0].update(severity=3))
        self.assertFileError(load, path,
                             r"field findings\[0\].severity: 3 is not one of \"breaking\"")
        (self.run_dir / "run.json").write_text(json.dumps({"run_id": "r", "command": "abi"}))
        foreign = self.run_dir / "run.json"
        self.assertFileError(lambda: findings.load(foreign), foreign,
                             r"not an ABI findings file .*: field command: unknown")

    def test_perf_json(self):
        found = perf_record.PerfFile("baselines/perf/rxe-6.12/debian-13.json", 0.1, {
            "write_lat-2": perf_record.Verdict(1.02, [0.98, 1.05], "same", [2000, 2000],
                                               [8, 4], "", "lab")},
            machine={"where": "lab", "cores": 2}, boots=1, seconds=40.5)
        path = self.run_dir / "perf.json"
        perf_record.write(found, path)
        self.assertEqual(perf_record.load(path), found)
        # a format-1 perf.json (no runs, machine or where) still reads
        self.rewrite(path, lambda d: [d.update(format=1), d.pop("machine"), d.pop("boots"),
                                      [v.pop(k) for v in d["verdicts"].values()
                                       for k in ("runs", "note", "where")]])
        old = perf_record.load(path)
        self.assertEqual((old.machine, old.verdicts["write_lat-2"].runs), ({}, []))
        perf_record.write(found, path)
        load = lambda: perf_record.load(path)  # noqa: E731
        self.versions_are_checked(load, path, known=perf_record.FORMAT)
        self.rewrite(path, lambda d: d["verdicts"]["write_lat-2"].update(n=[1, "x"]))
        self.assertFileError(load, path, r"field verdicts.write_lat-2.n\[1\]: expected int")

    def gate_data(self) -> dict:
        data = copy.deepcopy(BASE)
        data.update(versions={"rdmagate": "abc"}, nodes=1, coverage={
            "debian-13": {"libibverbs": {"called": 63, "total": 75, "missing": []}}})
        data["perf"].append({"name": "write_bw", "title": "bandwidth", "kind": "bandwidth",
                             "unit": "MiB/s", "points": [point(64, 10, 12, "not compared")],
                             "unmeasured": [{"stack": "debian-13", "size": 4096, "why": "0"}]})
        data["baseline"] = [{"name": "write_lat-2", "size": 2, "verdict": "same", "ratio": 1.0,
                             "ci": [0.9, 1.1], "baseline": "baselines/perf/x/debian-13.json"}]
        data["consumers"] = [{"path": "/usr/bin/x", "impact": "ok", "detail": ""}]
        data["verbs"]["cut_short"] = {}
        data["kabi"] = {   # upgrade.json's kabi as the gate wrote it before it was typed
            "verdict": {"verdict": "BREAKS", "counts": {"breaking": 1, "review": 0}},
            "summary": {"exports_compared": 120, "by_kind": {"CRC changed": 2}},
            "modules": [{"module": "m", "path": "/tmp/m.ko", "kernel": "6.12.38+deb13-amd64",
                         "loads": True, "check": "", "messages": [], "error": 0,
                         "insmod": ""}],
            "proofs": [], "given": True, "releases": ["5.10.0-32-amd64", "6.12.38+deb13-amd64"],
            "kernel": [{"library": "kernel", "kind": "vermagic changed", "severity": "breaking",
                        "audience": "kernel modules", "detail": "d", "symbol": "",
                        "version": "", "cause": "", "line": 0}], "removed": []}
        return data

    def test_upgrade_json_as_the_gate_writes_it(self):
        the_gate = gate.Gate(gate.UpgradeRequest("debian-11", "debian-13", use_lab=True),
                             self.run_dir, Progress(enabled=False))
        data = self.gate_data()
        data.update(run_id=the_gate.upgrade.run_id, started=the_gate.upgrade.started)
        the_gate.upgrade = upgrade_of(data)
        the_gate.save()
        path = self.run_dir / "upgrade.json"
        written = json.loads(path.read_text())
        # the shape of the sections as the untyped gate wrote them, plus the
        # version and the verdict (and the abi phase's note told as it counts)
        data["phases"][1]["note"] = "no ABI break or risk"
        self.assertEqual(set(written), set(data) | {"format", "verdict", "reasons"})
        self.assertEqual({k: written[k] for k in data}, data)
        loaded = record.load(path)
        self.assertEqual(loaded, the_gate.upgrade)
        self.assertEqual(loaded.kabi.modules[0].kernel, "6.12.38+deb13-amd64")
        self.assertEqual((loaded.verdict, loaded.perf[1].unmeasured[0].size),
                         ("GO WITH RISKS", 4096))
        load = lambda: record.load(path)  # noqa: E731
        self.versions_are_checked(load, path, known=record.FORMAT)
        self.rewrite(path, lambda d: d["phases"][2].pop("status"))
        self.assertFileError(load, path, r"not an upgrade record \(upgrade.json\): "
                             r"field phases\[2\].status: missing")

    def test_report_rebuilds_from_the_record_and_names_a_bad_field(self):
        data = self.gate_data()
        data["phases"][4] = {"name": "perf", "status": "not run", "seconds": 0,
                             "note": "not reached"}   # a gate killed in its perf phase
        del data["perf"], data["baseline"]
        rundir.RunRecord(self.run_dir, "upgrade")
        (self.run_dir / "upgrade.json").write_text(json.dumps(data))
        done = rdmagate("report", str(self.run_dir))
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn("GO WITH RISKS", done.stdout)
        self.assertIn("phase perf not run", (self.run_dir / "report.html").read_text())
        data["verbs"]["tests"]["verbs.send"]["debian-13"] = 7
        (self.run_dir / "upgrade.json").write_text(json.dumps(data))
        done = rdmagate("report", str(self.run_dir))
        self.assertEqual(done.returncode, 2, done.stderr)
        self.assertEqual(done.stderr.strip().splitlines(),
                         [f"rdmagate: error: {self.run_dir / 'upgrade.json'}: not an upgrade "
                          "record (upgrade.json): field verbs.tests.verbs.send.debian-13: "
                          '7 is not one of "PASS", "FAIL", "UNSUPPORTED", "SKIP", "TIMEOUT", '
                          '"CRASH", "ERROR", "XFAIL"'])


class ResultLines(unittest.TestCase):
    def test_a_field_of_the_wrong_type_names_line_and_field(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "results.jsonl"
            good = json.dumps(result_line("api.a", "PASS"))
            path.write_text(good + "\n" + json.dumps(result_line("api.b", "PASS",
                                                                 duration_s="slow")) + "\n")
            with self.assertRaisesRegex(UsageError, r"results.jsonl:2: bad result line: "
                                        r"field duration_s: expected float"):
                results.read(path)
            path.write_text(good + "\n")
            (found,) = results.read(path)
            self.assertEqual(found.to_json(), json.loads(good))
            self.assertEqual(records.to_json(found), result_line("api.a", "PASS"))


if __name__ == "__main__":
    unittest.main()
