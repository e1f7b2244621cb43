"""Will a container image's RDMA userspace work on a host? One check a line.

The image is a stack (stacks/image.py); the host is this machine or a stack
named for it. Each check says ok, breaks, or not checked (it could not run
here: the answer stays open, a risk), with one line of evidence and, where
something is wrong, what to do:
- providers: the image has a provider, named in its libibverbs.d, for every
  RDMA device of the host, by the device's kernel driver;
- one set: the image's providers are bound to its libibverbs' private node,
  and really load with it in the image's root;
- injected: host files bound into the container (a provider directory,
  provider files, libibverbs.d) loaded for real by the image's libibverbs in
  the image's root, with the image's C library;
- kernel: the host's uverbs ABI within what libibverbs speaks."""
import re
from dataclasses import dataclass, field
from pathlib import Path

from .. import devices
from ..abi import loads
from ..errors import UsageError
from ..stacks import elf, glibc, layout, tree_safety
from ..stacks.inventory import driver_names

STATUSES = ("ok", "breaks", "not checked")
PRIVATE = re.compile(r"IBVERBS_PRIVATE_(\d+)$")
# libibverbs speaks uverbs ABI 3 to 6 (IB_USER_VERBS_MIN/MAX_ABI_VERSION),
# unchanged since rdma-core began; every kernel since 2.6.x offers 6.
UVERBS_ABI = (3, 6)
UVERBS_SYSFS = Path("/sys/class/infiniband_verbs/abi_version")
REBUILD = "rebuild the image with ibverbs-providers from the same rdma-core as its libibverbs1"


@dataclass
class Check:
    name: str
    status: str
    evidence: str
    action: str = ""

    def __post_init__(self):
        if self.status not in STATUSES:
            raise ValueError(f"check {self.name}: status {self.status!r}")


@dataclass
class Injected:
    """--inject PATH...: what the container gets of the host, by kind."""
    providers: list[tuple[str, Path]] = field(default_factory=list)
    config: list[Path] = field(default_factory=list)      # *.driver files
    dirs: list[Path] = field(default_factory=list)        # where injected providers lie


def injected(paths: list[Path]) -> Injected:
    """Each --inject path sorted: a libibverbs.d (or a .driver file), a
    provider directory, or provider files; UsageError for anything else."""
    out = Injected()
    for path in paths:
        if path.is_dir():
            drivers = sorted(path.glob("*.driver"))
            found = [p for p in sorted(path.glob("lib*-rdmav*.so")) if _regular(p)]
            if not drivers and not found:
                raise UsageError(f"--inject {path}: neither a libibverbs.d (*.driver) nor a "
                                 "provider directory (lib<name>-rdmav<NN>.so)")
            out.config += [p for p in drivers if _regular(p)]
            out.providers += [(_provider_name(p), p) for p in found]
            if found:
                out.dirs.append(path)
        elif path.name.endswith(".driver") and _regular(path):
            out.config.append(path)
        elif path.suffix == ".so" and _regular(path) and elf.is_elf(path):
            out.providers.append((_provider_name(path), path))
            out.dirs.append(path.parent)
        else:
            raise UsageError(f"--inject {path}: not a provider file, a .driver file or a "
                             "directory of them")
    return out


def _regular(path: Path) -> bool:
    """A host file to bind: a link is followed (the host's provider files link
    to their libraries), but what it reaches must be a regular file."""
    tree_safety.regular_file(Path("/"), path)
    return True


def _provider_name(path: Path) -> str:
    match = layout.PROVIDER_FILE.match(path.name)
    return match.group("name") if match else path.stem.removeprefix("lib")


def host_devices(drivers: list[str] | None) -> tuple[list[tuple[str, str]], str]:
    """(device, provider kind) the image must drive, and where they came from."""
    if drivers:
        return [(f"--drivers {d}", d) for d in drivers], "--drivers"
    return [(d, devices.kind(d)) for d in devices.present()], "this host's devices"


def providers_check(image: loads.Side, wanted: list[tuple[str, str]], source: str,
                    inject: Injected) -> Check:
    inv = image.inventory
    configured = driver_names(inject.config) if inject.config else inv["drivers"]
    config_from = "the injected libibverbs.d" if inject.config else "its libibverbs.d"
    files = set(inv["providers"]) | {name for name, _ in inject.providers}
    if not configured:
        return Check("providers", "breaks", f"{config_from} names no driver "
                     f"({inv['layout'].get('config_dir') or 'no etc/libibverbs.d'}): "
                     "libibverbs would find no device", REBUILD)
    if not wanted:
        return Check("providers", "not checked",
                     f"no RDMA device on {source}; {len(configured)} drivers configured "
                     f"({', '.join(configured[:6])}{', ...' if len(configured) > 6 else ''}); "
                     "name the nodes' drivers with --drivers")
    missing = [(dev, kind) for dev, kind in wanted if kind not in configured or kind not in files]
    if missing:
        what = ", ".join(f"{kind} ({dev}: " + ("not in " + config_from if kind not in configured
                                               else "no provider file") + ")"
                         for dev, kind in missing)
        return Check("providers", "breaks", f"no provider for {what}", REBUILD)
    kinds = sorted({kind for _, kind in wanted})
    return Check("providers", "ok", f"a provider for every device ({', '.join(kinds)}), "
                 f"named in {config_from}")


def _private(image: loads.Side) -> int | None:
    lib = image.inventory["libraries"].get("libibverbs") or {}
    found = [int(m.group(1)) for v in lib.get("private_versions", []) if (m := PRIVATE.match(v))]
    return max(found) if found else None


def set_check(image: loads.Side, run: loads.LoadRun) -> Check:
    """The image's own providers with its own libibverbs, loaded in its root."""
    node = _private(image)
    mismatched = sorted(f"{name} ({p['private_abi']})" for name, p in
                        image.inventory["providers"].items()
                        if p["private_abi"] is not None and p["private_abi"] != node)
    if run.skipped:
        return Check("one set", "not checked", f"not loaded: {run.skipped}")
    failed = [p for p in run.loads if not p.loaded]
    loaded = f"{len(run.loads) - len(failed)} of {len(run.loads)} providers load with the " \
        f"image's libibverbs (IBVERBS_PRIVATE_{node}) in the image's root"
    if mismatched or failed:
        why = f"bound to another private node: {', '.join(mismatched)}; " if mismatched else ""
        first = failed[0].message if failed else ""
        return Check("one set", "breaks", f"{why}{loaded}" + (f"; {failed[0].provider}: "
                                                              f"{first}" if failed else ""),
                     REBUILD)
    return Check("one set", "ok", loaded)


def inject_check(image: loads.Side, inject: Injected, run: loads.LoadRun | None) -> Check:
    if not inject.providers and not inject.config:
        return Check("injected", "ok", "nothing of the host is bound into the container")
    if run is None or not inject.providers:
        return Check("injected", "ok", f"only libibverbs.d is injected "
                     f"({len(inject.config)} files); its drivers are checked under providers")
    if run.skipped:
        return Check("injected", "not checked", f"not loaded: {run.skipped}")
    node = _private(image)
    failed = [p for p in run.loads if not p.loaded]
    if not failed:
        return Check("injected", "ok", f"all {len(run.loads)} injected providers load with the "
                     f"image's libibverbs (IBVERBS_PRIVATE_{node}) in the image's root")
    nodes = sorted({n for _, path in inject.providers
                    for n in _needed_private(path) if n != node})
    why = "; ".join(f"{p.provider}: {loads.reason(p.message)}" for p in failed[:3])
    action = (f"do not bind the host's providers: private node "
              f"{', '.join(map(str, nodes))} against the image's {node}" if nodes else
              "do not bind the host's providers into this image")
    return Check("injected", "breaks", f"{len(failed)} of {len(run.loads)} injected providers "
                 f"do not load with the image's libibverbs: {why}", action)


def _needed_private(path: Path) -> list[int]:
    info = elf.read_elf(path)
    return [int(m.group(1)) for v in info.version_needs.get("libibverbs.so.1", [])
            if (m := PRIVATE.match(v))]


def glibc_check(image: loads.Side, image_glibc: str | None, inject: Injected) -> Check:
    floor = image.inventory["glibc_floor"]
    injected_floor = glibc.highest([f for _, p in inject.providers
                                    for f in elf.read_elf(p).version_needs.get("libc.so.6", [])])
    if image_glibc is None:
        return Check("C library", "breaks", "the image has no C library (libc.so.6) for its "
                     "RDMA libraries to run on", REBUILD)
    too_new = [(what, need) for what, need in (("its RDMA libraries", floor),
                                               ("the injected providers", injected_floor))
               if need and glibc.newer(need, image_glibc)]
    if too_new:
        what = "; ".join(f"{w} need GLIBC_{n}" for w, n in too_new)
        return Check("C library", "breaks", f"the image has glibc {image_glibc}; {what}",
                     "inject providers built for the image's C library, or none")
    needs = ", ".join(f"{w} need {n}" for w, n in (("its RDMA libraries", floor),
                                                     ("injected providers", injected_floor)) if n)
    return Check("C library", "ok", f"the image has glibc {image_glibc}" +
                 (f"; {needs}" if needs else ""))


def kernel_check(host_kernel: dict) -> Check:
    """host_kernel: {"release", "uverbs_abi" (None: not known), "source"}."""
    abi = host_kernel.get("uverbs_abi")
    if abi is None:
        return Check("kernel", "not checked", f"{host_kernel['source']}: no uverbs ABI "
                     "(no RDMA device, or ib_uverbs not loaded); kernel "
                     f"{host_kernel['release']}")
    low, high = UVERBS_ABI
    if not low <= abi <= high:
        return Check("kernel", "breaks", f"{host_kernel['source']}: uverbs ABI {abi}, "
                     f"libibverbs speaks {low} to {high}", "upgrade the host's kernel")
    return Check("kernel", "ok", f"{host_kernel['source']}: kernel {host_kernel['release']}, "
                 f"uverbs ABI {abi} (libibverbs speaks {low} to {high})")


def this_host_kernel(release: str, sysfs: Path = UVERBS_SYSFS) -> dict:
    abi = None
    if sysfs.is_file():
        text = sysfs.read_text().strip()
        abi = int(text) if text.isdigit() else None
    return {"release": release, "uverbs_abi": abi, "source": "this host"}


def verdict(checks: list[Check]) -> str:
    statuses = {c.status for c in checks}
    if "breaks" in statuses:
        return "NO-GO"
    if "not checked" in statuses:
        return "GO WITH RISKS"
    return "GO"
