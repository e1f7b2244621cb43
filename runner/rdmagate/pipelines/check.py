"""The check pipeline: build the harness against a stack, run its suites at
a target, keep what finished.

check(CheckRequest) resolves the stack, the target and the profile from
names and options, then runs them as harness.run.run_suites does for every
caller that resolved them itself."""
from dataclasses import dataclass

from .. import profiles, stacks, suites, targets
from ..harness import build
from ..harness.run import CheckDone, SuiteRun, run_suites
from ..outputs import plan, rundir
from ..progress import Progress


@dataclass(frozen=True)
class CheckRequest:
    stack: str = "host"
    suites: tuple[str, ...] = ()      # empty: every suite
    device: str | None = None
    use_lab: bool = False
    filters: tuple[str, ...] = ()
    timeout_s: int = plan.DEFAULT_TIMEOUT_S
    results_dir: str | None = None
    built_for: str | None = None      # binary compatibility: the suites built against this stack
    kernel: str | None = None         # another Debian kernel (a release, or a stack's) in the lab
    guest_cpus: int | None = None     # the lab guest's CPUs (default: the lab's)


def check(request: CheckRequest, progress: Progress) -> CheckDone:
    chosen = suites.select(list(request.suites) or None)
    suites.check_filters(chosen, request.filters)
    stack = stacks.resolve(request.stack)
    fetched = stacks.fetch(stack, say=progress.say)
    target = targets.choose(targets.Wanted(
        stack.name, request.device, request.use_lab, any(s.needs_device for s in chosen),
        fetched.needs_rootfs and any(s.in_harness for s in chosen),
        kernel=stacks.kernel_release(request.kernel), guest_cpus=request.guest_cpus))
    profile = profiles.load_for_device(profiles.name_for(target), say=progress.say)
    run = SuiteRun(stack, fetched, chosen, target, profile, results_dir=request.results_dir,
                   filters=request.filters, timeout_s=request.timeout_s)
    if request.built_for:
        built = stacks.resolve(request.built_for)
        built_fetched = stacks.fetch(built, say=progress.say)
        run.harness = build.build_harness(built.name, None if built.kind == "host"
                                          else built_fetched.root, say=progress.say)
        run.built_for = built.name
        run.label = f"{built.name}-build-on-{stack.name}"
    done = run_suites(run, progress)
    if request.built_for:
        rundir.RunRecord.amend(done.run_dir, built_for=request.built_for)
    return done
