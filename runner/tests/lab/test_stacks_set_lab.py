"""A vendor package set built for a newer C library than the host's (sid's
own rdma-core .debs) runs in the lab, in the root file system of the suite
chosen for it (sid: trixie's libnl is older than its libibverbs needs)."""
import shutil
import tempfile
import unittest
from pathlib import Path

from rdmagate.stacks import resolve
from rdmagate.stacks.archive import Archive
from tests.support import check_run, rdmagate

SID = ("libibverbs1", "libibverbs-dev", "ibverbs-providers", "ibverbs-utils", "librdmacm1t64",
       "librdmacm-dev", "rdmacm-utils", "libibumad3", "libibumad-dev")


class SidPackagesInTheLab(unittest.TestCase):
    def test_api_suite_in_the_sets_root_file_system(self):
        with tempfile.TemporaryDirectory() as tmp:
            debs = Path(tmp) / "sid-debs"   # the cache entry's name: reused across runs
            debs.mkdir()
            for deb in Archive("sid").download([(n, v) for n, v in resolve("debian-sid").packages
                                                if n in SID]):
                shutil.copy(deb, debs)
            fetched = rdmagate("stacks", "fetch", f"debs:{debs}")
            self.assertEqual(fetched.returncode, 0, fetched.stderr)
            self.assertRegex(fetched.stdout, r"root file system \S+/rootfs-sid ")
            done, run, by_name, _ = check_run("--stack", f"debs:{debs}", "--lab")
            self.assertEqual(done.returncode, 0, done.stdout + done.stderr)
            self.assertEqual((run["where"], run["device"]), ("lab", "rxe0"))
            self.assertEqual(by_name["is_fork_initialized"]["outcome"], "PASS")
            self.assertEqual(by_name["rdma_event_channel"]["outcome"], "PASS")


if __name__ == "__main__":
    unittest.main()
