import argparse
import unittest

from rdmagate.cli import build_parser
from tests.support import rdmagate


def command_parsers(parser: argparse.ArgumentParser, words: str = ""):
    """(command words, its parser) of every command and action under parser:
    "check", "stacks", "stacks fetch", ..."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                command = f"{words} {name}".strip()
                yield command, sub
                yield from command_parsers(sub, command)


class CommandLine(unittest.TestCase):
    def test_help_documents_exit_codes_and_every_command(self):
        done = rdmagate("--help")
        self.assertEqual(done.returncode, 0)
        for word in ("check", "stacks", "abi", "lab", "upgrade", "report", "baseline", "profile",
                     "exit codes", "infrastructure"):
            self.assertIn(word, done.stdout)

    def test_every_command_has_help_and_exits_2_on_a_bad_option(self):
        commands = dict(command_parsers(build_parser()))
        self.assertLessEqual({"check", "stacks", "stacks fetch", "lab run", "baseline record",
                              "profile capture", "upgrade", "report"}, set(commands))
        for command, parser in commands.items():
            with self.subTest(command=command):
                words = command.split()
                done = rdmagate(*words, "--help")
                self.assertEqual((done.returncode, done.stderr), (0, ""))
                self.assertTrue(done.stdout.startswith(f"usage: rdmagate {command} "), done.stdout)
                if parser.description:   # compared without spaces: argparse rewraps it
                    self.assertIn("".join(parser.description.split()), "".join(done.stdout.split()))
                for option in (a.option_strings[-1] for a in parser._actions if a.option_strings):
                    self.assertIn(option, done.stdout)
                done = rdmagate(*words, "--no-such-option")
                self.assertEqual((done.returncode, done.stdout), (2, ""))
                # argparse names a missing argument first, else the option
                # (with the top level's usage: it is the one that sees it)
                self.assertTrue(done.stderr.startswith("usage: rdmagate "), done.stderr)
                self.assertRegex(done.stderr, r"error: (the following arguments are required: "
                                 r"|one of the arguments .* is required"
                                 r"|unrecognized arguments: --no-such-option\n)")

    def test_unknown_suite_is_a_usage_error(self):
        done = rdmagate("check", "--suite", "nosuch")
        self.assertEqual(done.returncode, 2)
        self.assertIn("--suite nosuch: no such suite", done.stderr)

    def test_unknown_device_is_a_usage_error(self):
        done = rdmagate("check", "--device", "mlx5_99")
        self.assertEqual(done.returncode, 2)
        self.assertIn("--device mlx5_99: no such RDMA device", done.stderr)

    def test_device_and_lab_exclude_each_other(self):
        done = rdmagate("check", "--device", "rxe0", "--lab")
        self.assertEqual(done.returncode, 2)
        self.assertIn("not allowed with argument", done.stderr)

    def test_report_of_a_directory_without_results_is_a_usage_error(self):
        done = rdmagate("report", "/nonexistent-run")
        self.assertEqual(done.returncode, 2)
        self.assertIn("not a run directory", done.stderr)


if __name__ == "__main__":
    unittest.main()
