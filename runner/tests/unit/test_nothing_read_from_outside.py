"""Nothing is read from outside what was given: a link in a --consumers or
--modules .deb is never followed into the host, and an ELF file built for
another machine is not checked as a consumer and refused as a stack's
library, from its header, before anything loads it."""
import json
import subprocess
import tempfile
import unittest
from pathlib import Path

from tests import kabi_support
from tests.package_support import member, write_deb
from tests.support import abi_json, build_fake_stack, rdmagate

LIBDIR = Path("usr/lib/x86_64-linux-gnu")
EM_AARCH64 = 183


class Consumers(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="rdmagate-outside-")
        top = cls.dir = Path(cls.tmp.name)
        cls.old = build_fake_stack(top / "old", {"IBVERBS_1.1": ["ibv_keep", "ibv_gone"]})
        cls.new = build_fake_stack(top / "new", {"IBVERBS_1.1": ["ibv_keep"]})
        cls.fine = cls.app("fine", "ibv_keep")
        # the host's tool: it breaks on the new stack, and is not in the package
        (top / "host").mkdir()
        cls.host_tool = cls.app("host/ib_send_bw", "ibv_gone")

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    @classmethod
    def app(cls, name: str, call: str) -> Path:
        source = cls.dir / "app.c"
        source.write_text(f"int {call}(void);\nint main(void) {{ return {call}(); }}\n")
        subprocess.run(["gcc", "-o", str(cls.dir / name), str(source),
                        str(cls.old / LIBDIR / "libibverbs.so.1")], check=True)
        return cls.dir / name

    def consumers(self, *given: Path) -> dict:
        # a package unpacks into TMPDIR/rdmagate-consumer-X/package: five
        # steps below this test's directory
        private = self.dir / "tmp"
        private.mkdir(exist_ok=True)
        done, report = abi_json(f"prefix:{self.old}", f"prefix:{self.new}", "--no-load",
                                *(f"--consumers={p}" for p in given),
                                env={"TMPDIR": str(private)})
        self.assertIsNotNone(report, done.stderr)
        return {c["consumer"]: (c["verdict"], c.get("reason")) for c in report["consumers"]}

    def test_a_link_in_a_package_is_not_followed_into_the_host(self):
        deb = write_deb(self.dir / "tools_1.0_amd64.deb", "tools", [
            member("./usr/bin/fine", data=self.fine.read_bytes(), mode=0o755),
            member("./usr/bin/ib_send_bw", "link", str(self.host_tool)),
            member("./usr/bin/ib_write_bw", "link", "../../../../../host/ib_send_bw"),
            member("./usr/bin/fine-again", "link", "/usr/bin/fine")])
        self.assertEqual(self.consumers(deb), {"tools_1.0_amd64.deb:/usr/bin/fine": ("ok", None)})

    def test_a_consumer_built_for_another_machine_is_not_checked(self):
        arm = kabi_support.with_machine(self.host_tool, EM_AARCH64, self.dir / "arm-tool")
        verdicts = self.consumers(arm, self.fine)
        self.assertEqual(verdicts["arm-tool"], ("not checked", "built for aarch64, not x86_64"))
        self.assertEqual(verdicts["fine"], ("ok", None))

    def test_a_stack_library_built_for_another_machine_is_refused(self):
        tree = build_fake_stack(self.dir / "arm", {"IBVERBS_1.1": ["ibv_keep"]})
        lib = tree / LIBDIR / "libibverbs.so.1"
        kabi_support.with_machine(lib, EM_AARCH64, lib)
        done = rdmagate("stacks", "show", f"prefix:{tree}", timeout=120)
        self.assertEqual(done.returncode, 2, done.stdout + done.stderr)
        (line,) = done.stderr.strip().splitlines()
        self.assertIn(f"{lib}: built for aarch64, not x86_64", line)


class ModulePackages(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="rdmagate-outside-kmod-")
        self.dir = Path(self.tmp.name)
        self.module = kabi_support.test_module("debian-12")

    def tearDown(self):
        self.tmp.cleanup()

    def kabi(self, deb: Path):
        return rdmagate("kabi", "--from", "debian-12", "--to", "debian-12", "--modules",
                        str(deb), "--results", str(self.dir / "results"), "--json")

    def test_a_module_link_is_not_followed_into_the_host(self):
        extra = "./lib/modules/6.1.0-50-amd64/extra/"
        deb = write_deb(self.dir / "kmod_1.0_amd64.deb", "kmod", [
            member(extra + "host_module.ko", "link", str(self.module))])
        done = self.kabi(deb)
        self.assertEqual(done.returncode, 2, done.stdout + done.stderr)
        self.assertIn(f"--modules {deb}: the package has no kernel modules", done.stderr)
        deb = write_deb(self.dir / "kmod_1.0_amd64.deb", "kmod", [
            member(extra + "rdmagate_kabi_test.ko", data=self.module.read_bytes()),
            member(extra + "host_module.ko", "link", str(self.module))])
        done = self.kabi(deb)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual([m["module"] for m in json.loads(done.stdout)["modules"]],
                         ["rdmagate_kabi_test"])


if __name__ == "__main__":
    unittest.main()
