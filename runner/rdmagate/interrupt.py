"""A stop asked of the whole run (Ctrl-C, SIGTERM, SIGHUP). Python raises
KeyboardInterrupt in the main thread only, so work in other threads (a
fleet's nodes, each following its own guests or harness) would run on to its
end, start its next step, and leave its temporary files when the process is
killed at last. Those threads look here instead: the lab between console
lines, a host run through the processes it registered."""
import signal
import subprocess
import threading

_requested = threading.Event()
_running: set[subprocess.Popen] = set()
_lock = threading.Lock()


def request() -> None:
    """Stop: every registered process gets SIGINT (the harness ends its test
    and reports), and every check() from now on raises."""
    _requested.set()
    with _lock:
        for proc in list(_running):
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)


def check() -> None:
    """Raise KeyboardInterrupt, in any thread, once a stop was requested."""
    if _requested.is_set():
        raise KeyboardInterrupt("stop requested")


class Registered:
    """`with Registered(proc):` a process request() interrupts."""

    def __init__(self, proc: subprocess.Popen):
        self.proc = proc

    def __enter__(self):
        with _lock:
            _running.add(self.proc)
        try:
            check()   # a stop that came while it started
        except KeyboardInterrupt:
            self.__exit__()   # __exit__ is not called when __enter__ raises
            raise
        return self.proc

    def __exit__(self, *_exc):
        with _lock:
            _running.discard(self.proc)
