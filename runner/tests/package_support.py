"""Packages crafted member by member for the tests: a .deb whose data.tar
holds exactly the members given, in their order (links, then files through
them; absolute names; duplicates), which dpkg-deb --build cannot make."""
import io
import tarfile
from pathlib import Path


def member(name: str, kind: str = "file", target: str = "", data: bytes = b"pwned\n",
           mode: int = 0o644) -> tuple[tarfile.TarInfo, bytes | None]:
    info = tarfile.TarInfo(name)
    info.mode, info.mtime = mode, 1_700_000_000
    if kind == "file":
        info.size = len(data)
        return info, data
    info.type = {"dir": tarfile.DIRTYPE, "link": tarfile.SYMTYPE, "hard": tarfile.LNKTYPE,
                 "fifo": tarfile.FIFOTYPE}[kind]
    info.linkname = target
    return info, None


def _ar_member(name: str, data: bytes) -> bytes:
    header = f"{name:<16}{0:<12}{0:<6}{0:<6}{'100644':<8}{len(data):<10}`\n".encode()
    return header + data + (b"\n" if len(data) % 2 else b"")


def _tar(members) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return out.getvalue()


def write_deb(path: Path, package: str, members) -> Path:
    """A .deb as dpkg-deb --build lays it out (ar: debian-binary, control,
    data), its data.tar holding exactly these members, in this order."""
    control = (f"Package: {package}\nVersion: 1.0\nArchitecture: amd64\n"
               "Maintainer: rdmagate tests <tests@localhost>\n"
               "Description: crafted for rdmagate's tests\n").encode()
    control_tar = _tar([member("./control", data=control)])
    path.write_bytes(b"!<arch>\n" + _ar_member("debian-binary", b"2.0\n")
                     + _ar_member("control.tar", control_tar)
                     + _ar_member("data.tar", _tar(members)))
    return path
