"""perftest output of each Debian perftest version, captured from real runs
in the lab (fixtures/perftest/<stack>.<test>.txt), and garbage; the sweep's
job list, guest script (with fake tools) and result collection without QEMU
(test_perf_perftest_lab.py runs a real sweep)."""
import json
import math
import os
import shutil
import subprocess
import tempfile
import unittest
from pathlib import Path

from rdmagate.errors import InfraError, UsageError
from tests.support import FIXTURES
from rdmagate.perf import perftest, perftest_run

PERFTEST_FIXTURES = FIXTURES / "perftest"
STACKS = ("debian-11", "debian-12", "debian-13", "debian-sid")
# stack -> perftest version of the read_lat, send_bw and atomic_lat fixtures
VERSIONS = {"debian-11": "4.4", "debian-12": "4.5", "debian-13": "25.01"}


def printed(text: str, first: str) -> list[str]:
    """The cells of the results row that starts with `first` (#bytes)."""
    (line,) = [l for l in text.splitlines() if l.split()[:1] == [first]]
    return line.split()


class RealOutput(unittest.TestCase):
    def test_latency_of_every_version(self):
        for stack in STACKS:
            text = (PERFTEST_FIXTURES / f"{stack}.write_lat.txt").read_text()
            (row,) = perftest.parse(text, stack)
            self.assertEqual((row["bytes"], row["iterations"]), (2, 200), stack)
            self.assertLess(0, row["min_us"])
            self.assertLessEqual(row["min_us"], row["typical_us"])
            self.assertLessEqual(row["typical_us"], row["max_us"])
            self.assertLessEqual(row["p99_us"], row["p999_us"])
            # the number as printed, column by column (spot check)
            line = [l for l in text.splitlines() if l.split()[:2] == ["2", "200"]][0].split()
            self.assertEqual(row["typical_us"], float(line[4]), stack)

    def test_bandwidth_in_bytes_per_second_whatever_the_unit_label(self):
        labels = {}
        for stack in STACKS:
            text = (PERFTEST_FIXTURES / f"{stack}.write_bw.txt").read_text()
            (row,) = perftest.parse(text, stack)
            labels[stack] = "MiB/sec" if "MiB/sec" in text else "MB/sec"
            line = [l for l in text.splitlines() if l.split()[:1] == ["65536"]][0].split()
            self.assertAlmostEqual(row["bw_avg_Bps"], float(line[3]) * 1048576)
            self.assertGreater(row["msg_rate_Mpps"], 0)
        # the fixtures hold both spellings: the old label and the new one
        self.assertEqual(set(labels.values()), {"MB/sec", "MiB/sec"})


class ReadSendAtomic(unittest.TestCase):
    """read_lat -s 2, send_bw -s 65536 and atomic_lat, 1000 iterations each."""

    def check_latency(self, test: str, size: int):
        for stack, version in VERSIONS.items():
            text = (PERFTEST_FIXTURES / f"{stack}.{test}.txt").read_text()
            (row,) = perftest.parse(text, stack)
            cells = printed(text, str(size))
            self.assertEqual((row["bytes"], row["iterations"]), (size, 1000), version)
            self.assertEqual([row[k] for k in ("min_us", "max_us", "typical_us", "avg_us",
                                                "stdev_us", "p99_us", "p999_us")],
                             [float(c) for c in cells[2:]], version)
            self.assertLess(0, row["min_us"], version)
            self.assertLessEqual(row["min_us"], row["typical_us"])
            self.assertLessEqual(row["typical_us"], row["max_us"])
            self.assertLessEqual(row["p99_us"], row["p999_us"])

    def test_read_latency_of_every_version(self):
        self.check_latency("read_lat", 2)

    def test_atomic_latency_of_every_version_is_8_bytes(self):
        self.check_latency("atomic_lat", 8)

    def test_send_bandwidth_of_every_version(self):
        for stack, version in VERSIONS.items():
            text = (PERFTEST_FIXTURES / f"{stack}.send_bw.txt").read_text()
            (row,) = perftest.parse(text, stack)
            cells = printed(text, "65536")
            self.assertEqual((row["bytes"], row["iterations"]), (65536, 1000), version)
            self.assertEqual(row["bw_avg_Bps"], float(cells[3]) * 1048576, version)
            self.assertLessEqual(row["bw_avg_Bps"], row["bw_peak_Bps"], version)
            # the message rate, a column of its own, gives the same bandwidth:
            # proof that perftest's MB (and MiB) are 2^20 bytes
            self.assertTrue(math.isclose(row["msg_rate_Mpps"] * 1e6 * 65536, row["bw_avg_Bps"],
                                         rel_tol=0.01), version)

    def test_receiver_side_of_send_bw_has_no_peak(self):
        # the server of ib_send_bw prints BW peak 0.00: not measured, so absent
        (row,) = perftest.parse((PERFTEST_FIXTURES / "debian-12.send_bw.server.txt").read_text())
        self.assertNotIn("bw_peak_Bps", row)
        self.assertGreater(row["bw_avg_Bps"], 0)


class JsonReport(unittest.TestCase):
    def test_25_01_report_equals_its_table(self):
        for test in ("atomic_lat", "send_bw"):
            (table,) = perftest.parse((PERFTEST_FIXTURES / f"debian-13.{test}.txt").read_text())
            report = perftest.parse_json((PERFTEST_FIXTURES / f"debian-13.{test}.json").read_text())
            self.assertEqual(report.keys(), table.keys(), test)
            for key, value in table.items():
                self.assertAlmostEqual(report[key], value, msg=f"{test} {key}")

    def test_4_5_report_is_not_json(self):
        with self.assertRaisesRegex(UsageError, "not a JSON report"):
            perftest.parse_json((PERFTEST_FIXTURES / "debian-12.atomic_lat.json").read_text(), "4.5.json")

    def test_garbage_reports(self):
        def report(**results):
            return json.dumps({"results": {"MsgSize": 8, "n_iterations": 10, **results}})
        for text, error in ((report(t_avg=0, t_min=0, t_typical=0), "zero or missing"),
                            (report(t_avg="1.0"), "'1.0' is not a number"),
                            ('{"results": {"MsgSize": 8, "n_iterations": 10, "t_avg": NaN}}',
                             "not a usable measurement"),
                            (report(), "zero or missing"),
                            ('{"results": [1, 2]}', "not one object"),
                            ("[]", "not a JSON report"), ("", "not a JSON report")):
            with self.assertRaisesRegex(UsageError, error, msg=text):
                perftest.parse_json(text, "bad.json")


class Garbage(unittest.TestCase):
    def test_not_perftest(self):
        with self.assertRaisesRegex(UsageError, "no results table"):
            perftest.parse("Couldn't connect to 10.0.2.15:18515\n", "client.txt")

    def test_cut_short(self):
        text = (PERFTEST_FIXTURES / "debian-12.write_lat.txt").read_text()
        head = text[:text.index("#bytes")] + text[text.index("#bytes"):].split("\n", 1)[0] + "\n"
        with self.assertRaisesRegex(UsageError, "table is empty"):
            perftest.parse(head, "cut.txt")

    def test_zero_latency_is_never_a_result(self):
        text = (PERFTEST_FIXTURES / "debian-13.write_lat.txt").read_text()
        line = [l for l in text.splitlines() if l.split()[:2] == ["2", "200"]][0]
        cells = line.split()
        zeroed = line.replace(cells[4], "0.00", 1)
        with self.assertRaisesRegex(UsageError, "zero or missing"):
            perftest.parse(text.replace(line, zeroed), "zero.txt")

    def test_mangled_row(self):
        text = (PERFTEST_FIXTURES / "debian-11.write_lat.txt").read_text()
        line = [l for l in text.splitlines() if l.split()[:2] == ["2", "200"]][0]
        with self.assertRaisesRegex(UsageError, r"mangled\.txt:\d+: 'x3\.1' is not a number"):
            perftest.parse(text.replace(line, line.replace(line.split()[3], "x3.1", 1)),
                           "mangled.txt")

    def test_send_bw_with_a_zero_average(self):
        text = (PERFTEST_FIXTURES / "debian-11.send_bw.txt").read_text()
        cells = printed(text, "65536")
        line = [l for l in text.splitlines() if l.split()[:1] == ["65536"]][0]
        with self.assertRaisesRegex(UsageError, "zero or missing"):
            perftest.parse(text.replace(line, line.replace(cells[3], "0.00", 1)), "zero.txt")


TINY = perftest_run.Sweep(("read_lat", "send_bw", "atomic_lat"), lat_sizes=(2,),
                          bw_sizes=(65536,), lat_iters=1000, bw_iters=1000)


class Jobs(unittest.TestCase):
    def test_short_sweep(self):
        jobs = perftest_run.SWEEPS["short"].jobs()
        names = [job["name"] for job in jobs]
        self.assertEqual(len(names), len(set(names)))
        self.assertIn("atomic_bw-8", names)
        self.assertIn("write_lat-65536", names)
        self.assertNotIn("write_bw-2", names)

    def test_job_lines(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "jobs.txt"
            perftest_run.write_jobs(path, TINY.jobs(), 60)
            lines = [line.split() for line in path.read_text().splitlines()]
        self.assertEqual(lines[0], ["read_lat-2", "18515", "60", "ib_read_lat", "-d", "rxe0",
                                    "-x", "1", "-n", "1000", "-F", "-s", "2"])
        self.assertEqual(lines[2][:4], ["atomic_lat-8", "18517", "60", "ib_atomic_lat"])
        self.assertNotIn("-s", lines[2])   # the atomics have no size option

    def test_job_lines_on_a_device_keep_perftest_s_gid_and_refuse_odd_names(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "jobs.txt"
            perftest_run.write_jobs(path, TINY.jobs(), 60, "mlx5_0", None)
            first = path.read_text().splitlines()[0].split()
            for bad in ("mlx5 0", "-x", "a;b", ""):
                with self.subTest(device=bad), self.assertRaisesRegex(InfraError, "device name"):
                    perftest_run.write_jobs(path, TINY.jobs(), 60, bad, None)
        self.assertEqual(first, ["read_lat-2", "18515", "60", "ib_read_lat", "-d", "mlx5_0",
                                 "-n", "1000", "-F", "-s", "2"])

    def test_bad_sweeps(self):
        for sweep, error in ((perftest_run.Sweep(("rdma_lat",), (2,), (2,), 5, 5), "unknown tool"),
                             (perftest_run.Sweep(("write_lat",), (0,), (2,), 5, 5), "positive"),
                             (perftest_run.Sweep((), (2,), (2,), 5, 5), "no jobs")):
            with self.assertRaisesRegex(UsageError, error):
                sweep.jobs()


class Collect(unittest.TestCase):
    """Results of a sweep's raw outputs: real fixtures placed as a guest
    would leave them, then broken one way at a time."""

    def setUp(self):
        self.out = Path(tempfile.mkdtemp()) / "perftest"
        self.out.mkdir()
        self.addCleanup(shutil.rmtree, self.out.parent)

    def place(self, stack: str, statuses: str = "0 0"):
        for path in self.out.iterdir():
            path.unlink()
        for test, name in (("read_lat", "read_lat-2"), ("send_bw", "send_bw-65536"),
                           ("atomic_lat", "atomic_lat-8")):
            shutil.copy(PERFTEST_FIXTURES / f"{stack}.{test}.txt", self.out / f"{name}.client.txt")
            if (PERFTEST_FIXTURES / f"{stack}.{test}.json").exists():
                shutil.copy(PERFTEST_FIXTURES / f"{stack}.{test}.json", self.out / f"{name}.client.json")
            (self.out / f"{name}.server.txt").write_text("* Waiting for client to connect... *\n")
        (self.out / "status.txt").write_text(
            "".join(f"{job['name']} {statuses}\n" for job in TINY.jobs()))
        (self.out / "versions.txt").write_text(
            "package perftest (25.01.0+0.80-1) unstable; urgency=medium\n"
            "ib_read_lat Version: 6.24\n")

    def collect(self):
        return {r["tool"]: r for r in perftest_run.collect(self.out, TINY.jobs(), "debian-13")}

    def test_every_version(self):
        # the JSON report where there is a real one: 25.01's (4.5's is not JSON)
        json_from = {"debian-13": {"ib_send_bw", "ib_atomic_lat"}}
        for stack in ("debian-11", "debian-12", "debian-13"):
            self.place(stack)
            results = self.collect()
            for tool, result in results.items():
                self.assertTrue(result["ok"], f"{stack} {tool}: {result.get('error')}")
                self.assertEqual(result["source"],
                                 "json" if tool in json_from.get(stack, ()) else "table", stack)
                self.assertTrue(all(v > 0 for v in result["metrics"].values()), result)
            self.assertEqual(results["ib_atomic_lat"]["size"], 8)
            self.assertEqual(results["ib_read_lat"]["perftest_version"], "6.24")
            self.assertEqual(results["ib_read_lat"]["perftest_package"], "25.01.0+0.80-1")
            self.assertEqual(results["ib_send_bw"]["raw"]["client"], "perftest/send_bw-65536.client.txt")
            self.assertGreater(results["ib_send_bw"]["metrics"]["bw_avg_Bps"], 1e6)

    def test_failed_client_is_a_failure_with_its_output_not_a_zero(self):
        self.place("debian-11")
        (self.out / "status.txt").write_text("read_lat-2 1 143\nsend_bw-65536 124 0\n")
        (self.out / "read_lat-2.client.txt").write_text(
            "Couldn't connect to 10.0.2.15:18515\nUnable to open file descriptor for socket\n")
        results = self.collect()
        read = results["ib_read_lat"]
        self.assertFalse(read["ok"])
        self.assertNotIn("metrics", read)
        self.assertEqual(read["error"], "the client exited with 1")
        self.assertIn("Couldn't connect", read["tail"]["client"])
        self.assertIn("Waiting for client", read["tail"]["server"])
        self.assertIn("timeout", results["ib_send_bw"]["error"])
        self.assertIn("did not run", results["ib_atomic_lat"]["error"])

    def test_unreadable_table_is_a_failure(self):
        self.place("debian-12")
        (self.out / "read_lat-2.client.txt").write_text(" #bytes #iterations  t_min[usec]\n")
        self.assertRegex(self.collect()["ib_read_lat"]["error"], "table is empty")

    def test_json_and_table_must_agree(self):
        self.place("debian-13")
        path = self.out / "atomic_lat-8.client.json"
        report = json.loads(path.read_text())
        report["results"]["t_avg"] *= 2
        path.write_text(json.dumps(report))
        self.assertRegex(self.collect()["ib_atomic_lat"]["error"], "disagree on avg_us")

    def test_a_clock_that_never_calibrated_is_named_with_its_tries(self):
        self.place("debian-11")
        zeros = ("Correlation coefficient r^2: 0.86695 < 0.9\n"
                 " #bytes     #iterations    BW peak[MB/sec]    BW average[MB/sec]   MsgRate[Mpps]\n"
                 " 65536      1000             0.00               0.00   \t\t   0.000000\n")
        for name in ("send_bw-65536.try1.client.txt", "send_bw-65536.try2.client.txt",
                     "send_bw-65536.try1.server.txt", "send_bw-65536.client.txt"):
            (self.out / name).write_text(zeros)
        results = self.collect()
        send = results["ib_send_bw"]
        self.assertFalse(send["ok"])
        self.assertIn("zero or missing measurement", send["error"])
        self.assertIn("could not calibrate its clock", send["error"])
        self.assertIn("in 3 tries", send["error"])
        self.assertEqual(send["tries"], 3)
        self.assertEqual(send["raw"]["earlier_tries"],
                         ["perftest/send_bw-65536.try1.client.txt",
                          "perftest/send_bw-65536.try1.server.txt",
                          "perftest/send_bw-65536.try2.client.txt"])
        # the fixture printed the same warning yet reported a real latency: a result
        atomic = results["ib_atomic_lat"]
        self.assertIn("Correlation coefficient", (self.out / "atomic_lat-8.client.txt").read_text())
        self.assertTrue(atomic["ok"], atomic.get("error"))
        self.assertEqual((atomic["tries"], "earlier_tries" in atomic["raw"]), (1, False))

    def test_other_iterations_than_asked_is_a_failure(self):
        self.place("debian-11")
        jobs = [dict(job, iterations=500) for job in TINY.jobs()]
        (result, *_) = perftest_run.collect(self.out, jobs)
        self.assertRegex(result["error"], "not for 500 iterations")


FAKE_TOOL = """#!/bin/sh
# a stand-in perftest: prints its argv; the client (the one given an
# address, last) fails when the size is 3
case "$1" in
--version) echo "Version: 9.99"; exit 0 ;;
--help) echo "      --out_json_file=<file>  Name of the report json file."; exit 0 ;;
esac
for word in "$@"; do echo "arg:$word"; last="$word"; done
case "$last" in 10.0.2.15) case " $* " in *" -s 3 "*) exit 3 ;; esac ;; esac
exit 0
"""


# a stand-in perftest whose clock calibration fails in the client's first N
# runs, N being its -s; it counts its client runs in ./clients.N
CLOCK_TOOL = """#!/bin/sh
case "$1" in --version) echo "Version: 9.99"; exit 0 ;; --help) exit 0 ;; esac
for word in "$@"; do last="$word"; done
[ "$last" = 10.0.2.15 ] || { echo "server $*"; exit 0; }
while [ $# -gt 0 ]; do
    case "$1" in -s) failing="$2" ;; -p) port="$2" ;; esac
    shift
done
echo >> "clients.$failing"
if [ "$(wc -l < "clients.$failing")" -le "$failing" ]; then
    echo "Correlation coefficient r^2: 0.5 < 0.9"
fi
echo "client on port $port"
"""


class GuestScript(unittest.TestCase):
    """perftest_jobs.sh on this machine, with fake tools on PATH."""

    def place(self, jobs: str) -> Path:
        tmp = Path(tempfile.mkdtemp())
        self.addCleanup(shutil.rmtree, tmp)
        (tmp / "bin").mkdir()
        (tmp / "out").mkdir()
        for name, text in (("ib_fake_lat", FAKE_TOOL), ("ib_clock_lat", CLOCK_TOOL)):
            tool = tmp / "bin" / name
            tool.write_text(text)
            tool.chmod(0o755)
        (tmp / "jobs.txt").write_text(jobs)
        return tmp

    def argv(self, tmp: Path, *role: str) -> list[str]:
        return ["sh", str(perftest_run.JOB_SCRIPT), str(tmp / "out"), str(tmp / "jobs.txt"),
                "10.0.2.15", *role]

    def env(self, tmp: Path) -> dict:
        return dict(os.environ, PATH=f"{tmp / 'bin'}:{os.environ['PATH']}")

    def run_script(self, jobs: str):
        tmp = self.place(jobs)
        done = subprocess.run(self.argv(tmp), capture_output=True, text=True, timeout=60,
                              cwd=tmp, env=self.env(tmp))
        return tmp, done

    def test_jobs_statuses_and_argv_as_given(self):
        tmp, done = self.run_script(
            "ok-2 18600 20 ib_fake_lat -d rxe0 -s 2 * $(touch$IFS/tmp/pwned)\n"
            "bad-3 18601 20 ib_fake_lat -s 3\n"
            "$(touch${IFS}pwned) 18602 20 ib_fake_lat\n"
            "shell-1 18603 20 sh -c id\n")
        out = tmp / "out"
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual((out / "status.txt").read_text(), "ok-2 0 0\nbad-3 3 0\n")
        self.assertIn("ib_fake_lat Version: 9.99", (out / "versions.txt").read_text())
        client = [l[4:] for l in (out / "ok-2.client.txt").read_text().splitlines()]
        self.assertEqual(client, ["-d", "rxe0", "-s", "2", "*", "$(touch$IFS/tmp/pwned)",
                                  "-p", "18600", "--out_json",
                                  f"--out_json_file={out}/ok-2.client.json", "10.0.2.15"])
        server = [l[4:] for l in (out / "ok-2.server.txt").read_text().splitlines()]
        self.assertEqual(server, ["-d", "rxe0", "-s", "2", "*", "$(touch$IFS/tmp/pwned)",
                                  "-p", "18600"])
        self.assertEqual(sorted(p.name for p in tmp.iterdir()), ["bin", "jobs.txt", "out"])
        self.assertIn("malformed", done.stderr)
        self.assertIn("not a perftest tool: sh", done.stderr)

    def test_a_failed_clock_calibration_is_tried_again_three_times_at_most(self):
        tmp, done = self.run_script("good-0 18700 20 ib_clock_lat -s 0\n"
                                    "late-2 18701 20 ib_clock_lat -s 2\n"
                                    "never-9 18702 20 ib_clock_lat -s 9\n")
        out = tmp / "out"
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual((out / "status.txt").read_text(), "good-0 0 0\nlate-2 0 0\nnever-9 0 0\n")
        self.assertEqual(sorted(p.name for p in out.glob("*.try*")),
                         ["late-2.try1.client.txt", "late-2.try1.server.txt",
                          "late-2.try2.client.txt", "late-2.try2.server.txt",
                          "never-9.try1.client.txt", "never-9.try1.server.txt",
                          "never-9.try2.client.txt", "never-9.try2.server.txt"])
        self.assertEqual((out / "good-0.client.txt").read_text(), "client on port 18700\n")
        # each try on a port of its own; the third try of late-2 calibrated
        self.assertIn("port 18701", (out / "late-2.try1.client.txt").read_text())
        self.assertIn("port 19701", (out / "late-2.try2.client.txt").read_text())
        self.assertEqual((out / "late-2.client.txt").read_text(), "client on port 20701\n")
        self.assertIn("Correlation coefficient", (out / "never-9.client.txt").read_text())
        self.assertEqual(done.stdout.count("could not calibrate its clock"), 4)

    def test_server_and_client_roles_meet_through_the_shared_directory(self):
        # as on two lab nodes: the same script as server and as client, the
        # output directory shared; the client's side retries, the server follows
        tmp = self.place("late-1 18720 20 ib_clock_lat -s 1\n"
                         "bad-3 18721 20 ib_fake_lat -s 3\n")
        server = subprocess.Popen(self.argv(tmp, "server"), stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True, cwd=tmp, env=self.env(tmp))
        client = subprocess.run(self.argv(tmp, "client"), capture_output=True, text=True,
                                timeout=60, cwd=tmp, env=self.env(tmp))
        served = server.communicate(timeout=60)[0]
        out = tmp / "out"
        self.assertEqual((client.returncode, server.returncode), (0, 0), client.stderr + served)
        self.assertEqual((out / "status.txt").read_text(), "late-1 0 0\nbad-3 3 0\n")
        self.assertIn("ib_clock_lat Version: 9.99", (out / "versions.txt").read_text())
        self.assertIn("port 18720", (out / "late-1.try1.client.txt").read_text())
        self.assertEqual((out / "late-1.try1.server.txt").read_text(),
                         "server -s 1 -p 18720\n")
        self.assertEqual((out / "late-1.client.txt").read_text(), "client on port 19720\n")
        self.assertEqual((out / "late-1.server.txt").read_text(), "server -s 1 -p 19720\n")
        self.assertEqual(client.stdout.count("could not calibrate its clock"), 1)
        self.assertEqual(served, "")   # the server's side reports nothing itself

    def test_a_client_whose_server_never_comes_gives_up(self):
        tmp = self.place("lonely-2 18730 1 ib_fake_lat -s 2\n")
        client = subprocess.run(self.argv(tmp, "client"), capture_output=True, text=True,
                                timeout=60, cwd=tmp, env=self.env(tmp))
        self.assertEqual(client.returncode, 0, client.stderr)
        self.assertEqual((tmp / "out" / "status.txt").read_text(), "lonely-2 125 125\n")
        self.assertIn("never said it listens", (tmp / "out" / "lonely-2.client.txt").read_text())

    def test_unknown_role_is_a_usage_error(self):
        tmp = self.place("x-2 18740 5 ib_fake_lat\n")
        done = subprocess.run(self.argv(tmp, "observer"), capture_output=True, text=True,
                              timeout=60, cwd=tmp, env=self.env(tmp))
        self.assertEqual(done.returncode, 2)
        self.assertIn("usage", done.stderr)


if __name__ == "__main__":
    unittest.main()
