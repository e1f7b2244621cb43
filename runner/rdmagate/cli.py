"""The rdmagate command line: parse, dispatch, map errors to exit codes."""
import argparse
import signal
import sys

from . import errors
from .commands import abi, baseline, check, fleet, history, kabi, lab, profile, report, \
    stacks, upgrade

COMMANDS = (check, stacks, abi, kabi, lab, upgrade, report, baseline, profile, fleet, history)

EPILOG = """\
exit codes:
  0  go: every test ended as expected
  1  no-go: a test ended otherwise (FAIL, TIMEOUT, CRASH) or a breaking change
  2  usage or configuration error (bad option, manifest, plan or baseline)
  3  infrastructure error (a missing tool, the network, a VM, the harness)
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rdmagate",
        description="ABI conformance tests for RDMA software stacks: what breaks, "
        "for whom, and how much slower, if this stack replaces that one.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in COMMANDS:
        command.register(sub)
    return parser


def _stop(signum, _frame):
    # Unwind like Ctrl-C, so every finally (VMs, temp dirs, locks) runs.
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGHUP, _stop)
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        # argparse exits 2 on a usage error and 0 for --help: keep both.
        return int(exit_.code or 0)
    try:
        return args.func(args)
    except errors.RdmagateError as err:
        print(f"rdmagate: error: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("rdmagate: interrupted", file=sys.stderr)
        return 130
