import unittest

from tests.support import rdmagate


class CommandLine(unittest.TestCase):
    def test_help_documents_exit_codes_and_every_command(self):
        done = rdmagate("--help")
        self.assertEqual(done.returncode, 0)
        for word in ("check", "stacks", "abi", "lab", "upgrade", "report", "baseline", "profile",
                     "exit codes", "infrastructure"):
            self.assertIn(word, done.stdout)

    def test_commands_not_built_say_so_and_exit_2(self):
        for command in ("upgrade", "baseline", "profile"):
            done = rdmagate(command)
            if "not built yet" not in done.stderr:
                continue  # built since: its own tests cover it
            self.assertEqual(done.returncode, 2, command)
            self.assertIn(f"rdmagate {command}: not built yet", done.stderr)

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
