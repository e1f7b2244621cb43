"""Container images made at test time: layers written here, packed as an OCI
image layout (by hand, or with Debian's umoci) or as a docker archive (as
`docker save` writes one), and Debian roots from mmdebstrap. Nothing is
fetched but Debian's packages."""
import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

from rdmagate.paths import cache_dir
from rdmagate.stacks import mirror, rootfs
from rdmagate.stacks.archive import KEYRING
from rdmagate.stacks.lock import locked
from rdmagate.stacks.manifest import resolve

HAVE_UMOCI = shutil.which("umoci") is not None
HAVE_MMDEBSTRAP = shutil.which("mmdebstrap") is not None


def layer(entries: list[tuple]) -> bytes:
    """A tar layer from (name, "file", bytes) / (name, "dir") / (name, "link",
    target) / (name, "hardlink", target) entries, in order."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, kind, *rest in entries:
            info = tarfile.TarInfo(name)
            if kind == "file":
                info.size, info.mode = len(rest[0]), 0o644
                tar.addfile(info, io.BytesIO(rest[0]))
                continue
            info.type = {"dir": tarfile.DIRTYPE, "link": tarfile.SYMTYPE,
                         "hardlink": tarfile.LNKTYPE}[kind]
            info.mode = 0o755 if kind == "dir" else 0o777
            if rest:
                info.linkname = rest[0]
            tar.addfile(info)
    return out.getvalue()


def tree_layer(root: Path) -> bytes:
    """A directory tree as one layer, names relative to it."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(root.rglob("*")):
            tar.add(path, arcname=str(path.relative_to(root)), recursive=False)
    return out.getvalue()


def _blob(directory: Path, data: bytes) -> str:
    digest = hashlib.sha256(data).hexdigest()
    (directory / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
    (directory / "blobs" / "sha256" / digest).write_bytes(data)
    return f"sha256:{digest}"


def oci_layout(directory: Path, layers: list[bytes], tag: str = "test",
               compress: bool = False) -> Path:
    """An OCI image layout with one image of these layers, written by hand."""
    directory.mkdir(parents=True)
    (directory / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    diff_ids = [f"sha256:{hashlib.sha256(data).hexdigest()}" for data in layers]
    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode()
    stored = [gzip.compress(data, mtime=0) if compress else data for data in layers]
    kind = "application/vnd.oci.image.layer.v1.tar" + ("+gzip" if compress else "")
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": _blob(directory, config), "size": len(config)},
        "layers": [{"mediaType": kind, "digest": _blob(directory, data), "size": len(data)}
                   for data in stored]}).encode()
    index = {"schemaVersion": 2, "manifests": [
        {"mediaType": "application/vnd.oci.image.manifest.v1+json",
         "digest": _blob(directory, manifest), "size": len(manifest),
         "annotations": {"org.opencontainers.image.ref.name": tag}}]}
    (directory / "index.json").write_text(json.dumps(index))
    return directory


def docker_archive(path: Path, layers: list[bytes], tag: str = "test") -> Path:
    """A docker archive as `docker save` writes it: manifest.json, the image
    configuration with its diff_ids, one tar per layer."""
    diff_ids = [f"sha256:{hashlib.sha256(data).hexdigest()}" for data in layers]
    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode()
    config_name = f"{hashlib.sha256(config).hexdigest()}.json"
    members = [(config_name, config)]
    names = []
    for diff_id, data in zip(diff_ids, layers):
        names.append(f"{diff_id[7:]}/layer.tar")
        members.append((names[-1], data))
    members.append(("manifest.json", json.dumps([{
        "Config": config_name, "RepoTags": [f"rdmagate/test:{tag}"], "Layers": names}]).encode()))
    with tarfile.open(path, "w") as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def umoci_layout(directory: Path, layer_files: list[Path], tag: str = "test") -> Path:
    """An OCI image layout made by umoci from tar layers (umoci gzips them)."""
    subprocess.run(["umoci", "init", "--layout", str(directory)], check=True)
    subprocess.run(["umoci", "new", "--image", f"{directory}:{tag}"], check=True)
    for path in layer_files:
        subprocess.run(["umoci", "raw", "add-layer", "--image", f"{directory}:{tag}",
                        str(path)], check=True)
    return directory


def debian_root(stack_name: str, without: tuple[str, ...] = ()) -> Path:
    """A Debian root file system as a tar, from mmdebstrap with a stack's
    exact rdma-core packages (less those in without) and what the lab needs;
    made once per package list in the cache."""
    stack = resolve(stack_name)
    include = [f"{n}={v}" for n, v in stack.packages if n not in without] + list(rootfs.EXTRA)
    key = hashlib.sha256(json.dumps([stack.suite, include]).encode()).hexdigest()[:12]
    entry = cache_dir() / "test-images" / f"{stack_name}-{key}"
    tar = entry / "root.tar"
    with locked(entry):
        if not tar.is_file():
            partial = entry / ".partial-root.tar"
            source = mirror.find()
            subprocess.run(["mmdebstrap", "--mode=unshare", "--quiet", "--variant=essential",
                            "--format=tar",
                            f"--include={','.join(include)}", f"--keyring={KEYRING}",
                            *rootfs.host_apt_options(), stack.suite, str(partial),
                            f"deb [signed-by={KEYRING}] {source} {stack.suite} main"],
                           check=True, stdin=subprocess.DEVNULL)
            os.rename(partial, tar)
    return tar
