"""Would a module load into a kernel? The kernel's own checks in the
kernel's own order (kernel/module/main.c and version.c, load_module), each
failure with the exact line the kernel prints:

1. signature: refused unsigned when CONFIG_MODULE_SIG_FORCE is on;
2. the size of .gnu.linkonce.this_module against sizeof(struct module)
   (checked from Linux 6.4 on; older kernels go on to the CRC of
   module_layout, which covers struct module's layout);
3. the CRC of module_layout (check_modstruct_version);
4. vermagic (check_modinfo; with symbol versions only what follows the
   release is compared);
5. each undefined symbol in .symtab order (simplify_symbols): unknown (a
   GPL-only export is unknown to a non-GPL module), CRC disagrees, namespace
   not imported. The kernel reports every failing symbol, then refuses."""
import errno
from dataclasses import dataclass, field

from . import compare

SIZE_CHECK_FROM = (6, 4)
INSMOD_WORDS = {errno.ENOEXEC: "Invalid module format", errno.EINVAL: "Invalid argument",
                errno.ENOENT: "Unknown symbol in module", errno.EKEYREJECTED: "Key was rejected by service"}


@dataclass
class Prediction:
    module: str              # its name
    path: str
    kernel: str              # release
    loads: bool
    check: str               # the check that refuses it, or "" when it loads
    messages: list[str] = field(default_factory=list)   # the kernel's lines, in order
    error: int = 0           # what init_module returns (negative errno)

    @property
    def first(self) -> str:
        return self.messages[0] if self.messages else ""


def _version(release: str) -> tuple[int, int]:
    parts = release.split("-", 1)[0].split(".")
    return int(parts[0]), int(parts[1])


def _same_magic(module_magic: str, kernel_magic: str, has_crcs: bool) -> bool:
    if has_crcs:
        module_magic = module_magic[len(module_magic.split(" ", 1)[0]):]
        kernel_magic = kernel_magic[len(kernel_magic.split(" ", 1)[0]):]
    return module_magic == kernel_magic


def predict(module, side) -> Prediction:
    """module: modules.Module; side: facts.KernelSide with every export."""
    facts, exports = side.facts, side.exports
    name, config = module.name, facts.get("config", {})
    out = Prediction(name, str(module.path), side.release, False, "")

    def refuse(check: str, error: int, *lines: str) -> Prediction:
        out.check, out.error = check, -error
        out.messages += lines
        return out

    if not module.signed:
        if config.get("CONFIG_MODULE_SIG_FORCE") == "y":
            return refuse("signature", errno.EKEYREJECTED,
                          "Loading of unsigned module is rejected")
    if _version(side.release) >= SIZE_CHECK_FROM and \
            module.this_module_size != facts["this_module_size"]:
        return refuse("struct module size", errno.ENOEXEC,
                      f"module {name}: .gnu.linkonce.this_module section size must match the "
                      "kernel's built struct module size at run time")
    versioned = compare.versioned(facts)
    force = config.get("CONFIG_MODULE_FORCE_LOAD") == "y"
    if versioned and "module_layout" in exports:
        ok = _check_version(module, "module_layout", exports["module_layout"].crc, out, force)
        if not ok:
            return refuse("module_layout", errno.ENOEXEC)
    has_crcs = versioned and bool(module.versions)
    if not module.vermagic:
        if not force:
            return refuse("vermagic", errno.ENOEXEC)
        out.messages.append(f"{name}: bad vermagic: kernel tainted.")
    elif not _same_magic(module.vermagic, facts["vermagic"], has_crcs):
        return refuse("vermagic", errno.ENOEXEC,
                      f"{name}: version magic '{module.vermagic}' should be "
                      f"'{facts['vermagic']}'")
    failed = 0
    for symbol in module.undefined:
        export = exports.get(symbol)
        if export is not None and export.gpl_only and not module.gpl_compatible:
            export = None
        if export is None:
            if symbol in module.weak:
                continue
            out.messages.append(f"{name}: Unknown symbol {symbol} (err -{errno.ENOENT})")
            failed = -errno.ENOENT
            continue
        if versioned and not _check_version(module, symbol, export.crc, out, force):
            out.messages.append(f"{name}: Unknown symbol {symbol} (err -{errno.EINVAL})")
            failed = -errno.EINVAL
            continue
        if export.namespace and export.namespace not in module.import_ns:
            out.messages += [f"{name}: module uses symbol ({symbol}) from namespace "
                             f"{export.namespace}, but does not import it.",
                             f"{name}: Unknown symbol {symbol} (err -{errno.EINVAL})"]
            failed = -errno.EINVAL
    if failed:
        return refuse("symbols", -failed)
    out.loads = True
    return out


def _check_version(module, symbol: str, crc: int, out: Prediction, force: bool) -> bool:
    """kernel/module/version.c check_version()."""
    if not module.versions:   # no __versions at all: only a forced load goes on
        if force:
            out.messages.append(f"{module.name}: {symbol}: kernel tainted.")
        return force
    if symbol not in module.versions:
        out.messages.append(f"{module.name}: no symbol version for {symbol}")
        return True
    if module.versions[symbol] & 0xFFFFFFFF == crc:
        return True
    out.messages.append(f"{module.name}: disagrees about version of symbol {symbol}")
    return False
