"""Bad input and failing writes: one definition reads every input
file (rdmagate.files: bounded, UTF-8, YAML aliases bounded; unknown keys
named with the nearest known one) and one writes every output file
(write aside, fsync, rename; exit 3 when it fails; exclusive temp names)."""
import copy
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import xml.etree.ElementTree as ET
from pathlib import Path

from rdmagate import files, profiles
from rdmagate.abi import headers, suppress
from rdmagate.errors import InfraError, UsageError
from rdmagate.outputs import junit, records, results, rundir
from rdmagate.perf import perftest
from rdmagate.stacks import manifest
from rdmagate.upgrade import record as upgrade_record
from tests.support import BASE, RDMAGATE, UNREACHABLE_MIRROR, point, result

RUNNER = Path(__file__).resolve().parents[2]
PROFILE = "device: rxe\ndescription: soft-RoCE\nexpect:\n  verbs.open_device: {outcome: PASS}\n"
BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(8))


class Case(unittest.TestCase):
    def setUp(self):
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.dir = Path(tmp.name)


class Profiles(Case):
    def write(self, text: str) -> None:
        (self.dir / "p.yaml").write_text(text, encoding="utf-8")

    def test_a_misspelt_expect_is_refused_with_the_right_key(self):
        # `expcet:` was dropped: every test was then expected to PASS
        self.write(PROFILE.replace("expect:", "expcet:"))
        with self.assertRaisesRegex(UsageError, r'p\.yaml: field expcet: unknown '
                                    r'\(did you mean "expect"\?\)$'):
            profiles.load("p", self.dir)

    def test_a_misspelt_entry_key_is_refused(self):
        self.write(PROFILE.replace("{outcome: PASS}", "{outcome: FAIL, reson: a known bug}"))
        with self.assertRaisesRegex(UsageError, r'field expect\.verbs\.open_device\.reson: '
                                    r'unknown \(did you mean "reason"\?\)'):
            profiles.load("p", self.dir)

    def test_values_of_the_wrong_type_are_refused(self):
        # perf.threshold "abc" was float()ed by the perf suite: a traceback
        for extra, field in (("perf: {threshold: abc}", "perf.threshold"),
                             ("perf: {threshold: 10}", "perf.threshold"),
                             ("perf: [1]", "perf.threshold"), ("verified: yes please", "verified")):
            with self.subTest(extra=extra):
                self.write(PROFILE + extra + "\n")
                with self.assertRaisesRegex(UsageError, rf"p\.yaml: field {field}: must be"):
                    profiles.load("p", self.dir)

    def test_a_good_profile_loads(self):
        self.write(PROFILE)
        self.assertEqual(profiles.load("p", self.dir)["expect"]["verbs.open_device"],
                         {"outcome": "PASS"})

    def test_every_profile_of_the_checkout_loads(self):
        for path in sorted(profiles.PROFILES_DIR.glob("*.yaml")):
            with self.subTest(profile=path.stem):
                profiles.load(path.stem)

    def test_an_alias_bomb_is_refused_at_once(self):
        self.write(PROFILE + BOMB)   # 10^9 nodes once expanded
        started = time.monotonic()
        with self.assertRaisesRegex(UsageError, "more than 100000 YAML nodes once its aliases"):
            profiles.load("p", self.dir)
        self.assertLess(time.monotonic() - started, 2)

    def test_an_alias_that_contains_itself_is_refused(self):
        self.write(PROFILE + "verified: &a [*a]\n")
        with self.assertRaisesRegex(UsageError, "an alias that contains itself"):
            profiles.load("p", self.dir)

    def test_deep_nesting_is_refused(self):
        self.write(PROFILE + "verified: " + "[" * 100000 + "]" * 100000 + "\n")
        with self.assertRaisesRegex(UsageError, "p.yaml: not (a hardware profile: nested too "
                                    "deeply|valid YAML)"):
            profiles.load("p", self.dir)

    def test_not_utf8_names_the_line(self):
        (self.dir / "p.yaml").write_bytes(PROFILE.encode() + b"verified: caf\xe9\n")
        with self.assertRaisesRegex(UsageError, r"p\.yaml:5: not a hardware profile: not UTF-8"):
            profiles.load("p", self.dir)


class Manifests(Case):
    def test_a_misspelt_field_names_the_nearest(self):
        path = self.dir / "s.yaml"
        path.write_text("name: s\nkind: debian\nsuite: trixie\npakages: []\n", encoding="utf-8")
        with self.assertRaisesRegex(UsageError, r'field pakages: unknown field \(did you mean '
                                    r'"packages"\?\)'):
            manifest.load(path)

    def test_a_yaml_file_larger_than_its_bound_is_refused(self):
        path = self.dir / "s.yaml"
        path.write_text("name: s\n" + "#" * files.MAX_YAML_BYTES + "\n")
        with self.assertRaisesRegex(UsageError, rf"larger than the {files.MAX_YAML_BYTES} bytes"):
            manifest.load(path)

    def test_a_file_larger_than_the_bound_is_refused_unread(self):
        path = self.dir / "s.yaml"
        path.write_text("#" * 100 + "\n")
        with self.assertRaisesRegex(UsageError, "larger than the 64 bytes"):
            files.read_text(path, "a manifest", limit=64)


class Records(Case):
    def test_an_unknown_key_names_the_nearest_in_every_record(self):
        run = rundir.Run("r", "check", [], "2026-12-01T00:00:00+00:00", None, "abc", None)
        path = self.dir / "run.json"
        records.write(run, path)
        data = json.loads(path.read_text())
        data["exit_cdoe"] = 0
        path.write_text(json.dumps(data))
        with self.assertRaisesRegex(UsageError, r'field exit_cdoe: unknown \(did you mean '
                                    r'"exit_code"\?\)'):
            rundir.load(self.dir)


class FoundByFuzzing(Case):
    def test_a_nul_in_a_manifest_is_a_usage_error(self):
        # RDMAGATE_FUZZ_SEED=19: yaml's ReaderError escaped the loader
        path = self.dir / "s.yaml"
        path.write_bytes(b"name: s\x00\nkind: debian\n")
        with self.assertRaisesRegex(UsageError, r"s\.yaml: not valid YAML \(unacceptable "
                                    "character #x0000"):
            manifest.load(path)

    def test_suppressions_and_baseline_texts_not_utf8_are_usage_errors(self):
        # RDMAGATE_FUZZ_SEED=19: UnicodeDecodeError escaped both readers
        path = self.dir / "s.supp"
        path.write_bytes(b"[suppress_type]\n  name = caf\xe9\n")
        with self.assertRaisesRegex(UsageError, r"s\.supp:2: not suppressions: not UTF-8"):
            suppress.read(path)
        path.write_bytes(b"struct ibv_\xff\n")
        with self.assertRaisesRegex(UsageError, r"s\.supp:1: not knowledge\.txt: not UTF-8"):
            headers.read_knowledge(path)

    def test_json_nested_past_the_recursion_limit_is_a_usage_error(self):
        # found by hand: RecursionError escaped perftest's JSON reader and results.jsonl's
        deep = "[" * 100000 + "]" * 100000
        with self.assertRaisesRegex(UsageError, "f.json: not a JSON report with results"):
            perftest.parse_json(deep, "f.json")
        path = self.dir / "results.jsonl"
        path.write_text(deep + "\n")
        with self.assertRaisesRegex(UsageError, r"results\.jsonl:1: not a JSON result line "
                                    r"\(nested too deeply\)"):
            results.read(path)
        path.write_text(deep)
        with self.assertRaisesRegex(UsageError, "nested too deeply"):
            records.load(rundir.Run, path, "run.json")

    def test_an_upgrade_json_point_of_no_size_is_refused_not_a_crash_of_the_report(self):
        # RDMAGATE_FUZZ_SEED=7, case 526: size -1 crashed report.html in log2
        data = copy.deepcopy(BASE)
        data["perf"] = [{"name": "write_lat", "title": "write latency", "kind": "latency",
                         "unit": "us", "points": [point(-1, 1.0, 1.0)]}]
        path = self.dir / "upgrade.json"
        path.write_text(json.dumps(data))
        with self.assertRaisesRegex(UsageError, r"perf\[0\]\.points\[0\]: field size: -1 is not "
                                    "a message size"):
            upgrade_record.load(path)


class Writes(Case):
    def test_a_full_disk_loses_nothing_and_is_exit_3(self):
        # RLIMIT_FSIZE stands in for a full disk: write() fails with EFBIG
        path = self.dir / "findings.json"
        path.write_text('{"old": true}\n')
        code = f"""
import resource, signal, sys
from pathlib import Path
from rdmagate import files
from rdmagate.errors import InfraError
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
try:
    files.write_atomic(Path({str(path)!r}), "x" * 100000, "findings.json")
except InfraError as err:
    print(err)
    sys.exit(err.exit_code)
"""
        done = subprocess.run([sys.executable, "-c", code], cwd=RUNNER, capture_output=True,
                              text=True, timeout=60, check=False)
        self.assertEqual(done.returncode, 3, done.stderr)
        self.assertRegex(done.stdout, r"findings\.json: cannot write findings\.json \(File too "
                         r"large\)\n$")
        self.assertEqual(path.read_text(), '{"old": true}\n')
        self.assertEqual(sorted(p.name for p in self.dir.iterdir()), ["findings.json"])

    def test_a_full_disk_under_a_real_command_is_exit_3_and_no_torn_file(self):
        # findings.json was cut at 4,096 bytes and `abi` exited 1 (NO-GO)
        def small_disk():
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
        env = dict(os.environ, RDMAGATE_CACHE=str(self.dir / "cache"),
                   RDMAGATE_MIRROR=UNREACHABLE_MIRROR)
        done = subprocess.run([sys.executable, str(RDMAGATE), "abi", "--from", "debian-12",
                               "--to", "debian-13", "--no-consumers", "--results",
                               str(self.dir / "r")], capture_output=True, text=True, env=env,
                              timeout=600, check=False, preexec_fn=small_disk)
        self.assertEqual(done.returncode, 3, done.stderr[-2000:])
        last = done.stderr.splitlines()[-1]
        self.assertRegex(last, r"^rdmagate: error: .*/r/[^/]+/[\w.]+: cannot write .*\(File too "
                         r"large\)$")
        self.assertNotIn("Traceback", done.stderr)
        for path in (self.dir / "r").rglob("*.json"):
            json.loads(path.read_text())   # every file there whole
        self.assertEqual(list((self.dir / "r").rglob("*.tmp")), [])

    def test_a_planted_temporary_name_is_never_followed(self):
        victim = self.dir / "victim"
        victim.write_text("keep\n")
        for name in ("junit.xml.tmp", "junit.tmp", ".junit.xml.tmp"):
            (self.dir / name).symlink_to(victim)
        junit.write([result("verbs.a", "PASS")], self.dir / "junit.xml")
        self.assertEqual(victim.read_text(), "keep\n")
        self.assertTrue((self.dir / "junit.xml").is_file())
        self.assertFalse((self.dir / "junit.xml").is_symlink())

    def test_a_directory_that_is_gone_is_an_infra_error(self):
        with self.assertRaisesRegex(InfraError, r"absent/run\.json: cannot write run\.json"):
            records.write(rundir.Run("r", "check", [], "", None, "abc", None),
                          self.dir / "absent" / "run.json")

    def test_junit_with_control_characters_is_well_formed(self):
        path = self.dir / "junit.xml"
        junit.write([result("verbs.a", "FAIL", reason="bad\x01\x1b[31m", message="x\x00y\x0bz\ud800")],
                    path)
        failure = ET.parse(path).getroot().find(".//failure")
        self.assertEqual(failure.get("message"), "bad\ufffd\ufffd[31m")   # the reason
        self.assertEqual(failure.text, "x\ufffdy\ufffdz\ufffd")


if __name__ == "__main__":
    unittest.main()
