"""perftest output of each Debian perftest version, captured from real runs
in the lab (fixtures/perftest/<stack>.<test>.txt), and garbage."""
import unittest
from pathlib import Path

from rdmagate.errors import UsageError
from rdmagate.perf import perftest

FIXTURES = Path(__file__).parent / "fixtures" / "perftest"
STACKS = ("debian-11", "debian-12", "debian-13", "debian-sid")


class RealOutput(unittest.TestCase):
    def test_latency_of_every_version(self):
        for stack in STACKS:
            text = (FIXTURES / f"{stack}.write_lat.txt").read_text()
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
            text = (FIXTURES / f"{stack}.write_bw.txt").read_text()
            (row,) = perftest.parse(text, stack)
            labels[stack] = "MiB/sec" if "MiB/sec" in text else "MB/sec"
            line = [l for l in text.splitlines() if l.split()[:1] == ["65536"]][0].split()
            self.assertAlmostEqual(row["bw_avg_Bps"], float(line[3]) * 1048576)
            self.assertGreater(row["msg_rate_Mpps"], 0)
        # the fixtures hold both spellings: the old label and the new one
        self.assertEqual(set(labels.values()), {"MB/sec", "MiB/sec"})


class Garbage(unittest.TestCase):
    def test_not_perftest(self):
        with self.assertRaisesRegex(UsageError, "no results table"):
            perftest.parse("Couldn't connect to 10.0.2.15:18515\n", "client.txt")

    def test_cut_short(self):
        text = (FIXTURES / "debian-12.write_lat.txt").read_text()
        head = text[:text.index("#bytes")] + text[text.index("#bytes"):].split("\n", 1)[0] + "\n"
        with self.assertRaisesRegex(UsageError, "table is empty"):
            perftest.parse(head, "cut.txt")

    def test_zero_latency_is_never_a_result(self):
        text = (FIXTURES / "debian-13.write_lat.txt").read_text()
        line = [l for l in text.splitlines() if l.split()[:2] == ["2", "200"]][0]
        cells = line.split()
        zeroed = line.replace(cells[4], "0.00", 1)
        with self.assertRaisesRegex(UsageError, "zero or missing"):
            perftest.parse(text.replace(line, zeroed), "zero.txt")

    def test_mangled_row(self):
        text = (FIXTURES / "debian-11.write_lat.txt").read_text()
        line = [l for l in text.splitlines() if l.split()[:2] == ["2", "200"]][0]
        with self.assertRaisesRegex(UsageError, r"mangled\.txt:\d+: 'x3\.1' is not a number"):
            perftest.parse(text.replace(line, line.replace(line.split()[3], "x3.1", 1)),
                           "mangled.txt")


if __name__ == "__main__":
    unittest.main()
