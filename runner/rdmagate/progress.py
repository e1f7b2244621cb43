"""A live status line on a terminal; silence when output is not a terminal."""
import sys

from .terminal import printable


class Progress:
    def __init__(self, stream=sys.stderr, enabled: bool | None = None):
        self.stream = stream
        self.enabled = stream.isatty() if enabled is None else enabled
        self.width = 0

    def update(self, text: str) -> None:
        if not self.enabled:
            return
        text = printable(text)
        pad = max(self.width - len(text), 0)
        self.stream.write("\r" + text + " " * pad)
        self.stream.flush()
        self.width = len(text)

    def done(self, text: str) -> None:
        """Replace the live line with a final one that stays."""
        if not self.enabled:
            return
        self.update(text)
        self.stream.write("\n")
        self.stream.flush()
        self.width = 0

    def say(self, text: str) -> None:
        """A step worth telling even when not on a terminal (to stderr)."""
        if self.width:
            self.stream.write("\n")
            self.width = 0
        print(printable(text), file=self.stream, flush=True)
