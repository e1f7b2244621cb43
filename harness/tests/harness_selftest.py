"""The harness's own tests: rdmagate-harness-selftest run under real plans.

Each test starts the real harness binary (path in RDMAGATE_SELFTEST) and
checks what lands in results.jsonl and on stdout (KTAP). junit.xml is the
runner's to write (runner/rdmagate/outputs/junit.py), from results.jsonl."""
import json
import os
import signal
import subprocess
import tempfile
import time
import unittest
from pathlib import Path

HARNESS = os.environ.get("RDMAGATE_SELFTEST", "")
# The same suite with a second test of an id already taken.
DUPLICATE = os.environ.get("RDMAGATE_SELFTEST_DUPLICATE", "")


def write_plan(directory: Path, **fields) -> Path:
    plan = {"version": 1, "stack": "teststack", "device": "selftest0",
            "params": {"greeting": "hello"}, **fields}
    path = directory / "plan.json"
    path.write_text(json.dumps(plan))
    return path


def run(directory: Path, plan: Path, *extra: str, timeout: float = 120):
    started = time.monotonic()
    done = subprocess.run([HARNESS, "--plan", str(plan), "--results", str(directory / "r.jsonl"),
                           *extra],
                          capture_output=True, text=True, timeout=timeout, check=False)
    lines = (directory / "r.jsonl").read_text().splitlines() \
        if (directory / "r.jsonl").exists() else []
    return done, {r["name"]: r for r in map(json.loads, lines)}, time.monotonic() - started


class HarnessCase(unittest.TestCase):
    def setUp(self):
        self.assertTrue(HARNESS and Path(HARNESS).is_file(), "RDMAGATE_SELFTEST names no binary")
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = Path(self.tmp.name)

    def tearDown(self):
        self.tmp.cleanup()


class Containment(HarnessCase):
    """Every way a test can end is contained, recorded, and the run goes on."""

    @classmethod
    def setUpClass(cls):
        cls.cls_tmp = tempfile.TemporaryDirectory()
        directory = Path(cls.cls_tmp.name)
        plan = write_plan(directory, filter=["selftest.*"])
        cls.done, cls.results, cls.elapsed = run(
            directory, plan, "--filter", "selftest.[!s]*", "--filter", "selftest.s[!l]*")

    @classmethod
    def tearDownClass(cls):
        cls.cls_tmp.cleanup()

    def outcome(self, name):
        self.assertIn(name, self.results, f"no result line for {name}")
        return self.results[name]

    def test_pass_is_pass(self):
        self.assertEqual(self.outcome("pass")["outcome"], "PASS")
        self.assertEqual(self.outcome("pass")["reason"], "")

    def test_failed_assertion_is_fail_with_values_and_location(self):
        result = self.outcome("assert_fails")
        self.assertEqual(result["outcome"], "FAIL")
        self.assertRegex(result["message"],
                         r"^answer == 42: got 41, expected 42 \(selftest_suite\.c:\d+\)$")

    def test_errno_and_string_assertions_print_names_and_text(self):
        result = self.outcome("assert_errno")
        self.assertEqual(result["outcome"], "FAIL")
        self.assertRegex(result["message"],
                         r"^err == EINVAL: got ENOENT, expected EINVAL \(selftest_suite\.c:\d+\); "
                         r'text == "world": got "hello", expected "world" \(selftest_suite\.c:\d+\)$')

    def test_ordered_assertions_print_both_values_and_a_fatal_one_stops(self):
        result = self.outcome("assert_order")
        self.assertEqual(result["outcome"], "FAIL")
        self.assertRegex(result["message"],
                         r"^below >= 0: got -1, expected >= 0 \(selftest_suite\.c:\d+\); "
                         r"big < 5u: got 4000000000, expected < 5 \(selftest_suite\.c:\d+\); "
                         r"count <= 3: got 7, expected <= 3 \(selftest_suite\.c:\d+\)$")
        self.assertEqual(result["failure"], "below >= 0")

    def test_fixture_reaches_the_body(self):
        self.assertEqual(self.outcome("fixture_data")["outcome"], "PASS")

    def test_fixture_setup_failure_is_error_and_the_body_never_runs(self):
        result = self.outcome("fixture_broken")
        self.assertEqual((result["outcome"], result["reason"]),
                         ("ERROR", "fixture broken: assertion failed"))
        self.assertRegex(result["message"], r"^self->value == 42: got 41, expected 42 ")
        result = self.outcome("fixture_absent")
        self.assertEqual((result["outcome"], result["reason"]),
                         ("ERROR", "fixture absent: device selftest0: not present"))

    def test_unsupported_rule(self):
        result = self.outcome("require_supported")
        self.assertEqual(result["raw_outcome"], "UNSUPPORTED")
        self.assertIn("reported UNSUPPORTED: ibv_alloc_mw(type 2): Operation not supported",
                      result["message"])
        result = self.outcome("require_refused")
        self.assertEqual(result["outcome"], "FAIL")
        self.assertIn("ibv_alloc_mw(type 2): EINVAL", result["reason"])
        # The message id keeps the errno but not the format's values.
        self.assertEqual(result["failure"],
                         "ibv_alloc_mw(type %d): EINVAL, not an errno of an unsupported call")

    def test_a_negative_errno_breaks_the_verbs_contract(self):
        result = self.outcome("require_negative")
        self.assertEqual(result["outcome"], "FAIL")
        self.assertRegex(result["message"], r"^verbs contract: ibv_alloc_mw\(type 2\) returned -95 "
                         r"\(-EOPNOTSUPP\), not a positive errno \(selftest_suite\.c:\d+\)$")
        self.assertEqual(result["failure"],
                         "verbs contract: ibv_alloc_mw(type %d) returned a negative errno")
        result = self.outcome("observe_negative")
        self.assertEqual(result["outcome"], "FAIL")
        self.assertEqual(result["observed"], "post_send=errno-12")
        self.assertIn("post_send of one request too many returned -12 (-ENOMEM)",
                      result["message"])
        self.assertEqual(result["failure"], "verbs contract: post_send returned a negative errno")

    def test_a_failure_has_a_message_id_without_its_values(self):
        self.assertEqual(self.outcome("assert_fails")["failure"], "answer == 42")
        self.assertEqual(self.outcome("fail_two_ways")["failure"],
                         "a 3-entry SGE list of 600 bytes delivered %d bytes")
        self.assertEqual(self.outcome("exit_early")["failure"], "exited before the test ended")
        self.assertEqual(self.outcome("pass")["failure"], "")

    def test_a_data_check_is_marked_as_one_and_nothing_else_is(self):
        result = self.outcome("data_check_fails")
        self.assertEqual((result["outcome"], result["failure"], result["data_check"]),
                         ("FAIL", '!memcmp(buf, "\\1\\2\\3\\4", 4)', True))
        self.assertIn("(a data check)", result["message"])
        for test in ("assert_fails", "fail_two_ways", "exit_early", "pass", "segfault"):
            self.assertIs(self.outcome(test)["data_check"], False, test)

    def test_segfault_is_crash_with_sigsegv(self):
        result = self.outcome("segfault")
        self.assertEqual((result["outcome"], result["signal"], result["reason"]),
                         ("CRASH", 11, "SIGSEGV"))

    def test_abort_is_crash_with_sigabrt(self):
        result = self.outcome("abort")
        self.assertEqual((result["outcome"], result["signal"]), ("CRASH", 6))

    def test_spin_is_timeout_within_its_limit_and_a_margin(self):
        result = self.outcome("spin")
        self.assertEqual(result["outcome"], "TIMEOUT")
        self.assertGreaterEqual(result["duration_s"], 1.0)
        self.assertLess(result["duration_s"], 1.5)

    def test_exit_before_finishing_is_not_a_pass(self):
        result = self.outcome("exit_early")
        self.assertEqual(result["outcome"], "FAIL")
        self.assertIn("exited with status 0", result["message"])

    def test_explicit_reports_keep_their_reason(self):
        self.assertEqual(self.outcome("skip")["outcome"], "SKIP")
        self.assertEqual(self.outcome("skip")["reason"], "stack lacks ibv_wr_start")
        self.assertEqual(self.outcome("error")["outcome"], "ERROR")
        self.assertIn("no /dev/infiniband", self.outcome("error")["reason"])

    def test_a_forked_server_left_behind_does_not_stall_the_run(self):
        self.assertEqual(self.outcome("fork_child_left")["outcome"], "PASS")
        self.assertLess(self.outcome("fork_child_left")["duration_s"], 5)

    def test_params_and_device_reach_the_test(self):
        self.assertEqual(self.outcome("param")["outcome"], "PASS")

    def test_the_run_goes_on_and_every_result_is_recorded(self):
        expected = {"pass", "pass_printing", "assert_fails", "assert_errno", "assert_order",
                    "segfault", "abort",
                    "spin", "exit_early", "unsupported", "require_supported", "require_refused",
                    "skip", "error", "fork_child_left", "param", "observe", "fixture_data",
                    "fixture_broken", "fixture_absent", "require_negative", "observe_negative",
                    "fail_two_ways", "data_check_fails"}
        self.assertEqual(set(self.results), expected)
        for result in self.results.values():
            self.assertEqual((result["stack"], result["device"], result["suite"]),
                             ("teststack", "selftest0", "selftest"))

    def test_exit_code_is_1_when_something_failed(self):
        self.assertEqual(self.done.returncode, 1, self.done.stderr)

    def test_stdout_is_clean_ktap(self):
        lines = self.done.stdout.splitlines()
        self.assertEqual(lines[:2], ["KTAP version 1", "1..1"])
        self.assertNotIn("ok 99 this line is not KTAP", self.done.stdout)
        self.assertIn("    not ok 5 segfault # CRASH SIGSEGV", lines)
        self.assertEqual(lines[-1], "not ok 1 selftest")

    def test_the_harness_writes_no_junit(self):
        done = subprocess.run([HARNESS, "--junit", "x.xml"], capture_output=True, text=True,
                              check=False)
        self.assertEqual(done.returncode, 2)


class Expectations(HarnessCase):
    """An outcome other than the profile's expectation is FAIL, both ways."""

    def run_with(self, expect):
        plan = write_plan(self.dir, filter=["selftest.pass", "selftest.unsupported"],
                          expect=expect)
        done, results, _ = run(self.dir, plan)
        return done, results

    def test_expected_unsupported_but_passed_is_fail(self):
        done, results = self.run_with({"selftest.pass": {"outcome": "UNSUPPORTED",
                                                         "reason": "no MW on rxe"},
                                       "selftest.unsupported": {"outcome": "UNSUPPORTED"}})
        self.assertEqual(results["pass"]["outcome"], "FAIL")
        self.assertEqual(results["pass"]["raw_outcome"], "PASS")
        self.assertIn("expects UNSUPPORTED (no MW on rxe)", results["pass"]["message"])
        self.assertEqual(results["unsupported"]["outcome"], "UNSUPPORTED")
        self.assertEqual(done.returncode, 1)

    def test_expected_pass_but_unsupported_is_fail(self):
        done, results = self.run_with({})
        self.assertEqual(results["pass"]["outcome"], "PASS")
        self.assertEqual(results["unsupported"]["outcome"], "FAIL")
        self.assertIn("device lacks type 2 memory windows", results["unsupported"]["message"])
        self.assertEqual(done.returncode, 1)

    def test_all_as_expected_exits_0(self):
        done, results = self.run_with({"selftest.unsupported": {"outcome": "UNSUPPORTED"}})
        self.assertEqual({r["outcome"] for r in results.values()}, {"PASS", "UNSUPPORTED"})
        self.assertEqual(done.returncode, 0, done.stderr)

    def test_observed_values_reported_and_checked_both_ways(self):
        observed = "open=EINVAL; completion=remote access error"
        for expected, outcome in ((None, "PASS"), (observed, "PASS"),
                                  ("open=ENOMEM; completion=remote access error", "FAIL"),
                                  ("", "FAIL")):
            spec = {"outcome": "PASS"} | ({"observed": expected} if expected is not None else {})
            plan = write_plan(self.dir, filter=["selftest.observe"],
                              expect={"selftest.observe": spec})
            done, results, _ = run(self.dir, plan)
            result = results["observe"]
            self.assertEqual(result["observed"], observed)
            self.assertEqual(result["outcome"], outcome, (expected, result))
            self.assertEqual(done.returncode, 0 if outcome == "PASS" else 1)
            if outcome == "FAIL":
                self.assertIn(f"the profile expects {expected}, the test observed {observed}",
                              result["message"])
            else:
                # A pass says in words what it observed; the ids are for the profile.
                self.assertEqual(result["message"], "open of a bad path: EINVAL; "
                                 "the bad work request's completion: remote access error")

    def test_expected_fail_is_a_known_defect_both_ways(self):
        known = {"outcome": "FAIL", "reason": "rxe sums the first SGE only (rdma-core#1744)",
                 "failure": "answer == 42"}
        plan = write_plan(self.dir, filter=["selftest.assert_fails", "selftest.pass"],
                          expect={"selftest.assert_fails": known, "selftest.pass": known})
        done, results, _ = run(self.dir, plan)
        self.assertEqual(results["assert_fails"]["outcome"], "XFAIL")
        self.assertEqual(results["assert_fails"]["raw_outcome"], "FAIL")
        # The defect is gone: the profile is out of date, which is a FAIL.
        self.assertEqual(results["pass"]["outcome"], "FAIL")
        self.assertIn("expects FAIL (rxe sums the first SGE only", results["pass"]["message"])
        self.assertEqual(done.returncode, 1)
        self.assertIn("# XFAIL", done.stdout)

    def test_rg_fail_data_is_a_data_check(self):
        plan = write_plan(self.dir, filter=["selftest.data_check_fails"], params={"how": "fail"})
        _, results, _ = run(self.dir, plan)
        result = results["data_check_fails"]
        self.assertEqual((result["outcome"], result["failure"], result["data_check"]),
                         ("FAIL", "%d bytes did not arrive as sent", True))

    def test_another_failure_of_a_known_defect_is_fail(self):
        known = {"outcome": "FAIL", "reason": "rxe sums the first SGE only (rdma-core#1744)",
                 "failure": "a 3-entry SGE list of 600 bytes delivered %d bytes"}
        # expect: an assertion failed before the known defect's rg_fail
        for how, outcome in (("fail", "XFAIL"), ("expect", "FAIL"), ("assert", "FAIL")):
            plan = write_plan(self.dir, filter=["selftest.fail_two_ways"], params={"how": how},
                              expect={"selftest.fail_two_ways": known})
            done, results, _ = run(self.dir, plan)
            result = results["fail_two_ways"]
            self.assertEqual((result["raw_outcome"], result["outcome"]), ("FAIL", outcome), how)
            self.assertEqual(done.returncode, 0 if outcome == "XFAIL" else 1)
        self.assertEqual(result["failure"], "delivered == 600")
        self.assertIn("expects the known defect 'a 3-entry SGE list of 600 bytes delivered %d "
                      "bytes' (rxe sums the first SGE only (rdma-core#1744)), the test failed "
                      "with 'delivered == 600': delivered == 600: got 300, expected 600",
                      result["message"])

    def test_expected_fail_alone_exits_0_and_needs_a_reason_and_failure(self):
        known = {"outcome": "FAIL", "reason": "known", "failure": "answer == 42"}
        plan = write_plan(self.dir, filter=["selftest.assert_fails"],
                          expect={"selftest.assert_fails": known})
        done, results, _ = run(self.dir, plan)
        self.assertEqual((done.returncode, results["assert_fails"]["outcome"]), (0, "XFAIL"))
        for spec, words in (({"outcome": "FAIL", "failure": "answer == 42"}, "needs its reason"),
                            ({"outcome": "FAIL", "reason": "known"}, "needs the failure it expects")):
            plan = write_plan(self.dir, filter=["selftest.assert_fails"],
                              expect={"selftest.assert_fails": spec})
            done, _, _ = run(self.dir, plan)
            self.assertEqual(done.returncode, 2)
            self.assertIn(words, done.stderr)

    def test_a_known_defect_that_harms_the_machine_is_not_run(self):
        known = {"outcome": "FAIL", "reason": "the kernel oopses in its prefetch worker",
                 "failure": "timed out after %u s", "run": False}
        plan = write_plan(self.dir, filter=["selftest.spin", "selftest.pass"],
                          expect={"selftest.spin": known})
        done, results, elapsed = run(self.dir, plan)
        result = results["spin"]
        self.assertEqual((result["raw_outcome"], result["outcome"]), ("SKIP", "XFAIL"))
        self.assertEqual(result["message"], "not run: the kernel oopses in its prefetch worker")
        self.assertEqual(result["failure"], "timed out after %u s")
        self.assertLess(elapsed, 1.0)   # spin's 1 s limit never started
        self.assertEqual(done.returncode, 0, done.stderr)
        plan = write_plan(self.dir, filter=["selftest.spin"],
                          expect={"selftest.spin": {"outcome": "PASS", "run": False}})
        done, _, _ = run(self.dir, plan)
        self.assertEqual(done.returncode, 2)
        self.assertIn("run: false is for an expected FAIL", done.stderr)

    def test_unsupported_with_another_reason_is_fail(self):
        for reason, outcome in (("device lacks type 2 memory windows", "UNSUPPORTED"),
                                ("device lacks type 1 memory windows", "FAIL")):
            plan = write_plan(self.dir, filter=["selftest.unsupported"],
                              expect={"selftest.unsupported": {"outcome": "UNSUPPORTED",
                                                               "reason": reason}})
            done, results, _ = run(self.dir, plan)
            result = results["unsupported"]
            self.assertEqual(result["outcome"], outcome)
            self.assertEqual(done.returncode, 0 if outcome == "UNSUPPORTED" else 1)
        self.assertEqual(result["reason"], "unexpected UNSUPPORTED reason")
        self.assertIn("expects UNSUPPORTED (device lacks type 1 memory windows), the test "
                      "reported UNSUPPORTED: device lacks type 2 memory windows", result["message"])

    def test_capture_keeps_raw_outcomes(self):
        plan = write_plan(self.dir, filter=["selftest.pass", "selftest.unsupported"],
                          capture=True)
        done, results, _ = run(self.dir, plan)
        self.assertEqual(results["unsupported"]["outcome"], "UNSUPPORTED")
        self.assertEqual(results["unsupported"]["reason"], "device lacks type 2 memory windows")
        self.assertEqual(done.returncode, 0)

    def test_observed_must_be_a_string(self):
        plan = write_plan(self.dir, filter=["selftest.observe"],
                          expect={"selftest.observe": {"outcome": "PASS", "observed": 22}})
        done, _, _ = run(self.dir, plan)
        self.assertEqual(done.returncode, 2)
        self.assertIn("observed must be a string", done.stderr)

    def test_error_alone_exits_3(self):
        plan = write_plan(self.dir, filter=["selftest.pass", "selftest.error"])
        done, results, _ = run(self.dir, plan)
        self.assertEqual(results["error"]["outcome"], "ERROR")
        self.assertEqual(done.returncode, 3)


class PlanErrors(HarnessCase):
    """A bad plan: one line naming the file and field, exit 2, no results."""

    def assert_plan_error(self, text, pattern):
        path = self.dir / "plan.json"
        path.write_text(text)
        done, results, _ = run(self.dir, path)
        self.assertEqual(done.returncode, 2, done.stderr)
        self.assertEqual(len(done.stderr.strip().splitlines()), 1, done.stderr)
        self.assertIn(str(path), done.stderr)
        self.assertRegex(done.stderr, pattern)
        self.assertEqual(results, {})

    def test_malformed_json(self):
        self.assert_plan_error('{"version": 1, "stack": ', "not valid JSON")

    def test_missing_field(self):
        self.assert_plan_error('{"version": 1, "device": "x"}', "field stack: missing")

    def test_wrong_type(self):
        self.assert_plan_error('{"version": 1, "stack": "s", "device": "d", "timeout_s": "9"}',
                               "field timeout_s: must be a positive integer")

    def test_unknown_test_in_expectations(self):
        self.assert_plan_error(json.dumps({"version": 1, "stack": "s", "device": "d",
                                           "expect": {"selftest.nope": {"outcome": "PASS"}}}),
                               r"field expect\.selftest\.nope: no such test")

    def test_unknown_suite(self):
        self.assert_plan_error(json.dumps({"version": 1, "stack": "s", "device": "d",
                                           "suites": ["verbz"]}),
                               "field suites: no suite named 'verbz'")

    def test_filter_matching_nothing(self):
        self.assert_plan_error(json.dumps({"version": 1, "stack": "s", "device": "d",
                                           "filter": ["selftest.nope*"]}),
                               "field filter: 'selftest.nope\\*' matches no test")

    def test_missing_plan_file(self):
        done, _, _ = run(self.dir, self.dir / "absent.json")
        self.assertEqual(done.returncode, 2)
        self.assertIn("cannot read the plan", done.stderr)


class Faults(HarnessCase):
    """Outputs the harness cannot write, and inputs past its old limits."""

    def test_a_stack_string_of_any_size_reaches_every_result(self):
        # over about 4 KB the line did not fit a fixed buffer: the result was
        # lost and the harness said a stale errno ("No such process")
        stack = "s" * 70000
        plan = write_plan(self.dir, stack=stack, filter=["selftest.pass"])
        done, results, _ = run(self.dir, plan)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(results["pass"]["stack"], stack)

    def test_a_full_results_file_is_exit_3_with_one_line_naming_it(self):
        plan = write_plan(self.dir, filter=["selftest.pass"])
        done = subprocess.run([HARNESS, "--plan", str(plan), "--results", "/dev/full"],
                              capture_output=True, text=True, timeout=60, check=False)
        self.assertEqual(done.returncode, 3)
        self.assertEqual(done.stderr.splitlines(),
                         ["rdmagate-harness: /dev/full: cannot write a result line: "
                          "No space left on device"])

    def test_results_that_are_the_plan_are_refused_and_the_plan_kept(self):
        plan = write_plan(self.dir, filter=["selftest.pass"])
        text = plan.read_text()
        link = self.dir / "link.json"
        link.symlink_to(plan)
        for results in (plan, link):
            with self.subTest(results=results.name):
                done = subprocess.run([HARNESS, "--plan", str(plan), "--results", str(results)],
                                      capture_output=True, text=True, timeout=60, check=False)
                self.assertEqual(done.returncode, 2)
                self.assertEqual(done.stderr.splitlines(),
                                 [f"rdmagate-harness: --results {results}: is the plan itself; "
                                  "results go to a file of their own"])
                self.assertEqual(plan.read_text(), text)


def children(pid: int) -> list[int]:
    """The live processes whose parent is pid, from /proc."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    """Running (a zombie no one reaps is dead)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


class Killed(HarnessCase):
    """SIGKILL mid-run: every finished line is intact and parses."""

    def test_sigkill_leaves_finished_results_intact(self):
        plan = write_plan(self.dir, filter=["selftest.pass", "selftest.segfault",
                                            "selftest.sleep_long"])
        results = self.dir / "r.jsonl"
        proc = subprocess.Popen([HARNESS, "--plan", str(plan), "--results", str(results)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if results.exists() and results.read_text().count("\n") >= 2:
                break
            time.sleep(0.05)
        time.sleep(0.3)
        tests = children(proc.pid)     # sleep_long's process, by now
        self.assertEqual(len(tests), 1)
        self.addCleanup(lambda: [os.kill(pid, signal.SIGKILL) for pid in tests if alive(pid)])
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        # the test process dies with its harness, not 120 s later
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(alive(pid) for pid in tests):
            time.sleep(0.05)
        self.assertEqual([pid for pid in tests if alive(pid)], [])
        text = results.read_text()
        self.assertTrue(text.endswith("\n"))
        records = [json.loads(line) for line in text.splitlines()]
        self.assertEqual([r["name"] for r in records], ["pass", "segfault"])
        self.assertEqual(records[1]["outcome"], "CRASH")


class Listing(HarnessCase):
    def test_list_and_filter(self):
        done = subprocess.run([HARNESS, "--list", "--filter", "selftest.s*"],
                              capture_output=True, text=True, check=False)
        self.assertEqual(done.returncode, 0)
        self.assertEqual(done.stdout.split(),
                         ["selftest.segfault", "selftest.spin", "selftest.sleep_long",
                          "selftest.skip"])

    def test_usage_error_exits_2(self):
        done = subprocess.run([HARNESS, "--bogus"], capture_output=True, text=True, check=False)
        self.assertEqual(done.returncode, 2)
        self.assertIn("usage:", done.stderr)


class Registry(HarnessCase):
    def test_a_test_id_defined_twice_is_refused_at_startup(self):
        self.assertTrue(DUPLICATE and Path(DUPLICATE).is_file(),
                        "RDMAGATE_SELFTEST_DUPLICATE names no binary")
        plan = write_plan(self.dir)
        for argv in ([DUPLICATE, "--list"],
                     [DUPLICATE, "--plan", str(plan), "--results", str(self.dir / "r.jsonl")]):
            with self.subTest(argv=argv[1]):
                done = subprocess.run(argv, capture_output=True, text=True, check=False)
                self.assertEqual(done.returncode, 3)
                self.assertEqual(done.stdout, "")
                self.assertEqual(done.stderr.splitlines(), [
                    "rdmagate-harness: test selftest.pass is defined twice (selftest_suite.c and "
                    "selftest_duplicate.c): a test id (suite and name) must be unique"])
                self.assertFalse((self.dir / "r.jsonl").exists())

    def test_the_same_suite_without_the_duplicate_starts(self):
        done = subprocess.run([HARNESS, "--list", "--filter", "selftest.pass"],
                              capture_output=True, text=True, check=False)
        self.assertEqual((done.returncode, done.stdout), (0, "selftest.pass\n"))


if __name__ == "__main__":
    unittest.main()
