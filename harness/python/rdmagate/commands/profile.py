"""rdmagate profile: capture or show a hardware profile."""
from . import not_built


def register(subparsers) -> None:
    parser = subparsers.add_parser("profile", help="capture or show a hardware profile (not built yet)")
    parser.set_defaults(func=not_built.answer("profile", "hardware profiles"))
