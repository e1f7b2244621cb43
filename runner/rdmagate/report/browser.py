"""Headless Chromium (Debian's chromium package) for the report's check:
a screenshot, the DOM as rendered, and the console's errors."""
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from ..errors import InfraError

CHROMIUM = "chromium"


def _run(html: Path, *flags: str, timeout: float = 90,
         size: str = "1280,3000") -> subprocess.CompletedProcess:
    binary = shutil.which(CHROMIUM)
    if binary is None:
        raise InfraError("chromium is not installed: run ci/setup")
    with tempfile.TemporaryDirectory(prefix="rdmagate-chromium-") as profile:
        argv = [binary, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--disable-extensions", "--enable-logging=stderr", "--v=0",
                f"--user-data-dir={profile}", f"--window-size={size}", *flags,
                html.resolve().as_uri()]
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, errors="replace", start_new_session=True)
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.communicate()
            raise InfraError(f"chromium did not finish rendering {html} in {timeout:.0f} s") \
                from None
        finally:
            if proc.poll() is None:
                proc.kill()
    return subprocess.CompletedProcess(argv, proc.returncode, out, err)


def console_errors(stderr: str) -> list[str]:
    """Lines of Chromium's log that report a page error (console or load)."""
    return [line for line in stderr.splitlines()
            if ("CONSOLE" in line and ("Uncaught" in line or "error" in line.lower()))
            or "Failed to load resource" in line]


def screenshot(html: Path, png: Path, size: str = "1280,3000") -> list[str]:
    """Render the page to a PNG of size (width,height); return the console errors seen."""
    done = _run(html, f"--screenshot={png}", size=size)
    if done.returncode != 0 or not png.is_file():
        raise InfraError(f"chromium could not render {html} (exit {done.returncode}): "
                         f"{done.stderr.strip()[-300:]}")
    return console_errors(done.stderr)


def dom(html: Path, size: str = "1280,3000") -> str:
    """The DOM after rendering in a window of size (width,height)."""
    done = _run(html, "--dump-dom", size=size)
    if done.returncode != 0:
        raise InfraError(f"chromium could not load {html}: {done.stderr.strip()[-300:]}")
    return done.stdout
