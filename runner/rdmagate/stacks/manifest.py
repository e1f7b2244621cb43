"""Stack manifests (stacks/*.yaml) and the built-in kinds host and prefix:."""
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

from .. import files
from ..errors import UsageError
from ..paths import REPO_ROOT
from . import image, kernels, names, packages
from .archive import BACKPORTS, SUITES

STACKS_DIR = REPO_ROOT / "stacks"
FIELDS = {
    "debian": {"name", "kind", "description", "suite", "rdma_core", "packages", "kernel"},
    "prefix": {"name", "kind", "description", "path"},
}
REQUIRED = {"debian": {"name", "kind", "suite", "packages"}, "prefix": {"name", "kind", "path"}}


@dataclass
class Stack:
    name: str
    kind: str                      # debian, host, prefix, debs, rpms, oci or docker-archive
    description: str = ""
    suite: str | None = None
    rdma_core: str | None = None
    packages: list[tuple[str, str]] = field(default_factory=list)
    kernel: dict | None = None     # {"release", "packages", "headers": [{"name", "version"}]}
    prefix: Path | None = None
    manifest: Path | None = None


def known() -> list[str]:
    return sorted(p.stem for p in STACKS_DIR.glob("*.yaml"))


def resolve(name: str) -> Stack:
    """host, a manifest name (debian-12), prefix:/path, debs:DIR, rpms:DIR, a
    manifest file, or any Debian one of them @ another kernel (debian-12@debian-13)."""
    if name == "host":
        return Stack("host", "host", "the RDMA stack installed on this machine")
    for kind in packages.KINDS:
        if name.startswith(f"{kind}:"):
            return _package_set(kind, name)
    for kind in image.KINDS:
        if name.startswith(f"{kind}:"):
            return _image(kind, name)
    base, at, spec = name.partition("@")
    if at and not name.startswith("prefix:"):
        # a stack's userspace on another Debian kernel (stacks/kernels.py)
        if not spec:
            raise UsageError(f"stack {name}: give a kernel after @ (a release such as "
                             "6.12.95+deb12-amd64, or a stack such as debian-13)")
        return kernels.with_kernel(resolve(base), spec, resolve(spec) if spec in known() else None)
    if name.startswith("prefix:"):
        path = _home(name[len("prefix:"):], f"--stack {name}")
        return _prefix(name, path, f"the tree at {path}", None)
    if name.endswith((".yaml", ".yml")) or "/" in name:
        return load(Path(name))
    path = STACKS_DIR / f"{name}.yaml"
    if not path.is_file():
        raise UsageError(f"unknown stack {name!r} (known: host, prefix:/path, debs:DIR, rpms:DIR, "
                         "oci:PATH[:TAG], docker-archive:PATH[:TAG], "
                         f"{', '.join(known())}, or a manifest file)")
    return load(path)


def _home(given: str, where: str) -> Path:
    """A path as given, with ~ or ~user expanded; UsageError for a user
    this system does not know."""
    try:
        return Path(given).expanduser()
    except RuntimeError:   # pathlib: "Could not determine home directory"
        raise UsageError(f"{where}: {given.split('/')[0]}: no such user here") from None


def _prefix(name: str, path: Path, description: str, manifest: Path | None) -> Stack:
    if not path.is_dir():
        where = f"{manifest}: field path" if manifest else f"--stack {name}"
        raise UsageError(f"{where}: {path} is not a directory")
    return Stack(name, "prefix", description, prefix=path.resolve(), manifest=manifest)


def _package_set(kind: str, name: str) -> Stack:
    """debs:DIR or rpms:DIR: the path is the user's, resolved; the packages'
    names and versions are its inventory's tools, as a Debian stack's."""
    given = name.split(":", 1)[1]
    if not given:
        raise UsageError(f"--stack {name}: give the directory of the packages ({kind}:DIR)")
    path = _home(given, f"--stack {name}").resolve()
    files = packages.package_files(kind, path, name)
    return Stack(f"{kind}:{path}", kind, f"the {len(files)} {packages.KINDS[kind]} packages "
                 f"in {path}", packages=[packages.metadata(kind, f) for f in files], prefix=path)


def _image(kind: str, name: str) -> Stack:
    """oci:PATH[:TAG] or docker-archive:PATH[:TAG]: the image's path and tag as
    given; its layers are read when it is fetched."""
    path, tag = image.split_name(kind, name)
    full = f"{kind}:{path}" + (f":{tag}" if tag else "")
    return Stack(full, kind, f"the container image {path}" + (f" tagged {tag}" if tag else ""),
                 prefix=path)


def _fail(path: Path, field_name: str, problem: str) -> NoReturn:
    raise UsageError(f"{path}: field {field_name}: {problem}")


def load(path: Path) -> Stack:
    data = files.load_yaml(path, "a manifest")
    if not isinstance(data, dict):
        raise UsageError(f"{path}: a manifest is a mapping of fields")
    kind = data.get("kind")
    if not isinstance(kind, str) or kind not in FIELDS:
        _fail(path, "kind", f"must be one of {', '.join(FIELDS)}, not {kind!r}")
    for name in sorted(set(data) - FIELDS[kind], key=str):
        _fail(path, name, f"unknown field{files.nearest(name, FIELDS[kind])} (a {kind} manifest "
              f"has {', '.join(sorted(FIELDS[kind]))})")
    for name in sorted(REQUIRED[kind] - set(data)):
        _fail(path, name, "missing")
    for name in ("name", "description", "suite", "rdma_core", "path"):
        if name in data and not isinstance(data[name], str):
            _fail(path, name, "must be a string")
    # The name is a directory in the cache and the build tree (stacks/NAME).
    names.stack(data["name"], f"{path}: field name")
    if kind == "prefix":
        return _prefix(data["name"], _home(data["path"], f"{path}: field path"),
                       data.get("description", ""), path)
    if data["suite"] not in SUITES:
        _fail(path, "suite", f"{data['suite']!r} is not one of {', '.join(SUITES)}")
    return Stack(data["name"], "debian", data.get("description", ""), data["suite"],
                 data.get("rdma_core"), _packages(path, "packages", data["packages"]),
                 _kernel(path, data.get("kernel")), manifest=path)


def _packages(path: Path, where: str, value) -> list[tuple[str, str]]:
    if not isinstance(value, list) or not value:
        _fail(path, where, "must be a non-empty list of {name, version}")
    pairs = []
    for index, item in enumerate(value):
        if not isinstance(item, dict) or set(item) != {"name", "version"} or \
                not all(isinstance(v, str) and v for v in item.values()):
            _fail(path, f"{where}[{index}]", "must be {name: PACKAGE, version: EXACT-VERSION}")
        # Both reach apt's argv (NAME=VERSION) and a cached .deb's file name.
        pairs.append((names.package(item["name"], f"{path}: field {where}[{index}].name"),
                      names.version(item["version"], f"{path}: field {where}[{index}].version")))
    return pairs


def _kernel(path: Path, value) -> dict | None:
    if value is None:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("release"), str):
        _fail(path, "kernel.release", "missing or not a string")
    if set(value) - {"release", "packages", "headers", "suite"}:
        _fail(path, "kernel", "has fields other than release, packages, headers and suite")
    # another suite's kernel under this userspace (bookworm-backports' 6.12)
    if "suite" in value and value["suite"] not in SUITES + BACKPORTS:
        _fail(path, "kernel.suite", f"{value['suite']!r} is not one of "
              f"{', '.join(SUITES + BACKPORTS)}")
    names.kernel_release(value["release"], f"{path}: field kernel.release")
    packages = _packages(path, "kernel.packages", value.get("packages"))
    headers = _packages(path, "kernel.headers", value["headers"]) if "headers" in value else []
    return {"release": value["release"],
            "packages": [{"name": n, "version": v} for n, v in packages],
            "headers": [{"name": n, "version": v} for n, v in headers],
            **({"suite": value["suite"]} if "suite" in value else {})}


def kernel_stack(stack):
    """The stack whose kernel the lab boots: a Debian stack's own; for host and
    prefix stacks, the Debian release this host runs (from /etc/os-release)."""
    if stack.kind == "debian":
        return stack
    fields = dict(line.split("=", 1) for line in
                  Path("/etc/os-release").read_text().splitlines() if "=" in line)
    name = f"debian-{fields.get('VERSION_ID', '').strip(chr(34))}"
    if fields.get("ID") == "debian" and name in known():
        return resolve(name)
    raise UsageError(f"stack {stack.name}: no Debian kernel goes with it on this host; "
                     "run a debian-* stack in the lab")


def kernel_release(spec: str | None) -> str | None:
    """--kernel: a release (6.12.95+deb12-amd64), or a stack whose kernel it is
    (debian-13), as the release it names."""
    if spec and spec in known():
        kernel = resolve(spec).kernel
        if not kernel:
            raise UsageError(f"--kernel {spec}: that stack names no kernel")
        return kernel["release"]
    return names.kernel_release(spec, "--kernel") if spec else spec
