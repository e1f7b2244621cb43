"""The lab proof of `rdmagate compat --lab`: Debian 13's kernel booted with a
container image's root (debian-13's rdma-core from mmdebstrap, packed by
umoci), the api suite run on rxe inside it."""
import json
import shutil
import tempfile
import unittest
from pathlib import Path

from tests.images import debian_root, umoci_layout
from tests.support import rdmagate


class ImageInTheLab(unittest.TestCase):
    def test_the_image_root_runs_the_api_suite_on_rxe(self):
        work = Path(tempfile.mkdtemp(prefix="rdmagate-compat-lab-"))
        try:
            image = umoci_layout(work / "oci13", [debian_root("debian-13")], tag="13")
            done = rdmagate("compat", "--image", f"oci:{image}:13", "--host", "debian-13",
                            "--drivers", "rxe", "--lab", "--suite", "api",
                            "--results", str(work / "results"), "--json", timeout=1500)
            self.assertEqual(done.returncode, 0, done.stdout + done.stderr)
            data = json.loads(done.stdout)
            checks = {c["name"]: c for c in data["checks"]}
            self.assertEqual(checks["lab"]["status"], "ok", checks["lab"])
            self.assertRegex(checks["lab"]["evidence"], r"\d+ PASS")
            lab_runs = list((work / "results").glob("*-check-*/run.json"))
            self.assertEqual(len(lab_runs), 1, lab_runs)
            run = json.loads(lab_runs[0].read_text())
            self.assertEqual((run["where"], run["device"]), ("lab", "rxe0"))
            self.assertEqual(run["lab"]["kernel"], "6.12.117+deb13-amd64")
            self.assertEqual(data["verdict"], "GO")
        finally:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
