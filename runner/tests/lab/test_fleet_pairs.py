"""rdmagate fleet run --pairs ring on two local nodes: the api suite on
each, then perftest's server on one and client on the other across two lab
guests joined by the lab's link (real soft-RoCE, real perftest), judged
against the fleet's median; nothing left behind."""
import os
import shutil
import tempfile
import unittest
import xml.etree.ElementTree as ET

from rdmagate.fleet import record
from tests.support import only_run, rdmagate


@unittest.skipUnless(shutil.which("qemu-system-x86_64"), "qemu-system-x86_64 is not installed")
class PairAcrossTwoGuests(unittest.TestCase):
    def test_ring_of_two_nodes_measures_one_pair(self):
        with tempfile.TemporaryDirectory() as results, tempfile.TemporaryDirectory() as tmp:
            done = rdmagate("fleet", "run", "--scheduler", "local", "--nodes", "2",
                            "--suite", "api", "--pairs", "ring", "--results", results,
                            timeout=900, env={"TMPDIR": tmp})
            run_dir = only_run(results)
            fleet = record.load(run_dir / "fleet.json")
            cases = ET.parse(run_dir / "junit.xml").getroot().findall(".//testcase")
            raw = run_dir / "pairs" / "local1-local2" / "perftest"
            client_txt = raw / "write_lat-2.client.txt"
            client = client_txt.read_text() if client_txt.exists() else ""
            leftovers = os.listdir(tmp)
        self.assertEqual(done.returncode, 0, done.stderr[-3000:])
        self.assertEqual([(p.server, p.client, p.round, p.status) for p in fleet.pairs],
                         [("local1", "local2", 1, "tested")])
        verdicts = {v["measurement"]: v for v in fleet.pairs[0].verdicts}
        self.assertEqual(set(verdicts), {"ib_write_lat-2", "ib_write_bw-65536"})
        for v in verdicts.values():
            self.assertGreater(v["value"], 0, v)
            self.assertEqual((v["ratio"], v["verdict"]), (1.0, "as the fleet"))
        self.assertEqual(fleet.outliers, {"nodes": [], "links": []})
        self.assertEqual(sorted(c.get("name") for c in cases
                                if c.get("classname") == "pair.local1-local2"),
                         ["ib_write_bw-65536", "ib_write_lat-2"])
        # the client on node 2 named its own GID first, then node 1's
        self.assertLess(client.index("10:77:00:02"), client.index("10:77:00:01"), client)
        self.assertFalse((raw / "sync").exists())
        self.assertEqual(leftovers, [])


if __name__ == "__main__":
    unittest.main()
