"""An image's layers laid into one root, in order, with their whiteouts.

Each layer is a tar stream (plain or gzip), read once, its digest checked as
it streams. Every member goes through the guarded writer of package sets
(extract.py): nothing is ever written through a link that leaves the root.
A whiteout `.wh.NAME` removes NAME of the layers below (the link itself, never
what it points to); `.wh..wh..opq` empties its directory of the layers below.
The root is built beside its final name and renamed when whole, so a refused
or broken image leaves nothing."""
import gzip
import hashlib
import os
import shutil
import tarfile
import tempfile
from pathlib import Path

from ..errors import UsageError
from . import extract
from .image import Image, Layer, check_digest

WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"
GZIP, ZSTD = b"\x1f\x8b", b"\x28\xb5\x2f\xfd"


class _Hashing:
    """A read-only stream that hashes what passes through it."""

    def __init__(self, stream):
        self.stream, self.digest = stream, hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(size)
        self.digest.update(data)
        return data

    def drain(self) -> None:
        while self.read(1 << 20):
            pass


def _remove(path: Path) -> None:
    """A path of a lower layer gone: a link or file unlinked, a directory
    removed with what is in it (rmtree never follows a link inside)."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.is_symlink() or path.exists():
        path.unlink()


def _whiteout(writer: "extract.Writer", name: str, created: set[str]) -> None:
    parent, _, base = name.rpartition("/")
    directory = writer.directory(parent)
    if base == OPAQUE:
        for child in list(directory.iterdir()):
            if f"{parent}/{child.name}".lstrip("/") not in created:
                _remove(child)
        return
    hidden = base[len(WHITEOUT):]
    if hidden in ("", ".", ".."):
        raise UsageError(f"{writer.label}: {name}: a whiteout of no file")
    _remove(directory / hidden)


def _apply(layer: Layer, writer: "extract.Writer") -> None:
    with layer.source.open(layer.member) as raw:
        stored = _Hashing(raw)
        head = stored.read(4)
        stream = _Prefixed(head, stored)
        if head.startswith(ZSTD):
            raise UsageError(f"{writer.label}: compressed with zstd, which rdmagate does not "
                             "read; convert the image to gzip layers (skopeo copy "
                             "--dest-compress-format gzip)")
        plain = _Hashing(gzip.GzipFile(fileobj=stream) if head.startswith(GZIP) else stream)
        created: set[str] = set()
        try:
            with tarfile.open(fileobj=plain, mode="r|") as tar:
                for member in tar:
                    name = extract.member_name(writer.label, member.name)
                    base = name.rpartition("/")[2]
                    if base.startswith(WHITEOUT):
                        _whiteout(writer, name, created)
                        continue
                    writer.write(member, tar)
                    created.add(name)
            plain.drain()
            stored.drain()
        except (tarfile.TarError, EOFError, OSError, gzip.BadGzipFile) as err:
            if isinstance(err, OSError) and err.errno is not None:
                raise
            raise UsageError(f"{writer.label}: not a tar layer ({err})") from None
    if layer.digest:
        check_digest(writer.label.split(": ")[0], layer.label, layer.digest,
                     stored.digest.hexdigest())
    if layer.diff_id:
        check_digest(writer.label.split(": ")[0], layer.label, layer.diff_id,
                     plain.digest.hexdigest())


class _Prefixed:
    """A stream with its first bytes, already read, put back in front."""

    def __init__(self, head: bytes, stream):
        self.head, self.stream = head, stream

    def read(self, size: int = -1) -> bytes:
        if not self.head:
            return self.stream.read(size)
        if size < 0:
            data, self.head = self.head + self.stream.read(), b""
            return data
        data, self.head = self.head[:size], self.head[size:]
        return data + (self.stream.read(size - len(data)) if len(data) < size else b"")


def unpack(image: Image, dest: Path, say=lambda text: None) -> Path:
    """The image's root file system at dest, built whole or not at all."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.partial-", dir=dest.parent))
    try:
        budget = extract.Budget()
        for layer in image.layers:
            say(f"laying {image.name} {layer.label} into {dest}")
            _apply(layer, extract.Writer(tmp, f"{image.name}: {layer.label}", budget))
        os.rename(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        image.layers[0].source.close()
    return dest
