"""rdmagate upgrade: the upgrade gate: may stack A be replaced by stack B?."""
from . import not_built


def register(subparsers) -> None:
    parser = subparsers.add_parser("upgrade", help="the upgrade gate: may stack A be replaced by stack B? (not built yet)")
    parser.set_defaults(func=not_built.answer("upgrade", "the upgrade gate"))
