"""Run one test module as ctest runs it: python3 -m tests.run tests.unit.test_x

unittest exits 0 when tests were skipped, so a machine without QEMU or
Slurm would look green. Here a module with a skipped test and no failure
exits 77, which ctest (SKIP_RETURN_CODE 77) counts as skipped; with
RDMAGATE_REQUIRE_ALL=1 (CI, where ci/setup installed everything) a skip
is a failure instead."""
import os
import sys
import unittest

SKIPPED = 77
REQUIRE_ALL = "RDMAGATE_REQUIRE_ALL"


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python3 -m tests.run tests.KIND.test_NAME", file=sys.stderr)
        return 2
    suite = unittest.defaultTestLoader.loadTestsFromName(argv[0])
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    if not result.wasSuccessful():
        return 1
    if not result.skipped:
        return 0
    if os.environ.get(REQUIRE_ALL) == "1":
        print(f"{len(result.skipped)} test(s) skipped, and {REQUIRE_ALL}=1 requires every "
              "test to run: install what the reasons above name (ci/setup)", file=sys.stderr)
        return 1
    print(f"{len(result.skipped)} of {result.testsRun} test(s) skipped: the module reports "
          f"SKIPPED ({SKIPPED}) to ctest", file=sys.stderr)
    return SKIPPED


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
