"""External tools (abidiff, abidw, gcc, dpkg-deb, zstd, nm, ...) run one way:
by argument vector, with a time limit, and with their output bounded when
asked. A tool that runs past its limit or dies by a signal is named with
its time or its signal (InfraError, exit 3): a hung or crashed abidiff is
the environment failing, never a verdict on the stacks."""
import contextlib
import os
import selectors
import signal
import subprocess
import threading
import time

from .errors import InfraError, UsageError

# limits that fit each kind of tool on this project's machines (the measured
# time in brackets): generous, since a loaded host is slower
QUICK = 60          # a query or a small file (nm, dpkg-query, readelf: < 1 s)
COMPILE = 300       # gcc on a stack's headers, abidw, abidiff (< 5 s)
UNPACK = 600        # dpkg-deb or bsdtar on one package (< 10 s)
BUILD = 1800        # cmake and make of the harness, a kernel module (< 2 min)
DOWNLOAD = 1800     # apt-get fetching packages over the network


class Killed(InfraError):
    """A tool that ran past its limit or died by a signal; output: what it
    wrote to stdout before."""

    def __init__(self, message: str, output: bytes = b""):
        super().__init__(message)
        self.output = output


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def run(argv: list[str], timeout: float, *, what: str = "", text: bool = True,
        input: bytes | str | None = None, max_output: int | None = None,
        cwd=None, env=None, stdout=None) -> subprocess.CompletedProcess:
    """argv to its end, stdin empty (or input), its output captured (or sent
    to stdout, a file); the tool and its children are killed when it runs
    past timeout seconds, or writes more than max_output bytes (then
    UsageError: the input it was given expands past what rdmagate reads).
    InfraError when it cannot start, runs too long or dies by a signal;
    any exit status is the caller's to read."""
    name = what or os.path.basename(str(argv[0]))
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE if input is not None
                                else subprocess.DEVNULL,
                                stdout=stdout or subprocess.PIPE,
                                stderr=subprocess.STDOUT if stdout else subprocess.PIPE,
                                cwd=cwd, env=env, start_new_session=True)
    except OSError as error:
        raise InfraError(f"{name}: cannot run {argv[0]} ({error.strerror})") from None
    try:
        out, err, over = _communicate(proc, input, timeout, max_output)
    except BaseException:
        _kill(proc)
        raise
    if over is not None:
        _kill(proc)
        if over == "time":
            raise Killed(f"{name}: {argv[0]} did not end within its time limit of "
                         f"{timeout:g} s (killed)", out)
        raise UsageError(f"{name}: {argv[0]} wrote more than the {max_output} bytes "
                         "rdmagate reads from it")
    code = proc.wait()
    for pipe in (proc.stdout, proc.stderr):
        if pipe is not None:
            pipe.close()
    if code < 0:
        raise Killed(f"{name}: {argv[0]} crashed ({_signal_name(-code)})", out)
    if text:
        out, err = (data.decode("utf-8", "replace") for data in (out, err))
    return subprocess.CompletedProcess(argv, code, out, err)


def _communicate(proc, input, timeout, max_output):
    """(stdout, stderr, None) once both pipes closed; over is "time" or
    "size" when it had to stop first."""
    deadline = time.monotonic() + timeout
    chunks: dict[str, list[bytes]] = {"out": [], "err": []}
    sizes = {"out": 0, "err": 0}
    pending = input.encode() if isinstance(input, str) else input
    with selectors.DefaultSelector() as sel:
        for name, pipe in (("out", proc.stdout), ("err", proc.stderr)):
            if pipe is not None:
                sel.register(pipe, selectors.EVENT_READ, name)
        if pending is not None:
            if pending:
                os.set_blocking(proc.stdin.fileno(), False)
                sel.register(proc.stdin, selectors.EVENT_WRITE, "in")
            else:
                proc.stdin.close()
        while sel.get_map():
            left = deadline - time.monotonic()
            if left <= 0:
                return b"".join(chunks["out"]), b"", "time"
            for key, _ in sel.select(left):
                if key.data == "in":
                    try:
                        done = os.write(key.fd, pending[:65536])
                    except BrokenPipeError:
                        done = len(pending)
                    pending = pending[done:]
                    if not pending:
                        sel.unregister(key.fileobj)
                        proc.stdin.close()
                    continue
                block = os.read(key.fd, 1 << 20)
                if not block:
                    sel.unregister(key.fileobj)
                    continue
                chunks[key.data].append(block)
                sizes[key.data] += len(block)
                if max_output is not None and sizes[key.data] > max_output:
                    return b"", b"", "size"
    left = deadline - time.monotonic()
    try:
        proc.wait(max(left, 0.001))
    except subprocess.TimeoutExpired:
        return b"".join(chunks["out"]), b"", "time"
    return b"".join(chunks["out"]), b"".join(chunks["err"]), None


def _kill_group(proc) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _kill(proc) -> None:
    """The tool and whatever it started (gcc's cc1, dpkg-deb's tar)."""
    if proc.poll() is None:
        _kill_group(proc)
    proc.wait()
    for pipe in (proc.stdin, proc.stdout, proc.stderr):
        if pipe is not None:
            pipe.close()


@contextlib.contextmanager
def streamed(argv: list[str], timeout: float, what: str = ""):
    """`with streamed(argv, limit) as proc:` a tool whose output is read as it
    comes (proc.stdout, binary; stderr dropped), killed with its children at
    the limit (the reader then sees its output end, and Killed is raised
    once the block is left) or when the block ends early."""
    name = what or os.path.basename(str(argv[0]))
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, start_new_session=True)
    except OSError as err:
        raise InfraError(f"{name}: cannot run {argv[0]} ({err.strerror})") from None
    late = threading.Event()

    def stop():
        late.set()
        _kill_group(proc)
    timer = threading.Timer(timeout, stop)
    timer.daemon = True
    timer.start()
    try:
        yield proc
    except Exception:
        if not late.is_set():
            raise
    finally:
        timer.cancel()
        _kill(proc)
    if late.is_set():
        raise Killed(f"{name}: {argv[0]} did not end within its time limit of "
                     f"{timeout:g} s (killed)")
