"""Providers really loaded (rdmagate abi): each stack's providers opened with
the other's libibverbs on the real Debian stacks, a vendor's crafted
providers with --providers, and the loads held against the static rules."""
import json
import tempfile
import unittest
from pathlib import Path

from rdmagate.abi import loads
from rdmagate.stacks import fetch, resolve
from tests.support import abi_json, build_provider, rdmagate


def run_of(report: dict, direction: str) -> dict:
    (found,) = [r for r in report["provider_loads"] if r["direction"] == direction]
    return found


def by_name(run: dict) -> dict:
    return {p["provider"]: p for p in run["loads"]}


class RealStacks(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # debian-13's root file system runs what needs glibc 2.38 (the
        # downgrade of debian-12 loads debian-13's providers there)
        fetch(resolve("debian-12"), with_rootfs=False)
        fetch(resolve("debian-13"))
        fetch(resolve("debian-sid"), with_rootfs=False)

    def report(self, old: str, new: str, *options: str):
        with tempfile.TemporaryDirectory() as tmp:
            done, report = abi_json(old, new, "--no-consumers", *options, results=Path(tmp))
            self.assertIsNotNone(report, done.stderr)
            (run_dir,) = Path(tmp).iterdir()
            on_disk = loads.load_file(run_dir / "providers.json")
        self.assertEqual(len(on_disk.runs), len(report["provider_loads"]))
        return done, report

    def test_debian_12_and_13_load_each_others_providers_but_one(self):
        done, report = self.report("debian-12", "debian-13")
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(report["load_problems"], [])
        upgrade = run_of(report, "upgrade")
        self.assertEqual(len(upgrade["loads"]), 17)
        self.assertTrue(all(p["loaded"] and p["agrees"] and p["named"]
                            for p in upgrade["loads"]), upgrade)
        self.assertIn("debian-13", upgrade["root"])   # glibc 2.38: not the host's 2.36
        # a downgrade keeps IBVERBS_PRIVATE_34, yet debian-13's mlx5 calls a
        # private function debian-12's libibverbs does not have
        down = by_name(run_of(report, "downgrade"))
        self.assertEqual([n for n, p in down.items() if not p["loaded"]], ["mlx5"])
        self.assertIn("undefined symbol: ibv_cmd_create_cq_ex2, version IBVERBS_PRIVATE_34",
                      down["mlx5"]["message"])
        self.assertEqual(down["mlx5"]["predicted"],
                         "fails to resolve: missing ibv_cmd_create_cq_ex2@IBVERBS_PRIVATE_34")
        self.assertTrue(all(p["agrees"] for p in down.values()))
        # the static findings say the same: nothing breaks providers going up
        # (Debian's libraries have no debug info: the private types are unknown),
        # and the symbols added under the released node are the downgrade's failure
        self.assertEqual(report["verdicts"]["providers"]["verdict"], "NEEDS REVIEW")
        self.assertEqual(sorted((f["kind"], f["symbol"]) for f in report["findings"]
                                if f["audience"] == "providers" and f["severity"] != "info"),
                         [("private symbol added without a new version node",
                           "ibv_cmd_create_cq_ex2"),
                          ("private symbol added without a new version node",
                           "ibv_wr_opcode_str"),
                          ("private types not compared", "")])

    def test_the_abi_runs_report_shows_each_load_and_is_rebuilt_the_same(self):
        with tempfile.TemporaryDirectory() as tmp:
            done, _ = abi_json("debian-12", "debian-13", "--no-consumers", results=Path(tmp))
            self.assertEqual(done.returncode, 0, done.stderr)
            (run_dir,) = Path(tmp).iterdir()
            written = (run_dir / "report.html").read_text()
            (run_dir / "report.html").unlink()
            again = rdmagate("report", str(run_dir))
            self.assertEqual(again.returncode, 0, again.stderr)
            self.assertEqual((run_dir / "report.html").read_text(), written)
        self.assertIn("<summary>Providers loaded</summary>", written)
        self.assertIn("17 of 17 loaded", written)
        self.assertIn("16 of 17 loaded", written)
        # grouped by outcome and the loader's words (its paths dropped), debian-13's mlx5
        self.assertIn("<td>not loaded</td><td>undefined symbol: ibv_cmd_create_cq_ex2", written)
        self.assertIn("fails to resolve: missing ibv_cmd_create_cq_ex2@IBVERBS_PRIVATE_34", written)
        self.assertNotIn("DISAGREES", written)

    def test_debian_13_to_sid_no_provider_loads_as_the_findings_say(self):
        done, report = self.report("debian-13", "debian-sid")
        self.assertEqual(done.returncode, 1, done.stderr)
        self.assertEqual(report["load_problems"], [])
        for direction, node in (("upgrade", "IBVERBS_PRIVATE_34"),
                                ("downgrade", "IBVERBS_PRIVATE_65")):
            found = run_of(report, direction)
            self.assertGreaterEqual(len(found["loads"]), 17)
            for load in found["loads"]:
                self.assertFalse(load["loaded"], load)
                self.assertIn(f"version `{node}' not found", load["message"])
                self.assertTrue(load["agrees"] and not load["named"], load)
        self.assertEqual(run_of(report, "upgrade")["opens"], "lib%s-rdmav65.so")
        self.assertIn("private ABI changed",
                      {f["kind"] for f in report["findings"] if f["audience"] == "providers"})

    def test_text_output_has_the_section(self):
        with tempfile.TemporaryDirectory() as tmp:
            done = rdmagate("abi", "--from", "debian-12", "--to", "debian-13", "--no-consumers",
                            "--results", tmp)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn("providers loaded (providers.json):", done.stdout)
        self.assertIn("mlx5: undefined symbol: ibv_cmd_create_cq_ex2", done.stdout)

    def test_the_gates_abi_phase_loads_them_too(self):
        with tempfile.TemporaryDirectory() as tmp:
            done = rdmagate("upgrade", "--from", "debian-12", "--to", "debian-13",
                            "--consumers", tmp, *[a for p in ("kabi", "api", "verbs", "perf")
                                                  for a in ("--skip", p)],
                            "--results", str(Path(tmp) / "results"))
            self.assertEqual(done.returncode, 0, done.stderr)
            (run_dir,) = (Path(tmp) / "results").iterdir()
            found = loads.load_file(run_dir / "providers.json")
            upgrade = json.loads((run_dir / "upgrade.json").read_text())
        self.assertEqual([r.direction for r in found.runs], ["upgrade", "downgrade"])
        (phase,) = [p for p in upgrade["phases"] if p["name"] == "abi"]
        self.assertIn("providers loaded: upgrade 17/17, downgrade 16/17", phase["note"])

    def test_stacks_read_from_their_baselines_say_why_nothing_loaded(self):
        with tempfile.TemporaryDirectory() as cache:
            done, report = abi_json("debian-12", "debian-13", "--no-consumers",
                                    env={"RDMAGATE_CACHE": cache})
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertTrue(all(s.startswith("baseline") for s in report["sources"]))
        self.assertEqual([(r["direction"], r["loads"]) for r in report["provider_loads"]],
                         [("upgrade", []), ("downgrade", [])])
        self.assertIn("read from its baseline, not a tree: rdmagate stacks fetch debian-12",
                      report["provider_loads"][0]["skipped"])

    def test_no_load_skips_the_matrix(self):
        done, report = abi_json("debian-12", "debian-13", "--no-consumers", "--no-load")
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(report["provider_loads"], [])


class VendorProviders(unittest.TestCase):
    """--providers DIR: a vendor's own provider files loaded with --to's."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = Path(self.tmp.name) / "vendor"
        self.dir.mkdir()
        fetch(resolve("debian-13"))

    def tearDown(self):
        self.tmp.cleanup()

    def abi(self, *options: str):
        return abi_json("debian-12", "debian-13", "--no-consumers", "--providers",
                        str(self.dir), *options, results=Path(self.tmp.name) / "results")

    def test_undefined_symbol_is_the_loaders_message(self):
        build_provider(self.dir / "libacme-rdmav34.so",
                       ["verbs_register_driver_34", "acme_private_call"])
        build_provider(self.dir / "libfine-rdmav34.so", ["verbs_register_driver_34"])
        done, report = self.abi()
        self.assertEqual(done.returncode, 1, done.stderr)
        vendor = by_name(run_of(report, "vendor"))
        self.assertIn("undefined symbol: acme_private_call, version IBVERBS_PRIVATE_34",
                      vendor["acme"]["message"])
        self.assertEqual(vendor["acme"]["predicted"],
                         "fails to resolve: missing acme_private_call@IBVERBS_PRIVATE_34")
        self.assertTrue(vendor["fine"]["loaded"] and vendor["fine"]["named"])
        (broken,) = [f for f in report["findings"] if f["kind"] == "vendor provider does not load"]
        self.assertEqual((broken["library"], broken["severity"], broken["audience"]),
                         ("provider acme", "breaking", "providers"))
        self.assertEqual(report["verdicts"]["providers"]["verdict"], "BREAKS")

    def test_a_provider_for_another_private_abi_is_not_opened(self):
        build_provider(self.dir / "libold-rdmav33.so", ["verbs_register_driver_33"],
                       private="IBVERBS_PRIVATE_33")
        done, report = self.abi()
        self.assertEqual(done.returncode, 1, done.stderr)
        old = by_name(run_of(report, "vendor"))["old"]
        self.assertFalse(old["loaded"] or old["named"])
        self.assertIn("version `IBVERBS_PRIVATE_33' not found", old["message"])

    def test_a_load_the_static_rules_did_not_predict_is_rdmagates_error(self):
        # the static rules check the RDMA libraries only: a missing other
        # library makes the real load fail where they predicted it loads
        build_provider(self.dir / "libgap-rdmav34.so", ["verbs_register_driver_34"],
                       needs="librdmagate-absent.so.1")
        done, report = self.abi()
        self.assertEqual(done.returncode, 3, done.stderr)
        self.assertEqual(len(report["load_problems"]), 1)
        self.assertIn("rdmagate: error: the provider loads and the static rules disagree: "
                      "vendor: gap", done.stderr)
        self.assertIn("librdmagate-absent.so.1: cannot open shared object file", done.stderr)

    def test_not_a_directory_is_one_line_and_exit_2(self):
        missing = Path(self.tmp.name) / "nothing"
        done = rdmagate("abi", "--from", "debian-12", "--to", "debian-13", "--no-consumers",
                        "--providers", str(missing))
        self.assertEqual(done.returncode, 2, done.stderr)
        self.assertEqual(done.stderr.strip().splitlines(),
                         [f"rdmagate: error: --providers {missing}: not a directory"])

    def test_providers_with_no_load_is_exit_2(self):
        build_provider(self.dir / "libfine-rdmav34.so", ["verbs_register_driver_34"])
        done = rdmagate("abi", "--from", "debian-12", "--to", "debian-13", "--no-consumers",
                        "--providers", str(self.dir), "--no-load")
        self.assertEqual(done.returncode, 2, done.stderr)
        self.assertIn("cannot go with --no-load", done.stderr)

    def test_a_directory_without_providers_is_exit_2(self):
        (self.dir / "README").write_text("no providers here\n")
        done = rdmagate("abi", "--from", "debian-12", "--to", "debian-13", "--no-consumers",
                        "--providers", str(self.dir))
        self.assertEqual(done.returncode, 2, done.stderr)
        self.assertIn("no provider files in it", done.stderr)
        self.assertNotIn("Traceback", done.stderr)


class Records(unittest.TestCase):
    def test_providers_json_is_strict(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "providers.json"
            run = loads.LoadRun("upgrade", "a", "b", "/x/libibverbs.so.1", "lib%s-rdmav34.so", "/",
                                [loads.ProviderLoad("mlx5", "/x/libmlx5-rdmav34.so", True, True,
                                                    "", "loads", True)])
            loads.write(loads.LoadsFile("a", "b", [run]), path)
            self.assertEqual(loads.load_file(path).runs[0].loads[0].provider, "mlx5")
            data = json.loads(path.read_text())
            data["runs"][0]["loads"][0]["loaded"] = "yes"
            path.write_text(json.dumps(data))
            with self.assertRaises(Exception) as caught:
                loads.load_file(path)
            self.assertIn("runs[0].loads[0].loaded", str(caught.exception))


if __name__ == "__main__":
    unittest.main()
