"""rdmagate kabi: would out-of-tree kernel modules survive the kernel of B?"""
import json
import sys

from .. import options
from ..kabi import record as kabi_record
from ..outputs import records
from ..abi import causes
from .. import terminal
from ..pipelines.kabi import KabiRequest, kabi_run
from ..progress import Progress


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "kabi", help="the kernel side: RDMA kernel exports A to B, and whether given "
        "out-of-tree modules would load on B",
        description="Compare the export tables (Module.symvers, from Debian's "
        "linux-headers packages) of the kernels of two stacks: exports removed, CRC "
        "changed, moved, now GPL-only, namespace added; and the kernel facts a module "
        "load depends on (symbol versions on or off, vermagic, the size of struct "
        "module, signature enforcement); where both kernels ship BTF (6.12, 7.2), each "
        "changed CRC is explained by the structs whose layout changed. With --modules, apply the kernel's own load "
        "checks in its own order to each module on B's kernel and print the exact "
        "message the kernel would; with --lab, load each into B's kernel in a QEMU guest "
        "and check that the prediction held. A stack whose headers are not in the cache "
        "is read from baselines/kabi/ (the RDMA exports only). Removed exports are named "
        "first, a kernel-wide change counts the CRC changes it implies, and the actions "
        "end the output; kabi.json and findings.sarif (SARIF 2.1.0). Exit 1 when a given "
        "module would not load on B, 3 when a lab load disagrees with the prediction.")
    options.add_stack(parser, default=None, flag="--from", help_text="the stack in use")
    options.add_stack(parser, default=None, flag="--to", help_text="the stack to move to")
    parser.add_argument("--modules", nargs="+", action="extend", default=[], metavar="PATH",
                        help="out-of-tree modules to check: .ko files, directories of them, "
                        ".deb packages that contain them")
    parser.add_argument("--area", choices=("rdma", "all"), default="rdma",
                        help="the exports compared: the RDMA modules' (ib_core, ib_uverbs, "
                        "rdma_cm, ib_cm, iw_cm, mlx4/mlx5 cores, rdmavt, rds, smc), or every "
                        "export (default: %(default)s)")
    parser.add_argument("--lab", action="store_true",
                        help="prove each prediction: load the module into B's kernel in a "
                        "lab guest, record the kernel's messages, unload it")
    options.add_results(parser)
    options.add_json(parser)
    parser.set_defaults(func=run)


def run(args) -> int:
    old, new = options.from_to(args, "kabi")
    done = kabi_run(KabiRequest(old, new, tuple(args.modules), args.area, args.lab),
                    args.results, Progress())
    if args.json:
        json.dump({"run_dir": str(done.run_dir), "exit_code": done.exit_code,
                   **records.to_json(kabi_record.of(done.report))}, sys.stdout, indent=2)
        print()
    else:
        _summary(done.report, done.run_dir)
    return done.exit_code


def _summary(report, run_dir) -> None:
    """The verdict, the causes (removed exports named first), the counts,
    each module's load, then what to do; kabi.json's path last."""
    old, new = report.old, report.new
    summary = report.summary()
    print(f"kABI {old.stack} ({old.release}) -> {new.stack} ({new.release}), "
          f"area {report.area}: {report.verdict.verdict}")
    found = causes.group(report.findings)
    lines = causes.text(found, causes.actions(found))
    todo = lines.index("What to do:")
    for line in lines[:todo]:
        print(line)
    print(terminal.clip(f"  {summary['exports_compared']} exports compared: "
                        + (", ".join(f"{n} {k}" for k, n in sorted(summary["by_kind"].items()))
                           or "no changes")))
    for prediction in report.modules:
        state = "loads" if prediction.loads else f"refused ({prediction.check})"
        print(f"  module {prediction.module} on {prediction.kernel}: {state}"
              + (f": {prediction.first}" if not prediction.loads else ""))
    for proof in report.proofs:
        print(f"  lab {proof.module}: {'loaded' if proof.loaded else 'refused'}"
              f" ({'agrees' if proof.agrees else 'DISAGREES'} with the prediction)"
              + (f": {proof.kernel_lines[0]}" if proof.kernel_lines else ""))
    print(terminal.clip(f"  sources: {old.source}; {new.source}"))
    for line in lines[todo:]:
        print(line)
    print(f"findings: {run_dir / 'kabi.json'}")
