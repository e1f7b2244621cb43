"""rdmagate abi: diff the ABI of two stacks with libabigail."""
from . import not_built


def register(subparsers) -> None:
    parser = subparsers.add_parser("abi", help="diff the ABI of two stacks with libabigail (not built yet)")
    parser.set_defaults(func=not_built.answer("abi", "the ABI suite"))
