"""The fleet pipeline: the suites on every node of a cluster, through its
scheduler (one Slurm job holding the nodes, each step sent to its node) or
on this machine (--scheduler local, N nodes that are this host); fleet.json
and junit.xml across the nodes.

Exit code: 1 when a node's tests ended otherwise than expected, a pair is
off the fleet's median or slower than its stored baseline on a device (in
the lab that is a finding, not 1), else 3 when
a node was not tested (or the job never ran), else 0."""
import shlex
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from ..harness import build
from ..outputs import plan, rundir
from .. import profiles, stacks, suites, targets
from ..errors import EXIT_INFRA, EXIT_OK, EXIT_UNEXPECTED, InfraError, UsageError
from ..fleet import follow, job, junit, node as fleet_node, pairs, report
from ..fleet.record import NOT_TESTED, Fleet, Node, Pair
from ..perf import pair_baseline, suite as perf_suite
from ..progress import Progress
from ..targets.slurm import SlurmNode, SlurmPair

SCHEDULERS = ("local", "slurm")


@dataclass(frozen=True)
class FleetRequest:
    scheduler: str = "local"
    nodes: int | None = None            # how many (or nodelist)
    nodelist: str | None = None         # a Slurm hostlist: n[1-4]
    partition: str | None = None
    stack: str = "host"
    suites: tuple[str, ...] = ()
    filters: tuple[str, ...] = ()       # only tests whose id matches
    results_dir: str | None = None
    pending_timeout_s: float = 600.0    # a job still pending after this is cancelled
    timeout_s: int = plan.DEFAULT_TIMEOUT_S
    hold_s: int = 3600                  # the job's time limit
    pairs: str = "none"                 # none | ring | all
    drain: bool = False                 # drain the bad nodes (else only suggest it)


@dataclass
class FleetDone:
    run_dir: Path
    fleet: Fleet
    exit_code: int
    notes: list[str] = field(default_factory=list)


def _validate(request: FleetRequest) -> None:
    if request.scheduler not in SCHEDULERS:
        raise UsageError(f"--scheduler {request.scheduler}: one of {', '.join(SCHEDULERS)}")
    if request.hold_s < 60:
        raise UsageError(f"--time-limit {request.hold_s // 60}: at least 1 minute")
    if request.nodes is not None and request.nodes < 1:
        raise UsageError(f"--nodes {request.nodes}: at least 1")
    if request.scheduler == "local" and (request.nodelist or request.partition):
        raise UsageError("--nodelist and --partition are Slurm's: use them with "
                         "--scheduler slurm")
    if request.nodes is None and request.nodelist is None:
        raise UsageError("--nodes N or --nodelist LIST: which nodes to test")
    if request.nodes is not None and request.nodelist is not None:
        raise UsageError("--nodes and --nodelist: give one of them")
    if request.pairs not in pairs.MODES:
        raise UsageError(f"--pairs {request.pairs}: one of {', '.join(pairs.MODES)}")
    job.check_name("--nodelist", request.nodelist)
    job.check_name("--partition", request.partition)


def fleet(request: FleetRequest, progress: Progress) -> FleetDone:
    _validate(request)
    chosen = suites.select(list(request.suites) or None)
    stack = stacks.resolve(request.stack)
    fetched = stacks.fetch(stack, say=progress.say)
    harness = None
    if any(s.in_harness for s in chosen):
        # once, on the checkout's build tree: the nodes must share its path
        harness = build.build_harness(stack.name, None if stack.kind == "host"
                                      else fetched.root, say=progress.say)
    fleet_dir = rundir.create(request.results_dir, "fleet", stack.name).resolve()
    record = Fleet(stack.name, request.scheduler, [s.name for s in chosen],
                   started=rundir.now())
    record.write(fleet_dir / "fleet.json")
    progress.say(f"fleet of {request.nodes or request.nodelist} node(s) by "
                 f"{request.scheduler}; results in {fleet_dir}")
    job_id = None
    try:
        if request.scheduler == "slurm":
            job_id = job.submit(job.JobRequest(fleet_dir, request.nodes, request.nodelist,
                                               request.partition, request.hold_s))
            places = _slurm_places(job_id, request, record, fleet_dir, progress)
            if places is None:
                return _finish(record, fleet_dir, progress)
        else:
            assert request.nodes is not None   # _validate: local nodes are counted, not listed
            needs_device = any(s.needs_device for s in chosen)
            places = [(f"local{i + 1}",
                       targets.choose(targets.Wanted(
                           stack.name, needs_device=needs_device,
                           needs_rootfs=fetched.needs_rootfs and harness is not None)))
                      for i in range(request.nodes)]
        record.nodes = [Node(name) for name, _ in places]
        record.write(fleet_dir / "fleet.json")
        _run_nodes(record.nodes, [target for _, target in places], job_id, progress,
                   fleet_node.NodeSuites(stack, fetched, chosen, harness, fleet_dir,
                                         request.timeout_s, request.filters))
        record.pairs = _pairs(request.pairs, record.nodes, stack, fleet_dir, progress, job_id)
        record.outliers = dict(zip(("nodes", "links"), pairs.outliers(record.pairs)))
        if job_id:
            _drain(record, request.drain, progress)
            record.job["state"] = follow.state(job_id)[0] or "ENDED"
        return _finish(record, fleet_dir, progress)
    except InfraError as err:   # the scheduler failed: recorded, then the one error line
        record.job["reason"] = str(err)
        _finish(record, fleet_dir, progress)
        raise
    finally:
        if job_id:
            job.cancel(job_id)


def _slurm_places(job_id: str, request: FleetRequest, record: Fleet, fleet_dir: Path,
                  progress) -> list | None:
    """(node, target) for each node of the job once it runs; None when it
    stayed pending too long (each node asked for by name is then not tested)."""
    record.job = {"id": job_id, "state": "PENDING"}
    record.write(fleet_dir / "fleet.json")
    progress.say(f"Slurm job {job_id} submitted; waiting for it to run")
    try:
        started = follow.wait_running(job_id, request.pending_timeout_s)
    except follow.PendingTooLong as err:
        record.job.update(state="CANCELLED", reason=str(err))
        names = follow.hostnames(request.nodelist) if request.nodelist else []
        record.nodes = [Node(n, reason=str(err)) for n in names]
        return None
    record.job.update(state="RUNNING", waited_s=round(started.waited_s, 3))
    return [(n, SlurmNode(n, job_id)) for n in started.nodes]


def _run_nodes(nodes: list[Node], places: list, job_id: str | None, progress,
               work: fleet_node.NodeSuites) -> None:
    """Every node at once, one thread each (each waits on its own steps)."""
    pool = ThreadPoolExecutor(max_workers=len(nodes))
    try:
        ran = [pool.submit(fleet_node.run_node, node, target, work)
               for node, target in zip(nodes, places)]
        for future in ran:
            done = future.result()
            progress.say(f"{done.name}: {done.status}"
                         + (f" ({done.reason})" if done.reason else "")
                         + (f", {_tally(done.counts)}" if done.counts else ""))
    except BaseException:
        if job_id:   # Ctrl-C, SIGTERM: the steps end with the job, then their threads
            job.cancel(job_id)
        raise
    finally:
        pool.shutdown(cancel_futures=True)


def _drain(record: Fleet, drain: bool, progress) -> None:
    """A node lost mid-run, with tests not as expected, or slow in every
    pair: its drain line, suggested in fleet.json, run with --drain."""
    bad = {n.name: n.reason or f"{len(n.deviations)} test(s) not as expected"
           for n in record.nodes if n.status == NOT_TESTED or n.deviations}
    bad.update({n: "off the fleet's median in every pair" for n in record.outliers["nodes"]})
    for node, why in sorted(bad.items()):
        argv = job.drain_argv(node, why)
        record.drain.append(shlex.join(argv))
        if drain:
            done = job.call(argv)
            progress.say(f"drained {node}" if done.returncode == 0 else
                         f"could not drain {node}: {done.stderr.strip()}")


def _pairs(mode: str, nodes: list[Node], stack, fleet_dir: Path, progress,
           job_id: str | None = None) -> list[Pair]:
    """Each round's pairs of the nodes tested, one pair at a time (one QEMU
    at a time on one machine; on real devices, one perftest at a time keeps
    each pair's figures its own), judged against the fleet's median."""
    tested = {n.name: n for n in nodes if n.status != NOT_TESTED}
    done = []
    for number, each in enumerate(pairs.rounds(list(tested), mode), start=1):
        for server, client in each:
            pair = Pair(server, client, number)
            try:
                target = _pair_target(stack, tested[server], tested[client], job_id)
                pairs.run_pair(pair, target, fleet_dir)
                if pair.status != NOT_TESTED:
                    # the profile of the pair's device (the lab's: the guests' kernel)
                    name = profiles.name_for(target)
                    pairs.against_baseline([pair], pair_baseline.path_for(name, stack.name),
                                           perf_suite.threshold(profiles.load_for_device(name).data))
            except InfraError as err:
                pair.status, pair.reason = NOT_TESTED, str(err)
            progress.say(f"pair {server}-{client} (round {number}): {pair.status}"
                         + (f" ({pair.reason})" if pair.reason else ""))
            done.append(pair)
    pairs.judge(done)
    return done


def _pair_target(stack, server: Node, client: Node, job_id: str | None) -> targets.Target:
    """Two nodes with RDMA devices of a Slurm job pair on those devices;
    two lab guests joined by the lab's link stand for two nodes that have
    none (as here)."""
    if server.firmware or client.firmware:
        if not job_id:
            raise InfraError(f"{server.name} and {client.name} are this host: a pair of "
                             "RDMA devices needs two nodes (--scheduler slurm)")
        if not (server.firmware and client.firmware):
            lacking = client.name if server.firmware else server.name
            raise InfraError(f"{lacking} has no RDMA device to pair with")
        # the device the suites ran on, or (suites that need none) the first one
        devices = [n.device if n.device in n.firmware else sorted(n.firmware)[0]
                   for n in (server, client)]
        if devices[0] != devices[1]:
            raise InfraError(f"perftest runs one device name on both nodes: {server.name} "
                             f"has {devices[0]}, {client.name} {devices[1]}")
        return SlurmPair(server.name, client.name, job_id, devices[0], stack.name)
    if not targets.lab.available():
        raise InfraError("a pair's lab guests need qemu-system-x86_64: run ci/setup")
    return targets.Lab(stack.name, f"pair {server.name}-{client.name}: two lab guests "
                       "joined by a link stand for the nodes", nodes=2)


def _finish(record: Fleet, fleet_dir: Path, progress: Progress) -> FleetDone:
    record.exit_code = exit_code(record)
    record.finished = rundir.now()
    record.write(fleet_dir / "fleet.json")
    junit.write(record, fleet_dir)
    report.write(record, fleet_dir)
    return FleetDone(fleet_dir, record, record.exit_code)


def exit_code(record: Fleet) -> int:
    """A pair slower than its stored baseline deviates on a device; in the lab
    (soft-RoCE under an emulated CPU) it is a lab finding: reported, not 1."""
    codes = [n.exit_code for n in record.nodes]
    verdicts = [v.get("verdict") for p in record.pairs for v in p.verdicts]
    if EXIT_UNEXPECTED in codes or "off the fleet" in verdicts \
            or pairs.slower(record.pairs, "device"):
        return EXIT_UNEXPECTED
    if not record.nodes or any(n.status == NOT_TESTED for n in record.nodes + record.pairs) \
            or any(c not in (EXIT_OK, None) for c in codes) or "not measured" in verdicts:
        return EXIT_INFRA
    return EXIT_OK


def _tally(counts: dict) -> str:
    return ", ".join(f"{n} {o.lower()}" for o, n in counts.items() if n)

