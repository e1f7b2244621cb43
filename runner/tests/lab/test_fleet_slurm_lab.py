"""rdmagate fleet run --scheduler slurm on two nodes of a private Slurm
cluster that have no RDMA device: each node's step boots a lab guest on
that node (SlurmLab) and runs a few verbs tests on soft-RoCE there; each
node's run directory comes from its own guest, and nothing is left behind."""
import os
import tempfile
import unittest

from rdmagate.fleet import record
from rdmagate.outputs import results, rundir
from tests import slurm_cluster
from tests.support import only_run, rdmagate


@unittest.skipUnless(slurm_cluster.available(), "Slurm is not installed: run ci/setup")
class SlurmNodesWithoutDevices(unittest.TestCase):
    def test_each_node_runs_its_verbs_tests_in_a_lab_guest_of_its_own(self):
        with tempfile.TemporaryDirectory() as out, tempfile.TemporaryDirectory() as tmp, \
                slurm_cluster.Cluster(2) as cluster:
            done = rdmagate("fleet", "run", "--scheduler", "slurm", "--nodes", "2",
                            "--stack", "debian-13", "--suite", "verbs",
                            "--filter", "verbs.query_device*", "--results", out,
                            timeout=1200, env=dict(cluster.env, TMPDIR=tmp))
            run_dir = only_run(out)
            fleet = record.load(run_dir / "fleet.json")
            runs = {n.name: rundir.read_json(run_dir / n.run_dir / "run.json")
                    for n in fleet.nodes if n.run_dir}
            found = {n.name: [r.test for r in results.read(run_dir / n.run_dir / "results.jsonl")]
                     for n in fleet.nodes if n.run_dir}
            leftovers = os.listdir(tmp)
        self.assertEqual(done.returncode, 0, done.stderr[-3000:])
        self.assertEqual([(n.name, n.status, n.where, n.device, n.kind) for n in fleet.nodes],
                         [(name, "tested", "slurm-lab", "rxe0", "rxe") for name in ("n1", "n2")])
        for name in ("n1", "n2"):
            # the filtered tests, and the device's capabilities against the profile's
            self.assertEqual(sorted(found[name]), ["capabilities.compared", "verbs.query_device"],
                             found)
            self.assertEqual((runs[name]["where"], runs[name]["slurm"]["node"]),
                             ("slurm-lab", name), runs[name])
        # the suites' kernel is the guest's (debian-13's 6.12), not the node's
        self.assertEqual({n.kernel.split(".")[:2] == ["6", "12"] for n in fleet.nodes}, {True},
                         [n.kernel for n in fleet.nodes])
        self.assertEqual(leftovers, [])


if __name__ == "__main__":
    unittest.main()
