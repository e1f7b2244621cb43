"""The gate keeps what a phase found when the phase fails or is interrupted
after finding it (pipelines/gate.py: phases return their sections, keep_now
writes a partial one): the abi phase's findings stand when the provider
loads after them fail or are interrupted. The comparison is a real
AbiReport of one finding, compare_stacks and the loads replaced."""
import io
import tempfile
import unittest
from pathlib import Path
from unittest import mock

from rdmagate.abi.compare import AbiReport
from rdmagate.abi.findings import Finding
from rdmagate.errors import InfraError
from rdmagate.pipelines import gate
from rdmagate.progress import Progress
from rdmagate.upgrade import record

REMOVED = Finding("libibverbs", "symbol removed", "breaking", "applications",
                  "ibv_old_call removed", symbol="ibv_old_call", version="IBVERBS_1.1")


def report(*args, **kwargs) -> AbiReport:
    return AbiReport({"stack": {"name": "debian-12"}}, {"stack": {"name": "debian-13"}},
                     [REMOVED])


class AbiPhaseKept(unittest.TestCase):
    def abi_phase(self, loads_fail: BaseException) -> record.Upgrade:
        """The abi phase with its provider loads failing; upgrade.json as written."""
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        run_dir = Path(tmp.name)
        the_gate = gate.Gate(gate.UpgradeRequest("debian-12", "debian-13"), run_dir,
                             Progress(io.StringIO(), enabled=False))
        with mock.patch.object(gate, "compare_stacks", report), \
                mock.patch.object(gate.Gate, "provider_loads", side_effect=loads_fail):
            try:
                the_gate.run_phase("abi")
            except KeyboardInterrupt:
                pass
        return record.load(run_dir / "upgrade.json")

    def assertKept(self, written: record.Upgrade, note: str):
        phase = next(p for p in written.phases if p.name == "abi")
        self.assertEqual((phase.status, phase.note), ("failed", note))
        self.assertIsNotNone(written.abi)
        self.assertEqual(written.abi.findings[0].symbol, "ibv_old_call")
        self.assertEqual(written.abi.verdicts["applications"].verdict, "BREAKS")
        self.assertIsNone(written.abi.loads)   # never loaded
        self.assertEqual(written.verdict, "NO-GO")   # the finding counts

    def test_findings_stand_when_the_loads_fail(self):
        self.assertKept(self.abi_phase(InfraError("cannot start the loader")),
                        "cannot start the loader")

    def test_findings_stand_when_the_loads_are_interrupted(self):
        self.assertKept(self.abi_phase(KeyboardInterrupt()), "interrupted")


if __name__ == "__main__":
    unittest.main()
