"""Text on its way to a terminal: a control character that came from input
(a manifest's description, a baseline's field, a file name) is shown
escaped, never sent raw, so a file cannot move the cursor, retitle the
window or hide a line. rdmagate's own layout characters (a newline, a tab)
pass; the live status line writes its carriage return itself."""

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
