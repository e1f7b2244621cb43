"""rdmagate fleet run with the api suite (no device, no guest): on two local
nodes, and on two nodes of a private Slurm cluster; fleet.json, junit.xml,
the nodes' run directories, exit codes and bad input."""
import json
import os
import shutil
import tempfile
import unittest
import xml.etree.ElementTree as ET
from pathlib import Path
from unittest import mock

from rdmagate import stacks
from rdmagate.outputs import results
from rdmagate.errors import UsageError
from rdmagate.fleet import record
from tests import slurm_cluster
from tests.support import only_run, rdmagate


class FleetChecks:
    """What every fleet run of the api suite on two healthy nodes shows."""
    names: list[str]

    @classmethod
    def run_fleet(cls, scheduler: str, env: dict | None = None) -> None:
        cls.tmp = tempfile.TemporaryDirectory()
        cls.done = rdmagate("fleet", "run", "--scheduler", scheduler, "--nodes", "2",
                            "--suite", "api", "--results", cls.tmp.name, env=env)
        cls.run_dir = only_run(cls.tmp.name)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_exit_code_and_summary(self):
        self.assertEqual(self.done.returncode, 0, self.done.stderr)
        self.assertIn("2 of 2 node(s) tested", self.done.stdout)

    def test_fleet_json_has_every_node_tested(self):
        fleet = record.load(self.run_dir / "fleet.json")
        self.assertEqual((fleet.schema, fleet.version, fleet.stack, fleet.suites),
                         ("rdmagate-fleet", 1, "host", ["api"]))
        self.assertEqual([n.name for n in fleet.nodes], self.names)
        self.assertEqual(fleet.exit_code, 0)
        for node in fleet.nodes:
            self.assertEqual((node.status, node.reason, node.exit_code), ("tested", "", 0))
            self.assertEqual(node.run_dir, f"nodes/{node.name}")
            self.assertTrue(node.kernel)
            self.assertTrue(node.taint_before.isdigit() and node.taint_after.isdigit())
            self.assertEqual(node.deviations, [])
            finished = results.read(self.run_dir / node.run_dir / "results.jsonl")
            self.assertGreater(len(finished), 5)
            self.assertEqual(node.counts, results.counts(finished))

    def test_each_node_directory_is_a_check_run(self):
        for name in self.names:
            node_dir = self.run_dir / "nodes" / name
            for file in ("plan.json", "run.json", "results.jsonl", "junit.xml", "ktap.log"):
                self.assertTrue((node_dir / file).is_file(), f"{name}/{file}")
            run = json.loads((node_dir / "run.json").read_text())
            self.assertEqual((run["exit_code"], run["where"]), (0, self.where))

    def test_junit_names_are_unique_across_nodes(self):
        root = ET.parse(self.run_dir / "junit.xml").getroot()
        cases = root.findall(".//testcase")
        ids = [(c.get("classname"), c.get("name")) for c in cases]
        self.assertEqual(len(ids), len(set(ids)))
        self.assertEqual({c for c, _ in ids}, {f"{n}.api" for n in self.names})
        for suite in root.iter("testsuite"):
            props = {p.get("name"): p.get("value") for p in suite.iter("property")}
            self.assertEqual(props["stack"], "host")
            self.assertEqual(props["node"], suite.get("name").split(".")[0])
            self.assertTrue(props["kernel"])


    def test_report_html_has_every_node_and_test(self):
        page = (self.run_dir / "report.html").read_text()
        self.assertIn("0 of 10 test(s) deviate", page)
        for name in self.names:
            self.assertIn(f"<th>{name}</th>", page)
        self.assertIn("<code>api.fork_init</code>", page)
        self.assertNotIn("<script", page)


class LocalFleet(FleetChecks, unittest.TestCase):
    names = ["local1", "local2"]
    where = "host"

    @classmethod
    def setUpClass(cls):
        cls.run_fleet("local")

    @unittest.skipUnless(shutil.which("chromium"), "chromium is not installed")
    def test_report_renders_in_a_browser_without_errors(self):
        from rdmagate.report import browser
        png = self.run_dir / "report.png"
        self.assertEqual(browser.screenshot(self.run_dir / "report.html", png), [])
        self.assertGreater(png.stat().st_size, 10000)


@unittest.skipUnless(slurm_cluster.available(), "Slurm is not installed: run ci/setup")
class SlurmFleet(FleetChecks, unittest.TestCase):
    names = ["n1", "n2"]
    where = "slurm"

    @classmethod
    def setUpClass(cls):
        with slurm_cluster.Cluster(2) as cluster:
            cls.run_fleet("slurm", cluster.env)
            cls.queue_after = cluster.live_jobs()

    def test_one_job_followed_and_cancelled(self):
        fleet = record.load(self.run_dir / "fleet.json")
        self.assertTrue(fleet.job["id"].isdigit(), fleet.job)
        self.assertGreaterEqual(fleet.job["waited_s"], 0)
        self.assertTrue((self.run_dir / "job.sh").is_file())
        self.assertEqual(self.queue_after, [], "the job outlived the run")
        self.assertEqual(fleet.drain, [], "a healthy node was to be drained")


class FleetInput(unittest.TestCase):
    def assert_one_line(self, done, code: int, *words: str):
        """One error line, the last, naming what is wrong; no traceback."""
        self.assertEqual(done.returncode, code, done.stderr)
        lines = done.stderr.strip().splitlines()
        self.assertEqual([n for n, line in enumerate(lines) if "error" in line],
                         [len(lines) - 1], done.stderr)
        self.assertNotIn("Traceback", done.stderr)
        for word in words:
            self.assertIn(word, lines[-1])

    def test_bad_options_are_usage_errors(self):
        with tempfile.TemporaryDirectory() as tmp:
            for args, word in ((["--scheduler", "local", "--nodes", "0"], "--nodes"),
                               (["--scheduler", "local", "--nodes", "2", "--partition", "p"],
                                "--partition"),
                               (["--nodelist=n1;reboot"], "--nodelist"),
                               (["--nodes", "2", "--partition=-x"], "--partition"),
                               (["--scheduler", "local", "--nodes", "1", "--suite", "nope"],
                                "nope"),
                               (["--nodes", "1", "--time-limit", "0"], "--time-limit")):
                done = rdmagate("fleet", "run", *args, "--results", tmp)
                self.assert_one_line(done, 2, word)
            self.assertEqual(list(Path(tmp).iterdir()), [], "a bad request made a run")

    def test_no_controller_is_an_infrastructure_error(self):
        with tempfile.TemporaryDirectory() as tmp:
            conf = Path(tmp) / "slurm.conf"
            conf.write_text("ClusterName=none\nSlurmctldHost=localhost(127.0.0.1)\n"
                            "SlurmctldPort=9\n")
            done = rdmagate("fleet", "run", "--scheduler", "slurm", "--nodes", "1",
                            "--suite", "api", "--results", f"{tmp}/runs",
                            env={"SLURM_CONF": str(conf)})
            self.assert_one_line(done, 3, "sbatch failed", "slurm controller")
            fleet = record.load(only_run(f"{tmp}/runs") / "fleet.json")
            self.assertEqual((fleet.exit_code, fleet.nodes), (3, []))
            self.assertIn("sbatch failed", fleet.job["reason"])

    def test_fleet_json_loader_names_the_field(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "fleet.json"
            record.Fleet("host", "local", ["api"], nodes=[record.Node("n1")]).write(path)
            self.assertEqual(record.load(path).nodes[0].name, "n1")
            data = json.loads(path.read_text())
            for change, field in ((lambda d: d.update(version=7), "field version"),
                                  (lambda d: d["nodes"][0].update(exit_code="0"),
                                   "field nodes[0].exit_code"),
                                  (lambda d: d["nodes"][0].pop("name"), "field nodes[0].name"),
                                  (lambda d: d.update(schema="x"), "field schema")):
                broken = json.loads(json.dumps(data))
                change(broken)
                path.write_text(json.dumps(broken))
                with self.assertRaises(UsageError) as caught:
                    record.load(path)
                self.assertIn(field, str(caught.exception))
                self.assertIn(str(path), str(caught.exception))




class SlurmTargets(unittest.TestCase):
    def test_a_node_without_a_device_runs_its_suites_in_a_lab_guest_there(self):
        from rdmagate.paths import REPO_ROOT
        from rdmagate.targets import HostDevice
        from rdmagate.targets.slurm import SlurmNode
        self.assertIsNone(HostDevice("none", "here").lab_instead("host"))
        guest = SlurmNode("n7", "42").lab_instead("debian-12")
        self.assertEqual((guest.name, guest.device, guest.kind, guest.in_own_root()),
                         ("slurm-lab", "rxe0", "rxe", True))
        with mock.patch("rdmagate.targets.slurm.run_here", return_value=0) as run:
            guest.run(["harness", "--plan", "p"], shares=[(Path("/r/run"), True)], timeout=90)
        argv = run.call_args.args[0]
        step = argv[:argv.index("--")]
        self.assertEqual(step, ["srun", "--jobid=42", "--nodelist=n7", "--nodes=1", "--ntasks=1",
                                "--overlap", "--kill-on-bad-exit=0", "--quiet"])
        self.assertEqual(argv[len(step) + 1:],
                         [str(REPO_ROOT / "rdmagate"), "lab", "run", "--stack=debian-12",
                          "--timeout=90", "--share=/r/run", "--", "harness", "--plan", "p"])


class PairTargets(unittest.TestCase):
    """Which target a pair of nodes gets: their devices in a Slurm job,
    lab guests for nodes without one, never this host twice."""
    def pick(self, server, client, job_id="42"):
        from rdmagate.pipelines import fleet
        return fleet._pair_target(stacks.resolve("debian-13"), server, client, job_id)

    def test_nodes_with_devices_pair_on_them_in_their_job(self):
        from rdmagate.errors import InfraError
        from rdmagate.fleet.record import Node
        a = Node("n1", device="mlx5_0", firmware={"mlx5_0": "28.39.1002"})
        b = Node("n2", firmware={"mlx5_1": "28.39.1002", "mlx5_0": "28.39.1002"})
        target = self.pick(a, b)
        self.assertEqual((target.name, target.nodes, target.device, target.gid_index,
                          target.server.node, target.client.node, target.runs_perftest),
                         ("slurm-2", 2, "mlx5_0", None, "n1", "n2", True))
        for server, client, job_id, word in (
                (a, b, None, "this host"),
                (a, Node("n2"), "42", "n2 has no RDMA device"),
                (a, Node("n2", device="efa0", firmware={"efa0": "1"}), "42", "one device name")):
            with self.subTest(word=word), self.assertRaisesRegex(InfraError, word):
                self.pick(server, client, job_id)

    @unittest.skipUnless(shutil.which("qemu-system-x86_64"), "qemu-system-x86_64 is missing")
    def test_nodes_without_devices_pair_in_two_lab_guests(self):
        from rdmagate.fleet.record import Node
        target = self.pick(Node("n1"), Node("n2"))
        self.assertEqual((target.name, target.gid_index), ("lab-2", "1"))


@unittest.skipUnless(slurm_cluster.available(), "Slurm is not installed: run ci/setup")
class SlurmPairSteps(unittest.TestCase):
    def test_the_server_step_and_the_client_step_run_at_once_on_their_nodes(self):
        """Each step waits for the other's file: run one after the other,
        they would never end."""
        from rdmagate.fleet import follow, job
        from rdmagate.targets.slurm import SlurmPair
        wait = ('echo "$SLURMD_NODENAME" > "$1/$2"; i=0; '
                'until [ -f "$1/$3" ] || [ $i -ge 100 ]; do sleep 0.1; i=$((i+1)); done; '
                'echo "$SLURMD_NODENAME saw $3"; [ -f "$1/$3" ]')
        with tempfile.TemporaryDirectory() as tmp, slurm_cluster.Cluster(2) as cluster, \
                mock.patch.dict(os.environ, cluster.env):
            job_id = job.submit(job.JobRequest(Path(tmp), nodes=2, hold_s=120))
            try:
                follow.wait_running(job_id, 60)
                pair = SlurmPair("n1", "n2", job_id, "mlx5_0", "host")
                lines: list[str] = []
                ran = pair.run(["sh", "-c", wait, "-", tmp, "client", "server"],
                               on_line=lines.append,
                               peer_argv=["sh", "-c", wait, "-", tmp, "server", "client"])
                address = pair.server_address
            finally:
                job.cancel(job_id)
            said = {name: (Path(tmp) / name).read_text().strip() for name in ("server", "client")}
        self.assertEqual(ran.exit_status, 0, lines)
        self.assertEqual(said, {"server": "n1", "client": "n2"})
        self.assertEqual(sorted(lines), ["n1: n1 saw client", "n2 saw server"])
        self.assertEqual(address, "127.0.0.1")
        self.assertEqual(ran.record["slurm"], {"job": job_id, "nodes": ["n1", "n2"]})


class JobScript(unittest.TestCase):
    def test_the_job_holds_its_nodes_for_its_time_limit_only(self):
        from rdmagate.fleet import job
        request = job.JobRequest(Path("/r/run"), nodelist="n[1-2]", partition="rdma",
                                 hold_s=300)
        self.assertEqual(job.argv(request, Path("/r/run/job.sh")),
                         ["sbatch", "--parsable", "--job-name=rdmagate-fleet",
                          "--nodelist=n[1-2]", "--ntasks-per-node=1", "--no-kill",
                          "--no-requeue", "--time=5", "--partition=rdma",
                          "--output=/r/run/job.out", "/r/run/job.sh"])
        self.assertIn("exec sleep 300", job.SCRIPT.format(seconds=300))


class NodePerf(unittest.TestCase):
    def test_perf_verdicts_of_a_node_come_from_perf_json(self):
        from rdmagate.fleet import node
        with tempfile.TemporaryDirectory() as tmp:
            self.assertEqual(node._perf(Path(tmp)), [])
            verdict = {"ratio": 1.2, "ci": [1.1, 1.3], "verdict": "slower", "n": [9, 9]}
            path = Path(tmp) / "perf.json"
            # format 1 (before runs and machines): read through perf/record.py, defaults
            # filled (a verdict without a clock is a wall-clock one)
            path.write_text(json.dumps({"baseline": None, "threshold": 0.1,
                                        "verdicts": {"write_2": verdict}}))
            self.assertEqual(node._perf(Path(tmp)),
                             [dict(verdict, runs=[], note="", where="", clock="wall",
                                   measurement="write_2")])
            path.write_text(json.dumps({"baseline": None, "threshold": 0.1,
                                        "verdicts": {"write_2": dict(verdict, ratio="x")}}))
            with self.assertRaises(UsageError) as caught:
                node._perf(Path(tmp))
            self.assertIn(f"{path}: not a perf suite record (perf.json): field "
                          "verdicts.write_2.ratio", str(caught.exception))


class PairRounds(unittest.TestCase):
    def test_all_pairs_every_pair_once_in_n_minus_1_rounds(self):
        from rdmagate.fleet import pairs
        for n in (2, 3, 4, 5, 6, 8):
            nodes = [f"n{i}" for i in range(n)]
            rounds = pairs.rounds(nodes, "all")
            self.assertEqual(len(rounds), n - 1 if n % 2 == 0 else n)
            seen = [frozenset(p) for r in rounds for p in r]
            self.assertEqual(len(seen), n * (n - 1) // 2)
            self.assertEqual(len(set(seen)), len(seen))
            for r in rounds:
                busy = [node for p in r for node in p]
                self.assertEqual(len(busy), len(set(busy)), r)
                if n % 2 == 0:
                    self.assertEqual(len(r), n // 2)

    def test_ring_pairs_each_node_with_the_next(self):
        from rdmagate.fleet import pairs
        self.assertEqual(pairs.rounds(["a", "b"], "ring"), [[("a", "b")]])
        self.assertEqual(pairs.rounds(["a", "b", "c", "d"], "ring"),
                         [[("a", "b"), ("c", "d")], [("b", "c"), ("d", "a")]])
        self.assertEqual(pairs.rounds(["a", "b", "c"], "none"), [])
        with self.assertRaises(UsageError):
            pairs.rounds(["a", "b"], "star")

    def test_a_slow_link_and_a_slow_node_stand_out(self):
        from rdmagate.fleet import pairs

        def measured(latency):
            found = [record.Pair(s, c, n, "tested", verdicts=[
                {"measurement": "ib_write_lat-2", "metric": "typical_us",
                 "value": latency(s, c)}])
                for n, r in enumerate(pairs.rounds(list("abcdef"), "all"), 1) for s, c in r]
            pairs.judge(found)
            return found
        one_link = measured(lambda s, c: 31 if {s, c} == {"a", "c"} else 10)
        self.assertEqual([p.verdicts[0]["verdict"] for p in one_link].count("off the fleet"), 1)
        self.assertEqual(pairs.outliers(one_link), ([], ["a-c"]))
        slow_d = measured(lambda s, c: 40 if "d" in (s, c) else 31 if {s, c} == {"a", "c"} else 10)
        self.assertEqual(pairs.outliers(slow_d), (["d"], ["a-c"]))
        same = measured(lambda s, c: 25)   # a slower stack: every pair alike
        self.assertEqual(pairs.outliers(same), ([], []))


LAB = {"where": "lab", "cpu_model": "AMD EPYC", "cpu_flags": "0d60", "cores": 2,
       "memory_gib": 24, "host_kernel": "6.18", "qemu": "7.2.22", "accel": "tcg",
       "guest_cpus": 1, "guest_memory_mb": 1024}
LAT = [20.0, 21.0, 19.5, 20.5, 20.2, 19.8, 20.1, 20.4]           # us a run
BW = [41e6, 40e6, 42e6, 40.5e6, 41.5e6, 40.8e6, 41.2e6, 40.1e6]  # bytes/s a run


class PairsAgainstTheirBaseline(unittest.TestCase):
    """fleet/pairs.py's verdict against a stored pair baseline, on synthetic
    pair results: the statistics of check --suite perf, by machine."""

    def setUp(self):
        from rdmagate.perf import pair_baseline
        from tests.perf_support import without_boot_effect
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        without_boot_effect(self)   # a rule on runs of one boot
        self.path = pair_baseline.path_for("rxe-6.1", "host", Path(self.tmp.name))
        self.store(LAB)

    def store(self, machine: dict) -> None:
        from rdmagate.perf import pair_baseline
        measured = pair_baseline.measurements(
            [{"ok": True, "tool": tool, "size": size, "iterations": 300,
              "metrics": {metric: value}}
             for tool, size, metric, values in (("ib_write_lat", 2, "typical_us", LAT),
                                                ("ib_write_bw", 65536, "bw_avg_Bps", BW))
             for value in values], {"ib_write_lat": "typical_us", "ib_write_bw": "bw_avg_Bps"})
        pair_baseline.write(pair_baseline.PairBaseline(
            "rxe-6.1", "host", None, "6.1.0-50-amd64", "4.5+0.17-1", "2026-12-02", 2,
            "two lab guests", machine, measured), self.path)

    def judged(self, lat_scale: float, machine: dict, path=None) -> record.Pair:
        from rdmagate.fleet import pairs
        pair = record.Pair("n1", "n2", 1, "tested", machine=machine, verdicts=[
            {"measurement": "ib_write_lat-2", "metric": "typical_us", "value": 20.0 * lat_scale,
             "runs": [v * lat_scale for v in LAT[3:6]], "iterations": 300},
            {"measurement": "ib_write_bw-65536", "metric": "bw_avg_Bps", "value": 41e6,
             "runs": BW[3:6], "iterations": 300}])
        pairs.against_baseline([pair], path or self.path, 0.1)
        pairs.judge([pair])
        return pair

    def test_a_slower_pair_is_slower_and_a_same_one_is_not(self):
        slow = self.judged(1.5, LAB)
        lat, bw = (v["baseline"] for v in slow.verdicts)
        self.assertEqual((lat["verdict"], bw["verdict"]), ("slower", "same"), slow.verdicts)
        self.assertGreater(lat["ci"][0], 1.1)
        self.assertEqual((lat["runs"], lat["where"]), ([8, 3], "lab"))
        self.assertEqual(lat["path"], str(self.path))
        same = self.judged(1.0, LAB)
        self.assertEqual([v["baseline"]["verdict"] for v in same.verdicts], ["same", "same"])

    def test_another_machines_baseline_is_not_comparable(self):
        other = self.judged(1.5, dict(LAB, cpu_model="Intel Xeon"))
        for v in other.verdicts:
            self.assertEqual(v["baseline"]["verdict"], "inconclusive")
            self.assertTrue(v["baseline"]["note"].startswith("not comparable: recorded on "
                                                             "AMD EPYC"), v["baseline"])
        device = self.judged(1.5, dict(LAB, where="device"))
        self.assertIn("where: lab vs device", device.verdicts[0]["baseline"]["note"])

    def test_a_pair_of_guests_is_its_own_machine(self):
        from rdmagate.perf import machine
        from rdmagate.targets import Lab, Ran
        ran = Ran(0, "6.1.0-50-amd64", {"lab": {"accel": "tcg"}})
        # two guests get one CPU each: a pair's machine is not the one guest's
        self.assertEqual([machine.of_target(Lab("host", "x", nodes=n), ran)["guest_cpus"]
                          for n in (1, 2)], [2, 1])

    def test_no_baseline_stored_is_said(self):
        missing = self.path.with_name("debian-12.json")
        pair = self.judged(1.5, LAB, missing)
        self.assertEqual(pair.verdicts[0]["baseline"]["verdict"], "none stored")
        self.assertIn("no baseline stored for rxe-6.1/debian-12",
                      pair.verdicts[0]["baseline"]["note"])
        longer = self.judged(1.5, LAB)
        longer.verdicts[0]["iterations"] = 1000
        from rdmagate.fleet import pairs
        pairs.against_baseline([longer], self.path, 0.1)
        self.assertEqual(longer.verdicts[0]["baseline"]["verdict"], "none stored")
        self.assertIn("of 300 iterations, the pair ran 1000",
                      longer.verdicts[0]["baseline"]["note"])

    def test_junit_report_and_exit_code_carry_it(self):
        from rdmagate.fleet import junit, report
        from rdmagate.pipelines.fleet import exit_code
        for where, code in (("lab", 0), ("device", 1)):
            self.store(dict(LAB, where=where))   # a baseline of the same machine
            slow = self.judged(1.5, dict(LAB, where=where))
            fleet = record.Fleet("host", "local", ["api"], pairs=[slow], nodes=[
                record.Node("n1", "tested", exit_code=0), record.Node("n2", "tested",
                                                                      exit_code=0)])
            self.assertEqual(exit_code(fleet), code, where)
        slow.verdicts[1]["failed_runs"] = ["the client was stopped (exit 124: timeout)"]
        cases = {r.test: r for _, r in junit.records(fleet, Path(self.tmp.name))}
        lat = cases["pair.n1-n2.ib_write_lat-2"]
        self.assertEqual((lat.outcome, lat.reason),
                         ("FAIL", "slower than its baseline, as the fleet"))
        self.assertRegex(lat.message, r"slower: 1\.[45]\d\dx the baseline .*host\.json \(99% CI "
                         r"1\.\d+-1\.\d+, 3 runs against 8, threshold 10%, device\)")
        bw = cases["pair.n1-n2.ib_write_bw-65536"]
        self.assertEqual(bw.outcome, "PASS")
        self.assertIn("1 run(s) gave no figure: the client was stopped", bw.message)
        page = report.render(fleet, Path(self.tmp.name))
        self.assertIn('stroke="#cf222e"', page)
        self.assertIn("<td>slower</td>", page)
        path = Path(self.tmp.name) / "fleet.json"   # and fleet.json keeps it, typed
        fleet.write(path)
        self.assertEqual(record.load(path).pairs[0].verdicts[0]["baseline"]["verdict"], "slower")

    def test_a_fleet_json_from_before_pair_baselines_still_reports(self):
        from rdmagate.fleet import junit, report
        from rdmagate.pipelines.fleet import exit_code
        old = record.Pair("n1", "n2", 1, "tested", verdicts=[
            {"measurement": "ib_write_lat-2", "metric": "typical_us", "value": 20.0,
             "fleet_median": 20.0, "ratio": 1.0, "verdict": "as the fleet",
             "baseline": "none stored"}])
        fleet = record.Fleet("host", "local", ["api"], pairs=[old],
                             nodes=[record.Node("n1", "tested", exit_code=0)])
        self.assertEqual(exit_code(fleet), 0)
        self.assertEqual([r.outcome for _, r in junit.records(fleet, Path(self.tmp.name))],
                         ["PASS"])
        self.assertIn("no pair measured against a stored baseline",
                      report.render(fleet, Path(self.tmp.name)))

    def test_a_bad_pair_baseline_names_its_field(self):
        from rdmagate.perf import pair_baseline
        data = json.loads(self.path.read_text())
        for change, words in ((lambda d: d["measurements"]["ib_write_lat-2"].update(runs=[0]),
                               "measurements.ib_write_lat-2: field runs: needs 1 to 64"),
                              (lambda d: d.update(stack="debian-12"), "field stack"),
                              (lambda d: d.update(format=9), "field format"),
                              (lambda d: d.pop("machine"), "field machine: missing")):
            broken = json.loads(json.dumps(data))
            change(broken)
            self.path.write_text(json.dumps(broken))
            with self.assertRaises(UsageError) as caught:
                pair_baseline.load(self.path)
            self.assertIn(str(self.path), str(caught.exception))
            self.assertIn(words, str(caught.exception))

    def test_baseline_show_prints_a_pair_baseline(self):
        done = rdmagate("baseline", "show", str(self.path))
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn("perftest pair baseline, format 1, rxe-6.1 / host", done.stdout)
        self.assertIn("ib_write_lat-2: 8 runs of 300 iterations, typical_us median 20.18",
                      done.stdout)
        self.path.write_text("{")
        bad = rdmagate("baseline", "show", str(self.path))
        self.assertEqual((bad.returncode, len(bad.stderr.splitlines())), (2, 1), bad.stderr)
        # a pair of devices is two nodes: not this command's to record
        device = rdmagate("baseline", "record", "--stack", "host", "--suite", "perftest",
                          "--device", "mlx5_0")
        self.assertEqual((device.returncode, len(device.stderr.splitlines())), (2, 1),
                         device.stderr)
        self.assertIn("between two lab guests", device.stderr)


if __name__ == "__main__":
    unittest.main()
