"""The coverage interposer on this host: calls from the harness counted,
inline verbs recorded, a corrupt file refused."""
import os
import re
import subprocess
import tempfile
import unittest
from pathlib import Path
from types import SimpleNamespace

from rdmagate.harness import coverage
from rdmagate.harness.run import _include_dir
from rdmagate.stacks import fetch, resolve
from rdmagate.outputs import plan
from rdmagate.errors import InfraError
from rdmagate.paths import REPO_ROOT
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


class Reasons(unittest.TestCase):
    """Why a function was not called is computed from the run's outcomes,
    for inline verbs as for exported ones; no harness needed."""

    def test_a_gate_that_did_not_pass_is_the_reason(self):
        gates = {"ibv_memcpy_to_dm": "verbs.dm"}
        unsupported = {"verbs.dm": SimpleNamespace(outcome="UNSUPPORTED",
                                                   reason="ibv_alloc_dm: Operation not supported")}
        self.assertEqual(coverage.gated_reason("ibv_memcpy_to_dm", unsupported, gates),
                         "reached only through verbs.dm, UNSUPPORTED here: "
                         "ibv_alloc_dm: Operation not supported")
        passed = {"verbs.dm": SimpleNamespace(outcome="PASS", reason="")}
        self.assertEqual(coverage.gated_reason("ibv_memcpy_to_dm", passed, gates),
                         "not called by the suites")
        self.assertEqual(coverage.gated_reason("ibv_other", unsupported, gates),
                         "not called by the suites")

    def test_every_gate_is_a_test_of_the_suites(self):
        sources = "\n".join(p.read_text() for p in (REPO_ROOT / "suites").rglob("*.c"))
        tests = {f"{m[0]}.{m[1]}" for m in re.findall(
            r"RG_TEST(?:_F)?\((\w+), (\w+)", sources)}
        tests |= {f"cm.{m}" for m in re.findall(r"CM_TEST\((\w+)\)", sources)}
        for name, gate in coverage.REACHED_THROUGH.items():
            if isinstance(gate, dict):
                self.assertTrue({"needs", "capability"} <= set(gate) or {"needs", "line"}
                                <= set(gate), f"coverage-reasons.yaml: {name}: {gate}")
                continue
            self.assertTrue(gate in tests, f"coverage-reasons.yaml: {name}: no test {gate}")

    def test_a_capability_the_device_lacks_is_the_reason(self):
        fixtures = REPO_ROOT / "runner" / "tests" / "fixtures" / "devinfo"
        sid = (fixtures / "rxe-7.2-debian-sid.txt").read_text()
        # device_cap_flags_ex 0x1C001223C76: bits 38-40 (flush, atomic write)
        self.assertEqual(coverage.gated_reason("ibv_wr_atomic_write", {}, device=sid),
                         "not called by the suites, though the device advertises "
                         "RDMA atomic write")
        older = sid.replace("0x1C001223C76", "0x1223C76")
        self.assertEqual(coverage.gated_reason("ibv_wr_atomic_write", {}, device=older),
                         "the device does not advertise RDMA atomic write (ibv_devinfo -v "
                         "device_cap_flags_ex 0x1223C76, bit 40 clear)")
        self.assertEqual(coverage.gated_reason("ibv_wr_send_tso", {}, device=sid),
                         "the device does not advertise TSO (ibv_devinfo -v max_tso 0)")
        self.assertEqual(coverage.gated_reason("ibv_wr_send_tso", {},
                                               device=sid.replace("max_tso:\t\t\t0",
                                                                  "max_tso:\t\t\t65536")),
                         "not called by the suites, though the device advertises TSO")
        self.assertEqual(coverage.gated_reason("ibv_post_srq_ops", {}, device=sid),
                         "the device does not advertise tag matching (ibv_devinfo -v prints "
                         "no max_num_tags)")
        self.assertEqual(coverage.gated_reason("ibv_wc_read_cvlan", {}, device=sid),
                         "the device does not advertise C-VLAN stripping (ibv_devinfo -v "
                         "prints no 'C-VLAN stripping offload')")
        self.assertIn("advertises C-VLAN", coverage.gated_reason(
            "ibv_wc_read_cvlan", {}, device=sid + "\traw packet caps:\n"
                                                  "\t\t\t\t\tC-VLAN stripping offload\n"))

    def test_every_inline_verb_is_called_or_has_a_reason(self):
        """On the real headers of debian-12, 13 and sid: each inline verb of
        verbs.h is called in a suite's source or has a rule in
        coverage-reasons.yaml (which computes its reason in the run)."""
        sources = "\n".join(p.read_text() for p in (REPO_ROOT / "suites").rglob("*.c"))
        called = set(re.findall(r"\b(ibv_\w+)\s*\(", sources))
        for name in ("debian-12", "debian-13", "debian-sid"):
            stack = resolve(name)
            inline = {verb for verb in coverage.inline_universe(_include_dir(stack, fetch(stack)))
                      if verb.startswith("ibv_")}
            self.assertGreater(len(inline), 85, name)
            self.assertEqual(inline - called - set(coverage.REACHED_THROUGH),
                             set(), name)

    def test_the_exported_line_carries_the_inline_figure(self):
        data = {"libibverbs": {"called": 57, "total": 75, "missing": []},
                "libibverbs (inline)": {"called": 60, "total": 92,
                                        "missing": [{"name": "ibv_wr_send_tso",
                                                     "reason": "not called by the suites"}]}}
        lines = coverage.summary(data)
        self.assertEqual(lines[0], "coverage libibverbs: 57/75 called (inline 60/92)")
        self.assertEqual(lines[1], "coverage libibverbs (inline): 60/92 called; "
                                   "not: ibv_wr_send_tso")


if __name__ == "__main__":
    unittest.main()
