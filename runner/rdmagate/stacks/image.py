"""Container images as stacks: oci:PATH[:TAG] (an OCI image layout, a
directory or a tar of one) and docker-archive:PATH[:TAG] (what `docker save`
writes).

An image is read by its own index, never run: the manifest names the layers
in order, each layer is checked against the digest the manifest (OCI) or the
image configuration (docker's diff_ids) gives for it, and the layers are laid
into the cache one after another with their whiteouts (layers.py), so the
tree is the image's root file system as a container runtime would see it."""
import hashlib
import json
import tarfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import UsageError

KINDS = {"oci": "an OCI image layout", "docker-archive": "a docker archive"}
INDEX_LIMIT = 4 << 20           # index.json, manifests and configs are small JSON
REF_NAME = "org.opencontainers.image.ref.name"
MANIFEST_TYPES = ("application/vnd.oci.image.manifest.v1+json",
                  "application/vnd.docker.distribution.manifest.v2+json")
INDEX_TYPES = ("application/vnd.oci.image.index.v1+json",
               "application/vnd.docker.distribution.manifest.list.v2+json")


@dataclass
class Layer:
    label: str             # how messages name it: its digest or archive member
    digest: str | None     # sha256:... of the bytes as stored (OCI), checked on read
    diff_id: str | None    # sha256:... of the uncompressed tar (docker), checked on read
    source: "_Source"
    member: str            # the file in the layout or archive


@dataclass
class Image:
    name: str              # the stack name: kind:PATH[:TAG]
    path: Path
    tag: str | None
    key: str               # what the cache entry is keyed by (the manifest's digest)
    layers: list[Layer]
    architecture: str | None


def split_name(kind: str, name: str) -> tuple[Path, str | None]:
    """kind:PATH[:TAG] as (the path, resolved; the tag). A tag never holds a
    '/', so PATH:TAG is told from a path with a colon by the last part."""
    given = name.split(":", 1)[1]
    if not given:
        raise UsageError(f"--stack {name}: give the image's path ({kind}:PATH[:TAG])")
    path_text, colon, tag = given.rpartition(":")
    if not colon or "/" in tag or not path_text or Path(given).expanduser().exists():
        path_text, tag = given, ""
    path = Path(path_text).expanduser().resolve()
    if not path.exists():
        raise UsageError(f"--stack {name}: {path} does not exist")
    return path, tag or None


class _Source:
    """The files of an image as a directory or an (uncompressed) tar holds
    them, each opened only when it is a regular file inside the image."""

    def __init__(self, path: Path, name: str):
        self.path, self.name = path, name
        self.tar = None
        if path.is_file():
            try:
                self.tar = tarfile.open(path, "r:")
            except (tarfile.TarError, OSError) as err:
                raise UsageError(f"{name}: {path} is not a directory or a tar of an image "
                                 f"({err})") from None
            self.members = {m.name.removeprefix("./"): m for m in self.tar.getmembers()}
        elif not path.is_dir():
            raise UsageError(f"{name}: {path} is neither a directory nor a file")

    def close(self) -> None:
        if self.tar is not None:
            self.tar.close()

    def open(self, member: str):
        """A binary stream of one file of the image; UsageError when it is not
        a regular file of it."""
        member = member.removeprefix("./")
        if member.startswith("/") or ".." in Path(member).parts:
            raise UsageError(f"{self.name}: {member!r} names a file outside the image")
        if self.tar is not None:
            found = self.members.get(member)
            if found is None or not found.isfile():
                raise UsageError(f"{self.name}: the image has no file {member}")
            return self.tar.extractfile(found)
        path = self.path / member
        if path.is_symlink() or not path.is_file():
            raise UsageError(f"{self.name}: the image has no regular file {member}")
        return open(path, "rb")

    def json(self, member: str, digest: str | None = None):
        with self.open(member) as stream:
            data = stream.read(INDEX_LIMIT + 1)
        if len(data) > INDEX_LIMIT:
            raise UsageError(f"{self.name}: {member} is over {INDEX_LIMIT >> 20} MiB, "
                             "which no image index or configuration is")
        if digest is not None:
            check_digest(self.name, member, digest, hashlib.sha256(data).hexdigest())
        try:
            return json.loads(data)
        except (ValueError, RecursionError) as err:
            raise UsageError(f"{self.name}: {member} is not JSON ({err})") from None


def check_digest(name: str, what: str, digest: str, actual: str) -> None:
    algorithm, _, wanted = digest.partition(":")
    if algorithm != "sha256":
        raise UsageError(f"{name}: {what}: digest {digest!r} is not sha256, the only one "
                         "rdmagate checks")
    if wanted != actual:
        raise UsageError(f"{name}: {what} does not match its digest "
                         f"(sha256:{actual[:16]}..., expected {digest[:23]}...): "
                         "the image is damaged or was altered")


def _blob(digest, name: str) -> str:
    if not isinstance(digest, str) or not digest.startswith("sha256:") or \
            len(digest) != 71 or not all(c in "0123456789abcdef" for c in digest[7:]):
        raise UsageError(f"{name}: {digest!r} is not a sha256 digest")
    return f"blobs/sha256/{digest[7:]}"


def _field(data, key: str, kind, name: str, where: str):
    value = data.get(key) if isinstance(data, dict) else None
    if not isinstance(value, kind):
        raise UsageError(f"{name}: {where}: field {key} is missing or not a "
                         f"{'list' if kind is list else 'string' if kind is str else 'mapping'}")
    return value


def _pick(entries: list, tag: str | None, name: str, where: str, tags) -> dict:
    """The entry of an index that tag names, or the only one."""
    if tag is not None:
        found = [e for e in entries if tag in tags(e)]
        if not found:
            known = sorted({t for e in entries for t in tags(e)})
            raise UsageError(f"{name}: no image tagged {tag!r} in {where} "
                             f"(tags: {', '.join(known) or 'none'})")
        return found[0]
    if len(entries) != 1:
        known = sorted({t for e in entries for t in tags(e)})
        raise UsageError(f"{name}: {where} holds {len(entries)} images; name one with "
                         f":TAG (tags: {', '.join(known) or 'none'})")
    return entries[0]


def _platform_manifest(source: _Source, index: dict, name: str) -> dict:
    """An image index (several platforms) narrowed to linux/amd64."""
    for entry in _field(index, "manifests", list, name, "image index"):
        platform = entry.get("platform", {}) if isinstance(entry, dict) else {}
        if platform.get("os") == "linux" and platform.get("architecture") == "amd64":
            return entry
    raise UsageError(f"{name}: the image index has no linux/amd64 image")


def _oci(source: _Source, name: str, tag: str | None, path: Path) -> Image:
    layout = source.json("oci-layout")
    if not isinstance(layout, dict) or "imageLayoutVersion" not in layout:
        raise UsageError(f"{name}: oci-layout has no imageLayoutVersion: not an OCI image layout")
    index = source.json("index.json")
    entries = _field(index, "manifests", list, name, "index.json")
    entry = _pick(entries, tag, name, "index.json",
                  lambda e: [e.get("annotations", {}).get(REF_NAME)] if isinstance(e, dict)
                  and isinstance(e.get("annotations"), dict) else [])
    digest = _field(entry, "digest", str, name, "index.json")
    manifest = source.json(_blob(digest, name), digest)
    while entry.get("mediaType") in INDEX_TYPES or (isinstance(manifest, dict)
                                                    and "manifests" in manifest):
        entry = _platform_manifest(source, manifest, name)
        digest = _field(entry, "digest", str, name, "image index")
        manifest = source.json(_blob(digest, name), digest)
    config_digest = _field(_field(manifest, "config", dict, name, "manifest"), "digest", str,
                           name, "manifest config")
    config = source.json(_blob(config_digest, name), config_digest)
    layers = []
    for number, layer in enumerate(_field(manifest, "layers", list, name, "manifest"), 1):
        layer_digest = _field(layer, "digest", str, name, f"manifest layer {number}")
        layers.append(Layer(f"layer {number} ({layer_digest[:19]})", layer_digest, None,
                            source, _blob(layer_digest, name)))
    return Image(name, path, tag, digest.partition(":")[2][:16], layers,
                 config.get("architecture") if isinstance(config, dict) else None)


def _docker(source: _Source, name: str, tag: str | None, path: Path) -> Image:
    entries = source.json("manifest.json")
    if not isinstance(entries, list) or not entries:
        raise UsageError(f"{name}: manifest.json is not a list of images: not a docker archive")
    entry = _pick(entries, tag, name, "manifest.json",
                  lambda e: [t.rpartition(":")[2] for t in e.get("RepoTags") or []
                             if isinstance(t, str)] if isinstance(e, dict) else [])
    config_member = _field(entry, "Config", str, name, "manifest.json")
    with source.open(config_member) as stream:
        config_bytes = stream.read(INDEX_LIMIT + 1)
    config = source.json(config_member)
    diff_ids = config.get("rootfs", {}).get("diff_ids") if isinstance(config, dict) else None
    members = _field(entry, "Layers", list, name, "manifest.json")
    if not isinstance(diff_ids, list) or len(diff_ids) != len(members):
        raise UsageError(f"{name}: {config_member}: rootfs.diff_ids does not list one digest "
                         f"per layer ({len(members)} layers)")
    layers = [Layer(f"layer {number} ({member})", None, diff_id, source, member)
              for number, (member, diff_id) in enumerate(zip(members, diff_ids), 1)]
    key = hashlib.sha256(config_bytes).hexdigest()[:16]
    return Image(name, path, tag, key, layers,
                 config.get("architecture") if isinstance(config, dict) else None)


def read(kind: str, name: str) -> Image:
    """The image a stack name points at, its index read and its layers listed
    (their contents are checked as they are laid out)."""
    path, tag = split_name(kind, name)
    source = _Source(path, name)
    try:
        image = (_oci if kind == "oci" else _docker)(source, name, tag, path)
    except BaseException:
        source.close()
        raise
    if image.architecture not in (None, "amd64"):
        source.close()
        raise UsageError(f"{name}: the image is built for {image.architecture}, not amd64")
    if not image.layers:
        source.close()
        raise UsageError(f"{name}: the image has no layers")
    return image
