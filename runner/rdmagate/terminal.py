"""Text on its way to a terminal.

A control character that came from input (a manifest's description, a
baseline's field, a file name) is shown escaped, never sent raw, so a file
cannot move the cursor, retitle the window or hide a line. rdmagate's own
layout characters (a newline, a tab) pass; the live status line writes its
carriage return itself.

Laid out for 80 columns: a line clipped to the width, a long one wrapped
under its first, a path as short as it reads from here."""
import os
import textwrap
from pathlib import Path

WIDTH = 80

KEPT = "\n\t"
# C0, DEL and C1: what a terminal acts on rather than shows
_ESCAPES = {c: f"\\x{c:02x}" for c in (*range(0x20), *range(0x7f, 0xa0)) if chr(c) not in KEPT}


def printable(text: str) -> str:
    """text with every control character but newline and tab as \\xNN."""
    return text.translate(_ESCAPES)


class Escaping:
    """A text stream whose writes go through printable()."""

    def __init__(self, stream):
        self.stream = stream

    def write(self, text: str) -> int:
        return self.stream.write(printable(text))

    def __getattr__(self, name):   # flush, isatty, fileno, encoding, ...
        return getattr(self.stream, name)


def clip(line: str, width: int = WIDTH) -> str:
    return line if len(line) < width else line[:width - 4] + " ..."


def wrapped(text: str, indent: str, hang: str, lines: int | None = None,
            width: int = WIDTH) -> list[str]:
    """text from indent, continued under hang; at most lines lines, the last
    clipped."""
    out = textwrap.wrap(text, width - 1, initial_indent=indent, subsequent_indent=hang,
                        break_on_hyphens=False) or [indent]
    if lines is not None and len(out) > lines:
        out = out[:lines]
        out[-1] = clip(out[-1] + " ...", width)
    return out


def shown(path: Path) -> str:
    """path relative to the working directory when it lies below it."""
    try:
        relative = os.path.relpath(path)
    except ValueError:
        return str(path)
    return str(path) if relative.startswith("..") else relative
