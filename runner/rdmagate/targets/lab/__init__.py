"""The lab: a Debian kernel in QEMU with soft-RoCE, where no RDMA device is.

    Lab(stack, why, nodes)               the target (guests.py)
    available() -> bool                  QEMU is installed
    run(stack, argv, ...) -> LabResult   one run, booted and powered off (run.py)
"""
from .guests import DEVICE, Lab  # noqa: F401
from .qemu import available  # noqa: F401
from .run import LabResult, run  # noqa: F401

__all__ = ["DEVICE", "Lab", "LabResult", "available", "run"]
