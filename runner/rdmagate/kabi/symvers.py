"""Module.symvers (CRC, symbol, module, export kind, namespace; tab-separated)
and the kernel's .config, as Debian's linux-headers package ships them."""
from dataclasses import dataclass
from pathlib import Path

from .. import files
from ..errors import UsageError

# The RDMA kernel interface: ib_core, ib_uverbs, rdma_cm, ib_cm, iw_cm, the
# mlx4/mlx5 cores, rdmavt, rds and smc, by where they live in the tree.
RDMA_PATHS = ("drivers/infiniband/", "drivers/net/ethernet/mellanox/", "net/rds/", "net/smc/")
AREAS = ("rdma", "all")


@dataclass(frozen=True)
class Export:
    crc: int
    module: str        # vmlinux or a path such as drivers/infiniband/core/ib_core
    kind: str          # EXPORT_SYMBOL or EXPORT_SYMBOL_GPL
    namespace: str = ""

    @property
    def module_name(self) -> str:
        return self.module.rsplit("/", 1)[-1].replace("-", "_")

    @property
    def gpl_only(self) -> bool:
        return self.kind.endswith("_GPL")

    def line(self, symbol: str) -> str:
        return f"0x{self.crc:08x}\t{symbol}\t{self.module}\t{self.kind}\t{self.namespace}"


def parse(text: str, where: str) -> dict[str, Export]:
    exports = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) not in (4, 5) or not fields[2]:
            raise UsageError(f"{where}: line {number}: not a Module.symvers line "
                             "(CRC, symbol, module, export kind, namespace)")
        try:
            crc = int(fields[0], 16)
        except ValueError:
            raise UsageError(f"{where}: line {number}: CRC {fields[0]!r} is not hexadecimal") \
                from None
        exports[fields[1]] = Export(crc, fields[2], fields[3],
                                    fields[4] if len(fields) == 5 else "")
    return exports


def read(path: Path) -> dict[str, Export]:
    text = files.read_bytes(path, "a Module.symvers").decode("utf-8", "replace")
    return parse(text, str(path))


def in_area(export: Export, area: str) -> bool:
    return area == "all" or export.module.startswith(RDMA_PATHS)


def area(exports: dict[str, Export], name: str) -> dict[str, Export]:
    return {s: e for s, e in exports.items() if in_area(e, name)}


def write(exports: dict[str, Export]) -> str:
    return "".join(e.line(s) + "\n" for s, e in sorted(exports.items()))


def read_config(path: Path) -> dict[str, str]:
    """CONFIG_X=value lines; a "# CONFIG_X is not set" line reads as n."""
    config = {}
    for line in files.read_bytes(path, "a kernel .config").decode("utf-8", "replace").splitlines():
        if line.startswith("CONFIG_") and "=" in line:
            key, value = line.split("=", 1)
            config[key] = value.strip('"')
        elif line.startswith("# CONFIG_") and line.endswith(" is not set"):
            config[line[2:].split()[0]] = "n"
    return config
