"""The lab: a Debian kernel in QEMU with soft-RoCE, where no RDMA device is.

    available() -> bool            QEMU is installed
    run(stack, argv, ...) -> LabResult   see run.py
"""
from .qemu import available  # noqa: F401
from .run import LabResult, run  # noqa: F401
