"""rdmagate lab: run a command where there is no RDMA device, on soft-RoCE
in a Debian kernel under QEMU."""
import argparse
import sys
from pathlib import Path

from .. import options
from ..targets import lab
from ..errors import UsageError
from ..progress import Progress

DESCRIPTION = """\
Boot the stack's Debian kernel in QEMU (KVM when it works here, else TCG),
bring up soft-RoCE (rxe0 on a virtio NIC) and run COMMAND inside, on the
stack's own userspace. The guest command's exit status becomes rdmagate's;
3 means the lab itself failed (no QEMU, a boot that never reached an ACTIVE
port, a timeout). Nothing is left running and nothing is installed.

With --nodes 2, two guests share a virtual Ethernet link (10.77.0.1 and
10.77.0.2): node 1 runs --server, node 2 runs COMMAND once the server is up,
with RDMAGATE_PEER set to node 1's address. In every guest
RDMAGATE_LAB_ADDRESS is the guest's own address (10.0.2.15 with one node).
"""


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "lab", help="run a command in the lab: a Debian kernel in QEMU with soft-RoCE",
        description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="lab_command", metavar="ACTION", required=True)
    running = sub.add_parser("run", help="run COMMAND in the lab",
                             description=DESCRIPTION,
                             formatter_class=argparse.RawDescriptionHelpFormatter)
    _common(running)
    running.add_argument("--nodes", type=int, choices=(1, 2), default=1,
                         help="guests: 1, or 2 joined by a link (default: 1)")
    running.add_argument("--server", metavar="CMD",
                         help="with --nodes 2: what node 1 runs, split on spaces "
                         "(e.g. 'ibv_rc_pingpong -d rxe0 -g 1')")
    running.add_argument("--timeout", type=float, default=600, metavar="S",
                         help="limit for COMMAND once soft-RoCE is up (default: %(default)s)")
    running.add_argument("--share", action="append", default=[], metavar="DIR",
                         help="a host directory to share writable at the same path (repeatable)")
    running.add_argument("argv", nargs=argparse.REMAINDER, metavar="-- COMMAND...")
    running.set_defaults(func=run_command)
    shell = sub.add_parser("shell", help="an interactive shell in the lab (exit to stop it)")
    _common(shell)
    shell.set_defaults(func=run_shell)


def _common(parser) -> None:
    options.add_stack(parser)
    parser.add_argument("--kernel", metavar="RELEASE",
                        help="another kernel of the stack's suite, e.g. 6.1.0-47-amd64")
    parser.add_argument("--boot-timeout", type=float, default=120, metavar="S",
                        help="limit from start to an ACTIVE rxe port (default: %(default)s)")


def run_command(args) -> int:
    argv = args.argv[1:] if args.argv[:1] == ["--"] else args.argv
    if not argv:
        raise UsageError("lab run: give the command after --, e.g. rdmagate lab run -- ibv_devinfo")
    if args.server and args.nodes != 2:
        raise UsageError("--server needs --nodes 2")
    if args.nodes == 2 and not args.server:
        raise UsageError("--nodes 2 needs --server CMD (what node 1 runs)")
    shares = []
    for directory in args.share:
        path = Path(directory).resolve()
        if not path.is_dir():
            raise UsageError(f"--share {directory}: not a directory")
        shares.append((path, True))
    progress = Progress()
    boot = lab.Boot(args.stack, args.kernel, args.nodes, binds=tuple(shares),
                    boot_timeout=args.boot_timeout)
    result = lab.run(boot, argv, args.server.split() if args.server else None, args.timeout,
                     on_line=lambda line: print(line, flush=True), say=progress.say)
    progress.say(f"lab: kernel {result.kernel} ({result.accel}), rxe0 ACTIVE after "
                 + ", ".join(f"{n} {s:.1f} s" for n, s in result.boot_to_active_s.items())
                 + f", total {result.total_s:.1f} s (+{result.prepare_s:.1f} s preparing), "
                 f"exit {result.exit_status}")
    return result.exit_status


def run_shell(args) -> int:
    if not sys.stdin.isatty():
        raise UsageError("lab shell needs a terminal; use lab run -- COMMAND instead")
    lab.shell(lab.Boot(args.stack, args.kernel, boot_timeout=args.boot_timeout),
              ["/bin/bash", "-i"], say=Progress().say)
    return 0
