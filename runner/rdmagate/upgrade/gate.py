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
import json
import os
import socket
import time
from pathlib import Path

from ..harness import build
from .. import files, profiles, stacks, suites, targets
from ..outputs import records, rundir
from ..abi import findings, loads, suppress
from ..abi.compare import compare_stacks
from ..errors import InfraError, RunCutShort, UsageError
from ..perf import attribute, baseline, clock, exact, machine, native, perftest, perftest_run
from ..perf import stats
from ..perf import budget as budget_mod, suite as perf_suite
from ..perf.budget import Budget
from ..pipelines.check import SuiteRun, run_suites
from ..progress import Progress
from . import record, verdict

PHASES = ("fetch", "abi", "kabi", "api", "verbs", "perf")
BW_SWEEP = perftest_run.Sweep(("write_bw",), lat_sizes=(2,), bw_sizes=(64, 4096, 65536),
                              lat_iters=1000, bw_iters=400, repeats=3)
# the perf phase's seconds: what it took with one boot a side before runs were
# the unit (issue 14); rounds of runs stop when the next would pass it
PERF_BUDGET_S = 170.0
GATE_RUNS = 3   # runs a boot: the first boot of a side then costs what one did before


class Gate:
    def __init__(self, old: str, new: str, run_dir: Path, device: str | None, use_lab: bool,
                 consumers: list[str] | None, skip: list[str], progress: Progress,
                 nodes: int = 1, modules: list[str] | None = None):
        self.names = (old, new)
        self.modules = modules or []   # out-of-tree kernel modules that must load on B
        self.nodes = nodes   # lab guests for perftest: 2 puts its client across a link
        self.run_dir = run_dir
        self.device, self.use_lab = device, use_lab
        self.consumers = consumers
        self.skip = skip
        self.progress = progress
        self.stacks: dict = {}
        self.harness: dict = {}
        self.record: record.Upgrade | None = None   # as last saved to upgrade.json
        self.data = {"run_id": run_dir.name, "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                     "host": f"{socket.gethostname()} ({os.uname().release})",
                     "from": {"name": old}, "to": {"name": new},
                     "compat_column": f"{old} build on {new}",
                     "phases": [{"name": p, "status": "not run", "seconds": 0,
                                 "note": "not reached"} for p in PHASES],
                     "commands": [], "versions": {"rdmagate": rundir.git_revision()},
                     "nodes": nodes}

    # -- bookkeeping -------------------------------------------------------
    def save(self) -> None:
        """upgrade.json from the sections so far, with the verdict they give."""
        self.record = verdict.decided(record.from_dict(self.data))
        abi = next(p for p in self.record.phases if p.name == "abi")
        next(p for p in self.data["phases"] if p["name"] == "abi")["note"] = abi.note   # as told
        record.write(self.record, self.run_dir / "upgrade.json")

    def phase(self, name: str, status: str, seconds: float, note: str) -> None:
        entry = next(p for p in self.data["phases"] if p["name"] == name)
        entry.update(status=status, seconds=round(seconds, 1), note=note)
        self.save()

    def run(self) -> record.Upgrade:
        steps = {"fetch": self.fetch, "abi": self.abi, "kabi": self.kabi, "api": self.api, "verbs": self.verbs,
                 "perf": self.perf}
        for name in PHASES:
            if name in self.skip:
                self.phase(name, "not run", 0, "skipped (--skip)")
                continue
            if name != "fetch" and len(self.stacks) < 2:
                self.phase(name, "not run", 0, "the stacks could not be fetched")
                continue
            started = time.monotonic()
            self.progress.say(f"upgrade: phase {name}")
            try:
                note = steps[name]()
                self.phase(name, "done", time.monotonic() - started, note)
            except (InfraError, UsageError) as err:
                self.phase(name, "failed", time.monotonic() - started, str(err))
                self.progress.say(f"upgrade: phase {name} failed: {err}")
            except KeyboardInterrupt:
                self.phase(name, "failed", time.monotonic() - started, "interrupted")
                raise
        return self.record

    # -- phases ------------------------------------------------------------
    def fetch(self) -> str:
        for key, name in zip(("from", "to"), self.names):
            stack = stacks.resolve(name)
            fetched = stacks.fetch(stack, say=self.progress.say)
            self.stacks[key] = (stack, fetched)
            kernel = (stack.kernel or {}).get("release") if stack.kind == "debian" else None
            perftest = next((version for name, version in stack.packages
                             if name == "perftest"), None)
            self.data[key].update(rdma_core=stack.rdma_core, kernel=kernel, perftest=perftest)
        return f"{self.names[0]} and {self.names[1]} fetched"

    def abi(self) -> str:
        report = compare_stacks(self.names[0], self.names[1], [suppress.DEFAULT],
                                say=self.progress.say, consumers=self.consumers)
        found = report.record()
        findings.write(found, self.run_dir / "findings.json")
        self.data["abi"] = records.to_json({"verdicts": found.verdicts,
                                            "findings": found.findings})
        self.data["consumers"] = [records.to_json(record.Consumer.of(c)) for c in found.consumers]
        self.provider_loads(report)
        # told as the verdict counts it (decided() tells it again once the
        # device, whose provider's removal alone breaks, is known)
        return verdict.abi_note(record.from_dict(self.data).abi, self.data.get("device_driver"))

    def provider_loads(self, report) -> None:
        """Each stack's providers loaded with the other's libibverbs, into
        providers.json and the abi section; a load that disagrees with the
        static rules fails the phase (an error of rdmagate, never hidden)."""
        sides = [loads.Side(name, self.stacks[key][1], inventory) for key, name, inventory in
                 (("from", self.names[0], report.old), ("to", self.names[1], report.new))]
        runs = loads.matrix(*sides)
        loads.write(loads.LoadsFile(*self.names, runs), self.run_dir / "providers.json")
        self.data["abi"]["loads"] = records.to_json(runs)   # the report shows a disagreement too
        problems = loads.problems(runs, report.findings)
        if problems:
            raise InfraError("the provider loads and the static rules disagree: " + problems[0])

    def kabi(self) -> str:
        """The kernel side: RDMA exports A to B and, with modules, whether each
        loads on B (proven in a guest of B's kernel when the gate runs in the lab)."""
        from ..pipelines.kabi import KabiRequest, kabi   # the kernel side, one pipeline
        report = kabi(KabiRequest(self.names[0], self.names[1], tuple(self.modules),
                                  lab=self.use_lab and bool(self.modules)), self.progress)
        found = report.as_dict()
        files.write_atomic(self.run_dir / "kabi.json", json.dumps(found, indent=2) + "\n",
                           "kabi.json")
        self.data["kabi"] = {k: found[k] for k in ("verdict", "summary", "modules", "proofs")}
        self.data["kabi"].update(
            given=bool(self.modules), releases=[report.old.release, report.new.release],
            kernel=[f for f in found["findings"] if not f["symbol"]])
        loads = sum(1 for m in report.modules if m.loads)
        return (f"{found['summary']['exports_compared']} RDMA exports, "
                f"{found['verdict']['verdict']}" +
                (f"; {loads} of {len(report.modules)} modules load on {report.new.release}"
                 if self.modules else ""))

    def api(self) -> str:
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
                    self.data["api"] = {"compiles": False,
                                        "error": f"the suites do not compile against "
                                                 f"{stack.name}'s headers: {err}"}
                    return self.data["api"]["error"]
                raise
            notes.append(f"suites built against {stack.name}")
        self.data["api"] = {"compiles": True, "error": ""}
        return "; ".join(notes)

    def _target(self, key: str, nodes: int = 1):
        stack, fetched = self.stacks[key]
        return targets.choose(self.device, self.use_lab, True, fetched.needs_rootfs, stack.name,
                              nodes=nodes)

    def verbs(self) -> str:
        chosen = suites.device_suites()
        old, new = self.names
        columns = [old, new, self.data["compat_column"]]
        runs = [(old, "from", None), (new, "to", None), (self.data["compat_column"], "to", "from")]
        tests: dict = {}
        messages: dict = {}
        coverage: dict = {}
        cut_short: dict = {}   # column -> why it stopped early
        base = self.run_dir / "runs"
        for column, key, built_for in runs:
            stack, fetched = self.stacks[key]
            target = self._target(key)
            self.data["device_driver"] = target.kind
            profile = profiles.load_for_device(profiles.name_for(target), say=self.progress.say)
            harness = self.harness.get(built_for) if built_for else None
            if built_for and harness is None:
                continue
            label = f"{old}-build-on-{new}" if built_for else stack.name
            try:
                done = run_suites(SuiteRun(stack, fetched, chosen, target, profile,
                                           results_dir=str(base), harness=harness,
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
            self.data["commands"].append(" ".join(
                ["rdmagate", "check", "--stack", stack.name,
                 *(["--built-for", old] if built_for else []), *target.flags()]))
            self.data["verbs"] = {"columns": columns, "tests": tests, "messages": messages,
                                  "cut_short": cut_short}
            self.data["coverage"] = coverage
            self.save()
        if cut_short:
            raise InfraError("; ".join(f"{column}: {why}" for column, why in cut_short.items()))
        return f"{len(tests)} tests in {len(columns)} columns"

    def perf(self) -> str:
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
        keys = [k for k in ("from", "to") if sessions[k].target.runs_perftest]
        for key in keys:
            stack, _ = self.stacks[key]
            found = budget.spend(f"perftest on {stack.name} (1 boot, {jobs} runs)", one,
                                 lambda: perftest_run.run_sweep(
                                     self._target(key, self.nodes), self.run_dir, BW_SWEEP,
                                     say=lambda text: None, name=f"perftest-{stack.name}"))
            runs = perftest_runs.setdefault(key, {})
            for r in found:
                if not r.get("ok"):
                    unmeasured.append({"stack": stack.name, "size": r["size"],
                                       "why": r["error"]})
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
        # runs go where they decide, within what the phase took with one boot a side
        perf_suite.adaptive([a, b], list(native.SWEEP), decided, budget,
                            runs=GATE_RUNS, jobs_a_boot=GATE_RUNS * len(native.SWEEP),
                            say=self.progress.say)
        self.progress.say(f"perf: {budget.summary()}")
        if b.machine:
            self.progress.say(f"perf: figures in {clock.UNITS[b.clock]}")
        where = "lab" if (b.machine or {}).get("where") == "lab" else "device"
        samples = {key: {n: m["runs"] for n, m in s.results.items() if "runs" in m}
                   for key, s in sessions.items()}
        boot = machine.boot_effect(b.machine)
        if a.clock != b.clock:
            raise InfraError(f"perf: {a.stack.name} was measured on the {a.clock} clock and "
                             f"{b.stack.name} on the {b.clock} clock; they cannot be compared")
        self.data["perf"] = [self._latency_series(sessions, boot, threshold, where),
                             self._perftest_series("bw", perftest_runs, unmeasured, boot,
                                                   threshold, where),
                             self._perftest_series("rate", perftest_runs, [], boot, threshold,
                                                   where)]
        self.data["baseline"] = self._against_baseline(b, threshold, where)
        boots = f"{a.boots} and {b.boots} boots" if where == "lab" else f"{a.boots} and {b.boots} runs"
        return (f"{sum(len(s) for s in samples.values())} measurements in {boots}, "
                f"threshold {threshold:.0%}, {where}"
                + (", virtual ns on the instruction clock" if b.clock == clock.INSTRUCTIONS
                   else "") + f"; {budget.summary()}")

    @staticmethod
    def _point(size: int, a_runs: list, b_runs: list, threshold: float,
               boot: stats.BootEffect | None, boots: tuple[int, int] = (1, 1),
               higher_is_better: bool = False, scale: float = 1.0,
               on: str = clock.WALL) -> dict:
        """on: the clock of both sides; on the instruction clock the ratio is
        exact (perf/exact.py) and each side's run spread is kept."""
        if on == clock.INSTRUCTIONS:
            cmp = exact.compare(a_runs, b_runs, threshold, higher_is_better=higher_is_better)
        else:
            cmp = stats.compare(a_runs, b_runs, threshold, higher_is_better=higher_is_better,
                                boot=boot, boots=boots)
        point = {"size": size, "verdict": cmp.verdict, "ratio": cmp.ratio,
                 "ci": cmp.as_dict()["ci"], "runs": [cmp.runs_a, cmp.runs_b]}
        if on == clock.INSTRUCTIONS:
            point.update(spread=cmp.spread, note=cmp.note)
        for side, runs in (("a", a_runs), ("b", b_runs)):
            centre, low, high = stats.run_spread(runs)
            point[side] = {"median": centre * scale, "low": low * scale, "high": high * scale}
        return point

    def _latency_series(self, sessions: dict, boot, threshold: float, where: str) -> dict:
        on = sessions["to"].clock
        a, b = (sessions[k].results for k in ("from", "to"))
        points = [self._point(int(name.rsplit("-", 1)[1]), a[name]["runs"], b[name]["runs"],
                              threshold, boot, (a[name].get("boots", 1), b[name].get("boots", 1)),
                              scale=1 / 1000, on=on)
                  for name in native.SWEEP
                  if "runs" in a.get(name, {}) and "runs" in b.get(name, {})]
        if on == clock.INSTRUCTIONS:
            self._attribute(sessions, points)
            return {"name": "write_lat", "title": "RDMA WRITE round trip on the lab's software "
                    "path (median of each run; bars: the runs' range)", "kind": "latency",
                    "unit": "virtual us", "points": points, "where": where,
                    "clock": on, "unit_meaning": clock.UNITS[on].replace(" ns ", " us ", 1)}
        return {"name": "write_lat", "title": "RDMA WRITE round-trip latency (median of each "
                "run; bars: the runs' range)", "kind": "latency", "unit": "us",
                "points": points, "where": where, "clock": on, "unit_meaning": clock.UNITS[on]}

    def _attribute(self, sessions: dict, points: list[dict]) -> None:
        """Each slower point gets the functions whose share of the virtual
        time grew (perf/attribute.py), profiled in one more boot a side,
        and said on the terminal too."""
        slower = [f"write_lat-{p['size']}" for p in points if p["verdict"] == "slower"]
        if not slower:
            return
        for key in ("from", "to"):
            try:
                sessions[key].attribute(slower)
            except InfraError as err:   # the verdicts stand; say why there is no profile
                self.progress.say(f"perf: profiling {sessions[key].stack.name} failed: {err}")
        a, b = sessions["from"].profiles, sessions["to"].profiles
        for point in points:
            name = f"write_lat-{point['size']}"
            if name not in slower:
                continue
            point["attribution"] = attribute.grew(
                a.get(name, {"why": f"unattributed: {name} was not profiled"}),
                b.get(name, {"why": f"unattributed: {name} was not profiled"}))
            self.progress.say(f"perf: {name} slower, {point['ratio']:.2f}x on the lab's software "
                              f"path; grew: {attribute.describe(point['attribution'])}")

    def _perftest_series(self, metric: str, runs: dict, unmeasured: list[dict], boot,
                         threshold: float, where: str) -> dict:
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
        return {"name": f"write_{metric}", "title": f"{title} (perftest ib_write_bw, {across}"
                f"{BW_SWEEP.repeats} runs a size; higher is better)", "kind": kind,
                "unit": unit, "points": points, "unmeasured": unmeasured, "where": where}

    def _against_baseline(self, session, threshold: float, where: str) -> list[dict]:
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
                out.append({"name": measurement, "size": int(measurement.rsplit("-", 1)[1]),
                            "verdict": cmp.verdict, "ratio": cmp.ratio,
                            "ci": cmp.as_dict()["ci"], "runs": [cmp.runs_a, cmp.runs_b],
                            "note": cmp.note, "where": where, "clock": cmp.clock,
                            "spread": cmp.spread,
                            "baseline": str(path.relative_to(baseline.BASELINES.parents[1]))})
        return out


