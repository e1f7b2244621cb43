"""rdmagate baseline: record ABI and performance baselines."""
from . import not_built


def register(subparsers) -> None:
    parser = subparsers.add_parser("baseline", help="record ABI and performance baselines (not built yet)")
    parser.set_defaults(func=not_built.answer("baseline", "baselines"))
