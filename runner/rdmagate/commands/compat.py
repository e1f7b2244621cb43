"""rdmagate compat: will this container image's RDMA userspace work on this host?"""
import json
import re
import sys
from pathlib import Path

from .. import options
from ..outputs import records
from ..pipelines.compat import LAB_SUITES, CompatRequest, compat
from ..progress import Progress
from ..errors import UsageError

PROVIDER = re.compile(r"[a-z0-9][a-z0-9_]{0,31}")


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "compat", help="will a container image's RDMA userspace work on this host",
        description="Judge a container image's RDMA userspace against a host, one line of "
        "evidence per check: a provider in the image (named in its libibverbs.d) for every "
        "RDMA device of the host, by the device's kernel driver; the image's libibverbs and "
        "providers one set (one private node, each provider really loaded with the image's "
        "libibverbs in the image's root); host files bound into the container (--inject) "
        "loaded the same way, with the image's C library; the host kernel's uverbs ABI; and "
        "with --lab, the api and verbs suites on rxe in a guest booted with the image's root. "
        "GO, GO WITH RISKS (a check could not run here) or NO-GO; compat.json and junit.xml "
        "in the run directory. Exit 1 on NO-GO.")
    parser.add_argument("--image", required=True, metavar="IMAGE",
                        help="oci:PATH[:TAG] (an OCI image layout, a directory or a tar) or "
                        "docker-archive:PATH[:TAG] (what docker save writes)")
    options.add_stack(parser, default="host", flag="--host",
                      help_text="the host: host (this machine: its devices, its kernel) or a "
                      "Debian stack standing for the nodes (its kernel) (default: %(default)s)")
    parser.add_argument("--inject", action="append", default=[], metavar="PATH", type=Path,
                        help="a host file or directory bound into the container, as Apptainer, "
                        "Sarus or EESSI bind them: a provider directory, provider files "
                        "(lib<name>-rdmav<NN>.so), a libibverbs.d or .driver file (repeatable)")
    parser.add_argument("--drivers", metavar="LIST", default=None,
                        help="the providers the nodes' devices need, comma-separated (mlx5,efa), "
                        "instead of this host's devices")
    parser.add_argument("--lab", action="store_true",
                        help="also boot the host's kernel (or --kernel) in a lab guest with the "
                        "image's root and run the api and verbs suites on rxe")
    parser.add_argument("--suite", action="append", metavar="NAME", default=None,
                        help="with --lab, a suite to run there instead of api and verbs "
                        "(repeatable)")
    options.add_kernel(parser)
    options.add_results(parser)
    options.add_json(parser)
    parser.set_defaults(func=run)


def _drivers(text: str | None) -> tuple[str, ...]:
    found = tuple(d.strip() for d in (text or "").split(",") if d.strip())
    for name in found:
        if not PROVIDER.fullmatch(name):
            raise UsageError(f"--drivers: {name!r} is not a provider name (mlx5, efa, "
                             "bnxt_re, rxe, ...)")
    return found


def run(args) -> int:
    if args.suite and not args.lab:
        raise UsageError("--suite chooses the suites of --lab: give --lab too")
    request = CompatRequest(args.image, args.host, tuple(args.inject), _drivers(args.drivers),
                            args.lab, args.kernel, args.results,
                            tuple(args.suite or LAB_SUITES))
    done = compat(request, Progress())
    if args.json:
        json.dump({"run_dir": str(done.run_dir), "exit_code": done.exit_code,
                   **records.to_json(done.found)}, sys.stdout, indent=2)
        print()
        return done.exit_code
    found = done.found
    print(f"compat {found.image} on {found.host}: {found.verdict}")
    for check in found.checks:
        print(f"  {check.status:<11} {check.name:<9} {check.evidence}")
    actions = list(dict.fromkeys(c.action for c in found.checks if c.action))
    for action in actions:
        print(f"  do: {action}")
    print(f"compat.json: {done.run_dir / 'compat.json'}")
    return done.exit_code
