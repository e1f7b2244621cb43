"""The upgrade gate's phases, A to B. Each phase is recorded in upgrade.json
as it ends (done, failed with why, or not run), so a phase that fails does
not hide what the others found, and a killed gate still has a report.

Phases: fetch (both stacks), abi (A to B, consumers), kabi (the RDMA
kernel exports A to B, and given out-of-tree modules loaded on B), api (the suites built
against B's headers, and against A's for binary compatibility), verbs (B,
A, and A's build on B's libraries, each on its own kernel in the lab or on
the device), perf (A and B measured in the same session: native latency per
size with the statistical verdict, perftest bandwidth; B against its stored
baseline where one exists)."""
import dataclasses
import json
import os
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from ..harness import build
from .. import profiles, stacks, suites, targets
from ..outputs import rundir
from ..abi import findings, loads, suppress
from ..abi.compare import compare_stacks
from ..errors import InfraError, RunCutShort, UsageError
from ..perf import attribute, baseline, clock, exact, machine, native, perftest, perftest_run
from ..perf import stats
from ..perf import budget as budget_mod, suite as perf_suite
from ..perf.budget import Budget
from ..harness.run import SuiteRun, run_suites
from ..kabi import record as kabi_record
from ..progress import Progress
from ..stacks import names
from ..upgrade import record, verdict

PHASES = ("fetch", "abi", "kabi", "api", "verbs", "perf")
BW_SWEEP = perftest_run.Sweep(("write_bw",), lat_sizes=(2,), bw_sizes=(64, 4096, 65536),
                              lat_iters=1000, bw_iters=400, repeats=3)
# the perf phase's seconds: what it took with one boot a side before runs were
# the unit; rounds of runs stop when the next would pass it
PERF_BUDGET_S = 170.0
GATE_RUNS = 3   # runs a boot: the first boot of a side then costs what one did before
# perftest in one lab guest cannot decide: on the wall clock of a TCG guest
# its figures move with the host (every bandwidth point of the gate came out
# inconclusive, at 160 s a gate), and on the instruction clock some of its
# runs end at perftest's own timeout. Two guests or a device measure it.
PERFTEST_ONE_GUEST = ("not measured in one lab guest, whose clock decides only the latency "
                      "sweep; measure it with --nodes 2 (two guests, wall clock) or --device")


@dataclass(frozen=True)
class UpgradeRequest:
    old: str
    new: str
    device: str | None = None
    use_lab: bool = False
    nodes: int = 1                      # 2: perftest's server and client on two lab guests
    consumers: list[str] | None = None  # None: skip consumer impact; []: this host's
    skip: tuple[str, ...] = ()
    modules: tuple[str, ...] = ()       # out-of-tree kernel modules that must load on new
    results_dir: str | None = None

    @property
    def in_lab(self) -> bool:
        return self.use_lab or self.nodes == 2   # two nodes are lab guests


@dataclass
class Fetched:
    """fetch: what each side is."""
    old: record.Side
    new: record.Side


@dataclass
class AbiFound:
    abi: record.Abi
    consumers: list[record.Consumer]


@dataclass
class VerbsRun:
    verbs: record.Verbs | None      # None until a column ends
    coverage: dict[str, dict[str, dict[str, Any]]]   # column -> library -> coverage.json entry
    commands: list[str]             # each column's check, to reproduce it
    device_driver: str | None


@dataclass
class PerfMeasured:
    series: list[record.Series]
    baseline: list[record.AgainstBaseline]


# what a phase returns, and the gate alone puts into the record
Section = Fetched | AbiFound | record.Kabi | record.Api | VerbsRun | PerfMeasured
Keep = Callable[[Section], None]


class PhaseFailed(InfraError):
    """A phase that failed after it found something: its section is kept."""

    def __init__(self, message: str, section: Section):
        super().__init__(message)
        self.section = section


class Gate:
    """The phases of one request; self.upgrade is upgrade.json as it stands,
    written after every phase with the verdict its sections give. Each phase
    returns its section and a note; only the gate writes them into the record."""

    def __init__(self, request: UpgradeRequest, run_dir: Path, progress: Progress):
        old, new = request.old, request.new
        self.names = (old, new)
        self.modules = list(request.modules)   # out-of-tree kernel modules that must load on B
        self.nodes = request.nodes   # lab guests for perftest: 2 puts its client across a link
        self.run_dir = run_dir
        self.device, self.use_lab = request.device, request.in_lab
        self.consumers = request.consumers
        self.skip = request.skip
        self.progress = progress
        self.stacks: dict = {}
        self.harness: dict = {}
        self.upgrade = record.Upgrade(
            run_dir.name, time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            f"{socket.gethostname()} ({os.uname().release})", record.Side(old),
            record.Side(new), f"{old} build on {new}",
            [record.Phase(p, "not run", 0, "not reached") for p in PHASES],
            # the gate's own command first, then each verbs column's check
            [names.redact(" ".join(["rdmagate", *sys.argv[1:]]))],
            versions={"rdmagate": rundir.git_revision()}, nodes=request.nodes)

    # -- bookkeeping -------------------------------------------------------
    def save(self) -> None:
        """upgrade.json from the sections so far, with the verdict they give."""
        record.write(verdict.decided(self.upgrade), self.run_dir / "upgrade.json")

    def phase(self, name: str, status: record.PhaseStatus, seconds: float, note: str) -> None:
        entry = next(p for p in self.upgrade.phases if p.name == name)
        entry.status, entry.seconds, entry.note = status, round(seconds, 1), note
        self.save()

    def keep(self, section: Section) -> None:
        """A phase's section into the record: the one place phases' findings enter it."""
        up = self.upgrade
        match section:
            case Fetched():
                up.old, up.new = section.old, section.new
            case AbiFound():
                up.abi, up.consumers = section.abi, section.consumers
            case record.Kabi():
                up.kabi = section
            case record.Api():
                up.api = section
            case VerbsRun():
                up.verbs, up.coverage = section.verbs, section.coverage
                up.commands = up.commands[:1] + section.commands
                up.device_driver = section.device_driver
            case PerfMeasured():
                up.perf, up.baseline = section.series, section.baseline

    def keep_now(self, section: Section) -> None:
        """A section kept and written at once: what a long phase found so far
        stays in upgrade.json if the rest of it fails or is interrupted."""
        self.keep(section)
        self.save()

    def run(self) -> record.Upgrade:
        for name in PHASES:
            if name in self.skip:
                self.phase(name, "not run", 0, "skipped (--skip)")
            elif name != "fetch" and len(self.stacks) < 2:
                self.phase(name, "not run", 0, "the stacks could not be fetched")
            else:
                self.run_phase(name)
        return self.upgrade

    def run_phase(self, name: str) -> None:
        """One phase, its section kept and its status, time and note recorded."""
        # fetch, abi and verbs keep what they found so far through keep_now
        steps: dict[str, Callable[[], tuple[Section, str]]] = {
            "fetch": lambda: self.fetch(self.keep_now), "abi": lambda: self.abi(self.keep_now),
            "kabi": self.kabi, "api": self.api, "verbs": lambda: self.verbs(self.keep_now),
            "perf": self.perf}
        started = time.monotonic()
        self.progress.say(f"upgrade: phase {name}")
        try:
            section, note = steps[name]()
            self.keep(section)
            self.phase(name, "done", time.monotonic() - started, note)
        except (InfraError, UsageError) as err:
            if isinstance(err, PhaseFailed):
                self.keep(err.section)
            self.phase(name, "failed", time.monotonic() - started, str(err))
            self.progress.say(f"upgrade: phase {name} failed: {err}")
        except KeyboardInterrupt:
            self.phase(name, "failed", time.monotonic() - started, "interrupted")
            raise

    # -- phases ------------------------------------------------------------
    def fetch(self, keep: Keep) -> tuple[Fetched, str]:
        """Both stacks, each side kept as it is fetched: A's facts stand when
        B cannot be fetched."""
        sides = [record.Side(name) for name in self.names]
        for i, (key, name) in enumerate(zip(("from", "to"), self.names)):
            stack = stacks.resolve(name)
            fetched = stacks.fetch(stack, say=self.progress.say)
            self.stacks[key] = (stack, fetched)
            sides[i] = record.Side(
                name, stack.rdma_core,
                (stack.kernel or {}).get("release") if stack.kind == "debian" else None,
                next((version for package, version in stack.packages if package == "perftest"),
                     None))
            keep(Fetched(*sides))
        return Fetched(*sides), f"{self.names[0]} and {self.names[1]} fetched"

    def abi(self, keep: Keep) -> tuple[AbiFound, str]:
        report = compare_stacks(self.names[0], self.names[1], [suppress.DEFAULT],
                                say=self.progress.say, consumers=self.consumers)
        found = report.record()
        findings.write(found, self.run_dir / "findings.json")
        abi = record.Abi(dict(found.verdicts), list(found.findings))
        consumers = [record.Consumer.of(c) for c in found.consumers]
        keep(AbiFound(abi, consumers))   # the findings stand if the loads fail
        abi = dataclasses.replace(abi, loads=self.provider_loads(report))
        problems = loads.problems(abi.loads or [], report.findings)
        if problems:   # the report shows the disagreement too
            raise PhaseFailed("the provider loads and the static rules disagree: " + problems[0],
                              AbiFound(abi, consumers))
        # told as the verdict counts it (decided() tells it again once the
        # device, whose provider's removal alone breaks, is known)
        return AbiFound(abi, consumers), verdict.abi_note(abi, self.upgrade.device_driver)

    def provider_loads(self, report) -> list[loads.LoadRun]:
        """Each stack's providers loaded with the other's libibverbs, into
        providers.json; a load that disagrees with the static rules fails the
        phase (an error of rdmagate, never hidden)."""
        sides = [loads.Side(name, self.stacks[key][1], inventory) for key, name, inventory in
                 (("from", self.names[0], report.old), ("to", self.names[1], report.new))]
        runs = loads.matrix(sides[0], sides[1])
        loads.write(loads.LoadsFile(*self.names, runs), self.run_dir / "providers.json")
        return runs

    def kabi(self) -> tuple[record.Kabi, str]:
        """The kernel side: RDMA exports A to B and, with modules, whether each
        loads on B (proven in a guest of B's kernel when the gate runs in the lab)."""
        from .kabi import KabiRequest, kabi   # the kernel side, one pipeline
        report = kabi(KabiRequest(self.names[0], self.names[1], tuple(self.modules),
                                  lab=self.use_lab and bool(self.modules)), self.progress)
        found = kabi_record.of(report)
        kabi_record.write(found, self.run_dir / "kabi.json")
        section = found.section(bool(self.modules), [report.old.release, report.new.release])
        loads = sum(1 for m in report.modules if m.loads)
        return section, (f"{found.summary.exports_compared} RDMA exports, {found.verdict.verdict}" +
                (f"; {loads} of {len(report.modules)} modules load on {report.new.release}"
                 if self.modules else ""))

    def api(self) -> tuple[record.Api, str]:
        notes = []
        for key in ("from", "to"):
            stack, fetched = self.stacks[key]
            try:
                self.harness[key] = build.build_harness(
                    stack.name, None if stack.kind == "host" else fetched.root,
                    say=self.progress.say)
            except build.BuildError as err:
                if key == "to" and err.compile_error:
                    # The suites are code written for the old stack: not
                    # compiling against the new headers is an API break.
                    api = record.Api(False, f"the suites do not compile against "
                                            f"{stack.name}'s headers: {err}")
                    return api, api.error
                raise
            notes.append(f"suites built against {stack.name}")
        return record.Api(True, ""), "; ".join(notes)

    def _target(self, key: str, nodes: int = 1):
        stack, fetched = self.stacks[key]
        return targets.choose(targets.Wanted(stack.name, self.device, self.use_lab, True,
                                             fetched.needs_rootfs, nodes))

    def verbs(self, keep: Keep) -> tuple[VerbsRun, str]:
        """B, A, and A's build on B: each column kept as it ends, so an
        interrupted gate still reports the columns that finished."""
        chosen = suites.device_suites()
        old, new = self.names
        compat = self.upgrade.compat_column
        columns = [old, new, compat]
        runs = [(old, "from", None), (new, "to", None), (compat, "to", "from")]
        tests: dict = {}
        messages: dict = {}
        coverage: dict = {}
        cut_short: dict = {}   # column -> why it stopped early
        commands: list[str] = []
        section = VerbsRun(None, coverage, commands, self.upgrade.device_driver)
        base = self.run_dir / "runs"
        for column, key, built_for in runs:
            stack, fetched = self.stacks[key]
            target = self._target(key)
            section.device_driver = target.kind
            keep(section)   # the device is known before its run ends
            profile = profiles.load_for_device(profiles.name_for(target), say=self.progress.say)
            harness = self.harness.get(built_for) if built_for else None
            if built_for and harness is None:
                continue
            label = f"{old}-build-on-{new}" if built_for else stack.name
            try:
                done = run_suites(SuiteRun(stack, fetched, chosen, target, profile,
                                           results_dir=str(base), harness=harness,
                                           built_for=old if built_for else None,
                                           label=label), self.progress)
                run_dir, finished = done.run_dir, done.finished
            except RunCutShort as err:
                # The device (or the lab VM) went mid-run: keep what finished,
                # say the rest did not run, go on with the other columns.
                run_dir, finished = err.run_dir, err.finished
                cut_short[column] = str(err)
            for result in finished:
                tests.setdefault(result.test, {})[column] = result.outcome
                if result.outcome != "PASS":
                    messages.setdefault(result.test, {})[column] = result.why
            measured = run_dir / "coverage.json"
            if measured.is_file():
                coverage[column] = {lib: {k: v for k, v in d.items()}
                                    for lib, d in json.loads(measured.read_text()).items()}
            commands.append(" ".join(
                ["rdmagate", "check", "--stack", stack.name,
                 *(["--built-for", old] if built_for else []), *target.flags()]))
            section.verbs = record.Verbs(columns, tests, messages, cut_short)
            keep(section)
        if cut_short:
            raise PhaseFailed("; ".join(f"{column}: {why}" for column, why in cut_short.items()),
                              section)
        return section, f"{len(tests)} tests in {len(columns)} columns"

    def perf(self) -> tuple[PerfMeasured, str]:
        threshold = perf_suite.threshold(None)
        budget = Budget(PERF_BUDGET_S)
        sessions: dict = {}
        perftest_runs: dict = {}   # key -> (metric, size) -> a value per run
        unmeasured: list = []      # perftest jobs that gave no figure, with why
        for key in ("from", "to"):
            stack, fetched = self.stacks[key]
            sessions[key] = perf_suite.Session(stack, fetched, self._target(key), self.run_dir,
                                               subdir=f"native-{stack.name}",
                                               say=self.progress.say)
        # perftest's one boot a side is run whatever the budget says: it is
        # all the gate has of bandwidth; the native rounds after it fit what is left
        jobs = len(BW_SWEEP.jobs())
        one = budget.estimate(1, jobs, budget_mod.PERFTEST_RUN_S)
        one_guest = self.nodes == 1 and all(s.target.exact for s in sessions.values())
        keys = [] if one_guest else [k for k in ("from", "to")
                                     if sessions[k].target.runs_perftest]
        for key in keys:
            stack, _ = self.stacks[key]
            found = budget.spend(f"perftest on {stack.name} (1 boot, {jobs} runs)", one,
                                 lambda: perftest_run.run_sweep(
                                     self._target(key, self.nodes), self.run_dir, BW_SWEEP,
                                     say=lambda text: None, name=f"perftest-{stack.name}"))
            runs = perftest_runs.setdefault(key, {})
            for r in found:
                if not r.get("ok"):
                    unmeasured.append(record.Gap(stack.name, r["size"], r["error"]))
                    continue
                runs.setdefault(("bw", r["size"]), []).append(
                    r["metrics"]["bw_avg_Bps"] / perftest.MIB)
                if r["metrics"].get("msg_rate_Mpps"):
                    runs.setdefault(("rate", r["size"]), []).append(
                        r["metrics"]["msg_rate_Mpps"])
        a, b = sessions["from"], sessions["to"]

        def decided(name: str) -> bool:
            ra, rb = a.results.get(name, {}), b.results.get(name, {})
            return "runs" not in ra or "runs" not in rb or a.clock == clock.INSTRUCTIONS or \
                stats.compare(ra["runs"], rb["runs"], threshold, boot=machine.boot_effect(b.machine),
                              boots=(ra.get("boots", 1), rb.get("boots", 1))).verdict != "inconclusive"
        # runs go where they decide, within what the phase took with one boot a
        # side; on the instruction clock that one boot decides, and both guests
        # then wait in it while the host chooses what they profile
        meeting = perf_suite.Meeting([a, b], lambda found: self._slower(found, threshold)) \
            if perf_suite.at_once([a, b]) else None
        perf_suite.adaptive([a, b], list(native.SWEEP), decided, budget,
                            runs=GATE_RUNS, jobs_a_boot=GATE_RUNS * len(native.SWEEP),
                            say=self.progress.say, meeting=meeting)
        self.progress.say(f"perf: {budget.summary()}")
        if b.machine:
            self.progress.say(f"perf: figures in {clock.UNITS[b.clock]}")
        where: machine.Where = "lab" if (b.machine or {}).get("where") == "lab" else "device"
        samples = {key: {n: m["runs"] for n, m in s.results.items() if "runs" in m}
                   for key, s in sessions.items()}
        boot = machine.boot_effect(b.machine)
        if a.clock != b.clock:
            raise InfraError(f"perf: {a.stack.name} was measured on the {a.clock} clock and "
                             f"{b.stack.name} on the {b.clock} clock; they cannot be compared")
        perftest_series = [self._perftest_series("bw", perftest_runs, unmeasured, boot,
                                                 threshold, where),
                           self._perftest_series("rate", perftest_runs, [], boot, threshold,
                                                 where)]
        if one_guest:
            for series in perftest_series:
                series.not_measured = PERFTEST_ONE_GUEST
        measured = PerfMeasured([self._latency_series(sessions, boot, threshold, where),
                                 *perftest_series],
                                self._against_baseline(b, threshold, where))
        boots = f"{a.boots} and {b.boots} boots" if where == "lab" else f"{a.boots} and {b.boots} runs"
        return measured, (f"{sum(len(s) for s in samples.values())} measurements in {boots}, "
                f"threshold {threshold:.0%}, {where}"
                + (", virtual ns on the instruction clock" if b.clock == clock.INSTRUCTIONS
                   else "") + ("; bandwidth " + PERFTEST_ONE_GUEST if one_guest else "")
                + f"; {budget.summary()}")

    @staticmethod
    def _point(size: int, a_runs: list, b_runs: list, threshold: float,
               boot: stats.BootEffect | None, boots: tuple[int, int] = (1, 1),
               higher_is_better: bool = False, scale: float = 1.0,
               on: str = clock.WALL) -> record.Point:
        """on: the clock of both sides; on the instruction clock the ratio is
        exact (perf/exact.py) and each side's run spread is kept."""
        if on == clock.INSTRUCTIONS:
            cmp = exact.compare(a_runs, b_runs, threshold, higher_is_better=higher_is_better)
        else:
            cmp = stats.compare(a_runs, b_runs, threshold, higher_is_better=higher_is_better,
                                boot=boot, boots=boots)

        def spread(runs: list) -> record.Interval:
            centre, low, high = stats.run_spread(runs)
            return record.Interval(centre * scale, low * scale, high * scale)
        point = record.Point(size, cmp.verdict, cmp.ratio, cmp.ci,
                             spread(a_runs), spread(b_runs), [cmp.runs_a, cmp.runs_b])
        if on == clock.INSTRUCTIONS:
            point.spread, point.note = cmp.spread, cmp.note
        return point

    def _latency_series(self, sessions: dict, boot, threshold: float,
                        where: machine.Where) -> record.Series:
        on = sessions["to"].clock
        a, b = (sessions[k].results for k in ("from", "to"))
        points = [self._point(int(name.rsplit("-", 1)[1]), a[name]["runs"], b[name]["runs"],
                              threshold, boot, (a[name].get("boots", 1), b[name].get("boots", 1)),
                              scale=1 / 1000, on=on)
                  for name in native.SWEEP
                  if "runs" in a.get(name, {}) and "runs" in b.get(name, {})]
        if on == clock.INSTRUCTIONS:
            self._attribute(sessions, points)
            return record.Series("write_lat", "RDMA WRITE round trip on the lab's software "
                                 "path (median of each run; bars: the runs' range)", "latency",
                                 "virtual us", points, where=where, clock=on,
                                 unit_meaning=clock.UNITS[on].replace(" ns ", " us ", 1))
        return record.Series("write_lat", "RDMA WRITE round-trip latency (median of each "
                             "run; bars: the runs' range)", "latency", "us", points, where=where,
                             clock=on, unit_meaning=clock.UNITS[on])

    def _slower(self, found: list[dict], threshold: float) -> list[str]:
        """The sweep's measurements slower from A to B on the instruction
        clock, judged as _latency_series judges them: what the measuring
        boots profile next."""
        a, b = found
        slower = [name for name in native.SWEEP
                  if "runs" in a.get(name, {}) and "runs" in b.get(name, {})
                  and self._point(int(name.rsplit("-", 1)[1]), a[name]["runs"],
                                  b[name]["runs"], threshold, None,
                                  on=clock.INSTRUCTIONS).verdict == "slower"]
        if slower:
            self.progress.say(f"perf: {len(slower)} measurement(s) slower; profiling them in "
                              "the same boots")
        return slower

    def _attribute(self, sessions: dict, points: list[record.Point]) -> None:
        """Each slower point gets the functions whose share of the virtual
        time grew (perf/attribute.py), from the profiles its boots took,
        and said on the terminal too."""
        a, b = sessions["from"].profiles, sessions["to"].profiles
        for point in points:
            name = f"write_lat-{point.size}"
            if point.verdict != "slower":
                continue
            point.attribution = attribute.grew(
                a.get(name, {"why": f"unattributed: {name} was not profiled"}),
                b.get(name, {"why": f"unattributed: {name} was not profiled"}))
            self.progress.say(f"perf: {name} slower, {point.ratio:.2f}x on the lab's software "
                              f"path; grew: {attribute.describe(point.attribution)}")

    def _perftest_series(self, metric: str, runs: dict, unmeasured: list[record.Gap], boot,
                         threshold: float, where: machine.Where) -> record.Series:
        points = []
        a, b = runs.get("from", {}), runs.get("to", {})
        for size in sorted({s for m, s in a if m == metric} & {s for m, s in b if m == metric}):
            # perftest runs one boot a side
            points.append(self._point(size, a[(metric, size)], b[(metric, size)], threshold,
                                      boot, higher_is_better=True))
        across = "across two lab nodes, " if self.nodes == 2 else ""
        title, kind, unit = {
            "bw": ("RDMA WRITE bandwidth", "bandwidth", "MiB/s"),
            "rate": ("RDMA WRITE message rate", "rate", "Mpps")}[metric]
        return record.Series(f"write_{metric}", f"{title} (perftest ib_write_bw, {across}"
                             f"{BW_SWEEP.repeats} runs a size; higher is better)", kind, unit,
                             points, unmeasured, where)

    def _against_baseline(self, session, threshold: float,
                          where: machine.Where) -> list[record.AgainstBaseline]:
        stack, _ = self.stacks["to"]
        name = profiles.name_for(self._target("to"))
        path = baseline.path_for(name, stack.name)
        if not path.is_file():
            return []
        stored = baseline.load(path)
        out = []
        for measurement, result in session.results.items():
            if measurement in stored["measurements"] and "runs" in result:
                cmp = baseline.compare(stored, measurement, result["runs"], threshold,
                                       session.machine, session.calibration, result.get("boots", 1))
                out.append(record.AgainstBaseline(
                    measurement, int(measurement.rsplit("-", 1)[1]), cmp.verdict, cmp.ratio,
                    cmp.ci, str(path.relative_to(baseline.BASELINES.parents[1])),
                    [cmp.runs_a, cmp.runs_b], cmp.note, where, cmp.clock, cmp.spread))
        return out


