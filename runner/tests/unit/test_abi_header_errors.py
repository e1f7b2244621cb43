"""A public header the compiler cannot read is an error in the stack handed
over (exit 2, naming the header and gcc's first message), never a change of
the stack: dropped silently, a broken verbs.h read as "build BREAKS (806
prototypes removed)" and a NO-GO."""
import tempfile
import unittest
from pathlib import Path

from tests.support import copy_host_stack, rdmagate

BREAKS = {
    "a syntax error": ("struct ibv_device {", "struct ibv_device { int x y;",
                       "expected ‘:’, ‘,’, ‘;’, ‘}’ or ‘__attribute__’ before ‘y’"),
    "a header that includes itself": ("#ifndef INFINIBAND_VERBS_H",
                                      "#include <infiniband/verbs.h>\n#ifndef INFINIBAND_VERBS_H",
                                      "#include nested depth"),
}


class UnreadableHeader(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="rdmagate-headers-")
        self.dir = Path(self.tmp.name)
        copy_host_stack(self.dir / "old")

    def tearDown(self):
        self.tmp.cleanup()

    def test_a_verbs_h_gcc_cannot_read_is_exit_2_naming_it(self):
        for label, (line, broken, message) in BREAKS.items():
            with self.subTest(label):
                new = self.dir / label.replace(" ", "-")
                include = copy_host_stack(new)
                verbs = include / "infiniband" / "verbs.h"
                text = verbs.read_text()
                self.assertIn(line, text)
                verbs.write_text(text.replace(line, broken, 1))
                done = rdmagate("abi", "--from", f"prefix:{self.dir / 'old'}",
                                "--to", f"prefix:{new}", "--no-consumers", "--no-load",
                                "--results", str(self.dir / "results"))
                self.assertEqual(done.returncode, 2, done.stderr[-2000:])
                (error,) = [line for line in done.stderr.splitlines()
                            if line.startswith("rdmagate: error")]
                self.assertRegex(error, rf"^rdmagate: error: {verbs}:\d+: a public header gcc "
                                 "cannot compile: ")
                self.assertIn(message, error)


if __name__ == "__main__":
    unittest.main()
