"""The rdmagate command line: parse, dispatch, map errors to exit codes."""
import argparse
import io
import os
import select
import signal
import sys
import traceback

from . import errors, interrupt, terminal
from .commands import abi, baseline, check, compat, fleet, history, kabi, lab, profile, \
    report, stacks, upgrade

COMMANDS = (check, stacks, abi, kabi, compat, lab, upgrade, report, baseline, profile, fleet,
            history)

EPILOG = """\
exit codes:
  0  go: every test ended as expected
  1  no-go: a test ended otherwise (FAIL, TIMEOUT, CRASH) or a breaking change
  2  usage or configuration error (bad option, manifest, plan or baseline)
  3  infrastructure error (a missing tool, the network, a VM, the harness),
     a file that cannot be read or written, and any crash of rdmagate itself:
     one line on stderr, never exit 1 (--debug adds the traceback)
  130  interrupted; 141  its output was closed while it printed (a pipe
     into head): quiet, as a tool killed by SIGPIPE
text from input is printed with its control characters escaped (\x1b)
"""
EXIT_CLOSED_OUTPUT = 141   # 128 + SIGPIPE, what a shell reports for a tool killed by it



def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rdmagate",
        description="ABI conformance tests for RDMA software stacks: what breaks, "
        "for whom, and how much slower, if this stack replaces that one.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--debug", action="store_true",
                        help="on an error, print the traceback before its one line")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in COMMANDS:
        command.register(sub)
    return parser


def _stop(signum, _frame):
    # Unwind like Ctrl-C, so every finally (VMs, temp dirs, locks) runs, in
    # the threads that do work too (they cannot get a KeyboardInterrupt).
    interrupt.request()
    raise KeyboardInterrupt(f"signal {signum}")


def _standard_streams() -> None:
    """A closed stdin, stdout or stderr (`>&-`) becomes /dev/null: output no
    one reads, and no file rdmagate opens next takes its descriptor (a tool
    run then would write into that file)."""
    for fd, name, mode in ((0, "stdin", "r"), (1, "stdout", "w"), (2, "stderr", "w")):
        try:
            os.fstat(fd)
        except OSError:
            null = os.open(os.devnull, os.O_RDWR)
            if null != fd:
                os.dup2(null, fd)
                os.close(null)
            setattr(sys, name, open(fd, mode, closefd=False))


def main(argv: list[str] | None = None) -> int:
    _standard_streams()
    streams = sys.stdout, sys.stderr
    # not a TextIO by type: Escaping hands what it does not define to the stream
    sys.stdout, sys.stderr = terminal.Escaping(sys.stdout), terminal.Escaping(sys.stderr)  # type: ignore[assignment]
    try:
        return _main(argv)
    finally:
        sys.stdout, sys.stderr = streams


def _main(argv: list[str] | None) -> int:
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _stop)
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        # argparse exits 2 on a usage error and 0 for --help: keep both.
        return int(exit_.code or 0)
    except errors.RdmagateError as err:   # an option's own check (type=) refused it
        debug = "--debug" in (sys.argv[1:] if argv is None else argv)
        return _fail(argparse.Namespace(debug=debug), str(err), err.exit_code)
    try:
        code = args.func(args)
        sys.stdout.flush()   # a full or closed stdout fails here, inside the mapping below
        return code
    except errors.RdmagateError as err:
        return _fail(args, str(err), err.exit_code)
    except BrokenPipeError as err:
        if not _output_gone():   # a pipe to a tool rdmagate ran: that tool's failure
            return _fail(args, crash_line(err), errors.EXIT_INFRA)
        # whoever read the output stopped reading: nothing to say, and nowhere to
        # say it; stdout goes to /dev/null so the exit's own flush cannot fail
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)
        return EXIT_CLOSED_OUTPUT
    except KeyboardInterrupt:
        print("rdmagate: interrupted", file=sys.stderr)
        return 130
    except Exception as err:   # noqa: BLE001 -- a crash must not exit 1 (NO-GO) with a traceback
        return _fail(args, crash_line(err), errors.EXIT_INFRA)


def _output_gone() -> bool:
    """Whether stdout is a pipe no one reads any more."""
    try:
        poller = select.poll()
        poller.register(sys.stdout.fileno(), select.POLLOUT)
        return any(event & select.POLLERR for _, event in poller.poll(0))
    except (OSError, ValueError, io.UnsupportedOperation):
        return False


def crash_line(err: BaseException) -> str:
    """What an error no part of rdmagate mapped says, in one line: a file
    error names its file (the user can act on that), anything else is
    rdmagate's own fault and says so."""
    if isinstance(err, OSError):
        files = " -> ".join(str(f) for f in (err.filename, err.filename2) if f is not None)
        text = err.strerror or str(err) or type(err).__name__
        return f"{files}: {text}" if files else f"{type(err).__name__}: {text}"
    if isinstance(err, UnicodeDecodeError):
        return f"input is not UTF-8 text (byte {err.start}: {err.reason})"
    if isinstance(err, MemoryError):
        return "out of memory (an input far larger than it should be?)"
    if isinstance(err, RecursionError):
        return "input nested too deeply to read"
    return (f"internal error: {type(err).__name__}: {err} "
            "(a bug in rdmagate; --debug shows where)")


def _fail(args, text: str, code: int) -> int:
    if getattr(args, "debug", False):
        traceback.print_exc(file=sys.stderr)
    try:
        print("rdmagate: error: " + " ".join(text.split("\n")), file=sys.stderr)
    except OSError:
        pass   # stderr itself is gone: the exit code is all that is left
    return code
