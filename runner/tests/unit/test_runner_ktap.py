import unittest

from rdmagate.outputs import ktap

SAMPLE = """KTAP version 1
1..2
    KTAP version 1
    # Subtest: api
    1..4
    ok 1 get_device_list
    not ok 2 broken # CRASH SIGSEGV
    ok 3 event_channel # SKIP UNSUPPORTED: no /dev/infiniband/rdma_cm
    ok 4 dmabuf # SKIP stack lacks ibv_reg_dmabuf_mr
not ok 1 api
    KTAP version 1
    # Subtest: verbs
    1..1
    not ok 1 slow # TIMEOUT timed out after 1 s
not ok 2 verbs
"""


class KtapReader(unittest.TestCase):
    def test_events_follow_suites_and_outcomes(self):
        reader = ktap.Reader()
        events = [e for e in map(reader.feed, SAMPLE.splitlines()) if e]
        kinds = [(e.kind, e.suite.name, e.test, e.outcome) for e in events]
        self.assertEqual(kinds, [
            ("suite", "api", "", ""),
            ("test", "api", "get_device_list", "PASS"),
            ("test", "api", "broken", "CRASH"),
            ("test", "api", "event_channel", "UNSUPPORTED"),
            ("test", "api", "dmabuf", "SKIP"),
            ("suite_end", "api", "", ""),
            ("suite", "verbs", "", ""),
            ("test", "verbs", "slow", "TIMEOUT"),
            ("suite_end", "verbs", "", ""),
        ])
        self.assertEqual(events[0].suite.planned, 4)
        self.assertEqual(events[0].suite.by_outcome, {"PASS": 1, "CRASH": 1, "UNSUPPORTED": 1, "SKIP": 1})

    def test_noise_before_and_inside_is_ignored(self):
        reader = ktap.Reader()
        for line in ["[    1.234] rxe: loaded", "ok 1 not-in-a-suite", "garbage"]:
            self.assertIsNone(reader.feed(line))


if __name__ == "__main__":
    unittest.main()
