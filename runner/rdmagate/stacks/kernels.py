"""Userspace x kernel: a stack's userspace paired with another Debian kernel.

`STACK@RELEASE` (debian-12@6.12.95+deb12-amd64) or `STACK@OTHER`
(debian-12@debian-13) names the stack with that kernel, so every command
that takes a stack can pair them (check, profile capture, upgrade, kabi)
and the pair has a name of its own beside the stack's. A release is looked
up in the stack's suite, then its backports (where the newer kernels sites
move to first are: bookworm-backports carries 6.12), then every other suite;
its headers packages come from the same suite, for the kernel side."""
import dataclasses
import functools

from ..errors import InfraError, UsageError
from . import archive


def suites_for(suite: str | None) -> list[str]:
    """Where a kernel release is looked for: the suite, its backports, then
    every other suite rdmagate knows."""
    every = list(archive.SUITES + archive.BACKPORTS)
    own = [s for s in (suite, f"{suite}-backports") if s in every] if suite else []
    return own + [s for s in every if s not in own]


def _newest(suite: archive.Archive, name: str) -> dict | None:
    versions = suite.versions(name)
    return {"name": name, "version": versions[0]} if versions else None


@functools.lru_cache(maxsize=None)
def lookup(suite: str | None, release: str) -> dict:
    """The kernel dict of a manifest (release, suite, packages, headers) for
    a release, from the first suite that has its image."""
    unread = []
    for name in suites_for(suite):
        found = archive.Archive(name)
        try:
            image = _newest(found, f"linux-image-{release}") or \
                _newest(found, f"linux-image-{release}-unsigned")
        except InfraError as err:   # a suite out of reach: look on in the others
            unread.append(f"{name} ({err})")
            continue
        # from 7.x the image package is a meta package over binary and modules
        split = [] if image else [p for p in (_newest(found, f"linux-binary-{release}"),
                                              _newest(found, f"linux-modules-{release}")) if p]
        packages = [image] if image else split if len(split) == 2 else []
        if not packages:
            continue
        base = release.removesuffix("-amd64")
        series = ".".join(base.split(".")[:2])
        headers = [p for p in (_newest(found, f"linux-headers-{release}"),
                               _newest(found, f"linux-headers-{base}-common"),
                               _newest(found, f"linux-kbuild-{base}")
                               or _newest(found, f"linux-kbuild-{series}")) if p]
        return {"release": release, "packages": packages, "headers": headers, "suite": name}
    if unread:
        raise InfraError(f"kernel {release}: not found, and could not read " + "; ".join(unread))
    raise UsageError(f"kernel {release}: no Debian suite rdmagate knows has "
                     f"linux-image-{release} (looked in {', '.join(suites_for(suite))})")


def with_kernel(stack, spec: str, other=None):
    """stack on another kernel: a release, or other's kernel (a stack)."""
    if stack.kind != "debian":
        raise UsageError(f"stack {stack.name}@{spec}: another kernel goes with a Debian stack "
                         "(its userspace boots in the lab)")
    if other is not None:
        if not other.kernel:
            raise UsageError(f"stack {stack.name}@{spec}: {spec} names no kernel")
        kernel = dict(other.kernel, suite=other.kernel.get("suite") or other.suite)
    else:
        kernel = lookup(stack.suite, spec)
    return dataclasses.replace(stack, name=f"{stack.name}@{spec}", kernel=kernel,
                               description=f"{stack.description}, on kernel "
                               f"{kernel['release']}")
