"""Records and files that belong to someone else, every field checked on
read, and output for people: each example of the second sweep of hostile
input, as it was seen, ends in one line and exit 2 (or is shown escaped),
never in a silent wrong reading or "internal error"."""
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

from rdmagate import files, profiles
from rdmagate.abi import baseline as abi_baseline
from rdmagate.errors import UsageError
from rdmagate.kabi import baseline as kabi_baseline
from rdmagate.outputs import records
from rdmagate.perf import baseline as perf_baseline, pair_baseline
from rdmagate.stacks import resolve
from tests.support import BASE, RDMAGATE, REPO_ROOT, rdmagate, result_line

ESCAPE = "\x1b]0;owned\x07\x1b[2J"


class Case(unittest.TestCase):
    def setUp(self):
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.dir = Path(tmp.name)

    def assert_one_line(self, done, code, *words):
        self.assertEqual(done.returncode, code, done.stdout + done.stderr)
        lines = done.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, done.stderr)
        self.assertNotIn("internal error", lines[0])
        for word in words:
            self.assertIn(word, lines[0])

    def check_run(self, key: str, **fields) -> Path:
        run_dir = self.dir / key
        run_dir.mkdir(parents=True)
        stamp = "2026-11-30T01:00:00+00:00"
        (run_dir / "run.json").write_text(json.dumps({
            "run_id": key.rsplit("/", 1)[-1], "command": "check", "argv": ["check"],
            "started": stamp, "finished": stamp, "stack": "debian-12", "exit_code": 0,
            "git_revision": "abc", **fields}))
        (run_dir / "results.jsonl").write_text(json.dumps(result_line("api.x", "PASS")) + "\n")
        return run_dir

    def upgrade_run(self, key: str, **changes) -> Path:
        run_dir = self.check_run(key, command="upgrade")
        (run_dir / "results.jsonl").unlink()
        (run_dir / "upgrade.json").write_text(json.dumps({**BASE, **changes}))
        return run_dir

    def baselines(self) -> Path:
        """A copy of the checkout's baselines, which RDMAGATE_BASELINES points at."""
        root = self.dir / "baselines"
        for kind in ("abi", "kabi"):
            shutil.copytree(REPO_ROOT / "baselines" / kind, root / kind)
        os.environ["RDMAGATE_BASELINES"] = str(root)
        self.addCleanup(os.environ.pop, "RDMAGATE_BASELINES")
        return root


def rewrite(path: Path, change) -> Path:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))
    return path


class FilesOfSomeoneElse(Case):
    """Class 6: rdmagate writes only into what is its own."""

    def test_another_programs_sqlite_file_is_refused_untouched(self):
        db = self.dir / "crm.sqlite"
        with sqlite3.connect(db) as conn:
            conn.execute("CREATE TABLE contacts (name TEXT)")
        before = db.read_bytes()
        done = rdmagate("history", "add", "--db", str(db), str(self.check_run("r1")))
        self.assert_one_line(done, 2, str(db), "not an rdmagate history", "contacts")
        self.assertEqual(db.read_bytes(), before)

    def test_the_history_is_marked_and_an_unmarked_one_is_adopted(self):
        db = self.dir / "h.sqlite"
        self.assertEqual(rdmagate("history", "add", "--db", str(db),
                                  str(self.check_run("r1"))).returncode, 0)
        with sqlite3.connect(db) as conn:
            self.assertEqual(conn.execute("PRAGMA application_id").fetchone()[0], 0x52444D47)
            conn.execute("PRAGMA application_id = 0")   # a history made before the mark
        done = rdmagate("history", "add", "--db", str(db), str(self.check_run("r2")))
        self.assertEqual(done.returncode, 0, done.stderr)
        with sqlite3.connect(db) as conn:
            self.assertEqual(conn.execute("PRAGMA application_id").fetchone()[0], 0x52444D47)
            conn.execute("PRAGMA application_id = 7")   # another program's mark
        self.assert_one_line(rdmagate("history", "report", "--db", str(db)), 2,
                             "application_id 0x7")
        empty = self.dir / "empty.sqlite"
        empty.touch()   # a report only reads: an empty file stays empty
        self.assert_one_line(rdmagate("history", "report", "--db", str(empty)), 2,
                             "no history there")
        self.assertEqual(empty.stat().st_size, 0)

    def test_an_upgrade_run_without_upgrade_json_keeps_its_report(self):
        run_dir = self.upgrade_run("up")
        (run_dir / "upgrade.json").unlink()
        # what an abi phase leaves: a findings.json an abi report could be made of
        (run_dir / "findings.json").write_text(json.dumps({
            "from": {}, "to": {}, "verdicts": {}, "sources": [], "abidiff": {},
            "consumers": [], "suppressed": [], "findings": []}))
        (run_dir / "report.html").write_text("the gate's report")
        done = rdmagate("report", str(run_dir))
        self.assert_one_line(done, 2, "rdmagate upgrade without its upgrade.json")
        self.assertEqual((run_dir / "report.html").read_text(), "the gate's report")

    def test_a_run_from_a_future_format_or_another_tool_is_not_added(self):
        db = self.dir / "h.sqlite"
        future = self.check_run("future", format=99)
        self.assert_one_line(rdmagate("history", "add", "--db", str(db), str(future)), 2,
                             "field format: version 99")
        foreign = self.check_run("foreign", tool="jenkins")
        self.assert_one_line(rdmagate("history", "add", "--db", str(db), str(foreign)), 2,
                             "field tool: unknown")
        self.assertFalse(db.exists())

    def test_a_part_of_a_kept_run_is_not_added_again(self):
        upgrade = self.upgrade_run("up1", verdict="GO")
        part = self.check_run("up1/runs/c-new")
        db = self.dir / "h.sqlite"
        self.assertEqual(rdmagate("history", "add", "--db", str(db), str(upgrade)).returncode, 0)
        self.assert_one_line(rdmagate("history", "add", "--db", str(db), str(part)), 2,
                             "a part of the run", "up1")
        with sqlite3.connect(db) as conn:
            self.assertEqual(conn.execute("SELECT COUNT(*) FROM results").fetchone()[0], 1)


class EveryFieldChecked(Case):
    """Class 7: type, range, finiteness and set of every field, in one place."""

    def test_the_record_layer_checks_types_ranges_and_sets(self):
        from typing import Annotated, Literal
        for hint, value, said in ((int, True, "expected int"),
                                  (int, 10**400, "a number of 401 digits is out of range"),
                                  (float, float("nan"), "NaN is not a finite number"),
                                  (float, 10**400, "out of range"),
                                  (Literal[("done", "failed")], "maybe", '"maybe" is not one of'),
                                  (Literal[(1, 2)], True, "true is not one of"),
                                  (Annotated[int, records.Range(1, 64)], -3,
                                   "-3 is not in 1 to 64"),
                                  (records.Name, "a\x1bb", "control character"),
                                  (dict[str, int], {"a\nb": 1}, "control character")):
            with self.subTest(hint=hint, value=str(value)[:20]):
                with self.assertRaisesRegex(records.Mismatch, said):
                    records.convert(hint, value, "f")
        self.assertEqual(records.convert(Annotated[int, records.Range(1, 64)], 64, "f"), 64)

    def test_a_kabi_baseline_config_of_true_is_refused(self):
        facts = self.baselines() / "kabi" / "debian-12" / "facts.json"
        rewrite(facts, lambda d: d["config"].update(CONFIG_MODVERSIONS=True))
        with self.assertRaisesRegex(UsageError, r"facts.json: .*CONFIG_MODVERSIONS: true is "
                                    r"not one of \"y\", \"m\", \"n\""):
            kabi_baseline.load(resolve("debian-12"))

    def test_a_glibc_floor_that_is_no_version_is_refused(self):
        inventory = self.baselines() / "abi" / "debian-13" / "inventory.json"
        rewrite(inventory, lambda d: d["libraries"]["libefa"].update(glibc_floor="banana"))
        with self.assertRaisesRegex(UsageError, r"inventory.json: field "
                                    r"libraries.libefa.glibc_floor: \"banana\" is not"):
            abi_baseline.load(resolve("debian-13"))

    def perf(self, change) -> Path:
        path = self.dir / "rxe-6.1" / "debian-12.json"
        path.parent.mkdir(exist_ok=True)
        shutil.copy(REPO_ROOT / "baselines/perf/rxe-6.1/debian-12.json", path)
        return rewrite(path, change)

    def pair(self, change) -> Path:
        path = self.dir / "rxe-6.1" / "host.json"
        path.parent.mkdir(exist_ok=True)
        shutil.copy(REPO_ROOT / "baselines/perftest/rxe-6.1/host.json", path)
        return rewrite(path, change)

    def test_a_perf_baseline_in_another_unit_or_place_is_refused(self):
        for change, said in ((lambda d: d.update(unit="us"), 'field unit: "us" is not one of "ns"'),
                             (lambda d: d["machine"].update(where="moon"),
                              'field machine.where: "moon" is not one of "lab", "device"')):
            with self.subTest(said=said), self.assertRaisesRegex(UsageError, said):
                perf_baseline.load(self.perf(change))
        with self.assertRaisesRegex(UsageError, 'field machine.where: "moon"'):
            pair_baseline.load(self.pair(lambda d: d["machine"].update(where="moon")))

    def test_boots_out_of_range_are_refused(self):
        for boots in (-3, 0, 1e30, 10**400, True):
            with self.subTest(boots=str(boots)[:10]):
                with self.assertRaisesRegex(UsageError, "field boots: "):
                    perf_baseline.load(self.perf(lambda d: d.update(boots=boots)))
                with self.assertRaisesRegex(UsageError, "field boots: "):
                    pair_baseline.load(self.pair(lambda d: d.update(boots=boots)))

    def test_a_latency_that_is_better_higher_is_refused(self):
        def perf(d):
            d["measurements"]["write_lat-2"]["higher_is_better"] = True
        with self.assertRaisesRegex(UsageError, "write_lat-2.higher_is_better: must be false"):
            perf_baseline.load(self.perf(perf))

        def pair(d):
            d["measurements"]["ib_write_lat-2"]["higher_is_better"] = True
        with self.assertRaisesRegex(UsageError, "higher_is_better: must be false for typical_us"):
            pair_baseline.load(self.pair(pair))

    def test_outcomes_statuses_and_severities_outside_their_sets_are_refused(self):
        finding = {"library": "libibverbs", "kind": "symbol removed", "severity": "catastrophic",
                   "audience": "applications", "detail": "x"}
        verbs = json.loads(json.dumps(BASE["verbs"]))
        verbs["tests"]["verbs.send"]["debian-13"] = "MAYBE"
        for key, changes, said in (
                ("status", {"phases": [dict(BASE["phases"][0], status="bogus")]},
                 'phases[0].status: "bogus" is not one of "done", "failed", "not run"'),
                ("outcome", {"verbs": verbs}, 'verbs.send.debian-13: "MAYBE" is not one of'),
                ("severity", {"abi": {"verdicts": {}, "findings": [finding]}},
                 'findings[0].severity: "catastrophic" is not one of')):
            with self.subTest(key):
                done = rdmagate("report", str(self.upgrade_run(key, **changes)))
                self.assert_one_line(done, 2, said)

    def test_a_yaml_key_given_twice_is_refused_with_its_line(self):
        (self.dir / "twice.yaml").write_text("device: rxe\ndescription: a\n"
                                             "expect: {}\ndescription: b\n")
        with self.assertRaisesRegex(UsageError, r"twice.yaml:4: not a hardware profile: key "
                                    r"'description' given twice"):
            profiles.load("twice", self.dir)
        # a merge key is how YAML overrides on purpose: allowed
        self.assertEqual(files.parse_yaml("a: &x {k: 1}\nb: {<<: *x, k: 2}\n", "f", "x"),
                         {"a": {"k": 1}, "b": {"k": 2}})

    def test_a_threshold_of_nan_is_refused(self):
        for value in ("nan", "inf", "-1", "1e999"):
            with self.subTest(value):
                self.assert_one_line(rdmagate("history", "report", "--threshold", value), 2,
                                     f"--threshold {value}: a number from 0 to 100")

    def test_what_was_an_internal_error_is_the_users_input(self):
        db = self.dir / "h.sqlite"
        huge = self.check_run("huge", exit_code=10**400)
        self.assert_one_line(rdmagate("history", "add", "--db", str(db), str(huge)), 2,
                             "field exit_code: a number of 401 digits is out of range")
        wrong = self.check_run("wrong", started=12)
        self.assert_one_line(rdmagate("history", "add", "--db", str(db), str(wrong)), 2,
                             "field started: expected str, got 12")
        self.assert_one_line(rdmagate("history", "report", "--db", str(db), "--since",
                                      "99999999999d"), 2, "--since 99999999999d")
        self.assert_one_line(rdmagate("stacks", "show", "prefix:~nosuchuser/x"), 2,
                             "~nosuchuser: no such user here")
        for k, value in enumerate((10**400, float("inf"))):
            run_dir = self.upgrade_run(f"up-{k}", phases=[dict(BASE["phases"][0],
                                                               seconds=value)])
            self.assert_one_line(rdmagate("report", str(run_dir)), 2, "phases[0].seconds")
        samples = self.perf(lambda d: d["measurements"]["write_lat-2"]["runs"][0]
                            .__setitem__(0, 10**400))
        self.assert_one_line(rdmagate("baseline", "show", str(samples)), 2,
                             "write_lat-2.runs[0]")

    def test_a_closed_stdout_is_quiet(self):
        closed = subprocess.run([sys.executable, str(RDMAGATE), "stacks", "list"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                pass_fds=(), close_fds=True,
                                preexec_fn=lambda: os.close(1))
        self.assertEqual((closed.returncode, closed.stderr), (0, ""))
        # The reader is gone before the first write, as after `| head -c0`: a
        # reader that closes later races a short output that fits the pipe.
        read_end, write_end = os.pipe()
        os.close(read_end)
        try:
            printer = subprocess.run([sys.executable, str(RDMAGATE), "stacks", "show",
                                      "debian-13", "--json"], stdout=write_end,
                                     stderr=subprocess.PIPE, timeout=120)
        finally:
            os.close(write_end)
        self.assertEqual((printer.returncode, printer.stderr), (141, b""))


class OutputForPeople(Case):
    """Class 9."""

    def test_control_characters_from_input_are_shown_escaped(self):
        manifest = self.dir / "evil.yaml"
        text = (REPO_ROOT / "stacks" / "debian-12.yaml").read_text()
        manifest.write_text("".join(f"description: {json.dumps(ESCAPE)}\n"
                                    if line.startswith("description:") else line + "\n"
                                    for line in text.splitlines()))
        shown = rdmagate("stacks", "show", str(manifest))
        self.assertEqual(shown.returncode, 0, shown.stderr)
        self.assertNotIn("\x1b", shown.stdout + shown.stderr)
        self.assertIn("\\x1b]0;owned\\x07\\x1b[2J", shown.stdout)
        baseline = self.dir / "rxe-6.1" / "debian-12.json"
        baseline.parent.mkdir()
        shutil.copy(REPO_ROOT / "baselines/perf/rxe-6.1/debian-12.json", baseline)
        rewrite(baseline, lambda d: d.update(recorded=ESCAPE))
        shown = rdmagate("baseline", "show", str(baseline))
        self.assertEqual(shown.returncode, 0, shown.stderr)
        self.assertNotIn("\x1b", shown.stdout + shown.stderr)
        self.assertIn("recorded \\x1b]0;owned", shown.stdout)

    def test_a_timeout_of_0_and_a_filter_of_nothing_are_refused_before_a_build(self):
        self.assert_one_line(rdmagate("check", "--timeout", "0"), 2,
                             "--timeout 0: a whole number from 1")
        done = rdmagate("check", "--filter", "verbs.no_such_test", "--results", str(self.dir))
        self.assert_one_line(done, 2, "--filter verbs.no_such_test: matches none of the")
        self.assertEqual(list(self.dir.iterdir()), [], "a run was started")

    def test_the_declared_tests_are_what_the_harness_lists(self):
        from rdmagate import suites
        from rdmagate.harness import build
        built = [Path(os.environ.get("RDMAGATE_TEST_BUILD_DIR", REPO_ROOT / "build" / "ci"),
                      "harness", "rdmagate-harness"),
                 REPO_ROOT / "build" / "stacks" / "host" / "harness" / "rdmagate-harness"]
        harness = next((h for h in built if h.is_file()), None)
        if harness is None:
            self.skipTest(f"no built harness at {built[0]}")
        declared = set().union(*(suites.declared(s) for s in suites.device_suites()))
        self.assertEqual(declared, set(build.list_tests(harness)))

    def test_an_upgrade_record_with_no_phases_is_no_verdict(self):
        done = rdmagate("report", str(self.upgrade_run("up", phases=[])))
        self.assert_one_line(done, 2, "field phases: empty, so there is no verdict")
        self.assertNotIn("GO", done.stdout)

    def test_a_local_fleet_is_bounded(self):
        self.assert_one_line(rdmagate("fleet", "run", "--scheduler", "local", "--nodes",
                                      "100000"), 2, "--nodes 100000: a whole number from 1")
        self.assert_one_line(rdmagate("fleet", "run", "--scheduler", "local", "--nodes",
                                      "17", "--results", str(self.dir)), 2,
                             "--scheduler local runs at most 16 nodes")
        self.assertEqual(list(self.dir.iterdir()), [])


if __name__ == "__main__":
    unittest.main()
