"""No silent wrong answer from a tree or a consumer: a
prefix tree's files are regular files inside it or refused before they are
opened; a consumer that cannot be checked is said to be so, never dropped."""
import json
import os
import tempfile
import unittest
from pathlib import Path

from rdmagate.stacks import fetch, resolve
from rdmagate.stacks.layout import ldconfig_path
from tests.support import abi_json, build_fake_stack, rdmagate

LIBDIR = Path("usr/lib/x86_64-linux-gnu")


class Tree(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="rdmagate-tree-")
        self.root = Path(self.tmp.name) / "prefix"
        build_fake_stack(self.root, {"IBVERBS_1.1": ["ibv_get_device_list"]})
        self.lib = self.root / LIBDIR

    def tearDown(self):
        self.tmp.cleanup()

    def show(self):
        return rdmagate("stacks", "show", f"prefix:{self.root}", "--json", timeout=60)

    def assert_refused(self, done, file: Path, text: str):
        self.assertEqual(done.returncode, 2, done.stdout[:300] + done.stderr)
        lines = done.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, done.stderr)
        self.assertIn(f"{file}: {text}", lines[0])

    def test_a_clean_tree_is_read(self):
        done = self.show()
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn("ibv_get_device_list", done.stdout)

    def test_libibverbs_that_links_to_the_host_libc(self):
        libc = ldconfig_path("libc.so.6")
        (self.lib / "libibverbs.so.1").unlink()
        (self.lib / "libibverbs.so.1").symlink_to(libc)
        self.assert_refused(self.show(), self.lib / "libibverbs.so.1",
                            "links outside the stack's tree")

    def test_libibverbs_through_a_relative_link_that_climbs_out(self):
        (self.lib / "libibverbs.so.1").unlink()
        (self.lib / "libibverbs.so.1").symlink_to("../../../../../../../../../dev/zero")
        self.assert_refused(self.show(), self.lib / "libibverbs.so.1",
                            "links outside the stack's tree")

    def test_a_provider_that_is_a_fifo_is_never_opened(self):
        fifo = self.lib / "libibverbs" / "libfoo-rdmav34.so"
        os.mkfifo(fifo)
        self.assert_refused(self.show(), fifo, "is a FIFO, not a regular file")

    def test_a_provider_link_inside_the_tree_is_read(self):
        real = self.lib / "libfoo.so.1"
        real.write_bytes((self.lib / "libibverbs.so.1").read_bytes())
        (self.lib / "libibverbs" / "libfoo-rdmav34.so").symlink_to("../libfoo.so.1")
        done = self.show()
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn("libfoo.so.1", done.stdout)

    def test_a_provider_link_to_a_file_the_tree_lacks_is_a_warning_not_a_refusal(self):
        # rdma-core 44.0 installed to /opt, then copied into usr/lib: libmlx5-rdmav34.so
        # -> ../libmlx5.so.1.24.44.0 is left behind without its target
        (self.lib / "libibverbs" / "libfoo-rdmav34.so").symlink_to("../libfoo.so.1")
        done = self.show()
        self.assertEqual(done.returncode, 0, done.stderr)
        inv = json.loads(done.stdout)
        self.assertNotIn("foo", inv["providers"])
        (warning,) = [w for w in inv["warnings"] if "provider foo" in w]
        self.assertIn("libfoo-rdmav34.so links to ../libfoo.so.1, which is not in the tree: "
                      "libibverbs cannot load it", warning)

    def test_a_driver_file_that_links_out(self):
        conf = self.root / "etc" / "libibverbs.d"
        conf.mkdir(parents=True)
        (conf / "x.driver").symlink_to("/etc/passwd")
        self.assert_refused(self.show(), conf / "x.driver", "links outside the stack's tree")

    def test_a_header_that_links_out(self):
        include = self.root / "usr" / "include" / "infiniband"
        include.mkdir(parents=True)
        (include / "verbs.h").symlink_to("/etc/hostname")
        self.assert_refused(self.show(), include / "verbs.h", "links outside the stack's tree")

    def test_a_loop_of_links(self):
        (self.lib / "libibverbs.so.1").unlink()
        (self.lib / "libibverbs.so.1").symlink_to("libibverbs.so.1")
        self.assert_refused(self.show(), self.lib / "libibverbs.so.1", "cannot be resolved")


class Consumers(unittest.TestCase):
    """Consumers named to `abi` that cannot be checked are listed and counted."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="rdmagate-consumers-")
        cls.dir = Path(cls.tmp.name)
        stack = fetch(resolve("debian-12"), with_rootfs=False)
        mlx5 = (stack.root / LIBDIR / "libmlx5.so.1").resolve().read_bytes()
        cls.text = cls.dir / "script.sh"
        cls.text.write_text("#!/bin/sh\nexec ibv_devinfo\n")
        cls.broken = cls.dir / "libmlx5-broken.so"   # its section headers cut off
        cls.broken.write_bytes(mlx5[:len(mlx5) // 2])
        cls.fifo = cls.dir / "fifo"
        os.mkfifo(cls.fifo)
        cls.tree = cls.dir / "tree"
        cls.tree.mkdir()
        (cls.tree / "libmlx5.so.1").write_bytes(mlx5)
        (cls.tree / "libmlx5-broken.so").write_bytes(mlx5[:len(mlx5) // 2])
        (cls.tree / "README").write_text("not a consumer: a directory's text files are skipped\n")

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_each_is_reported_not_checked_with_its_reason(self):
        done, report = abi_json("debian-12", "debian-13", *(f"--consumers={p}" for p in (
            self.text, self.broken, self.fifo, self.tree)))
        self.assertEqual(done.returncode, 0, done.stderr)
        verdicts = {c["consumer"]: (c["verdict"], c.get("reason")) for c in report["consumers"]}
        self.assertEqual(verdicts["script.sh"], ("not checked", "not an ELF file"))
        self.assertEqual(verdicts["fifo"], ("not checked", "not a regular file"))
        self.assertEqual(verdicts["libmlx5-broken.so"][0], "not checked")
        self.assertIn("malformed ELF file", verdicts["libmlx5-broken.so"][1])
        self.assertEqual(verdicts[f"{self.tree}/libmlx5-broken.so"][0], "not checked")
        self.assertEqual(verdicts[f"{self.tree}/libmlx5.so.1"], ("ok", None))
        self.assertNotIn(f"{self.tree}/README", verdicts)

    def test_the_count_line_says_how_many_were_not_checked(self):
        with tempfile.TemporaryDirectory() as results:
            done = rdmagate("abi", "--from", "debian-12", "--to", "debian-13", "--results",
                            results, f"--consumers={self.text}", f"--consumers={self.tree}")
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn("consumers: 1 checked, 0 would break on debian-13, 2 not checked",
                      done.stdout)
        self.assertIn(f"not checked  {self.text.name}: not an ELF file", done.stdout)


if __name__ == "__main__":
    unittest.main()
