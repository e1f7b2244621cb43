"""rdmagate lab: run a command in the lab: a Debian kernel in QEMU with soft-RoCE."""
from . import not_built


def register(subparsers) -> None:
    parser = subparsers.add_parser("lab", help="run a command in the lab: a Debian kernel in QEMU with soft-RoCE (not built yet)")
    parser.set_defaults(func=not_built.answer("lab", "the lab"))
