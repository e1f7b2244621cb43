"""The committed kABI baselines (baselines/kabi/<stack>/): what they hold is
what the real headers packages say, a comparison needs no download with
them, and a broken one is a clear error."""
import json
import shutil
import tempfile
import unittest
from pathlib import Path

from rdmagate.kabi import baseline, compare, facts
from rdmagate.stacks import resolve
from tests.support import rdmagate

STACKS = ("debian-11", "debian-12", "debian-13", "debian-sid")


class Baselines(unittest.TestCase):
    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="rdmagate-kabi-baseline-"))
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def test_baselines_hold_what_the_headers_say(self):
        sides = {s: facts.side(s, full=True) for s in STACKS}
        recorded = {}
        for stack in STACKS:
            exports, kernel, _ = baseline.load(resolve(stack))
            self.assertEqual(kernel, sides[stack].facts, stack)
            self.assertEqual(exports, {s: e for s, e in sides[stack].exports.items()
                                       if s in exports})
            self.assertIn("ib_register_client", exports)
            self.assertNotIn("module_layout", exports)       # vmlinux: not the RDMA part
            recorded[stack] = facts.KernelSide(stack, kernel["release"], exports, kernel,
                                               "baseline", "rdma")
        for old, new in zip(STACKS, STACKS[1:]):
            self.assertEqual(compare.compare(recorded[old], recorded[new]).findings,
                             compare.compare(sides[old], sides[new]).findings, f"{old} {new}")

    def test_no_download_with_the_baselines(self):
        env = {"RDMAGATE_CACHE": str(self.tmp / "empty-cache"), "RDMAGATE_MIRROR":
               "http://127.0.0.1:9/debian"}   # nothing listens there: any download fails
        done = rdmagate("kabi", "--from", "debian-12", "--to", "debian-13", "--json",
                        "--results", str(self.tmp / "results"), env=env)
        self.assertEqual(done.returncode, 0, done.stderr)
        data = json.loads(done.stdout)
        self.assertTrue(data["from"]["source"].startswith("baseline "))
        self.assertEqual(data["summary"]["by_kind"]["CRC changed"], 710)
        self.assertFalse((self.tmp / "empty-cache" / "debs").exists())

    def test_a_corrupt_baseline_is_an_error_naming_the_file(self):
        copy = self.tmp / "baselines" / "kabi"
        shutil.copytree(baseline.root(), copy)
        (copy / "debian-12" / "facts.json").write_text("{not json")
        env = {"RDMAGATE_BASELINES": str(self.tmp / "baselines"),
               "RDMAGATE_CACHE": str(self.tmp / "empty-cache")}
        done = rdmagate("kabi", "--from", "debian-12", "--to", "debian-13",
                        "--results", str(self.tmp / "results"), env=env)
        self.assertEqual(done.returncode, 2, done.stderr)
        self.assertIn(f"{copy / 'debian-12' / 'facts.json'}: corrupt kABI baseline",
                      done.stderr.strip().splitlines()[-1])
        self.assertNotIn("Traceback", done.stderr)


if __name__ == "__main__":
    unittest.main()
