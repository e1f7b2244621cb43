"""Userspace x kernel, the decisions alone (the lab run is in
tests/lab/test_kernel_pairing.py): --kernel picks the lab with that release,
a stack's name gives its kernel, a manifest's kernel may come from another
suite (kernel.suite), and what cannot be is one line."""
import tempfile
import textwrap
import unittest
from pathlib import Path

from unittest import mock

from rdmagate.errors import InfraError, UsageError
from rdmagate.stacks import archive, kernel_debs, kernel_release, resolve
from rdmagate.targets import Lab, choose
from rdmagate.targets.lab import kernel
from tests.support import rdmagate

MANIFEST = textwrap.dedent("""\
    name: debian-12-bpo
    kind: debian
    suite: bookworm
    packages:
      - {name: libibverbs1, version: 44.0-2}
    kernel:
      release: 6.12.95+deb12-amd64
      suite: SUITE
      packages:
        - {name: linux-image-6.12.95+deb12-amd64, version: 6.12.95-1~bpo12+1}
    """)


class KernelChoice(unittest.TestCase):
    def pick(self, **options):
        return choose(options.get("device"), False, False, False, "debian-12", 1, [],
                      options.get("qemu", True), False, kernel=options.get("kernel"))

    def test_another_kernel_is_the_lab_with_that_release(self):
        where = self.pick(kernel="6.12.95+deb12-amd64")
        self.assertIsInstance(where, Lab)
        self.assertEqual(where.kernel_release(), "6.12.95+deb12-amd64")
        self.assertEqual(where.why, "--kernel 6.12.95+deb12-amd64")

    def test_not_with_a_device(self):
        with self.assertRaisesRegex(UsageError, "cannot go with --device mlx5_0"):
            self.pick(kernel="6.12.95+deb12-amd64", device="mlx5_0")

    def test_no_qemu_names_the_option(self):
        with self.assertRaisesRegex(InfraError, "^--kernel 6.12.95"):
            self.pick(kernel="6.12.95+deb12-amd64", qemu=False)

    def test_a_stack_name_is_its_kernel(self):
        self.assertEqual(kernel_release("debian-13"), resolve("debian-13").kernel["release"])
        self.assertEqual(kernel_release("6.12.95+deb12-amd64"), "6.12.95+deb12-amd64")
        self.assertIsNone(kernel_release(None))

    def test_a_release_is_looked_for_in_the_suite_then_its_backports(self):
        order = kernel._suites_for(resolve("debian-12"))
        self.assertEqual(order[:2], ["bookworm", "bookworm-backports"])
        self.assertEqual(set(order), {"bullseye", "bookworm", "trixie", "sid",
                                      "bullseye-backports", "bookworm-backports",
                                      "trixie-backports"})


class ManifestKernelSuite(unittest.TestCase):
    def manifest(self, suite: str) -> Path:
        path = Path(self.tmp.name) / "debian-12-bpo.yaml"
        path.write_text(MANIFEST.replace("SUITE", suite))
        return path

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()

    def tearDown(self):
        self.tmp.cleanup()

    def test_a_backports_kernel_under_a_release_userspace(self):
        stack = resolve(str(self.manifest("bookworm-backports")))
        self.assertEqual((stack.suite, stack.kernel["suite"], stack.kernel["release"]),
                         ("bookworm", "bookworm-backports", "6.12.95+deb12-amd64"))

    def test_its_kernel_is_fetched_from_that_suite(self):
        stack = resolve(str(self.manifest("bookworm-backports")))
        with mock.patch.object(archive.Archive, "download", autospec=True,
                               return_value=[Path("x.deb")]) as download:
            kernel_debs(stack)
        (suite, pairs), _ = download.call_args
        self.assertEqual((suite.suite, pairs),
                         ("bookworm-backports",
                          [("linux-image-6.12.95+deb12-amd64", "6.12.95-1~bpo12+1")]))

    def test_an_unknown_suite_is_the_field_and_exit_2(self):
        path = self.manifest("bookworm-nowhere")
        with self.assertRaisesRegex(UsageError, f"^{path}: field kernel.suite: "
                                    "'bookworm-nowhere' is not one of"):
            resolve(str(path))

    def test_the_command_line_says_it_in_one_line(self):
        done = rdmagate("check", "--stack", "debian-12", "--kernel", "debian-13", "--device",
                        "mlx5_0", "--suite", "api")
        self.assertEqual(done.returncode, 2, done.stderr)
        release = resolve("debian-13").kernel["release"]
        self.assertEqual(done.stderr.strip().splitlines()[-1],
                         f"rdmagate: error: --kernel {release} boots that kernel in the lab; it "
                         "cannot go with --device mlx5_0")


if __name__ == "__main__":
    unittest.main()
