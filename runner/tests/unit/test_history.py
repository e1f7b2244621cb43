"""rdmagate history on recorded runs: a flaky test and a perf drift found,
changes since the run before, fleet runs per node, bad input, and two
writers at once leaving the database whole."""
import json
import sqlite3
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

from rdmagate.fleet import record
from rdmagate.history import analysis
from tests.support import BASE, RDMAGATE, rdmagate, result_line


def check_run(base: Path, key: str, started: str, outcomes: dict, perf: dict | None = None,
              profile: str = "rxe-6.1", stack: str = "debian-12") -> Path:
    """A finished check run directory as check writes it."""
    run_dir = base / key
    run_dir.mkdir(parents=True)
    (run_dir / "run.json").write_text(json.dumps({
        "run_id": key, "command": "check", "argv": ["check"], "started": started,
        "finished": started,
        "stack": stack, "profile": f"hw-profiles/{profile}.yaml", "exit_code": 0,
        "git_revision": "abc"}))
    (run_dir / "results.jsonl").write_text("".join(
        json.dumps(result_line(test, outcome, stack=stack)) + "\n"
        for test, outcome in outcomes.items()))
    if perf:
        # a format-1 perf.json (no format field, runs, machine): still read
        (run_dir / "perf.json").write_text(json.dumps({
            "baseline": "baselines/perf/rxe-6.1/debian-12.json", "threshold": 0.1,
            "verdicts": {name: {"ratio": ratio, "ci": [ratio, ratio], "verdict": "same",
                                "n": [1, 1]} for name, ratio in perf.items()}}))
    return run_dir


FLAKY = ["PASS", "FAIL", "PASS", "PASS", "FAIL", "PASS", "PASS"]
BROKE = ["PASS"] * 6 + ["FAIL"]
DRIFTING = [1.00, 1.02, 0.99, 1.01, 1.35, 1.33, 1.36]
STEADY = [1.00, 1.05, 0.96, 1.03, 0.98, 1.04, 0.97]


class DriftVerdict(unittest.TestCase):
    """A drift is perf/stats' verdict on the checks after a run against those before."""

    @staticmethod
    def series(values: list[float]) -> analysis.Series:
        return analysis.Series("local", "debian-12", "rxe-6.1", "perf.write_lat_2",
                               [(f"night{i}", "", v) for i, v in enumerate(values)])

    def test_a_clear_step_is_a_drift_from_its_run(self):
        found = analysis.drift(self.series(DRIFTING))
        self.assertEqual((found.at, found.compared.verdict), (4, "slower"))
        self.assertGreater(found.compared.low, 1.1)

    def test_noise_wider_than_the_threshold_is_no_drift(self):
        # medians 0.85 and 1.25 (1.47x) at the first split, but two runs this
        # far apart cannot tell a change from noise
        self.assertIsNone(analysis.drift(self.series([1.0, 0.7, 1.3, 1.3, 0.9, 1.2])))


class HistoryOfRecordedRuns(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        base = Path(cls.tmp.name)
        cls.db = base / "history.sqlite"
        runs = []
        for night in range(7):
            started = f"2026-11-{20 + night:02d}T02:00:00+00:00"
            runs.append(check_run(base / "runs", f"night{night}", started,
                                  {"verbs.rc_send": FLAKY[night], "verbs.ud_send": BROKE[night],
                                   "api.fork_init": "PASS"},
                                  {"write_lat_2": DRIFTING[night], "read_lat_2": STEADY[night]}))
            # the same test on another profile is another series: steady there
            runs.append(check_run(base / "runs", f"night{night}-mlx5", started,
                                  {"verbs.rc_send": "PASS"}, profile="mlx5-6.1"))
        cls.added = rdmagate("history", "add", "--db", str(cls.db), *map(str, runs))
        cls.again = rdmagate("history", "add", "--db", str(cls.db), str(runs[0]))
        cls.html = base / "history.html"
        cls.done = rdmagate("history", "report", "--db", str(cls.db), "--since", "100000d",
                            "--html", str(cls.html))

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_runs_added_once(self):
        self.assertEqual(self.added.returncode, 0, self.added.stderr)
        self.assertEqual(self.added.stdout.count("added: "), 14)
        self.assertIn("kept already", self.again.stdout)
        self.assertIn("14 run(s) since", self.done.stdout)

    def test_the_flaky_test_is_found_on_its_profile_only(self):
        self.assertEqual(self.done.returncode, 0, self.done.stderr)
        section = self.done.stdout.split("flaky", 1)[1].split("perf drift", 1)[0]
        self.assertIn("local/debian-12/rxe-6.1 verbs.rc_send: PASS FAIL PASS PASS FAIL PASS "
                      "PASS (4 flips)", section)
        self.assertNotIn("mlx5", section)
        self.assertNotIn("ud_send", section, "a test that broke once is not flaky")

    def test_what_changed_since_the_run_before(self):
        section = self.done.stdout.split("changed since the run before: ", 1)[1]
        section = section.split("flaky", 1)[0]
        self.assertTrue(section.startswith("1\n"), section)
        self.assertIn("verbs.ud_send: PASS -> FAIL (run night6)", section)

    def test_the_perf_drift_is_found_with_its_run(self):
        section = self.done.stdout.split("perf drift: ", 1)[1]
        self.assertTrue(section.startswith("1\n"), section)
        self.assertIn("perf.write_lat_2: 1.005 -> 1.350 (1.34x) from run night4", section)
        self.assertNotIn("read_lat_2", section, "noise within the threshold is no drift")

    def test_html_has_the_trends_inline(self):
        page = self.html.read_text()
        self.assertEqual(page.count("<svg"), 2)
        self.assertIn("changed at run night4", page)
        timelines = page.split("outcomes over time", 1)[1].split("perf trends", 1)[0]
        self.assertEqual(timelines.count("<tr>"), 2)   # rc_send and ud_send on rxe-6.1
        self.assertIn("verbs.ud_send", timelines)
        self.assertNotIn("api.fork_init", timelines)
        for outside in ("<script", "http://", "https://"):
            self.assertNotIn(outside, page.replace('xmlns="http://www.w3.org/2000/svg"', ""))

    def test_since_keeps_recent_runs_only(self):
        done = rdmagate("history", "report", "--db", str(self.db), "--since", "1d")
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn("0 run(s) since", done.stdout)


class HistoryOfFleets(unittest.TestCase):
    def test_per_node_and_a_node_not_tested(self):
        with tempfile.TemporaryDirectory() as tmp:
            run_dir = Path(tmp) / "fleet1"
            (run_dir / "nodes" / "n1").mkdir(parents=True)
            (run_dir / "nodes" / "n1" / "results.jsonl").write_text(
                json.dumps(result_line("api.fork_init", "PASS")) + "\n")
            fleet = record.Fleet("host", "slurm", ["api"], started="2026-11-30T01:00:00+00:00",
                                 finished="2026-11-30T01:01:00+00:00", exit_code=3,
                                 nodes=[record.Node("n1", "tested", run_dir="nodes/n1"),
                                        record.Node("n2", reason="node n2 is DOWN")])
            fleet.write(run_dir / "fleet.json")
            db = Path(tmp) / "h.sqlite"
            done = rdmagate("history", "add", "--db", str(db), str(run_dir))
            self.assertEqual(done.returncode, 0, done.stderr)
            with sqlite3.connect(db) as conn:
                rows = sorted(conn.execute("SELECT node, test, outcome, reason FROM results"))
        self.assertEqual(rows, [("n1", "api.fork_init", "PASS", ""),
                                ("n2", "node.tested", "ERROR", "node n2 is DOWN")])


class HistoryOfUpgrades(unittest.TestCase):
    def test_the_verdict_and_the_check_runs_under_runs(self):
        with tempfile.TemporaryDirectory() as tmp:
            run_dir = Path(tmp) / "up1"
            check_run(run_dir / "runs", "c-new", "2026-11-30T01:00:00+00:00",
                      {"verbs.rc_send": "FAIL"}, stack="debian-13", profile="rxe-6.12")
            check_run(run_dir / "runs", "c-old", "2026-11-30T01:00:00+00:00",
                      {"verbs.rc_send": "PASS"}, stack="debian-11", profile="rxe-5.10")
            (run_dir / "run.json").write_text(json.dumps({
                "run_id": "up1", "command": "upgrade", "argv": ["upgrade"],
                "started": "2026-11-30T01:00:00+0000", "finished": "2026-11-30T01:09:00+0000",
                "exit_code": 1, "git_revision": "abc"}))
            (run_dir / "upgrade.json").write_text(json.dumps(dict(BASE, verdict="NO-GO")))
            db = Path(tmp) / "h.sqlite"
            done = rdmagate("history", "add", "--db", str(db), str(run_dir))
            self.assertEqual(done.returncode, 0, done.stderr)
            with sqlite3.connect(db) as conn:
                self.assertEqual(conn.execute("SELECT command, stack, verdict, started FROM runs")
                                 .fetchall(),
                                 [("upgrade", "debian-11->debian-13", "NO-GO",
                                   "2026-11-30T01:00:00+00:00")])
                self.assertEqual(sorted(conn.execute("SELECT stack, profile, outcome FROM results")),
                                 [("debian-11", "rxe-5.10", "PASS"),
                                  ("debian-13", "rxe-6.12", "FAIL")])


class HistoryInput(unittest.TestCase):
    def assert_usage(self, done, *words):
        self.assertEqual(done.returncode, 2, done.stderr)
        lines = done.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, done.stderr)
        for word in words:
            self.assertIn(word, lines[0])

    def test_bad_runs_databases_and_ages(self):
        with tempfile.TemporaryDirectory() as tmp:
            base = Path(tmp)
            db = base / "h.sqlite"
            self.assert_usage(rdmagate("history", "add", "--db", str(db), tmp),
                              tmp, "not a run directory")
            unfinished = check_run(base, "r1", "2026-11-30T01:00:00+00:00", {"api.x": "PASS"})
            data = json.loads((unfinished / "run.json").read_text())
            data["finished"] = None
            (unfinished / "run.json").write_text(json.dumps(data))
            self.assert_usage(rdmagate("history", "add", "--db", str(db), str(unfinished)),
                              "run.json", "field finished")
            self.assertFalse(db.exists(), "a bad run wrote to the history")
            self.assert_usage(rdmagate("history", "report", "--db", str(db)),
                              str(db), "no history")
            (base / "junk.sqlite").write_text("not a database at all " * 100)
            self.assert_usage(rdmagate("history", "report", "--db", str(base / "junk.sqlite")),
                              "junk.sqlite", "not an rdmagate history")
            good = check_run(base, "r2", "2026-11-30T01:00:00+00:00", {"api.x": "PASS"})
            self.assertEqual(rdmagate("history", "add", "--db", str(db), str(good)).returncode, 0)
            bad_perf = check_run(base, "r3", "2026-11-30T02:00:00+00:00", {"api.x": "PASS"},
                                 {"write_lat_2": 1.0})
            data = json.loads((bad_perf / "perf.json").read_text())
            data["verdicts"]["write_lat_2"]["ratio"] = "fast"
            (bad_perf / "perf.json").write_text(json.dumps(data))
            self.assert_usage(rdmagate("history", "add", "--db", str(db), str(bad_perf)),
                              "perf.json", "field verdicts.write_lat_2.ratio")
            self.assert_usage(rdmagate("history", "report", "--db", str(db), "--since", "2w"),
                              "--since 2w")


class ConcurrentWriters(unittest.TestCase):
    def test_two_writers_at_once_keep_the_database_whole(self):
        with tempfile.TemporaryDirectory() as tmp:
            base = Path(tmp)
            shared = [check_run(base, f"shared{i}", f"2026-11-01T00:{i:02d}:00+00:00",
                                {f"verbs.t{k}": "PASS" for k in range(20)}) for i in range(30)]
            own = [[check_run(base, f"own{w}-{i}", f"2026-11-02T00:{i:02d}:00+00:00",
                              {f"verbs.t{k}": "FAIL" for k in range(20)}) for i in range(10)]
                   for w in range(2)]
            db = base / "h.sqlite"
            writers = [subprocess.Popen([sys.executable, str(RDMAGATE), "history", "add",
                                         "--db", str(db), *map(str, shared + own[w])],
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        text=True)
                       for w in range(2)]
            outs = [w.communicate(timeout=300) for w in writers]
            for writer, (out, err) in zip(writers, outs):
                self.assertEqual(writer.returncode, 0, err)
            added = sum(out.count("added: ") for out, _ in outs)
            with sqlite3.connect(db) as conn:
                self.assertEqual(conn.execute("PRAGMA integrity_check").fetchone()[0], "ok")
                runs = conn.execute("SELECT COUNT(*), COUNT(DISTINCT run_key) FROM runs")
                self.assertEqual(runs.fetchone(), (50, 50))
                self.assertEqual(conn.execute("SELECT COUNT(*) FROM results").fetchone()[0],
                                 50 * 20)
                orphans = conn.execute("SELECT COUNT(*) FROM results WHERE run NOT IN "
                                       "(SELECT id FROM runs)").fetchone()[0]
                self.assertEqual(orphans, 0)
            self.assertEqual(added, 50, "a shared run was added twice, or not at all")


if __name__ == "__main__":
    unittest.main()
