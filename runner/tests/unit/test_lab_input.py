"""What the lab decides before it boots a guest: its command line, and the
order in which the initramfs loads a real Debian kernel's modules."""
import unittest

from rdmagate.targets.lab import initramfs, kernel
from rdmagate.stacks import resolve
from tests.support import rdmagate


class LabInput(unittest.TestCase):
    def test_two_nodes_need_a_server(self):
        done = rdmagate("lab", "run", "--nodes", "2", "--", "true")
        self.assertEqual(done.returncode, 2)
        self.assertIn("--nodes 2 needs --server", done.stderr)

    def test_command_is_required(self):
        done = rdmagate("lab", "run")
        self.assertEqual(done.returncode, 2)
        self.assertIn("give the command after --", done.stderr)

    def test_no_qemu_is_an_infrastructure_error(self):
        done = rdmagate("lab", "run", "--", "true", env={"PATH": "/nonexistent"})
        self.assertEqual(done.returncode, 3)
        self.assertIn("qemu-system-x86_64 is not installed", done.stderr)


class Initramfs(unittest.TestCase):
    def test_boot_modules_come_after_their_dependencies(self):
        kern = kernel.prepare(resolve("debian-12"))
        order = initramfs.load_order(kern)
        self.assertTrue(any(path.endswith("/9p.ko") for path in order))
        deps = {}
        for line in (kern.modules / "modules.dep").read_text().splitlines():
            path, _, rest = line.partition(":")
            deps[path] = rest.split()
        for index, path in enumerate(order):
            for dep in deps[path]:
                self.assertIn(dep, order[:index], f"{dep} must load before {path}")


if __name__ == "__main__":
    unittest.main()
