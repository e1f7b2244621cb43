"""Text for an 80-column terminal: a line clipped to the width, a long one
wrapped under its first, a path as short as it reads from here."""
import os
import textwrap
from pathlib import Path

WIDTH = 80


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
