"""The lab: a Debian kernel in QEMU with soft-RoCE, where no RDMA device is.

    Lab(stack, why, nodes)               the target (guests.py)
    available() -> bool                  QEMU is installed
    run(Boot, argv, ...) -> LabResult    one batch run, booted and powered off (run.py)
    shell(Boot, argv)                    one guest on this terminal (lab shell)
"""
from .guests import DEVICE, Lab  # noqa: F401
from .qemu import available  # noqa: F401
from .run import Boot, LabResult, run, shell  # noqa: F401

__all__ = ["DEVICE", "Boot", "Lab", "LabResult", "available", "run", "shell"]
