"""A stack whose header changed a verb's signature: the suites do not
compile, and check reports an API break of that stack (a FAIL with the
compiler's error), not an infrastructure error."""
import json
import shutil
import tempfile
import unittest
from pathlib import Path

from rdmagate.paths import build_dir
from tests.support import HOST_LIBDIR as LIBDIR, copy_host_stack, rdmagate


@unittest.skipUnless((LIBDIR / "libibverbs.so").exists(), "the host has no libibverbs-dev")
class ApiBreak(unittest.TestCase):
    def test_changed_signature_is_an_api_break(self):
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp) / "stack"
            verbs = copy_host_stack(root) / "infiniband" / "verbs.h"
            text = verbs.read_text()
            old = "struct ibv_pd *ibv_alloc_pd(struct ibv_context *context);"
            self.assertIn(old, text)
            # A verb that grew a parameter: code written for the old API breaks.
            verbs.write_text(text.replace(
                old, "struct ibv_pd *ibv_alloc_pd(struct ibv_context *context, int flags);"))
            self.addCleanup(shutil.rmtree, build_dir(f"prefix:{root}"), ignore_errors=True)
            done = rdmagate("check", "--stack", f"prefix:{root}", "--suite", "api",
                            "--results", tmp, "--json", timeout=600)
            self.assertEqual(done.returncode, 1, done.stderr[-2000:])
            report = json.loads(done.stdout)
            [result] = report["results"]
            self.assertEqual((result["test"], result["outcome"]), ("build.compile", "FAIL"))
            self.assertIn("API break", result["reason"])
            self.assertIn("ibv_alloc_pd", result["message"])
            self.assertIn("error:", result["message"])


if __name__ == "__main__":
    unittest.main()
