"""GNU C library versions: the host's, and comparing GLIBC_x.y floors."""
import os
import re

from ..errors import InfraError

VERSION = re.compile(r"[0-9]{1,3}(\.[0-9]{1,3}){1,2}")   # a floor as inventories keep it: 2.34


def parse(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.removeprefix("GLIBC_").split(".") if part.isdigit())


def newer(a: str, b: str) -> bool:
    return parse(a) > parse(b)


def highest(versions) -> str | None:
    glibc = [v for v in versions if v.startswith("GLIBC_") and parse(v)]
    return max(glibc, key=parse).removeprefix("GLIBC_") if glibc else None


def host_glibc() -> str:
    # "glibc 2.36" on a GNU system
    version = os.confstr("CS_GNU_LIBC_VERSION")
    if version is None:
        raise InfraError("this host's C library is not GNU libc (no CS_GNU_LIBC_VERSION)")
    return version.split()[-1]
