"""The compat pipeline: a container image's RDMA userspace judged against a
host (this machine, or a stack standing for the nodes), each check one line
of evidence, written as compat.json and junit.xml into a run directory."""
import platform
from dataclasses import dataclass, field
from pathlib import Path

from ..abi import loader, loads
from ..compat import checks, record
from ..errors import EXIT_OK, EXIT_UNEXPECTED, UsageError
from ..outputs import junit, rundir
from ..outputs.result import Result
from ..progress import Progress
from ..report import page
from ..stacks import fetch, image, resolve
from .check import CheckRequest, check

# Every Debian kernel of the known stacks (5.10 to 7.2) offers uverbs ABI 6.
DEBIAN_UVERBS_ABI = 6
LAB_SUITES = ("api", "verbs")
# junit.xml: a check that could not run is skipped there, with its reason
OUTCOME = {"ok": "PASS", "not checked": "SKIP", "breaks": "FAIL"}


@dataclass(frozen=True)
class CompatRequest:
    image: str
    host: str = "host"
    inject: tuple[Path, ...] = ()
    drivers: tuple[str, ...] = ()
    lab: bool = False
    kernel: str | None = None
    results_dir: str | None = None
    lab_suites: tuple[str, ...] = LAB_SUITES


@dataclass
class CompatDone:
    run_dir: Path
    found: record.Compat
    exit_code: int
    lab_run: Path | None = field(default=None)


def _host_kernel(host: str) -> dict:
    if host == "host":
        return checks.this_host_kernel(platform.release())
    stack = resolve(host)
    if not stack.kernel:
        raise UsageError(f"--host {host}: that stack names no kernel (give host or a debian-* "
                         "stack)")
    return {"release": stack.kernel["release"], "uverbs_abi": DEBIAN_UVERBS_ABI,
            "source": f"{host}'s kernel"}


def _lab(request: CompatRequest, name: str, kernel: dict, progress: Progress):
    """The image's userspace on the target kernel in a lab guest, with rxe."""
    done = check(CheckRequest(stack=name, suites=request.lab_suites, use_lab=True,
                              kernel=request.kernel or (request.host if request.host != "host"
                                                        else None),
                              results_dir=request.results_dir), progress)
    counts: dict[str, int] = {}
    for result in done.finished:
        counts[result.outcome] = counts.get(result.outcome, 0) + 1
    summary = ", ".join(f"{n} {o}" for o, n in sorted(counts.items())) or "no tests"
    status = "ok" if done.exit_code == EXIT_OK else "breaks"
    return checks.Check("lab", status, f"{' and '.join(request.lab_suites)} on rxe in a guest of "
                        f"{request.kernel or kernel['release']}: {summary} ({done.run_dir})",
                        "" if status == "ok" else "read the lab run's failures"), done.run_dir


def compat(request: CompatRequest, progress: Progress) -> CompatDone:
    stack = resolve(request.image)
    if stack.kind not in image.KINDS:
        raise UsageError(f"--image {request.image}: give an image (oci:PATH[:TAG] or "
                         "docker-archive:PATH[:TAG])")
    inject = checks.injected(list(request.inject))
    kernel = _host_kernel(request.host)
    wanted, source = checks.host_devices(list(request.drivers))
    fetched = fetch(stack, say=progress.say)
    side = loads.side(fetched)
    progress.say(f"loading {stack.name}'s providers with its own libibverbs")
    own = loads.run("image", loads.provider_files(side), stack.name, side, [])
    injected = loads.run("injected", inject.providers, "--inject", side, [], inject.dirs) \
        if inject.providers else None
    image_glibc = loader.root_glibc(fetched.rootfs) if fetched.rootfs else None
    found = [checks.providers_check(side, wanted, source, inject),
             checks.set_check(side, own),
             checks.inject_check(side, inject, injected),
             checks.glibc_check(side, image_glibc, inject),
             checks.kernel_check(kernel)]
    lab_run = None
    if request.lab:
        lab_check, lab_run = _lab(request, stack.name, kernel, progress)
        found.append(lab_check)
    result = record.Compat(stack.name, request.host, sorted({k for _, k in wanted}), source,
                           found, checks.verdict(found),
                           [own] + ([injected] if injected else []))
    run_dir = rundir.create(request.results_dir, "compat", stack.name.rsplit("/", 1)[-1])
    run = rundir.RunRecord(run_dir, "compat", stack=stack.name, where="host", device="none")
    record.write(result, run_dir / "compat.json")
    page.write_compat(result, run_dir / "report.html")
    junit.write([Result(f"compat.{c.name.replace(' ', '_')}", "compat",
                        c.name.replace(" ", "_"), OUTCOME[c.status],
                        reason=c.evidence, message=c.evidence, stack=stack.name)
                 for c in found], run_dir / "junit.xml")
    code = EXIT_UNEXPECTED if result.verdict == "NO-GO" else EXIT_OK
    run.finish(code, verdict=result.verdict)
    return CompatDone(run_dir, result, code, lab_run)
