"""The answer of a subcommand that a later issue builds: say so, exit 2."""
import sys

from ..errors import EXIT_USAGE


def answer(command: str, what: str):
    def run(_args) -> int:
        print(f"rdmagate {command}: not built yet ({what}).", file=sys.stderr)
        return EXIT_USAGE
    return run
