"""The perf suite of `check`: the native fast-path measurements of the
stack, here or in the lab, each compared with the stored baseline of its
hardware profile and stack by the statistical verdict (perf/stats.py).

Each measurement is several runs (fresh processes, interleaved passes), and
runs are added where they decide: after each boot the undecided
measurements get another boot's worth of runs, until each is decisive
against the threshold, has MAX_RUNS runs, or the time budget is spent (then
it stays inconclusive). A calibration workload (perf/calibrate.py) runs in
every boot beside them.

One result line per measurement, its outcome from its state (OUTCOME):
PASS when the verdict is same or faster, FAIL when slower, UNSUPPORTED when
the device lacks the operation (not measured), SKIP when nothing can judge
it (no baseline) or the data cannot tell (inconclusive, which a baseline
from another machine is: not comparable); the state is the reason, and the
verdict, the ratio, its interval and where it was measured (lab or device)
are in the message, every sample in the run's native/ directory."""
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..harness import build
from ..errors import UsageError
from ..outputs.result import append_results, Result
from ..stacks import FetchedStack, Stack
from ..targets import Target
from . import attribute, baseline, calibrate, clock, history, machine, native, record, stats
from .budget import Budget

DEFAULT_THRESHOLD = 0.10
ITERS, WARMUP = 500, 200
RUNS = 4          # runs of each measurement in one boot (interleaved passes)
FIRST_ROUND_RUNS = 3   # the fewest a first round is cut to: 2 a side decide next to nothing
MAX_RUNS = 16     # per measurement and side: then it is inconclusive
BUDGET_S = 240.0  # seconds of measuring for a check, over all its boots
JOBS_A_BOOT = 48  # runs a check's boot holds: the first boot's 12 measurements x RUNS


class Meeting:
    """Where the guests of one round, all booted at once, meet in the same
    boot once their measured runs are in, while the host chooses what they
    profile next: choose(results) gets each session's results (name ->
    native.runs_of's shape, in the order of `sessions`) and returns the
    measurements to profile. Each guest waits until its profile.jobs is
    written (native_jobs.sh). A side that fails before it comes breaks the
    meeting: the others then profile nothing."""

    def __init__(self, sessions: list["Session"], choose: Callable[[list[dict]], list[str]]):
        self.sessions = sessions
        self.choose = choose
        self.chosen: list[str] = []
        self._found: dict[int, dict] = {}
        self._barrier = threading.Barrier(len(sessions), action=self._decide)

    def _decide(self) -> None:
        # an error here breaks the barrier: raised in the side that ran it,
        # and the others profile nothing
        self.chosen = list(self.choose([self._found[k] for k in range(len(self.sessions))]))

    def meet(self, session: "Session", results: dict) -> list[str]:
        """Blocks until every side has come (or one left): what to profile."""
        self._found[self.sessions.index(session)] = results
        try:
            self._barrier.wait()
        except threading.BrokenBarrierError:
            return []
        return self.chosen

    def leave(self) -> None:
        """This side will not come: the others stop waiting for it."""
        self._barrier.abort()


@dataclass
class Session:
    """One side's measurements at a target, boot after boot, every run kept."""
    stack: Stack
    fetched: FetchedStack
    target: Target
    run_dir: Path
    subdir: str = "native"
    iters: int = ITERS
    warmup: int = WARMUP
    env: dict | None = None
    say: Callable[[str], None] = lambda text: None
    results: dict = field(default_factory=dict)       # name -> native.runs_of shape
    calibration: list = field(default_factory=list)   # runs of rdmagate-calibrate
    machine: dict | None = None
    kernel: str = ""
    boots: int = 0
    profiles: dict = field(default_factory=dict)   # name -> perf/attribute.py's read()

    def __post_init__(self):
        # the lab measures on the instruction clock; every other target as it is
        self.target = self.target.for_measuring()

    @property
    def clock(self) -> str:
        """The clock of this session's figures (perf/clock.py), once it has booted."""
        return clock.of(self.machine)

    def built(self) -> Path:
        stack = self.stack
        return build.build_perf(stack.name, None if stack.kind == "host" else self.fetched.root,
                                say=self.say)

    def boot(self, names, runs: int = RUNS, meeting: Meeting | None = None) -> None:
        """One boot of `runs` interleaved passes over the measurements; with
        a meeting, the same boot then profiles what the host chooses
        (self.profiles)."""
        stack, say = self.stack, self.say
        perf = self.built()
        cal = perf.parent / build.CALIBRATE_NAME

        def words(name):
            if name == calibrate.CALIBRATION:
                return [str(cal), "--iters", str(calibrate.ITERS)]
            return native.job_words(perf, name, self.iters, self.warmup, self.target.device,
                                    self.env)
        jobs = native.passes(names, words, runs)
        # the calibration in the first passes of each boot, interleaved like the rest
        cal_runs = min(runs, calibrate.RUNS_A_BOOT)
        cal_jobs = native.passes([calibrate.CALIBRATION], words, cal_runs)
        per_pass = len(names)
        for k, job in reversed(list(enumerate(cal_jobs))):
            jobs.insert((k + 1) * per_pass, job)
        before = [machine.host_load()] if self.boots == 0 else []
        self.boots += 1
        subdir = f"{self.subdir}/boot{self.boots}"
        waiting = _Waiting(self, meeting, self.run_dir / subdir, names, runs, perf) \
            if meeting else None
        try:
            out, ran = native.run_jobs(self.target, stack.name, perf, self.run_dir, jobs,
                                       say=say, subdir=subdir, profile=meeting is not None)
        finally:
            if waiting:
                waiting.end()
        found = native.collect(out, [name for name, _ in jobs])
        for name in names:
            self.results[name] = native.merge(self.results.get(name),
                                              native.runs_of(found, name, runs))
        self.calibration += native.runs_of(found, calibrate.CALIBRATION, cal_runs).get("runs", [])
        self.machine = self.machine or machine.of_target(self.target, ran)
        # after a boot the 1-minute average still holds the guest's own vCPU
        # threads (2 busy ones are 1.0 a core here): only the rest is load
        own = self.machine.get("guest_cpus", 0) if self.machine.get("where") == "lab" else 0
        self.machine["host_load"] = max([self.machine.get("host_load", 0.0), *before,
                                         machine.host_load(own)])
        self.kernel = ran.kernel
        if waiting and waiting.chosen:
            self.profiles.update(attribute.read(out / "profiles", waiting.chosen))

    def runs(self, name: str) -> int:
        return len(self.results.get(name, {}).get("runs", []))


class _Waiting:
    """A side's part of a meeting, beside its boot: once the guest says its
    measured runs are in (OUT/measured), meet the other sides and write the
    guest's profile.jobs (empty: profile nothing), renamed into place whole.
    The file is always written, so a guest never waits for a host that
    failed."""
    LOOK_S = 0.1   # how often the host looks for the guest's file

    def __init__(self, session: Session, meeting: Meeting, out: Path, names, runs: int,
                 perf: Path):
        self.session, self.meeting, self.out = session, meeting, out
        self.names, self.runs, self.perf = list(names), runs, perf
        self.chosen: list[str] = []
        self.error: BaseException | None = None
        self._ended = threading.Event()
        self._thread = threading.Thread(target=self._wait, daemon=True)
        self._thread.start()

    def _wait(self) -> None:
        came = False
        try:
            while not self._ended.wait(self.LOOK_S):
                if (self.out / "measured").exists():
                    found = native.collect(self.out, [f"{n}.{k}" for k in range(self.runs)
                                                      for n in self.names])
                    came = True
                    chosen = self.meeting.meet(self.session, {
                        n: native.runs_of(found, n, self.runs) for n in self.names})
                    self._write(attribute.jobs(self.perf, chosen, self.session.target.device))
                    self.chosen = chosen
                    return
        except BaseException as err:   # raised in the boot's thread by end()
            self.error = err
        finally:
            if not came:
                self.meeting.leave()
            if not (self.out / "profile.jobs").exists():
                try:
                    self._write([])
                except OSError:   # no directory: the guest never started, or is gone
                    pass

    def _write(self, jobs: list) -> None:
        part = self.out / "profile.jobs.part"
        native.write_jobs(part, jobs)
        os.replace(part, self.out / "profile.jobs")

    def end(self) -> None:
        """The boot is over: stop looking, and raise what went wrong here."""
        self._ended.set()
        self._thread.join()
        if self.error:
            raise self.error


def at_once(sessions: list[Session]) -> bool:
    return len(sessions) > 1 and all(s.target.exact for s in sessions)


def each(sessions: list[Session], work: Callable[[Session], None]) -> None:
    """work(session) for every session: at once when every one measures on
    the instruction clock (a guest's figures do not move with what else the
    host runs, so two guests on two cores cost the time of one), else one
    after the other (wall-clock figures would measure each other)."""
    if not at_once(sessions):
        for session in sessions:
            work(session)
        return
    with ThreadPoolExecutor(max_workers=len(sessions)) as pool:
        for done in [pool.submit(work, session) for session in sessions]:
            done.result()


def adaptive(sessions: list[Session], names, decided, budget: Budget | None = None,
             max_runs: int = MAX_RUNS, runs: int = RUNS, jobs_a_boot: int | None = None,
             say=lambda text: None, meeting: Meeting | None = None) -> float:
    """Boot every session over the measurements still pending until each is
    decided (decided(name) is True), has max_runs runs on every side, or the
    budget (perf/budget.py; None: no limit) cannot hold another round.
    Seconds spent.

    A boot costs far more than a run in it (under TCG here about a minute
    against a few seconds), so with jobs_a_boot a boot over fewer pending
    measurements gives each more runs: about jobs_a_boot runs a boot in all,
    at least `runs` each, never past max_runs. A round the budget cannot
    hold gets fewer runs a measurement, down to stats.MIN_RUNS (the fewest
    a verdict can use), and is not started when even that does not fit;
    except the first: it is made smaller down to FIRST_ROUND_RUNS, then run
    even over the budget (a loaded host), since without it there is nothing
    to judge at all; the budget's summary says it overran.

    With a meeting (sessions that boot at once), the first round's boots
    then profile what it chooses (Meeting)."""
    if meeting and not at_once(sessions):
        raise ValueError("a meeting needs sessions that boot at once")
    within = budget if budget is not None else Budget(None)
    pending, rounds = list(names), 0
    while pending:
        per = runs
        if jobs_a_boot:
            most = min(max_runs - max(s.runs(n) for s in sessions) for n in pending)
            per = max(runs, min(most, jobs_a_boot // len(pending)))

        def estimate(k):   # the calibration runs beside them, as Session.boot adds them
            return within.estimate(1 if at_once(sessions) else len(sessions),
                                   k * len(pending) + min(k, calibrate.RUNS_A_BOOT))
        fewest = min(per, FIRST_ROUND_RUNS) if rounds == 0 else stats.MIN_RUNS
        while per > fewest and not within.fits(estimate(per)):
            per -= 1
        what = (f"round {rounds + 1} ({len(sessions)} boot(s)"
                f"{' at once' if at_once(sessions) else ''}, {per} runs of "
                f"{len(pending)} measurement(s))")
        if rounds == 0 and not within.fits(estimate(per)):
            what += f" over budget (host load {within.load:.1f})"
        elif not within.fits(estimate(per)):
            say(f"perf: {within.refuse(what, estimate(per))}; {len(pending)} measurement(s) "
                "stay inconclusive")
            break
        within.spend(what, estimate(per),
                     lambda: each(sessions, lambda session: session.boot(
                         pending, per, meeting if rounds == 0 else None)))
        rounds += 1
        pending = [n for n in pending if not decided(n)
                   and all(s.runs(n) + runs <= max_runs for s in sessions)
                   and any("runs" in s.results.get(n, {}) for s in sessions)]
    return within.spent()


def threshold(profile: dict | None) -> float:
    value = ((profile or {}).get("perf") or {}).get("threshold", DEFAULT_THRESHOLD)
    return float(value)


def verdict_message(what: str, cmp, limit: float, where: str) -> str:
    if not cmp.ratio:   # not compared (another clock): no ratio to show
        return f"{cmp.verdict}: {what}: {cmp.note}"
    if cmp.clock == clock.INSTRUCTIONS:
        spread = "/".join(f"{s:.2%}" for s in cmp.spread or [])
        return (f"{cmp.verdict}: {cmp.ratio:.3f}x {what} (virtual ns on the instruction clock, "
                f"run spread {spread}, {cmp.runs_b} runs against {cmp.runs_a}, threshold "
                f"{limit:.0%}, {where})" + (f"; {cmp.note}" if cmp.note else ""))
    interval = f"99% CI {cmp.low:.3f}-{cmp.high:.3f}" if cmp.as_dict()["ci"] else "no interval"
    return (f"{cmp.verdict}: {cmp.ratio:.3f}x {what} ({interval}, {cmp.runs_b} runs against "
            f"{cmp.runs_a}, threshold {limit:.0%}, {where})" + (f"; {cmp.note}" if cmp.note else ""))


# Each state of a measurement -> its outcome (outcomes.MEANING); every
# verdict of perf/stats is here, so a new one is an error, not a silent SKIP.
OUTCOME = {"same": "PASS", "faster": "PASS", "slower": "FAIL", "inconclusive": "SKIP",
           "no baseline": "SKIP", "not measured": "UNSUPPORTED"}


def run(stack, fetched, target, profile_name: str, profile: dict | None, run_dir: Path,
        say=lambda text: None) -> list[Result]:
    started = time.monotonic()
    base_path = baseline.path_for(profile_name, stack.name)
    base = baseline.load(base_path) if base_path.is_file() else None
    names = list(base["measurements"]) if base else list(native.SHORT)
    limit = threshold(profile)
    session = Session(stack, fetched, target, run_dir, say=say)
    verdicts: dict = {}     # against the baseline
    recent: dict = {}       # against this machine's last checks (perf/history.py)
    kept_runs: dict = {}    # its path and entries, read once the machine is known

    def entries() -> list:
        if "entries" not in kept_runs and session.machine:
            kept_runs["path"] = history.path_for(run_dir.parent, session.machine,
                                                 profile_name, stack.name)
            try:
                kept_runs["entries"] = history.last(kept_runs["path"])
            except UsageError as err:   # raised once this run's results are written
                kept_runs.update(entries=[], error=err)
        return kept_runs.get("entries", [])

    def decided(name: str) -> bool:
        result = session.results.get(name, {})
        if "runs" not in result:
            return True           # not measured: more runs cannot help
        found = history.compare(entries(), name, result["runs"], limit, session.machine or {},
                                session.calibration, result.get("boots", 1))
        if found:
            recent[name] = found
        if base is None:
            return found is None or calibrate.settled(found)
        verdicts[name] = cmp = baseline.compare(base, name, result["runs"], limit,
                                                session.machine, session.calibration,
                                                result.get("boots", 1))
        return calibrate.settled(cmp)

    budget = Budget(BUDGET_S)
    spent = adaptive([session], names, decided, budget, jobs_a_boot=JOBS_A_BOOT, say=say)
    say(f"perf: {budget.summary()}")
    if session.machine:
        say(f"perf: figures in {clock.UNITS[session.clock]}")
    where = "lab" if session.machine and session.machine.get("where") == "lab" else "device"
    lines, kept, kept_recent = [], {}, {}
    for name in names:
        result = session.results.get(name, {"error": "did not run"})
        outcome, reason, message = "", "", ""
        if "error" in result:
            outcome, reason = "ERROR", result["error"]
        elif "unsupported" in result:
            outcome, reason = OUTCOME["not measured"], f"not measured: {result['unsupported']}"
        else:
            parts, outcomes = [], []
            if base is None:
                parts.append(f"no baseline "
                             f"{base_path.relative_to(baseline.BASELINES.parent.parent)}")
                reason = "no baseline"
                outcomes.append(OUTCOME[reason])
            else:
                cmp = verdicts[name]
                kept[name] = record.Verdict(**cmp.as_dict(), where=where)
                parts.append(verdict_message("the baseline", cmp, limit, where))
                outcomes.append(OUTCOME[cmp.verdict])
                reason = cmp.verdict
            if name in recent:   # a drift from this machine's own recent past counts too
                cmp = recent[name]
                kept_recent[name] = record.Verdict(**cmp.as_dict(), where=where)
                parts.append(verdict_message(f"the last {len(entries())} checks here", cmp,
                                             limit, where))
                outcomes.append(OUTCOME[cmp.verdict])
                reason = "slower" if "FAIL" in outcomes else reason or cmp.verdict
            outcome = "FAIL" if "FAIL" in outcomes else "PASS" if "PASS" in outcomes else "SKIP"
            message = "; ".join(parts)
        lines.append(Result(f"perf.{name}", "perf", name, outcome, raw_outcome=outcome,
                            reason=reason, message=message or reason,
                            duration_s=round(time.monotonic() - started, 3),
                            stack=stack.name, device=target.device))
    record.write(record.PerfFile(str(base_path) if base else None, limit, kept,
                                 machine=session.machine or {}, boots=session.boots,
                                 seconds=round(spent, 1), history=kept_recent,
                                 history_checks=len(entries()),
                                 budget=budget.summary(), clock=session.clock,
                                 unit=clock.UNITS[session.clock]),
                 run_dir / "perf.json")
    append_results(lines, run_dir / "results.jsonl")
    if "error" in kept_runs:
        raise kept_runs["error"]
    if "path" in kept_runs:
        history.append(kept_runs["path"], run_dir.name, session)
    return lines
