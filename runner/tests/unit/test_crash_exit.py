"""A crash of rdmagate is an infrastructure error: exit 3 and one line.

A stand-in for one part of a real command (what `stacks list` asks for)
raises each kind of error an uncaught bug or a failing file can raise; the
real entry point, in its own process, must end with exit 3 (never 1, which
is NO-GO) and one line on stderr, and show the traceback only with --debug."""
import os
import re
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

from tests.support import UNREACHABLE_MIRROR, rdmagate

RUNNER = Path(__file__).resolve().parents[2]
EXIT_CODES = RUNNER.parent / "docs" / "results.md"   # the README links it

STAND_IN = """
import sys
import rdmagate.commands.stacks as command
def stand_in(*args, **kwargs):
    raise {raise_}
command.known = stand_in
from rdmagate.cli import main
sys.exit(main(sys.argv[1:]))
"""

RAISES = {
    "OSError": ("OSError(28, 'No space left on device', '/results/run/findings.json')",
                "/results/run/findings.json: No space left on device"),
    "PermissionError": ("PermissionError(13, 'Permission denied', '/etc/x', None, '/etc/y')",
                        "/etc/x -> /etc/y: Permission denied"),
    "BrokenPipeError": ("BrokenPipeError(32, 'Broken pipe')", "Broken pipe"),
    "UnicodeDecodeError": ("UnicodeDecodeError('utf-8', b'\\xff', 0, 1, 'invalid start byte')",
                           "not UTF-8 text (byte 0: invalid start byte)"),
    "MemoryError": ("MemoryError()", "out of memory"),
    "RecursionError": ("RecursionError('maximum recursion depth exceeded')", "nested"),
    "KeyError": ("KeyError('expect')", "internal error: KeyError"),
    "TypeError": ("TypeError('multi\\nline')", "internal error: TypeError: multi line"),
    "AssertionError": ("AssertionError()", "internal error: AssertionError"),
}


def run_with(raise_: str, *words: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", STAND_IN.format(raise_=raise_), *words],
                          cwd=RUNNER, capture_output=True, text=True, timeout=60, check=False)


class CrashExit(unittest.TestCase):
    def test_every_kind_of_error_exits_3_with_one_line(self):
        for kind, (raise_, says) in RAISES.items():
            with self.subTest(kind=kind):
                done = run_with(raise_, "stacks", "list")
                self.assertEqual(done.returncode, 3, done.stderr)
                self.assertEqual(done.stdout, "")
                lines = done.stderr.splitlines()
                self.assertEqual(len(lines), 1, done.stderr)
                self.assertTrue(lines[0].startswith("rdmagate: error: "), lines[0])
                self.assertIn(says, lines[0])
                self.assertNotIn("Traceback", done.stderr)

    def test_debug_shows_the_traceback_and_the_same_exit(self):
        done = run_with("KeyError('expect')", "--debug", "stacks", "list")
        self.assertEqual(done.returncode, 3)
        self.assertIn("Traceback (most recent call last)", done.stderr)
        self.assertIn("in stand_in", done.stderr)
        self.assertTrue(done.stderr.splitlines()[-1].startswith("rdmagate: error: internal"))

    def test_a_full_stdout_is_exit_3_not_a_python_message(self):
        with open("/dev/full", "w", encoding="utf-8") as full:
            done = subprocess.run([sys.executable, str(RUNNER / "main.py"), "stacks", "list"],
                                  stdout=full, stderr=subprocess.PIPE, text=True, timeout=60,
                                  check=False)
        self.assertEqual(done.returncode, 3, done.stderr)
        self.assertEqual(done.stderr.splitlines(), ["rdmagate: error: OSError: No space left "
                                                    "on device"])
        self.assertNotIn("Exception ignored", done.stderr)

    def test_a_stand_in_tool_that_fails_each_way_is_exit_3_naming_it(self):
        # abidiff stood in by a script: garbage that is not UTF-8 (it was a
        # UnicodeDecodeError), a crash by a signal, a hang-free exit 2
        scripts = {"not UTF-8": 'printf "\\377\\376 bad\\n" >&2; exit 1',
                   "killed": "kill -SEGV $$",
                   "usage": "echo 'abidiff: unknown option' >&2; exit 2"}
        for kind, body in scripts.items():
            with self.subTest(kind=kind), tempfile.TemporaryDirectory() as tmp:
                tool = Path(tmp) / "abidiff"
                tool.write_text(f"#!/bin/sh\n{body}\n")
                tool.chmod(0o755)
                done = rdmagate("abi", "--from", "debian-12", "--to", "debian-13",
                                "--no-consumers", "--results", str(Path(tmp) / "r"),
                                env={"PATH": f"{tmp}:{os.environ['PATH']}",
                                     "RDMAGATE_CACHE": str(Path(tmp) / "cache"),
                                     "RDMAGATE_MIRROR": UNREACHABLE_MIRROR})
                self.assertEqual(done.returncode, 3, done.stderr[-1000:])
                self.assertNotIn("Traceback", done.stderr)
                self.assertRegex(done.stderr.splitlines()[-1], r"^rdmagate: error: abidiff ")

    def test_docs_and_help_say_what_a_crash_exits_with(self):
        table = EXIT_CODES.read_text(encoding="utf-8").split("## Exit codes", 1)[1] \
            .split("\n## ")[0]
        row = next(line for line in table.splitlines() if line.startswith("| 3 |"))
        self.assertIn("crash", row)
        self.assertIn("--debug", table)
        self.assertRegex(rdmagate("--help").stdout, re.compile(r"3 .*crash", re.S))


if __name__ == "__main__":
    unittest.main()
