"""kabi_load.sh, the guest side of kabi --lab, run here with stand-ins for
insmod, dmesg and rmmod: each module's status, insmod output and kernel log
land under its key; a name from a module is compared, never evaluated or
used as a pattern."""
import os
import subprocess
import tempfile
import unittest
from pathlib import Path

from rdmagate.kabi.lab import _after_mark
from rdmagate.targets import scripts


def stand_in(bin_dir: Path, name: str, body: str) -> None:
    (bin_dir / name).write_text("#!/bin/sh\n" + body)
    (bin_dir / name).chmod(0o755)


class KabiLoad(unittest.TestCase):
    def test_each_module_loaded_logged_and_unloaded(self):
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            (tmp / "bin").mkdir()
            (tmp / "out").mkdir()
            log, modules = tmp / "kmsg", tmp / "modules"
            marker = tmp / "evaluated"
            # insmod of good.ko "loads" it (a line in the modules list), others fail.
            stand_in(tmp / "bin", "insmod", f'case "$2" in *good.ko) echo "ok_mod 1 0" >>{modules};'
                     f' echo "ok_mod: loaded" >>{log};; *) echo "bad: Unknown symbol x" >>{log};'
                     ' echo "insmod: ERROR: Unknown symbol in module" >&2; exit 1;; esac\n')
            stand_in(tmp / "bin", "dmesg", f"cat {log}\n")
            stand_in(tmp / "bin", "rmmod", f'echo "rmmod $*" >>{tmp / "rmmod.log"}\n')
            modules.write_text("ib_core 1 0\n")
            env = dict(os.environ, PATH=f"{tmp / 'bin'}:{os.environ['PATH']}", KMSG=str(log),
                       PROC_MODULES=str(modules))
            done = subprocess.run(
                ["sh", str(scripts.KABI_LOAD), str(tmp / "out"),
                 "m0", "ok_mod", str(tmp / "good.ko"),
                 "m1", f"$(touch {marker})", str(tmp / "bad.ko"),
                 "m2", ".*", str(tmp / "other.ko")],
                capture_output=True, text=True, env=env, timeout=30, check=False)
            self.assertEqual(done.returncode, 0, done.stderr)
            out = tmp / "out"
            self.assertEqual([(out / f"m{i}.rc").read_text() for i in range(3)],
                             ["0\n", "1\n", "1\n"])
            self.assertIn("Unknown symbol in module", (out / "m1.insmod").read_text())
            self.assertEqual(_after_mark((out / "m0.dmesg").read_text(), "m0"),
                             ["ok_mod: loaded"])
            self.assertEqual(_after_mark((out / "m1.dmesg").read_text(), "m1"),
                             ["bad: Unknown symbol x"])
            # Only the module that loaded is unloaded; ".*" matches no name.
            self.assertEqual((tmp / "rmmod.log").read_text(), "rmmod -- ok_mod\n")
            self.assertFalse(marker.exists())


if __name__ == "__main__":
    unittest.main()
