"""A fleet run when the cluster fails it, on a private Slurm cluster: a
node whose slurmd dies mid-run, a job that never leaves the queue; and the
private cluster itself leaves nothing running when its test is killed."""
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import xml.etree.ElementTree as ET
from pathlib import Path

from rdmagate.outputs import results
from rdmagate.fleet import record
from tests import slurm_cluster
from tests.support import RDMAGATE, REPO_ROOT, only_run, rdmagate


SLOW_STEP_S = 120   # how long each step sleeps before its work


def _wait_for(predicate, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


@unittest.skipUnless(slurm_cluster.available(), "Slurm is not installed: run ci/setup")
class NodeDiesMidRun(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        with slurm_cluster.Cluster(2) as cluster:
            proc = subprocess.Popen([sys.executable, str(RDMAGATE), "fleet", "run",
                                     "--scheduler", "slurm", "--nodes", "2", "--suite", "api",
                                     "--drain", "--results", cls.tmp.name], env=cluster.env,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            try:
                # n2's harness is starting (check opens ktap.log just before it): the node dies
                _wait_for(lambda: list(Path(cls.tmp.name).glob("*/nodes/n2/ktap.log")), 240,
                          "n2's suites to start")
                cluster.kill_node("n2")
                cls.stdout, cls.stderr = proc.communicate(timeout=240)
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
            cls.queue_after = cluster.live_jobs()
            cls.n2_after = subprocess.run(["scontrol", "show", "node", "n2"], env=cluster.env,
                                          capture_output=True, text=True).stdout
        cls.code = proc.returncode
        cls.run_dir = only_run(cls.tmp.name)
        cls.fleet = record.load(cls.run_dir / "fleet.json")
        cls.nodes = {n.name: n for n in cls.fleet.nodes}

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_exit_3_and_the_node_not_tested_with_the_reason(self):
        self.assertEqual(self.code, 3, self.stderr)
        self.assertEqual(self.fleet.exit_code, 3)
        lost = self.nodes["n2"]
        self.assertEqual(lost.status, "not tested")
        self.assertRegex(lost.reason, "node n2 (is DOWN|lost its job step)")
        self.assertIn("n2: not tested", self.stdout)
        self.assertEqual(self.queue_after, [], "the job outlived the run")

    def test_report_shows_the_lost_node_and_its_tests_first(self):
        page = (self.run_dir / "report.html").read_text()
        self.assertIn("<td>n2</td><td>not tested</td>", page)
        matrix = page.split("<h2>Node x test</h2>", 1)[1]
        deviating = int(matrix.split("<p>", 1)[1].split(" of ", 1)[0])
        self.assertGreater(deviating, 0, "n2's unfinished tests deviate")
        first_row = matrix.split("</tr><tr>", 1)[1].split("</tr>", 1)[0]
        self.assertIn("not run", first_row)

    def test_the_lost_node_is_drained_with_an_rdmagate_reason(self):
        self.assertEqual(len(self.fleet.drain), 1, self.fleet.drain)
        self.assertTrue(self.fleet.drain[0].startswith(
            "scontrol update NodeName=n2 State=DRAIN 'Reason=rdmagate: node n2"), self.fleet.drain)
        self.assertIn("drain: scontrol update NodeName=n2", self.stdout)
        self.assertIn("DRAIN", self.n2_after)
        self.assertIn("Reason=rdmagate: node n2", self.n2_after)

    def test_the_other_node_is_kept(self):
        kept = self.nodes["n1"]
        self.assertEqual((kept.status, kept.exit_code), ("tested", 0), kept.reason)
        finished = results.read(self.run_dir / "nodes" / "n1" / "results.jsonl")
        self.assertEqual(kept.counts, results.counts(finished))
        self.assertGreater(len(finished), 5)

    def test_junit_reports_the_lost_node_as_an_error(self):
        cases = ET.parse(self.run_dir / "junit.xml").getroot().findall(".//testcase")
        lost = [c for c in cases if c.get("classname") == "n2.node"]
        self.assertEqual(len(lost), 1)
        error = lost[0].find("error")
        self.assertIn("not tested", error.get("message"))
        self.assertIn("node n2", error.text)
        self.assertTrue(any(c.get("classname") == "n1.api" for c in cases))


@unittest.skipUnless(slurm_cluster.available(), "Slurm is not installed: run ci/setup")
class RunInterrupted(unittest.TestCase):
    def test_sigterm_cancels_the_job_and_leaves_nothing_running(self):
        # each step sleeps in its task first: without the cancel, the
        # interrupted run would wait for its steps, whose sleeps would end
        # first; with it, no sleep ends, however slow the machine (the sleep
        # is far longer than a cancel takes)
        with tempfile.TemporaryDirectory() as tmp, \
                slurm_cluster.Cluster(2, slow_steps_s=SLOW_STEP_S) as cluster:
            proc = subprocess.Popen([sys.executable, str(RDMAGATE), "fleet", "run",
                                     "--scheduler", "slurm", "--nodes", "2", "--suite", "api",
                                     "--results", tmp], env=cluster.env,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            try:
                # both nodes' preflight steps in their sleep (not a count of
                # srun processes: srun forks a helper of the same command line)
                _wait_for(lambda: len([c for c in _cmdlines()
                                       if f"{cluster.dir}/slow-bin/uname" in c]) == 2, 240,
                          "the nodes' preflight steps")
                proc.send_signal(signal.SIGTERM)
                _, err = proc.communicate(timeout=2 * SLOW_STEP_S)
                ended_before_exit = cluster.slow_ends()
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
            live = cluster.live_jobs()
            _wait_for(lambda: not [p for p in _cmdlines() if tmp in p], 30,
                      "the harness processes of the run to end")
            _wait_for(lambda: not [p for p in _cmdlines() if f"{cluster.dir}/slow-bin" in p],
                      30, "the steps' sleeps to end")
            ended_at_all = cluster.slow_ends()
        self.assertEqual(proc.returncode, 130, err)
        self.assertIn("interrupted", err)
        self.assertNotIn("Traceback", err)
        self.assertEqual(ended_before_exit, [], "the run waited for its steps")
        self.assertEqual(ended_at_all, [], "a step outlived the cancel")
        self.assertEqual(live, [], "the job outlived the run")


def _cmdlines() -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            found.append((entry / "cmdline").read_bytes().replace(b"\0", b" ").decode())
        except (OSError, ValueError):
            continue
    return found


@unittest.skipUnless(slurm_cluster.available(), "Slurm is not installed: run ci/setup")
class JobStaysPending(unittest.TestCase):
    def test_cancelled_after_the_timeout_and_reported(self):
        with tempfile.TemporaryDirectory() as tmp, slurm_cluster.Cluster(2) as cluster:
            # the "held" partition allows no node: the job waits forever
            done = rdmagate("fleet", "run", "--scheduler", "slurm", "--nodelist", "n[1-2]",
                            "--partition", "held", "--pending-timeout", "2", "--suite", "api",
                            "--results", tmp, env=cluster.env)
            queue_after = cluster.live_jobs()
            fleet = record.load(only_run(tmp) / "fleet.json")
        self.assertEqual(done.returncode, 3, done.stderr)
        self.assertEqual(queue_after, [], "the pending job was not cancelled")
        self.assertEqual(fleet.job["state"], "CANCELLED")
        # Slurm names the held partition's limit either way, by its timing
        self.assertRegex(fleet.job["reason"], r"PENDING \(Partition(NodeLimit|Config)\)")
        self.assertIn("cancelled", done.stdout)
        self.assertEqual(fleet.exit_code, 3)
        # the nodes asked for by name are each not tested, with the job's reason
        self.assertEqual([(n.name, n.status) for n in fleet.nodes],
                         [("n1", "not tested"), ("n2", "not tested")])
        self.assertRegex(fleet.nodes[0].reason, r"Partition(NodeLimit|Config)")


@unittest.skipUnless(slurm_cluster.available(), "Slurm is not installed: run ci/setup")
class ClusterDiesWithItsTest(unittest.TestCase):
    MARK = "987654"   # the job's sleep, to find it among the machine's processes

    CHILD = f"""
import subprocess, sys, time
from tests.slurm_cluster import Cluster
cluster = Cluster(2).__enter__()
subprocess.run(["sbatch", "-N2", "-o", "/dev/null", "--wrap", "sleep {MARK}"],
               env=cluster.env, check=True, capture_output=True)
print(cluster.dir, flush=True)
time.sleep(600)
"""

    def test_nothing_left_running_after_a_sigkill(self):
        with tempfile.TemporaryDirectory() as tmp:
            os.chmod(tmp, 0o755)   # munged wants every directory above its socket searchable
            child = subprocess.Popen([sys.executable, "-c", self.CHILD],
                                     cwd=REPO_ROOT / "runner", stdout=subprocess.PIPE, text=True,
                                     env=dict(os.environ, TMPDIR=tmp))
            try:
                cluster_dir = child.stdout.readline().strip()
                self.assertTrue(cluster_dir.startswith(tmp), cluster_dir)
                _wait_for(lambda: any(c.startswith("sleep") for c in self._running(cluster_dir)),
                          30, "the job's task")
            finally:
                child.send_signal(signal.SIGKILL)
                child.wait()
                child.stdout.close()
            _wait_for(lambda: not self._running(cluster_dir), 10,
                      "the private cluster to go with its test")

    def _running(self, cluster_dir: str) -> list[str]:
        """Command lines of processes of that cluster (daemons, the job's task)."""
        return [line for line in _cmdlines()
                if cluster_dir in line or line.startswith(f"sleep {self.MARK}")]


if __name__ == "__main__":
    unittest.main()
