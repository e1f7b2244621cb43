"""rdmagate fleet run --pairs ring on two local nodes: the api suite on
each, then perftest's server on one and client on the other across two lab
guests joined by the lab's link (real soft-RoCE, real perftest), three
runs a measurement, judged against the fleet's median and against the
committed pair baseline baselines/perftest/rxe-6.1/host.json (recorded on
this kind of machine); nothing left behind."""
import os
import shutil
import tempfile
import unittest
import xml.etree.ElementTree as ET

from rdmagate.fleet import pairs, record
from rdmagate.perf import machine, pair_baseline, stats
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
            client_txt = raw / "write_lat-2.0.client.txt"   # the first of its runs
            client = client_txt.read_text() if client_txt.exists() else ""
            leftovers = os.listdir(tmp)
        self.assertEqual(done.returncode, 0, done.stderr[-3000:])
        self.assertEqual([(p.server, p.client, p.round, p.status) for p in fleet.pairs],
                         [("local1", "local2", 1, "tested")])
        verdicts = {v["measurement"]: v for v in fleet.pairs[0].verdicts}
        self.assertEqual(set(verdicts), {"ib_write_lat-2", "ib_write_bw-65536"})
        stored = pair_baseline.load(pair_baseline.path_for("rxe-6.1", "host"))
        for name, v in verdicts.items():
            self.assertGreater(v["value"], 0, v)
            # a run perftest could not finish under load is left out, and said
            self.assertEqual(len(v["runs"]) + len(v.get("failed_runs", [])),
                             pairs.SWEEP.repeats, v)
            self.assertEqual((v["ratio"], v["verdict"]), (1.0, "as the fleet"))
            against = v["baseline"]
            # the verdict came from the stored baseline, on the same machine
            self.assertIn(against["verdict"], stats.VERDICTS, against)
            self.assertEqual((against["path"], against["where"], against["runs"]),
                             ("baselines/perftest/rxe-6.1/host.json", "lab",
                              [len(stored.measurements[name].runs), len(v["runs"])]))
            # compared on the machine that recorded it; on another (a wall-clock
            # baseline, no calibration) it must say so rather than judge
            recorded_here = machine.same(stored.machine, machine.of_lab(
                stored.machine["accel"], stored.machine["guest_cpus"],
                stored.machine["guest_memory_mb"]))
            self.assertEqual(against["note"].startswith("not comparable"), not recorded_here,
                             against)
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
