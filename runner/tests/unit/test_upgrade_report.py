"""The upgrade gate's verdict rules and its report (rendered in Chromium)."""
import copy
import shutil
import tempfile
import unittest
from pathlib import Path

from rdmagate.report import browser, page
from rdmagate.outputs import records
from rdmagate.progress import Progress
from rdmagate.pipelines import gate
from rdmagate.upgrade import record, verdict
from tests.support import BASE, point, upgrade_of


def finding(kind, audience, severity="breaking", library="libibverbs"):
    return {"library": library, "kind": kind, "severity": severity, "audience": audience,
            "detail": "d", "symbol": "", "version": ""}


class Verdict(unittest.TestCase):
    def decide(self, **changes):
        data = copy.deepcopy(BASE)
        data.update(changes)
        return verdict.decide(upgrade_of(data))

    def test_nothing_found_is_go(self):
        self.assertEqual(self.decide(), ("GO", []))

    def test_provider_of_other_hardware_is_a_risk_of_ours_a_break(self):
        abi = {"findings": [finding("provider removed", "applications", library="provider i40iw")]}
        self.assertEqual(self.decide(abi=abi)[0], "GO WITH RISKS")
        self.assertEqual(self.decide(abi=abi, device_driver="i40iw")[0], "NO-GO")

    def test_a_management_library_break_is_a_risk_a_consumer_break_is_not(self):
        # rdma-core 44.0 grew struct ibnd_node under libibnetdisc.so.5
        for library in ("infiniband/ibnetdisc.h", "libibnetdisc", "infiniband/mad.h"):
            abi = {"findings": [finding("member moved", "applications", library=library)]}
            result, (reason,) = self.decide(abi=abi)
            self.assertEqual((result, reason.category), ("GO WITH RISKS", "risk"))
            self.assertIn("fabric management library", reason.text)
        for library, kind, audience in (("infiniband/verbs.h", "member moved", "applications"),
                                        ("libibnetdisc", "consumer fails to load", "providers"),
                                        ("libibnetdisc", "consumer fails to load",
                                         "applications")):
            abi = {"findings": [finding(kind, audience, library=library)]}
            self.assertEqual(self.decide(abi=abi)[0], "NO-GO")

    def test_the_abi_phase_note_tells_the_verdicts_story(self):
        abi = {"findings": [finding("provider removed", "applications", library="provider i40iw"),
                            finding("private ABI changed", "providers")]}
        for driver, result, note in ((None, "GO WITH RISKS",
                                      "risks for applications (1), providers (1)"),
                                     ("i40iw", "NO-GO",
                                      "breaks for applications (1); risks for providers (1)")):
            data = copy.deepcopy(BASE)
            data.update(abi=abi, device_driver=driver)
            upgrade = verdict.decided(upgrade_of(data))
            self.assertEqual(upgrade.verdict, result)
            (phase,) = [p for p in upgrade.phases if p.name == "abi"]
            self.assertEqual(phase.note, note)

    def test_private_abi_and_glibc_floor_are_risks(self):
        abi = {"findings": [finding("private ABI changed", "providers"),
                            finding("C library floor raised", "build", "review")]}
        result, reasons = self.decide(abi=abi)
        self.assertEqual(result, "GO WITH RISKS")
        self.assertEqual({r.audience for r in reasons}, {"providers", "build"})

    def test_verbs_regression_and_binary_break_are_no_go(self):
        verbs = copy.deepcopy(BASE["verbs"])
        verbs["tests"]["verbs.send"]["debian-13"] = "FAIL"
        self.assertEqual(self.decide(verbs=verbs)[0], "NO-GO")
        verbs = copy.deepcopy(BASE["verbs"])
        verbs["tests"]["verbs.send"]["debian-11 build on debian-13"] = "CRASH"
        result, reasons = self.decide(verbs=verbs)
        self.assertEqual(result, "NO-GO")
        self.assertIn("built against debian-11", reasons[0].text)

    def test_an_error_on_the_new_stack_is_untested_not_a_break(self):
        verbs = copy.deepcopy(BASE["verbs"])
        verbs["tests"]["verbs.send"]["debian-13"] = "ERROR"
        verbs["tests"]["verbs.send"]["debian-11 build on debian-13"] = "ERROR"
        verbs["messages"] = {"verbs.send": {"debian-13": "no /dev/infiniband"}}
        result, reasons = self.decide(verbs=verbs)
        self.assertEqual(result, "GO WITH RISKS")
        self.assertEqual([(r.category, r.audience) for r in reasons],
                         [("untested", "verbs"), ("untested", "applications")])
        self.assertIn("no /dev/infiniband", reasons[0].text)

    def test_api_break_is_no_go(self):
        self.assertEqual(self.decide(api={"compiles": False, "error": "does not compile"})[0],
                         "NO-GO")

    def test_slower_ranks_after_breaks_and_untested_last(self):
        perf = copy.deepcopy(BASE["perf"])
        perf[0]["points"][0] = point(2, 30, 40, "slower", 1.33)
        phases = copy.deepcopy(BASE["phases"])
        phases[4] = {"name": "perf", "status": "failed", "seconds": 0, "note": "no QEMU"}
        abi = {"findings": [finding("symbol removed", "applications")]}
        result, reasons = self.decide(perf=perf, phases=phases, abi=abi)
        self.assertEqual(result, "NO-GO")
        self.assertEqual([r.category for r in reasons], ["breaks", "slower", "untested"])
        self.assertEqual([r.rank for r in reasons], [1, 2, 3])
        self.assertIn("1.33x", reasons[1].text)

    def test_lab_only_performance_ranks_below_device_findings_and_says_so(self):
        abi = {"findings": [finding("private ABI changed", "providers")]}
        perf = copy.deepcopy(BASE["perf"])
        perf[0]["points"][0] = point(2, 30, 40, "slower", 1.33)
        perf.append({"name": "write_bw", "title": "RDMA WRITE bandwidth", "kind": "bandwidth",
                     "unit": "MiB/s", "points": [point(65536, 40, 30, "slower", 1.33)]})
        for series in perf:
            series["where"] = "lab"
        _, reasons = self.decide(perf=perf, abi=abi)
        self.assertEqual([(r.category, r.where) for r in reasons],
                         [("risk", None), ("slower", "lab"), ("slower", "lab")])
        self.assertIn("in the lab: soft-RoCE under an emulated CPU, not a device",
                      reasons[1].text)
        self.assertIn("RDMA WRITE bandwidth at 65536 B: 1.33x 1/the rate", reasons[2].text)
        for series in perf:
            series["where"] = "device"
        _, reasons = self.decide(perf=perf, abi=abi)
        self.assertEqual([r.category for r in reasons], ["slower", "slower", "risk"])
        self.assertIn("on the device", reasons[0].text)
        data = copy.deepcopy(BASE)
        data["perf"] = perf
        data["baseline"] = [{"name": "write_lat-2", "size": 2, "verdict": "inconclusive",
                             "ratio": 1.0, "ci": [], "runs": [8, 4], "where": "device",
                             "note": "not comparable: recorded on X, measured on Y",
                             "baseline": "baselines/perf/x/debian-13.json"}]
        text = page.render(upgrade_of(data))
        self.assertIn("Measured on the device.", text)
        self.assertIn("not comparable: recorded on X, measured on Y", text)
        perf[0]["where"] = "lab"
        self.assertIn("Measured in the lab: soft-RoCE", page.render(upgrade_of(
            dict(data, perf=perf[:1]))))

    def test_a_size_perftest_could_not_measure_is_untested_not_dropped(self):
        perf = copy.deepcopy(BASE["perf"])
        perf[0]["unmeasured"] = [{"stack": "debian-13", "size": 4096,
                                  "why": "a zero or missing measurement is not a result"}]
        result, reasons = self.decide(perf=perf)
        self.assertEqual(result, "GO WITH RISKS")
        self.assertEqual([(r.category, r.audience) for r in reasons],
                         [("untested", "performance")])
        self.assertIn("at 4096 B on debian-13: not measured: a zero", reasons[0].text)
        data = copy.deepcopy(BASE)
        data["perf"] = perf
        text = page.render(upgrade_of(data))
        self.assertIn("Not measured", text)
        self.assertIn("a zero or missing measurement is not a result", text)


class GatePerf(unittest.TestCase):
    """The perf phase's series from runs (what the lab would measure, made up)."""
    def test_bandwidth_and_rate_get_verdicts_from_their_runs(self):
        with tempfile.TemporaryDirectory() as tmp:
            the_gate = gate.Gate(gate.UpgradeRequest("debian-11", "debian-13", use_lab=True),
                                 Path(tmp), Progress(enabled=False))
            runs = {"from": {("bw", 65536): [40.0, 41.0, 40.5], ("rate", 65536): [0.64, 0.65, 0.64],
                             ("bw", 64): [2.0, 2.01, 2.0]},
                    "to": {("bw", 65536): [30.0, 30.4, 30.2], ("rate", 65536): [0.64, 0.64, 0.65],
                           ("bw", 64): [2.01, 2.0, 2.0]}}
            bw = the_gate._perftest_series("bw", runs, [], None, 0.10, "lab")
            rate = the_gate._perftest_series("rate", runs, [], None, 0.10, "lab")
        self.assertEqual([(p.size, p.verdict) for p in bw.points],
                         [(64, "same"), (65536, "slower")])
        self.assertEqual([p.verdict for p in rate.points], ["same"])
        self.assertEqual((bw.kind, bw.where, bw.points[1].runs), ("bandwidth", "lab", [3, 3]))
        self.assertAlmostEqual(bw.points[1].ratio, 40.5 / 30.2, delta=0.01)
        _, reasons = verdict.decide(upgrade_of(dict(copy.deepcopy(BASE),
                                                    perf=[records.to_json(bw)])))
        self.assertEqual([(r.category, r.where) for r in reasons], [("slower", "lab")])


class Report(unittest.TestCase):
    def data(self):
        data = copy.deepcopy(BASE)
        data["verdict"], reasons = verdict.decide(upgrade_of(data))
        data["reasons"] = records.to_json(reasons)
        data["abi"]["findings"] = [dict(finding("private ABI changed", "providers"),
                                        detail="<script>alert(1)</script>")]
        data["consumers"] = [{"path": "/usr/lib/libfabric.so.1", "impact": "fails to load",
                              "detail": "IBVERBS_PRIVATE_33"}]
        return data

    def test_self_contained_escaped_and_complete(self):
        text = page.render(upgrade_of(self.data()))
        self.assertNotIn("<script", text)
        self.assertIn("&lt;script&gt;alert(1)&lt;/script&gt;", text)
        self.assertNotIn("http://", text.replace('xmlns="http://www.w3.org/2000/svg"', ""))
        self.assertNotIn("https://", text)
        self.assertNotIn(" src=", text)
        self.assertEqual(text.count("<svg"), 1)
        self.assertEqual(text.count('class="ci"'), 2 * 2)   # A and B, two sizes
        for expected in ("verbs.send", "/usr/lib/libfabric.so.1", "Verdict: GO",
                         "debian-11 build on debian-13", "rdmagate upgrade --from debian-11"):
            self.assertIn(expected, text)

    def test_consumers_are_counted_and_those_that_matter_come_first(self):
        data = self.data()
        data["consumers"] = [{"path": f"/usr/bin/ibv_tool{i}", "impact": "replaced by the upgrade",
                              "detail": ""} for i in range(52)] + [
            {"path": "/usr/lib/a-ok.so", "impact": "ok", "detail": ""},
            {"path": "/usr/lib/libprov-rdmav34.so", "impact": "loads with changed signatures",
             "detail": "priv_a@IBVERBS_PRIVATE_34"},
            {"path": "/usr/lib/libfabric.so.1", "impact": "fails to load",
             "detail": "IBVERBS_PRIVATE_33"}]
        text = page.render(upgrade_of(data))
        self.assertIn("55 checked (1 fails to load, 1 loads with changed signatures, 1 ok, "
                      "52 replaced by the upgrade), 1 would not load", text)
        self.assertNotIn("ibv_tool0", text)
        self.assertIn("52 replaced by the upgrade (files of the packages", text)
        order = [text.index(p) for p in ("libfabric.so.1", "libprov-rdmav34.so", "a-ok.so")]
        self.assertEqual(order, sorted(order))

    def test_the_abi_page_counts_consumers_and_lists_those_that_matter_first(self):
        from rdmagate.abi.consumers import Impact
        from rdmagate.abi.findings import FindingsFile
        found = FindingsFile({"name": "debian-12"}, {"name": "debian-sid"}, {}, [], {}, [
            Impact("/usr/lib/libprov-rdmav34.so", "loads with changed signatures",
                   changed_signatures=["priv_a@IBVERBS_PRIVATE_34"]),
            Impact("/usr/bin/ibv_devinfo", "replaced by the upgrade"),
            Impact("/usr/lib/libfabric.so.1", "fails to load",
                   missing_versions=["IBVERBS_1.14 (libibverbs.so.1)"])], [], [])
        text = page.render_abi(found, None)
        self.assertIn("3 checked (1 fails to load, 1 loads with changed signatures, 1 replaced "
                      "by the upgrade), 1 would not load on debian-sid", text)
        self.assertIn("priv_a@IBVERBS_PRIVATE_34", text)    # what changed, said
        self.assertNotIn("ibv_devinfo", text)
        self.assertIn("listed in findings.json", text)
        self.assertLess(text.index("libfabric.so.1"), text.index("libprov-rdmav34.so"))

    def test_provider_loads_are_shown_with_the_static_rules_and_disagreements_marked(self):
        data = self.data()
        load = {"provider": "mlx5", "file": "/t/libmlx5-rdmav34.so", "named": True,
                "loaded": False, "message": "undefined symbol: ibv_cmd_x", "predicted": "loads",
                "agrees": False}
        data["abi"]["loads"] = [
            {"direction": "upgrade", "providers_of": "debian-11", "libibverbs_of": "debian-13",
             "libibverbs": "/t/libibverbs.so.1", "opens": "lib%s-rdmav34.so", "root": "/",
             "loads": [load, dict(load, provider="rxe", loaded=True, message="",
                                  agrees=True)]},
            {"direction": "downgrade", "providers_of": "debian-13", "libibverbs_of": "debian-11",
             "libibverbs": "", "opens": "", "root": "", "skipped": "no root with glibc 2.38"}]
        upgrade = verdict.decided(upgrade_of(data))
        (phase,) = [p for p in upgrade.phases if p.name == "abi"]
        self.assertIn("; providers loaded: upgrade 1/2, downgrade not loaded", phase.note)
        text = page.render(upgrade)
        self.assertIn("<summary>Providers loaded</summary>", text)
        self.assertIn("1 of 2 loaded (root /); <strong>1 DISAGREE", text)
        # grouped by outcome and the loader's reason, the providers named in the group
        self.assertIn("<td>not loaded</td><td>undefined symbol: ibv_cmd_x</td><td>loads</td>"
                      "<td>DISAGREES</td><td>mlx5</td>", text)
        self.assertIn("<td>loaded</td><td></td><td>loads</td><td>yes</td><td>rxe</td>", text)
        self.assertIn("no root with glibc 2.38", text)
        # read back through upgrade.json's definition, field by field
        self.assertEqual(upgrade_of(records.to_json(upgrade)).abi.loads[0].loads[0].message,
                         "undefined symbol: ibv_cmd_x")

    def test_a_phase_that_did_not_run_says_why(self):
        data = self.data()
        data["perf"] = []
        data["phases"][4] = {"name": "perf", "status": "failed", "seconds": 0,
                             "note": "qemu-system-x86_64 is not installed"}
        text = page.render(upgrade_of(data))
        self.assertIn("Not tested", text)
        self.assertIn("qemu-system-x86_64 is not installed", text)
        self.assertEqual(text.count("<svg"), 0)

    def test_single_point_and_equal_values_plot(self):
        series = records.from_json(record.Series, {"name": "t", "title": "t", "kind": "latency",
                                                   "unit": "us", "points": [point(64, 5, 5)]})
        svg = page.plot(series, ("a", "b"))
        self.assertEqual(svg.count('class="ci"'), 2)
        self.assertNotIn("nan", svg)

    def test_renders_in_chromium_without_errors(self):
        self.assertTrue(shutil.which("chromium"), "chromium is not installed: run ci/setup")
        with tempfile.TemporaryDirectory() as tmp:
            written = page.write(upgrade_of(self.data()), Path(tmp) / "report.html")
            png = Path(tmp) / "report.png"
            self.assertEqual(browser.screenshot(written, png), [])
            self.assertEqual(png.read_bytes()[:8], b"\x89PNG\r\n\x1a\n")
            self.assertGreater(png.stat().st_size, 10_000)
            rendered = browser.dom(written)
            self.assertEqual(rendered.count("<svg"), 1)
            self.assertIn("Verdict: GO", rendered)


if __name__ == "__main__":
    unittest.main()
