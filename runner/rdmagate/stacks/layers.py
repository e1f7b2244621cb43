"""An image's layers laid into one root, in order, with their whiteouts.

Each layer is a tar stream (plain or gzip), read once, its digest checked as
it streams. Every member goes through the guarded tree of package sets
(extract.py): nothing is ever written through a link that leaves the root.
A whiteout `.wh.NAME` removes NAME of the layers below (the link itself, never
what it points to); `.wh..wh..opq` empties its directory of the layers below.
The root is built beside its final name and renamed when whole, so a refused
or broken image leaves nothing."""
import gzip
import hashlib
import os
import shutil
import tempfile
import zlib
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


class LayerTree(extract.Tree):
    """The package sets' guarded tree, with a container layer's own rules:
    whiteouts, and a lower layer's file or directory replaced by this one's."""

    def __init__(self, root: Path):
        super().__init__(root)
        self.created: set[tuple[str, ...]] = set()   # this layer's own names

    def next_layer(self) -> None:
        self.finish()
        self._modes = {}
        self.created = set()

    def place(self, tar, member, label: str, seen: set) -> None:
        parts = self.parts(member.name, label, member.name)
        if parts and parts[-1].startswith(WHITEOUT):
            self._whiteout(parts, label, member.name)
            return
        super().place(tar, member, label, seen)
        self.created.add(parts)

    def _whiteout(self, parts: tuple[str, ...], label: str, name: str) -> None:
        directory = self.directory(parts[:-1], label, name)
        if parts[-1] == OPAQUE:
            for child in list(directory.iterdir()):
                if (*parts[:-1], child.name) not in self.created:
                    _remove(child)
        else:
            hidden = parts[-1][len(WHITEOUT):]
            if hidden in ("", ".", ".."):
                self.refuse(label, name, "a whiteout of no file")
            _remove(directory / hidden)
        self._real = {(): self.root}   # a removed link or directory may be remembered

    def _clear(self, path: Path, label: str, member: str) -> None:
        if path.is_dir() and not path.is_symlink():
            relative = path.relative_to(self.root).parts
            if relative in self.created:
                self.refuse(label, member, "an earlier member made it a directory")
            shutil.rmtree(path)   # a lower layer's directory, replaced
            self._real = {(): self.root}
            return
        super()._clear(path, label, member)


def _remove(path: Path) -> None:
    """A path of a lower layer gone: a link or file unlinked, a directory
    removed with what is in it (rmtree never follows a link inside)."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.is_symlink() or path.exists():
        path.unlink()


def _apply(layer: Layer, tree: LayerTree, label: str) -> None:
    with layer.source.open(layer.member) as raw:
        stored = _Hashing(raw)
        head = stored.read(4)
        stream = _Prefixed(head, stored)
        if head.startswith(ZSTD):
            raise UsageError(f"{label}: compressed with zstd, which rdmagate does not "
                             "read; convert the image to gzip layers (skopeo copy "
                             "--dest-compress-format gzip)")
        # gzip reads a stream forward: _Prefixed needs no seek, which the stubs ask for
        plain = _Hashing(gzip.GzipFile(fileobj=stream)   # type: ignore[call-overload]
                         if head.startswith(GZIP) else stream)
        try:
            tree.add(plain, label)
            plain.drain()
            stored.drain()
        except (OSError, EOFError, zlib.error) as err:
            if isinstance(err, OSError) and err.errno is not None:
                raise
            raise UsageError(f"{label}: not a readable archive ({err})") from None
    name = label.split(": ")[0]
    if layer.digest:
        check_digest(name, layer.label, layer.digest, stored.digest.hexdigest())
    if layer.diff_id:
        check_digest(name, layer.label, layer.diff_id, plain.digest.hexdigest())


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
        tree = LayerTree(tmp)
        for layer in image.layers:
            say(f"laying {image.name} {layer.label} into {dest}")
            _apply(layer, tree, f"{image.name}: {layer.label}")
            tree.next_layer()
        os.rename(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        image.layers[0].source.close()
    return dest
