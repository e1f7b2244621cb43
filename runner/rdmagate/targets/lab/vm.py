"""One QEMU process: started in its own process group, its console read
line by line on a thread, and always killed, whatever happens (also when
rdmagate itself is killed: the kernel sends QEMU SIGKILL then)."""
import os
import queue
import signal
import subprocess
import threading


_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """In the child before exec: a SIGKILL of rdmagate (which no cleanup can
    catch) takes QEMU with it, so no guest outlives the run."""
    import ctypes
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


class VM:
    def __init__(self, name: str, argv: list[str], lines: queue.Queue | None):
        """lines None: an interactive guest on this terminal (lab shell)."""
        self.name = name
        piped = lines is not None
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE if piped else None,
                                     stderr=subprocess.STDOUT if piped else None,
                                     stdin=subprocess.DEVNULL if piped else None,
                                     start_new_session=piped,
                                     preexec_fn=die_with_parent)
        self.reader = threading.Thread(target=self._read, args=(lines,), daemon=True)
        if piped:
            self.reader.start()

    def _read(self, lines: queue.Queue) -> None:
        assert self.proc.stdout is not None   # started only for a piped guest
        for raw in self.proc.stdout:
            lines.put((self.name, raw.decode("utf-8", errors="replace").rstrip("\r\n")))
        lines.put((self.name, None))  # end of console: QEMU exited

    def running(self) -> bool:
        return self.proc.poll() is None

    def exit_signal(self) -> int:
        """The signal that ended QEMU; 0 if it exited by itself or still runs."""
        try:
            code = self.proc.wait(timeout=10)   # its console closed: it is ending
        except subprocess.TimeoutExpired:
            return 0
        return -code if code < 0 else 0

    def kill(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.wait()
        if self.reader.is_alive():
            self.reader.join(timeout=5)
        if self.proc.stdout is not None and not self.reader.is_alive():
            self.proc.stdout.close()
