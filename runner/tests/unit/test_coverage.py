"""The coverage interposer on this host: calls from the harness counted,
inline verbs recorded, a corrupt file refused."""
import os
import subprocess
import tempfile
import unittest
from pathlib import Path

from rdmagate.harness import coverage
from rdmagate.outputs import plan
from rdmagate.errors import InfraError
from tests.support import BUILD_DIR

HARNESS = BUILD_DIR / "harness" / "rdmagate-harness"


@unittest.skipUnless(HARNESS.is_file(), "run through ctest, which builds the harness")
class Interposer(unittest.TestCase):
    def test_api_suite_calls_are_counted(self):
        with tempfile.TemporaryDirectory() as tmp:
            run_dir = Path(tmp)
            plan.write(plan.build("host", "none", ["api"]), run_dir / "plan.json")
            env = dict(os.environ, **dict(a.split("=", 1)
                                          for a in coverage.preload(HARNESS, run_dir)))
            done = subprocess.run([str(HARNESS), "--plan", str(run_dir / "plan.json"),
                                   "--results", str(run_dir / "results.jsonl")],
                                  env=env, capture_output=True, text=True, check=False)
            self.assertIn(done.returncode, (0, 1), done.stderr)
            data = coverage.report(HARNESS, run_dir, Path("/usr/include"))
            missing = {m["name"] for m in data["libibverbs"]["missing"]}
            # The api suite calls these (in its forked children) ...
            for name in ("ibv_get_device_list", "ibv_wc_status_str", "ibv_fork_init"):
                self.assertNotIn(name, missing)
            # ... and never these.
            self.assertIn("ibv_alloc_pd", missing)
            self.assertEqual(data["libibverbs"]["called"] + len(missing),
                             data["libibverbs"]["total"])
            self.assertIn("umad_init", {n for n in self._called(data, "libibumad")})
            # The universe of inline verbs comes from the headers themselves.
            self.assertGreater(data["libibverbs (inline)"]["total"], 50)

            (run_dir / "coverage.bin").write_bytes(b"garbage")
            with self.assertRaisesRegex(InfraError, "not a coverage file"):
                coverage.report(HARNESS, run_dir, Path("/usr/include"))

    @staticmethod
    def _called(data, lib):
        return {name for _, name in (line.split("\t") for line in (
            HARNESS.parent / "coverage" / "symbols.txt").read_text().splitlines()
            if line.startswith(lib + "\t"))} - {m["name"] for m in data[lib]["missing"]}


if __name__ == "__main__":
    unittest.main()
