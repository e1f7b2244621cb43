"""`check --suite perf` end to end without a guest (perf/suite.py run()):
Session.boot replaced by planned runs (tests/perf_support.py), everything
else real: the adaptive rounds, the verdicts against a baseline in the
test's own directory, the history of this machine's last checks, the
result lines and perf.json. A lab test caught a rename that crashed every
check with a baseline ('str' object is not callable); this one runs in a
second."""
import json
import unittest
from pathlib import Path
from types import SimpleNamespace
from unittest import mock

from rdmagate.outputs.result import Result
from rdmagate.perf import record, suite
from tests.perf_support import (Target, fake_boot, own_baselines, without_boot_effect,
                                write_baseline)

STACK = SimpleNamespace(name="debian-12", kind="debian")
BASE = {"write_lat-2": 20000, "write_lat-4096": 40000, "send_lat-2": 20000,
        "read_lat-2": 30000, "atomic_faa_lat": 25000, "write_lat-64": 20000}
# what this check measures: the same, 1.5 times slower, half the time, too noisy to
# tell, an operation the device lacks, a run that failed
PLAN = {"write_lat-2": 19000, "write_lat-4096": 60000, "send_lat-2": 10000,
        "read_lat-2": (30000, 0.4), "atomic_faa_lat": {"unsupported": "no atomics"},
        "write_lat-64": {"error": "rdmagate-perf exited with 1"}}


class Run(unittest.TestCase):
    def setUp(self):
        self.root, self.baselines = own_baselines(self)
        without_boot_effect(self)   # verdicts on runs of one boot
        self.said: list[str] = []

    def check(self, number: int, plan: dict, stack=STACK) -> tuple[dict, Path]:
        run_dir = self.root / "results" / f"run{number}"
        run_dir.mkdir(parents=True)
        with mock.patch.object(suite.Session, "boot", fake_boot(plan, seed=number)):
            lines = suite.run(stack, None, Target(), "rxe-6.1", None, run_dir,
                              say=self.said.append)
        stored = [Result(**json.loads(line)) for line in
                  (run_dir / "results.jsonl").read_text().splitlines()]
        self.assertEqual(stored, lines)
        return {line.name: line for line in lines}, run_dir

    def test_verdicts_against_the_baseline_and_this_machines_last_checks(self):
        write_baseline(self.baselines, "rxe-6.1", "debian-12", BASE)
        got, run_dir = self.check(1, PLAN)
        self.assertEqual({n: (r.outcome, r.reason) for n, r in got.items()},
                         {"write_lat-2": ("PASS", "same"), "write_lat-4096": ("FAIL", "slower"),
                          "send_lat-2": ("PASS", "faster"),
                          "read_lat-2": ("SKIP", "inconclusive"),
                          "atomic_faa_lat": ("UNSUPPORTED", "not measured: no atomics"),
                          "write_lat-64": ("ERROR", "rdmagate-perf exited with 1")})
        self.assertRegex(got["write_lat-4096"].message,
                         r"^slower: 1\.[45]\d\dx the baseline \(99% CI 1\.\d{3}-1\.\d{3}, \d+ "
                         r"runs against 8, threshold 10%, lab\)$")
        self.assertRegex(got["send_lat-2"].message, r"^faster: 0\.[45]\d\dx the baseline ")
        self.assertRegex(got["read_lat-2"].message, r"^inconclusive: .*16 runs against 8")
        self.assertEqual(got["atomic_faa_lat"].message, "not measured: no atomics")
        self.assertTrue(any(line.startswith("perf: budget 240 s") for line in self.said))
        kept = record.load(run_dir / "perf.json")
        self.assertEqual(kept.baseline, str(self.baselines / "rxe-6.1" / "debian-12.json"))
        self.assertEqual({n: v.verdict for n, v in kept.verdicts.items()},
                         {"write_lat-2": "same", "write_lat-4096": "slower",
                          "send_lat-2": "faster", "read_lat-2": "inconclusive"})
        self.assertEqual({v.where for v in kept.verdicts.values()}, {"lab"})
        self.assertEqual((kept.machine["where"], kept.history, kept.history_checks),
                         ("lab", {}, 0))
        self.assertGreaterEqual(kept.boots, 2)   # read_lat-2 took more rounds

        # the next check has this one to compare with too
        got, run_dir = self.check(2, PLAN)
        self.assertRegex(got["write_lat-2"].message, r"^same: .*the baseline .*; same: "
                         r"[01]\.\d{3}x the last 1 checks here \(99% CI .*, lab\)$")
        # then write_lat-2 drifts 10% from this machine's past, within the baseline's
        # threshold: the history fails it
        got, run_dir = self.check(3, dict(PLAN, **{"write_lat-2": 21000}))
        self.assertEqual((got["write_lat-2"].outcome, got["write_lat-2"].reason),
                         ("FAIL", "slower"))
        self.assertRegex(got["write_lat-2"].message, r"^same: 1\.0\d\dx the baseline .*; "
                         r"slower: 1\.\d{3}x the last 2 checks here \(.*, 8 runs against 16")
        kept = record.load(run_dir / "perf.json")
        self.assertEqual((kept.history["write_lat-2"].verdict, kept.history_checks),
                         ("slower", 2))
        self.assertEqual(kept.history["write_lat-4096"].verdict, "same")

    def test_no_baseline_says_so_and_keeps_the_history(self):
        got, run_dir = self.check(1, {"write_lat-2": 20000}, SimpleNamespace(
            name="debian-99", kind="debian"))
        self.assertEqual(sorted(got), sorted(suite.native.SHORT))
        line = got["write_lat-2"]
        self.assertEqual((line.outcome, line.reason, line.message),
                         ("SKIP", "no baseline", "no baseline baselines/perf/rxe-6.1/debian-99.json"))
        self.assertEqual(got["send_lat-2"].outcome, "ERROR")   # not in the plan: did not run
        kept = record.load(run_dir / "perf.json")
        self.assertEqual((kept.baseline, kept.verdicts), (None, {}))
        self.assertEqual(len(list((self.root / "results" / "perf-history").glob("*/*/*.jsonl"))),
                         1)


if __name__ == "__main__":
    unittest.main()
