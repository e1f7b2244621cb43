"""A stack's kernel inputs: its Debian headers packages (Module.symvers,
.config, kbuild) unpacked into the cache, and the facts of its kernel image
(vermagic and the size of struct module, read from one of its modules); or,
when the headers are not in the cache, the stack's committed baseline."""
import hashlib
import json
import re
import tarfile
from dataclasses import dataclass, replace
from pathlib import Path

from .. import files, tools
from ..errors import InfraError, UsageError
from ..paths import cache_dir
from ..stacks import archive, resolve
from ..stacks.fetch import kernel_debs
from ..stacks.lock import locked
from . import baseline, modules, symvers

CONFIG_KEYS = ("CONFIG_MODVERSIONS", "CONFIG_MODULE_SIG", "CONFIG_MODULE_SIG_FORCE",
               "CONFIG_MODULE_FORCE_LOAD", "CONFIG_DEBUG_INFO_BTF", "CONFIG_MODULE_ALLOW_BTF_MISMATCH")
PROBE = "ib_core"
RELEASE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]*")   # a path component, never ../   # any module of the image gives vermagic and struct module's size


@dataclass
class KernelSide:
    stack: str
    release: str
    exports: dict[str, symvers.Export]
    facts: dict          # release, vermagic, this_module_size, config, exports_total, packages
    source: str          # where it came from, for the report
    area: str            # what exports holds: rdma or all
    ref: str = ""        # how the stack was named (a manifest path, or its name)


def _kernel(stack) -> dict:
    if stack.kind != "debian" or not stack.kernel:
        raise UsageError(f"stack {stack.name}: kabi compares Debian kernels; this stack "
                         "names no kernel")
    if not RELEASE.fullmatch(stack.kernel["release"]):
        raise UsageError(f"{stack.manifest}: field kernel.release: "
                         f"{stack.kernel['release']!r} is not a kernel release name "
                         "(letters, digits, '.', '+', '-', '_')")
    if not stack.kernel.get("headers"):
        raise UsageError(f"{stack.manifest}: field kernel.headers: missing (the "
                         "linux-headers-<abi>-amd64, -common and linux-kbuild packages)")
    return stack.kernel


def entry(stack) -> Path:
    """cache/kabi/<release>/<key>: keyed by the exact packages, so a manifest
    naming other versions never reuses another set's files."""
    kernel = _kernel(stack)
    key = hashlib.sha256(json.dumps([kernel["packages"], kernel["headers"]]).encode())
    return cache_dir() / "kabi" / kernel["release"] / key.hexdigest()[:12]


def headers_dir(stack, say=lambda text: None) -> Path:
    """The flavour headers tree (usr/src/linux-headers-<release>), unpacked
    privately; its Makefile's absolute include of the -common tree rewritten
    to the private path so kbuild works without installing anything."""
    kernel = _kernel(stack)
    root = entry(stack) / "headers"
    if not root.is_dir():
        # Downloaded first: a package that cannot be fetched leaves no entry.
        pairs = [(p["name"], p["version"]) for p in kernel["headers"]]
        # a manifest's kernel may come from another suite (kernel.suite)
        debs = archive.Archive(kernel.get("suite") or stack.suite, say=say).download(pairs)
        with locked(entry(stack)):
            archive.unpack(debs, root)
    tree = root / "usr" / "src" / f"linux-headers-{kernel['release']}"
    makefile = tree / "Makefile"
    if not makefile.is_file():
        raise InfraError(f"{tree}: no Makefile in the headers of {kernel['release']}")
    text = makefile.read_text()
    fixed = text.replace("include /usr/src/", f"include {root}/usr/src/")
    if fixed != text:
        makefile.write_text(fixed)
    return tree


def image_facts(stack, say=lambda text: None) -> dict:
    """vermagic and sizeof(struct module) of the stack's kernel, read from one
    module of its image package (cached as image.json)."""
    cached = entry(stack) / "image.json"
    if cached.is_file():
        return json.loads(cached.read_text())
    probe = image_modules(stack, [PROBE], say).get(PROBE)
    if probe is None:
        raise InfraError(f"kernel {_kernel(stack)['release']}: no {PROBE} module in its packages")
    module = modules.read(probe)
    facts = {"vermagic": module.vermagic, "this_module_size": module.this_module_size}
    cached.write_text(json.dumps(facts) + "\n")
    return facts


def image_modules(stack, names: list[str], say=lambda text: None) -> dict[str, Path]:
    """Modules of the kernel image by name, streamed out of its packages
    (nothing else unpacked) into the cache, decompressed: name -> .ko."""
    where = entry(stack) / "modules"
    where.mkdir(parents=True, exist_ok=True)
    wanted = {n for n in names if not (where / f"{n}.ko").is_file()}
    if wanted:
        for deb in kernel_debs(stack, say=say):
            for name, data in _extract(deb, wanted).items():
                files.write_atomic(where / f"{name}.ko", data, "a kernel module")
    return {n: where / f"{n}.ko" for n in names if (where / f"{n}.ko").is_file()}


def _extract(deb: Path, names: set[str]) -> dict[str, bytes]:
    suffixes = {f"/{name}{suffix}": name for name in names for suffix in modules.KO_SUFFIXES}
    found = {}
    with tools.streamed(["dpkg-deb", "--fsys-tarfile", "--", str(deb)], tools.UNPACK) as proc:
        try:
            with tarfile.open(fileobj=proc.stdout, mode="r|") as tar:
                for member in tar:
                    tail = "/" + member.name.rsplit("/", 1)[-1]
                    if member.isfile() and tail in suffixes:
                        if member.size > files.MAX_BINARY_BYTES:
                            raise InfraError(f"{deb}: {member.name}: larger than the "
                                             f"{files.MAX_BINARY_BYTES} bytes rdmagate reads")
                        extracted = tar.extractfile(member)   # a file: never None
                        data = files.unpack(extracted.read() if extracted else b"",
                                            member.name, f"{deb}: {member.name}",
                                            "a kernel module", files.MAX_BINARY_BYTES)
                        found[suffixes[tail]] = data
                        if len(found) == len(names):
                            break
        except tarfile.TarError as err:
            raise InfraError(f"{deb}: cannot read its files ({err})") from None
        except UsageError as err:   # a package of the archive's, not the user's file
            raise InfraError(str(err)) from None
    return found


def from_headers(stack, say=lambda text: None) -> KernelSide:
    tree = headers_dir(stack, say)
    exports = symvers.read(tree / "Module.symvers")
    config = symvers.read_config(tree / ".config")
    facts = {"release": stack.kernel["release"], **image_facts(stack, say),
             "config": {k: config.get(k, "n") for k in CONFIG_KEYS},
             "exports_total": len(exports), "btf_vmlinux": (tree / "vmlinux").is_file(),
             "module_layout_crc": exports["module_layout"].crc if "module_layout" in exports
             else None,
             "packages": [[p["name"], p["version"]] for p in stack.kernel["headers"]]}
    return KernelSide(stack.name, facts["release"], exports, facts, f"headers {tree}", "all")


def is_fetched(stack) -> bool:
    return (entry(stack) / "headers").is_dir() and (entry(stack) / "image.json").is_file()


def side(name: str, area: str = "rdma", full: bool = False, say=lambda text: None) -> KernelSide:
    """A stack's kernel side: from its fetched headers, else from its baseline
    (the RDMA exports only) unless every export is needed (full: --area all,
    or modules to check), in which case the headers are fetched."""
    stack = resolve(name)
    _kernel(stack)
    if not full and area == "rdma" and not is_fetched(stack):
        recorded = baseline.load(stack)
        if recorded is not None:
            exports, facts, where = recorded
            return KernelSide(stack.name, facts["release"], exports, facts,
                              f"baseline {where}", "rdma", name)
    return replace(from_headers(stack, say), ref=name)
