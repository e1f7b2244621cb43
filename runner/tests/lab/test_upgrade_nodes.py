"""The upgrade gate with --nodes 2: perftest's server and client on two lab
guests joined by the virtual link, for each stack (real soft-RoCE, real
perftest), and nothing left behind."""
import os
import tempfile
import unittest

from tests.support import HAVE_QEMU, rdmagate, upgrade_done


@unittest.skipUnless(HAVE_QEMU, "qemu-system-x86_64 is not installed")
class GateAcrossTwoNodes(unittest.TestCase):
    def test_perftest_crosses_the_link_for_both_stacks(self):
        with tempfile.TemporaryDirectory() as results, tempfile.TemporaryDirectory() as tmp:
            done = rdmagate("upgrade", "--from", "debian-12", "--to", "debian-13", "--nodes", "2",
                            "--skip", "abi", "--skip", "api", "--skip", "verbs",
                            "--no-consumers", "--results", results, "--json", timeout=1800,
                            env={"TMPDIR": tmp})
            self.assertEqual(done.returncode, 0, done.stderr[-3000:])
            run_dir, gate = upgrade_done(done)
            perf = next(p for p in gate.phases if p.name == "perf")
            self.assertEqual(perf.status, "done", gate.phases)
            self.assertEqual(gate.nodes, 2)
            _, bandwidth, _ = gate.perf
            self.assertIn("across two lab nodes", bandwidth.title)
            measured = [p.size for p in bandwidth.points]
            missing = [g.size for g in bandwidth.unmeasured]
            self.assertEqual(sorted(set(measured) | set(missing)), [64, 4096, 65536])
            self.assertTrue(measured, bandwidth)
            for stack in ("debian-12", "debian-13"):
                out = run_dir / f"perftest-{stack}"
                client = (out / "write_bw-4096.0.client.txt").read_text()   # run 0 of 3
                server = (out / "write_bw-4096.0.server.txt").read_text()
                # each side names its own GID first: node 2's client, node 1's server
                self.assertLess(client.index("10:77:00:02"), client.index("10:77:00:01"), client)
                self.assertLess(server.index("10:77:00:01"), server.index("10:77:00:02"), server)
                self.assertFalse((out / "sync").exists(), "the guests' handshake files stay")
            self.assertIn("--nodes 2", gate.commands[0])
            self.assertEqual(os.listdir(tmp), [])


if __name__ == "__main__":
    unittest.main()
