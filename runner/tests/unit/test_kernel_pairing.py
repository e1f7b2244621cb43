"""Userspace x kernel, the decisions alone (the lab run is in
tests/lab/test_kernel_pairing.py): --kernel picks the lab with that release,
a stack's name gives its kernel, a manifest's kernel may come from another
suite (kernel.suite), and what cannot be is one line."""
import json
import tempfile
import textwrap
import unittest
from pathlib import Path

from unittest import mock

from rdmagate.errors import InfraError, UsageError
from rdmagate.stacks import archive, kernel_debs, kernel_release, kernels, resolve
from rdmagate.targets import Host, Lab, Wanted, choose
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
        return choose(Wanted("debian-12", options.get("device"), kernel=options.get("kernel")),
                      Host.given([], options.get("qemu", True), False))

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
        order = kernels.suites_for("bookworm")
        self.assertEqual(order[:2], ["bookworm", "bookworm-backports"])
        self.assertEqual(set(order), {"bullseye", "bookworm", "trixie", "sid",
                                      "bookworm-backports", "trixie-backports"})


class StackAtKernel(unittest.TestCase):
    """STACK@KERNEL: the pair as a stack of its own, for every command."""

    def test_a_stacks_kernel(self):
        stack = resolve("debian-12@debian-13")
        self.assertEqual((stack.name, stack.suite, stack.packages),
                         ("debian-12@debian-13", "bookworm", resolve("debian-12").packages))
        self.assertEqual((stack.kernel["release"], stack.kernel["suite"]),
                         (resolve("debian-13").kernel["release"], "trixie"))

    def test_a_backports_release_with_its_headers(self):
        release = "6.12.95+deb12-amd64"
        stack = resolve(f"debian-12@{release}")
        self.assertEqual(stack.kernel["suite"], "bookworm-backports")
        self.assertEqual([p["name"] for p in stack.kernel["packages"]],
                         [f"linux-image-{release}"])
        self.assertEqual([p["name"] for p in stack.kernel["headers"]],
                         [f"linux-headers-{release}", "linux-headers-6.12.95+deb12-common",
                          "linux-kbuild-6.12.95+deb12"])

    def test_what_cannot_be_paired_is_one_line(self):
        for name, why in (("host@debian-13", "another kernel goes with a Debian stack"),
                          ("debian-12@", "give a kernel after @")):
            done = rdmagate("stacks", "show", name)
            self.assertEqual(done.returncode, 2, done.stderr)
            (line,) = done.stderr.strip().splitlines()
            self.assertIn(why, line)

    def test_a_release_no_suite_has(self):
        with mock.patch.object(archive.Archive, "versions", autospec=True, return_value=[]), \
                self.assertRaisesRegex(UsageError, "^kernel 9.9.9-amd64: no Debian suite "
                                       "rdmagate knows has linux-image-9.9.9-amd64 \\(looked in "
                                       "bookworm, bookworm-backports, bullseye"):
            kernels.lookup("bookworm", "9.9.9-amd64")

    def test_a_suite_out_of_reach_is_an_infrastructure_error(self):
        def versions(suite, name):
            if suite.suite == "trixie":
                raise InfraError("cannot read the trixie package lists")
            return []
        with mock.patch.object(archive.Archive, "versions", autospec=True,
                               side_effect=versions), \
                self.assertRaisesRegex(InfraError, "not found, and could not read trixie"):
            kernels.lookup("bookworm", "9.9.8-amd64")

    def test_the_gate_takes_kernel_for_the_new_side(self):
        with tempfile.TemporaryDirectory() as tmp:
            done = rdmagate("upgrade", "--from", "debian-12", "--to", "debian-12", "--kernel",
                            "debian-13", "--consumers", tmp,
                            *[a for p in ("kabi", "api", "verbs", "perf") for a in ("--skip", p)],
                            "--results", str(Path(tmp) / "results"), "--json")
        self.assertEqual(done.returncode, 0, done.stderr)
        report = json.loads(done.stdout)
        self.assertEqual((report["to"]["name"], report["to"]["kernel"]),
                         ("debian-12@debian-13", resolve("debian-13").kernel["release"]))
        self.assertEqual(report["from"]["kernel"], resolve("debian-12").kernel["release"])
        # the same userspace: no ABI change at all
        self.assertEqual({a: v["verdict"] for a, v in report["abi"]["verdicts"].items()},
                         {"applications": "OK", "providers": "OK", "build": "OK"})


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
