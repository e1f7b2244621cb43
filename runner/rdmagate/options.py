"""The common options, spelled once so every subcommand spells them alike."""
import argparse

from . import stacks
from .errors import UsageError


def add_stack(parser: argparse.ArgumentParser, default: str | None = "host",
              flag: str = "--stack", help_text: str | None = None) -> None:
    parser.add_argument(flag, default=default, metavar="NAME",
                        help=help_text or "stack: host, debian-11, debian-12, debian-13, "
                        "debian-sid, prefix:/path, debs:DIR or rpms:DIR (a directory of vendor packages, "
                        "unpacked into the cache), oci:PATH[:TAG] or docker-archive:PATH[:TAG] "
                        "(a container image, its layers laid into the cache), a manifest file, "
                        "or a Debian stack on another "
                        "Debian kernel, STACK@RELEASE or STACK@STACK (default: %(default)s)")


def add_device(parser: argparse.ArgumentParser) -> None:
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--device", metavar="DEV",
                       help="RDMA device to test (default: the first usable one)")
    where.add_argument("--lab", action="store_true",
                       help="run in the lab: a Debian kernel in QEMU with soft-RoCE")


def bounded(flag: str, kind: type, low: float, high: float):
    """An option's type=: a number of kind (int or float) from low to high;
    a UsageError naming the option otherwise (nan, inf, 1e999, 10^400)."""
    def parse(text: str):
        try:
            value = kind(text)
        except (ValueError, OverflowError):
            value = None
        if value is None or not low <= value <= high:   # nan is in no range
            what = "a whole number" if kind is int else "a number"
            raise UsageError(f"{flag} {text[:40]}: {what} from {low:g} to {high:g}")
        return value
    return parse


GUEST_CPUS_MAX = 64


def guest_cpus(value: str) -> int:
    """--guest-cpus checked when given: a CPU count QEMU's -smp takes."""
    if not value.isdigit() or not 1 <= int(value) <= GUEST_CPUS_MAX:
        raise argparse.ArgumentTypeError(f"{value!r}: a whole number from 1 to {GUEST_CPUS_MAX}")
    return int(value)


def add_guest_cpus(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--guest-cpus", metavar="N", type=guest_cpus, default=None,
                        help="with --lab: the guest's CPUs for the functional suites (default "
                        "2); perf in the lab always measures one guest CPU on QEMU's "
                        "instruction clock")


def kernel_spec(value: str) -> str:
    """--kernel checked when given, before a build or a boot is spent on it:
    a stack's name, or what a Debian kernel release may be (it becomes a
    directory of the cache and an apt package name)."""
    if value in stacks.known():
        return value
    return stacks.names.kernel_release(value, "--kernel")


def add_kernel(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--kernel", metavar="RELEASE", default=None, type=kernel_spec,
                        help="run the stack's userspace on another Debian kernel, in the lab: "
                        "a release (6.12.95+deb12-amd64, looked up in the stack's suite, its "
                        "backports, then every other suite) or a stack whose kernel it is "
                        "(debian-13)")


def add_suite(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--suite", action="append", metavar="NAME", default=None,
                        help="suite to run (repeatable; default: every suite)")


def add_filter(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--filter", action="append", metavar="GLOB",
                        help="only tests whose id suite.name matches (repeatable)")


def add_results(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--results", metavar="DIR", default=None,
                        help="where the run directory goes (default: results/)")


def add_json(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true",
                        help="print machine-readable JSON instead of text")


def add_consumers(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--consumers", action="append", default=None, metavar="PATH",
                        help="a binary, directory or .deb whose imports must resolve on --to "
                        "(repeatable; default: this host's binaries that link libibverbs, "
                        "librdmacm or libibumad)")
    parser.add_argument("--no-consumers", action="store_true", help="skip consumer impact")


def consumers(args: argparse.Namespace) -> list[str] | None:
    """What add_consumers gave: None to skip, [] for this host's own."""
    return None if args.no_consumers else (args.consumers or [])


def from_to(args: argparse.Namespace, command: str) -> tuple[str, str]:
    """The --from and --to stacks, both required."""
    old, new = args.__dict__.get("from"), args.to
    if not old or not new:
        from .errors import UsageError
        raise UsageError(f"{command} needs --from STACK and --to STACK")
    return old, new
