"""The upgrade pipeline: the gate A to B (gate.py runs its phases), its
outputs written also when it is killed, and its exit code."""
from dataclasses import dataclass
from pathlib import Path

from ..report import page
from ..outputs import rundir
from .. import stacks
from ..kabi import modules as kabi_modules
from ..errors import EXIT_INFRA, EXIT_OK, EXIT_UNEXPECTED, UsageError
from ..progress import Progress
from . import gate
from .gate import UpgradeRequest
from ..upgrade import actions, junit_of, verdict
from ..upgrade.record import Upgrade


@dataclass
class UpgradeDone:
    run_dir: Path
    record: Upgrade
    exit_code: int


def upgrade(request: UpgradeRequest, progress: Progress) -> UpgradeDone:
    if request.nodes == 2 and request.device:
        raise UsageError("--nodes 2 is for the lab; with --device the second node would be "
                         "another host, which the gate does not drive")
    for name in (request.old, request.new):   # a misspelt stack is a usage error, before anything runs
        stacks.resolve(name)
    with kabi_modules.gathered(list(request.modules)):   # and so is a file that is no module
        pass
    run_dir = rundir.create(request.results_dir, "upgrade",
                            f"{request.old}-{request.new}").resolve()
    record = rundir.RunRecord(run_dir, "upgrade", stack=request.new, from_stack=request.old,
                              device=request.device or "auto",
                              where="lab" if request.in_lab else "auto")
    the_gate = gate.Gate(request, run_dir, progress)
    try:
        the_gate.run()
    finally:
        # A killed gate still leaves what it found, as a report.
        the_gate.save()
        write_outputs(run_dir, the_gate.upgrade)
        code = exit_code(the_gate.upgrade)
        record.finish(code, verdict=the_gate.upgrade.verdict)
    return UpgradeDone(run_dir, the_gate.upgrade, code)


def write_outputs(run_dir: Path, upgrade: Upgrade) -> None:
    page.write(upgrade, run_dir / "report.html")
    junit_of.write(upgrade, run_dir / "junit.xml")
    actions.write_sarif(upgrade, run_dir / "findings.sarif")


def exit_code(upgrade: Upgrade) -> int:
    if upgrade.verdict == verdict.NOT_TESTED or all(p.status != "done" for p in upgrade.phases):
        return EXIT_INFRA
    return EXIT_UNEXPECTED if upgrade.verdict == "NO-GO" else EXIT_OK
