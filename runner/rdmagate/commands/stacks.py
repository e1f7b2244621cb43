"""rdmagate stacks: list, fetch and show RDMA software stacks."""
import json
import sys

from .. import options
from ..errors import EXIT_OK
from ..progress import Progress
from ..stacks import fetch, inventory, is_fetched, kernel_debs, known, names, resolve


def _mirror(value: str) -> str:
    """--mirror checked when given, not only when a fetch uses it (a cached
    stack would otherwise accept a bad one in silence)."""
    return names.mirror(value, "--mirror")


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "stacks", help="list, fetch and show RDMA software stacks",
        description="Stacks are host (this machine), a manifest in stacks/ (debian-11, "
        "debian-12, debian-13, debian-sid), prefix:/path (a tree such as an unpacked "
        "vendor OFED), debs:DIR or rpms:DIR (a directory of .deb or .rpm files, as vendors "
        "ship them, unpacked into the cache, never installed), or a manifest file. Fetched "
        "stacks go into the cache ($RDMAGATE_CACHE, default ~/.cache/rdmagate), never into the system.")
    sub = parser.add_subparsers(dest="stacks_command", metavar="ACTION", required=True)

    listing = sub.add_parser("list", help="the known stacks and which are fetched")
    options.add_json(listing)
    listing.set_defaults(func=run_list)

    getting = sub.add_parser(
        "fetch", help="download and unpack a stack into the cache",
        description="Download and unpack a stack into the cache, and build the root file system "
        "it runs in when its C library is newer than the host's (a debs:DIR set gets the oldest "
        "known suite whose libc6 and packages meet its glibc floor and Depends, with the set "
        "laid over it; exit 2 when no known suite is new enough).")
    getting.add_argument("name", metavar="NAME")
    getting.add_argument("--kernel", action="store_true",
                         help="also download the stack's kernel packages (for the lab)")
    getting.add_argument("--mirror", metavar="URI", type=_mirror,
                         help="Debian mirror (default: the one this host's apt uses); a "
                         "user:password in it is never printed (apt leaves it out too)")
    getting.set_defaults(func=run_fetch)

    showing = sub.add_parser("show", help="inventory: libraries, symbols, providers, tools")
    showing.add_argument("name", metavar="NAME")
    showing.add_argument("--symbols", action="store_true", help="list every exported symbol")
    showing.add_argument("--mirror", metavar="URI", type=_mirror, help="Debian mirror, if it must be fetched")
    options.add_json(showing)
    showing.set_defaults(func=run_show)


def run_list(args) -> int:
    rows = [{"name": "host", "kind": "host", "fetched": True,
             "description": "the RDMA stack installed on this machine"}]
    for name in known():
        stack = resolve(name)
        rows.append({"name": name, "kind": stack.kind, "fetched": is_fetched(stack),
                     "description": stack.description})
    if args.json:
        json.dump(rows, sys.stdout, indent=2)
        print()
        return EXIT_OK
    for row in rows:
        mark = "fetched" if row["fetched"] else "-"
        print(f"{row['name']:<12} {mark:<8} {row['description']}")
    print("prefix:/path  a tree you name (an unpacked OFED, a local rdma-core build)")
    print("debs:DIR      a directory of .deb files (a vendor OFED), unpacked into the cache")
    print("rpms:DIR      a directory of .rpm files, unpacked into the cache (bsdtar)")
    return EXIT_OK


def run_fetch(args) -> int:
    progress = Progress()
    stack = resolve(args.name)
    fetched = fetch(stack, say=progress.say, mirror=args.mirror)
    print(f"{stack.name}: {fetched.root}")
    if fetched.rootfs:
        print(f"{stack.name}: root file system {fetched.rootfs} "
              f"(glibc {fetched.glibc_floor} needed, the host has an older one)")
    if args.kernel:
        for deb in kernel_debs(stack, say=progress.say, mirror=args.mirror):
            print(f"{stack.name}: kernel package {deb}")
    return EXIT_OK


def run_show(args) -> int:
    stack = resolve(args.name)
    # an inventory reads the tree; the root file system (stacks fetch, the
    # lab) is only reported where one was built
    report = inventory(fetch(stack, say=Progress().say, mirror=args.mirror, with_rootfs=False))
    if args.json:
        json.dump(report, sys.stdout, indent=2)
        print()
        return EXIT_OK
    _print_inventory(report, args.symbols)
    for warning in report.get("warnings", []):
        print(f"rdmagate: warning: {stack.name}: {warning}", file=sys.stderr)
    return EXIT_OK


def _print_inventory(inv: dict, symbols: bool) -> None:
    stack = inv["stack"]
    print(f"{stack['name']} ({stack['kind']}): {stack['description']}")
    print(f"  tree: {inv['root']}")
    where = inv.get("layout") or {}
    if where.get("kind"):
        print(f"  layout: {where['kind']} (headers in {', '.join(where.get('include_dirs') or []) or '-'}"
              f"; configuration in {where.get('config_dir') or '-'})")
    floor = inv["glibc_floor"]
    print(f"  C library floor: {f'glibc {floor}' if floor else 'none (no versioned C library symbol)'}"
          f" (host has {inv['host_glibc']})"
          + ("; runs in its own root file system" if inv["needs_rootfs"] else ""))
    for name, lib in inv["libraries"].items():
        if lib is None:
            print(f"  {name}: absent")
            continue
        print(f"  {name}: {lib['soname']} -> {lib['file']}")
        print(f"    public:  {len(lib['exports']['public'])} symbols in "
              f"{', '.join(lib['public_versions']) or '-'}")
        if lib["private_versions"]:
            print(f"    private: {len(lib['exports']['private'])} symbols in "
                  f"{', '.join(lib['private_versions'])}")
        if symbols:
            for kind in ("public", "private"):
                for symbol, version in lib["exports"][kind].items():
                    print(f"      {symbol} {version}")
    abis = sorted({p["private_abi"] for p in inv["providers"].values() if p["private_abi"]})
    print(f"  providers ({inv['provider_dir']}, private ABI {', '.join(map(str, abis)) or '-'}): "
          + " ".join(sorted(inv["providers"])))
    print(f"  headers: {len(inv['headers'])} under infiniband/ and rdma/")
    tools = inv["tools"]
    if tools:
        print("  packages: " + ", ".join(f"{n} {v}" for n, v in sorted(tools.items())))
    if inv["kernel"]:
        print(f"  kernel: {inv['kernel'].get('release')}"
              + (f" (rdma modules loaded: {', '.join(inv['kernel']['rdma_modules']) or 'none'})"
                 if "rdma_modules" in inv["kernel"] else ""))
