"""A stop (SIGTERM, Ctrl-C) reaches the threads that do work: a fleet's
nodes each follow their own harness or guests in a thread of their own."""
import importlib
import queue
import subprocess
import sys
import threading
import time
import unittest

from rdmagate import interrupt
from rdmagate.targets import host
from tests.support import REPO_ROOT

# the module, not the function the package exports under its name
lab_run = importlib.import_module("rdmagate.targets.lab.run")


class InThreads(unittest.TestCase):
    def setUp(self):
        self.addCleanup(interrupt._requested.clear)

    def run_in_thread(self, work):
        raised = []

        def body():
            try:
                work()
            except BaseException as err:   # noqa: BLE001 -- what the thread ended with
                raised.append(err)
        thread = threading.Thread(target=body, daemon=True)
        thread.start()
        return thread, raised

    def test_a_host_run_in_another_thread_stops_and_raises(self):
        thread, raised = self.run_in_thread(
            lambda: host.run_here(["sleep", "60"], on_line=lambda line: None))
        time.sleep(0.5)
        started = time.monotonic()
        interrupt.request()
        thread.join(10)
        self.assertFalse(thread.is_alive())
        self.assertLess(time.monotonic() - started, 5)
        self.assertEqual([type(e) for e in raised], [KeyboardInterrupt])

    def test_following_guests_in_another_thread_stops(self):
        silent = queue.Queue()     # guests that print nothing, for ever
        thread, raised = self.run_in_thread(lambda: lab_run._follow(
            [object()], silent, 1, time.monotonic(), 600, 600, lambda line: None))
        time.sleep(0.5)
        interrupt.request()
        thread.join(5)
        self.assertFalse(thread.is_alive())
        self.assertEqual([type(e) for e in raised], [KeyboardInterrupt])

    def test_sigterm_stops_a_commands_threads_at_once(self):
        # the command's own threads: SIGTERM in the main thread must end the
        # node threads' runs too, not leave them to run to their end
        script = ("import signal, os, threading, time\n"
                  "from rdmagate import cli\n"
                  "from rdmagate.targets import host\n"
                  "def work(args):\n"
                  "    t = threading.Thread(target=lambda: host.run_here(['sleep', '60'],"
                  " on_line=print))\n"
                  "    t.start(); time.sleep(0.5)\n"
                  "    os.kill(os.getpid(), signal.SIGTERM)\n"
                  "    t.join(); return 0\n"
                  "import argparse\n"
                  "cli.build_parser = lambda: type('P', (), {'parse_args': lambda self, a:"
                  " argparse.Namespace(func=work, debug=False)})()\n"
                  "raise SystemExit(cli.main([]))\n")
        started = time.monotonic()
        done = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT / "runner",
                              capture_output=True, text=True, timeout=30)
        self.assertLess(time.monotonic() - started, 10, done.stderr)
        self.assertEqual(done.returncode, 130, done.stderr)


if __name__ == "__main__":
    unittest.main()
