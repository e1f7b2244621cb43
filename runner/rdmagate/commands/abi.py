"""rdmagate abi: what changes in the ABI between two stacks, and for whom."""
import json
import sys
from pathlib import Path

from .. import options
from ..abi import causes
from ..abi.loads import reason as loader_words
from ..outputs import records
from ..pipelines.abi import AbiRequest, diff
from ..progress import Progress

SHOWN = 25   # consumers not checked, listed


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "abi", help="diff the ABI of two stacks, classified by who is hurt",
        description="Compare every library of two stacks (symbols, version nodes, the "
        "providers' private ABI with, where the libraries have debug info, the layouts of the "
        "types it passes, the C library floor, the provider set) and the types of "
        "their public headers (DWARF built from the headers, read by libabigail, judged by "
        "rdma-core's extension rules), and say who each change hurts: applications, "
        "providers, or the build. abidiff runs on each pair as a second opinion; its reports "
        "are kept in the run directory. Consumer impact: whether the binaries that use the "
        "RDMA libraries still load on --to. A stack not fetched is read from its recorded "
        "baseline (baselines/abi/). Providers really loaded: every provider of --from is "
        "opened with --to's libibverbs and every provider of --to with --from's (a "
        "downgrade), as libibverbs opens them (dlopen RTLD_NOW, in a root whose C library runs "
        "both), and each result is checked against the static rules. The run directory's "
        "report.html shows what to do, the verdicts, the findings one cause at a time and "
        "each load; findings.sarif (SARIF 2.1.0) puts each cause on its header line. Exit 1 "
        "when something "
        "breaks for applications or providers, 3 when a load disagrees with the static rules.")
    options.add_stack(parser, default=None, flag="--from", help_text="the stack in use")
    options.add_stack(parser, default=None, flag="--to", help_text="the stack to move to")
    options.add_consumers(parser)
    parser.add_argument("--suppressions", action="append", default=[], metavar="FILE",
                        help="a libabigail suppression file, for abidiff and rdmagate's own "
                        "findings (repeatable)")
    parser.add_argument("--no-default-suppressions", action="store_true",
                        help="do not apply suites/abi/rdma-core.suppr (benign changes, each "
                        "with the reason)")
    parser.add_argument("--providers", metavar="DIR", type=Path, default=None,
                        help="a vendor's own provider files (lib<name>-rdmav<NN>.so): each is "
                        "loaded with --to's libibverbs; one that does not load breaks providers")
    parser.add_argument("--no-load", action="store_true",
                        help="do not load the providers (by default each stack's providers "
                        "are loaded with the other's libibverbs, see providers.json)")
    options.add_results(parser)
    options.add_json(parser)
    parser.set_defaults(func=run)


def run(args) -> int:
    old, new = options.from_to(args, "abi")
    request = AbiRequest(old, new,
                         suppressions=tuple(Path(p) for p in args.suppressions),
                         default_suppressions=not args.no_default_suppressions,
                         consumers=options.consumers(args), results_dir=args.results,
                         load_providers=not args.no_load, vendor_providers=args.providers)
    done = diff(request, Progress())
    for inv in (done.report.old, done.report.new):   # a tree's layout problems, as stacks show says them
        for warning in inv.get("warnings", []):
            print(f"rdmagate: warning: {inv['stack']['name']}: {warning}", file=sys.stderr)
    if args.json:
        json.dump({"run_dir": str(done.run_dir), "exit_code": done.exit_code,
                   **records.to_json(done.report.record()),
                   "provider_loads": records.to_json(done.loads),
                   "load_problems": done.load_problems}, sys.stdout, indent=2)
        print()
    else:
        _summary(done.report, done.run_dir, done.loads)
    for problem in done.load_problems:
        print(f"rdmagate: error: the provider loads and the static rules disagree: {problem}",
              file=sys.stderr)
    return done.exit_code


def _summary(report, run_dir, loads) -> None:
    old, new = report.old["stack"]["name"], report.new["stack"]["name"]
    print(f"ABI {old} -> {new}")
    for audience, verdict in report.verdicts.items():
        counts = ", ".join(f"{n} {s}" for s, n in verdict["counts"].items() if n) or "no changes"
        print(f"  {audience:<13} {verdict['verdict']:<13} ({counts})")
    if report.consumers:
        broken = [c for c in report.consumers if c.verdict.startswith("fails")]
        replaced = [c for c in report.consumers if c.verdict == "replaced by the upgrade"]
        unchecked = [c for c in report.consumers if c.verdict == "not checked"]
        print(f"  consumers: {len(report.consumers) - len(unchecked)} checked, "
              f"{len(broken)} would break on {new}"
              + (f", {len(replaced)} replaced by the upgrade itself" if replaced else "")
              + (f", {len(unchecked)} not checked" if unchecked else ""))
        for consumer in unchecked[:SHOWN]:
            print(f"  not checked  {consumer.consumer}: {consumer.reason}")
    if report.suppressed:
        print(f"  suppressed: {len(report.suppressed)} (see findings.json)")
    _loads(loads)
    found = causes.group(report.record().findings, loads)
    for line in causes.text(found, causes.actions(found, loads)):
        print(line)
    print(f"findings: {run_dir / 'findings.json'}, findings.sarif")
    print(f"report: {run_dir / 'report.html'}")


def _loads(runs) -> None:
    if not runs:
        return
    print("  providers loaded (providers.json):")
    for run in runs:
        head = f"    {run.direction:<9} {run.providers_of}'s providers with " \
            f"{run.libibverbs_of}'s libibverbs"
        if run.skipped:
            print(f"{head}: not loaded: {run.skipped}")
            continue
        loaded = sum(p.loaded for p in run.loads)
        print(f"{head} (root {run.root}): {loaded} of {len(run.loads)} loaded")
        failed: dict[str, list[str]] = {}
        for p in run.loads:
            if not p.loaded:
                failed.setdefault(loader_words(p.message), []).append(p.provider)
        for reason, names in failed.items():
            who = "all" if len(names) == len(run.loads) > 1 else ", ".join(names)
            print(f"      {who}: {reason}")
        unnamed = [p.provider for p in run.loads if not p.named]
        if unnamed:
            who = "any of them" if len(unnamed) == len(run.loads) > 1 else ", ".join(unnamed)
            print(f"      {run.libibverbs_of}'s libibverbs opens {run.opens}, so it would not "
                  f"open the files of {who} at all (loaded here by path)")
        if not run.disagreements:
            print("      the static rules predicted each of these")
