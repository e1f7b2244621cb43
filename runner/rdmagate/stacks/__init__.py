"""RDMA software stacks: name one, fetch it, describe it exactly.

    resolve(name) -> Stack           host, debian-12, prefix:/path, or a manifest file
    fetch(stack, say) -> FetchedStack  .root (the tree), .rootfs, .needs_rootfs
    inventory(fetched) -> dict       libraries, symbols by version node, providers, ...
    kernel_stack(stack) -> Stack     the Debian stack whose kernel goes with it
    kernel_release(spec) -> str      --kernel: a release, or the release of a stack's kernel
"""
from .fetch import FetchedStack, fetch, is_fetched, kernel_debs  # noqa: F401
from .inventory import inventory  # noqa: F401
from .manifest import Stack, kernel_release, kernel_stack, known, resolve  # noqa: F401

__all__ = ["FetchedStack", "Stack", "fetch", "inventory", "is_fetched", "kernel_debs",
           "kernel_release", "kernel_stack", "known", "resolve"]
