"""rdmagate fleet run: the suites on every node of a cluster, through Slurm."""
import json
import sys

from .. import options
from ..errors import UsageError
from ..pipelines.fleet import SCHEDULERS, FleetRequest, fleet
from ..progress import Progress

# Each node is followed by a thread of its own, and a local node is this
# machine running the suites again, all at once.
MAX_NODES = 4096
MAX_LOCAL_NODES = 16


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "fleet", help="run the suites on every node of a cluster (Slurm, or local)",
        description="Run the suites on many nodes through the cluster's own scheduler.")
    sub = parser.add_subparsers(dest="fleet_command", metavar="ACTION", required=True)
    run_parser = sub.add_parser(
        "run", help="preflight and suites on each node; fleet.json, junit.xml, report.html",
        description="Build the harness once (the nodes must share the checkout's path), "
        "submit one Slurm job holding the nodes (sbatch; followed with squeue and "
        "scontrol, no accounting needed), and run on each node, as a job step, a "
        "preflight (kernel, taint, devices, ports) and the suites into "
        "nodes/<node>/ (the run-directory format of check). A node that goes mid-run "
        "is 'not tested' with the scheduler's reason; a job still pending after "
        "--pending-timeout is cancelled. --scheduler local runs N nodes on this machine. "
        "A node without an RDMA device runs the device suites in a lab guest there. "
        "Writes fleet.json, junit.xml (classname <node>.<suite>, pairs as "
        "pair.<a>-<b>) and report.html. Exit 1 when a node's tests ended otherwise than "
        "expected (or a pair is off the fleet's median), else 3 when a node or a pair was "
        "not tested.")
    run_parser.add_argument("--scheduler", choices=SCHEDULERS, default="slurm",
                            help="slurm (sbatch, srun, squeue) or local (this machine's "
                            "nodes, for a site without a scheduler; default: %(default)s)")
    which = run_parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--nodes", type=options.bounded("--nodes", int, 1, MAX_NODES),
                       metavar="N", help=f"how many nodes (at most {MAX_NODES}; "
                       f"{MAX_LOCAL_NODES} with --scheduler local)")
    which.add_argument("--nodelist", metavar="LIST", help="these Slurm nodes (n[1-4])")
    run_parser.add_argument("--partition", metavar="P", help="the Slurm partition")
    run_parser.add_argument("--pending-timeout", default=600, metavar="S",
                            type=options.bounded("--pending-timeout", float, 1, 7 * 86400),
                            help="cancel the job if it has not started after S seconds "
                            "(default: %(default)s)")
    run_parser.add_argument("--time-limit", default=60, metavar="MIN",
                            type=options.bounded("--time-limit", int, 1, 7 * 1440),
                            help="the job's time limit in minutes: every node's suites and "
                            "the pairs must end within it (default: %(default)s)")
    run_parser.add_argument("--pairs", choices=("none", "ring", "all"), default="none",
                            help="perftest between nodes, server on one and client on the "
                            "other: ring (each node with the next), all (every pair, n-1 "
                            "rounds), each judged against the fleet's median; Slurm nodes "
                            "with RDMA devices pair on them, nodes without one as two lab "
                            "guests (default: %(default)s)")
    run_parser.add_argument("--drain", action="store_true",
                            help="drain the nodes found bad (lost, tests not as expected, "
                            "slow in every pair) with an 'rdmagate:' reason; without it the "
                            "scontrol line is only suggested")
    options.add_stack(run_parser)
    options.add_suite(run_parser)
    options.add_filter(run_parser)
    options.add_results(run_parser)
    options.add_json(run_parser)
    run_parser.set_defaults(func=run)


def run(args) -> int:
    if args.scheduler == "local" and (args.nodes or 0) > MAX_LOCAL_NODES:
        raise UsageError(f"--nodes {args.nodes}: --scheduler local runs at most "
                         f"{MAX_LOCAL_NODES} nodes on this machine at once")
    request = FleetRequest(scheduler=args.scheduler, nodes=args.nodes, nodelist=args.nodelist,
                           partition=args.partition, stack=args.stack,
                           suites=tuple(args.suite or ()), filters=tuple(args.filter or ()),
                           results_dir=args.results,
                           pending_timeout_s=args.pending_timeout, pairs=args.pairs,
                           hold_s=args.time_limit * 60,
                           drain=args.drain)
    done = fleet(request, Progress())
    if args.json:
        json.dump({"run_dir": str(done.run_dir), "exit_code": done.exit_code,
                   "nodes": {n.name: n.status for n in done.fleet.nodes}}, sys.stdout, indent=2)
        print()
        return done.exit_code
    for node in done.fleet.nodes:
        for deviation in node.deviations:
            print(f"{deviation['outcome']:<8} {node.name}.{deviation['test']}: "
                  f"{deviation['reason']}")
        if node.reason:
            print(f"{node.name}: {node.status}: {node.reason}")
    for pair in done.fleet.pairs:
        for v in pair.verdicts:
            if v.get("verdict") != "as the fleet":
                print(f"pair {pair.server}-{pair.client} {v['measurement']}: {v.get('verdict')}"
                      + (f" ({v['ratio']}x the fleet's median)" if "ratio" in v else ""))
        if pair.reason:
            print(f"pair {pair.server}-{pair.client}: {pair.status}: {pair.reason}")
    for line in done.fleet.drain:
        print(f"{'drain' if args.drain else 'to drain'}: {line}")
    tested = sum(1 for n in done.fleet.nodes if n.status == "tested")
    why = f" ({done.fleet.job['reason']})" if done.fleet.job.get("reason") else ""
    print(f"{tested} of {len(done.fleet.nodes)} node(s) tested{why} -> {done.run_dir}")
    return done.exit_code
