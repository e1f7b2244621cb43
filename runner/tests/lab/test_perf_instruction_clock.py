"""Lab performance on QEMU's instruction clock, in real guests: two boots
give the same figure (within the 0.5% floor), and a 5% slowdown injected
into every ibv_post_send (librdmagate-slowdown.so) is called slower at the
profile's 10% threshold. Two boots of rdmagate-perf's 2-byte RDMA WRITE."""
import statistics
import tempfile
import unittest
from pathlib import Path

from rdmagate.harness import build
from rdmagate.perf import exact, machine, native
from rdmagate.stacks import fetch, resolve
from rdmagate.targets import Lab
from tests.support import HAVE_QEMU

STACK = "debian-12"
NAME = "write_lat-2"


@unittest.skipUnless(HAVE_QEMU, "qemu-system-x86_64 is not installed")
class InstructionClockInTheLab(unittest.TestCase):
    def boot(self, tmp: Path, perf: Path, name: str, variants: dict) -> tuple[dict, dict]:
        """Two runs of each variant in one boot: (variant -> runs, the machine)."""
        target = Lab(STACK, "test").for_measuring()
        jobs = [(f"{v}.{k}", native.job_words(perf, NAME, 500, 200, env=env))
                for k in range(2) for v, env in variants.items()]
        out, ran = native.run_jobs(target, STACK, perf, tmp, jobs, subdir=name)
        found = native.collect(out, [n for n, _ in jobs])
        for job, got in found.items():
            self.assertIn("samples", got, f"{job}: {got}")
        return ({v: [found[f"{v}.{k}"]["samples"] for k in range(2)] for v in variants},
                machine.of_target(target, ran))

    def test_two_boots_agree_and_a_5_percent_slowdown_is_slower(self):
        stack = resolve(STACK)
        fetched = fetch(stack)
        perf = build.build_perf(stack.name, fetched.root, say=lambda text: None)
        with tempfile.TemporaryDirectory(prefix="rdmagate-icount-") as tmp:
            first, facts = self.boot(Path(tmp), perf, "boot1", {"plain": None})
            self.assertEqual((facts["guest_cpus"], facts["clock"]["kind"],
                              facts["clock"]["cpu_model"]),
                             (1, "instructions", "Skylake-Client-v4"))
            median = statistics.median(statistics.median(r) for r in first["plain"])
            slowed = {"LD_PRELOAD": str(perf.parent / build.SHIM_NAME),
                      "RDMAGATE_SLOWDOWN_NS": str(round(median * 0.05))}
            second, _ = self.boot(Path(tmp), perf, "boot2", {"plain": None, "slowed": slowed})
        same = exact.compare(first["plain"], second["plain"], 0.10)
        print(f"\nboot 1 against boot 2: {same.ratio:.5f}x, spread {same.spread}; "
              f"5% slowdown ({slowed['RDMAGATE_SLOWDOWN_NS']} ns on {median:.0f}):", end="")
        self.assertLessEqual(abs(same.ratio - 1), 0.005)
        self.assertLessEqual(max(same.spread), exact.SPREAD_FLOOR)
        self.assertEqual(same.verdict, "same")
        slower = exact.compare(first["plain"], second["slowed"], 0.10)
        print(f" {slower.ratio:.4f}x {slower.verdict}", end="")
        self.assertEqual(slower.verdict, "slower", slower)


if __name__ == "__main__":
    unittest.main()
