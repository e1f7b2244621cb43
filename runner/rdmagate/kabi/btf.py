"""BTF read with the standard library: the .BTF section of a BTF-only
vmlinux (shipped in the 6.12 and 7.2 headers packages) and of a module (split
BTF on top of vmlinux's), enough to name the struct or union whose layout
changed behind an export whose CRC changed: the types reachable from the
export's prototype, as genksyms expands them, compared by size and members."""
import struct
from dataclasses import dataclass, field
from pathlib import Path

from ..stacks.elf import _Reader
from . import symvers
from .modules import _named

MAGIC = 0xEB9F
INT, PTR, ARRAY, STRUCT, UNION, ENUM, FWD, TYPEDEF, VOLATILE, CONST, RESTRICT, FUNC, \
    FUNC_PROTO, VAR, DATASEC, FLOAT, DECL_TAG, TYPE_TAG, ENUM64 = range(1, 20)
EXTRA = {INT: lambda vlen: 4, ARRAY: lambda vlen: 12, STRUCT: lambda vlen: 12 * vlen,
         UNION: lambda vlen: 12 * vlen, ENUM: lambda vlen: 8 * vlen,
         FUNC_PROTO: lambda vlen: 8 * vlen, VAR: lambda vlen: 4,
         DATASEC: lambda vlen: 12 * vlen, DECL_TAG: lambda vlen: 4, ENUM64: lambda vlen: 12 * vlen}


@dataclass
class Type:
    kind: int
    name: str
    size_or_type: int
    members: list = field(default_factory=list)   # (name, type id, bit offset) or params


class Btf:
    """Types by id (1..), a split BTF continuing its base's ids and strings."""

    def __init__(self, data: bytes, base: "Btf | None" = None):
        magic, _, _, hdr_len, type_off, type_len, str_off, str_len = \
            struct.unpack_from("<HBBIIIII", data, 0)
        if magic != MAGIC:
            raise ValueError("not BTF")
        self.base = base
        self.types: list[Type | None] = list(base.types) if base else [None]
        self.strings = data[hdr_len + str_off:hdr_len + str_off + str_len]
        self.base_strlen: int = base.base_strlen + len(base.strings) if base else 0
        at, end = hdr_len + type_off, hdr_len + type_off + type_len
        while at < end:
            name_off, info, size_or_type = struct.unpack_from("<III", data, at)
            kind, vlen = (info >> 24) & 0x1F, info & 0xFFFF
            at += 12
            kind_flag = info >> 31
            members = []
            if kind in (STRUCT, UNION):
                for i in range(vlen):
                    m_name, m_type, offset = struct.unpack_from("<III", data, at + 12 * i)
                    bits = offset & 0xFFFFFF if kind_flag else offset
                    members.append((self.string(m_name), m_type, bits))
            elif kind == FUNC_PROTO:
                members = [(self.string(n), t, 0) for n, t in
                           (struct.unpack_from("<II", data, at + 8 * i) for i in range(vlen))]
            elif kind == ARRAY:
                elem, _, count = struct.unpack_from("<III", data, at)
                members = [("", elem, count)]
            at += EXTRA.get(kind, lambda n: 0)(vlen)
            self.types.append(Type(kind, self.string(name_off), size_or_type, members))

    def string(self, offset: int) -> str:
        if self.base and offset < self.base_strlen:
            return self.base.string(offset)
        start = offset - self.base_strlen
        return self.strings[start:self.strings.index(b"\0", start)].decode(errors="replace")

    def functions(self) -> dict[str, int]:
        if not hasattr(self, "_functions"):
            self._functions = {t.name: t.size_or_type for t in self.types[1:]
                               if t and t.kind == FUNC}
        return self._functions

    def neighbours(self, tid: int) -> list[int]:
        t = self.types[tid]
        if t is None:   # void
            return []
        if t.kind in (STRUCT, UNION, FUNC_PROTO, ARRAY):
            return ([t.size_or_type] if t.kind == FUNC_PROTO else []) + [m[1] for m in t.members]
        if t.kind in (PTR, TYPEDEF, VOLATILE, CONST, RESTRICT, TYPE_TAG, FUNC):
            return [t.size_or_type]
        return []

    def named(self) -> dict[str, int]:
        """struct/union name -> type id (the first of that name)."""
        if not hasattr(self, "_named"):
            self._named: dict = {}
            for tid, t in enumerate(self.types):
                if t and t.kind in (STRUCT, UNION) and t.name:
                    self._named.setdefault(_label(t), tid)
        return self._named

    def layout(self, t: Type) -> tuple:
        """What a module compiled against the type depends on: its size and
        each member's name, offset and type name."""
        cache = self.__dict__.setdefault("_layouts", {})
        if id(t) not in cache:
            cache[id(t)] = (t.size_or_type, tuple((name, bits, self.type_name(tid))
                                                  for name, tid, bits in t.members))
        return cache[id(t)]

    def type_name(self, tid: int, depth: int = 0) -> str:
        t = self.types[tid] if 0 < tid < len(self.types) else None
        if t is None or depth > 8:
            return "void"
        if t.kind == PTR:
            return self.type_name(t.size_or_type, depth + 1) + "*"
        if t.kind in (CONST, VOLATILE, RESTRICT, TYPE_TAG):
            return self.type_name(t.size_or_type, depth + 1)
        if t.kind == ARRAY:
            return f"{self.type_name(t.members[0][1], depth + 1)}[{t.members[0][2]}]"
        prefix = {STRUCT: "struct ", UNION: "union ", ENUM: "enum ", ENUM64: "enum ",
                  FWD: "struct "}.get(t.kind, "")
        return prefix + (t.name or "(anonymous)")


def read(path: Path, base: Btf | None = None) -> Btf | None:
    """The .BTF of an ELF file (vmlinux or a module), or None without one."""
    data = Path(path).read_bytes()
    return from_elf(path, data, base)


def from_elf(path, data: bytes, base: Btf | None = None) -> Btf | None:
    reader = _Reader(Path(path), data)
    section = _named(reader).get(".BTF")
    if section is None:
        return None
    return Btf(data[section["offset"]:section["offset"] + section["size"]], base)


def _label(t: Type) -> str:
    return f"{'struct' if t.kind == STRUCT else 'union'} {t.name}"


def changed_types(old: Btf, new: Btf, symbol: str, most: int = 3) -> list[str]:
    """The structs and unions nearest to symbol's prototype (breadth first,
    as genksyms expands it) whose layout differs between the two kernels,
    each with a few words on how."""
    start = old.functions().get(symbol)
    if start is None or symbol not in new.functions():
        return []
    others = new.named()
    seen, level = {start}, [start]
    out: list = []
    while level and not out:
        following = []
        for tid in level:
            t = old.types[tid]
            if t and t.kind in (STRUCT, UNION) and t.name and _label(t) in others:
                counterpart = new.types[others[_label(t)]]
                assert counterpart   # named() holds types, never void
                a, b = old.layout(t), new.layout(counterpart)
                if a != b:
                    out.append(f"{_label(t)} ({_how(a, b)})")
            for next_id in old.neighbours(tid):
                if 0 < next_id < len(old.types) and next_id not in seen:
                    seen.add(next_id)
                    following.append(next_id)
        level = following
    return out[:most]


def _how(a: tuple, b: tuple) -> str:
    before = {m[0]: m for m in a[1] if m[0]}
    after = {m[0]: m for m in b[1] if m[0]}
    words = [f"size {a[0]} -> {b[0]}" if a[0] != b[0] else ""]
    for label, names in (("added", [n for n in after if n not in before]),
                         ("removed", [n for n in before if n not in after]),
                         ("moved or retyped", [n for n in after if n in before
                                               and before[n] != after[n]])):
        if names:
            words.append(f"{label}: {', '.join(names[:4])}")
    return "; ".join(w for w in words if w) or "anonymous members changed"


def name_types(report, say=lambda text: None) -> int:
    """Where both kernels ship a BTF vmlinux in their headers, add to each
    CRC-changed finding the structs and unions behind it (from the modules'
    BTF in the kernel images). Where a kernel checks no CRCs (no
    CONFIG_MODVERSIONS), an export kept by both whose types changed is a
    "type changed" finding of its own: nothing else would say so. Returns how
    many findings were explained or added."""
    from dataclasses import replace
    from ..stacks import resolve
    from . import compare, facts

    sides = (report.old, report.new)
    if not all(s.facts.get("btf_vmlinux") and s.source.startswith("headers ") for s in sides):
        return 0
    blind = not all(compare.versioned(s.facts) for s in sides)
    if blind:
        kept = [s for s in symvers.area(report.old.exports, report.area) if s in report.new.exports]
    else:
        kept = [f.symbol for f in report.findings if f.kind == "CRC changed"]
    if not kept:
        return 0
    say("naming from BTF the types behind " + ("the kept exports (no CRCs to compare)"
                                                if blind else "changed CRCs"))
    owners = sorted({report.old.exports[s].module_name for s in kept})
    loaded = []
    for side in sides:
        stack = resolve(side.ref or side.stack)
        base = read(facts.headers_dir(stack) / "vmlinux")
        files = facts.image_modules(stack, owners, say)
        loaded.append({name: read(path, base) for name, path in files.items()})

    def types_of(symbol: str) -> list[str]:
        owner = report.old.exports[symbol].module_name
        old, new = loaded[0].get(owner), loaded[1].get(owner)
        return changed_types(old, new, symbol) if old and new else []

    count = 0
    if blind:
        for symbol in kept:
            types = types_of(symbol)
            if types:
                report.findings.append(compare._finding(
                    "type changed", "review", "no CRC to tell (symbol versions off): "
                    + "; ".join(types), report.old.exports[symbol].module_name, symbol))
                count += 1
        return count
    for index, finding in enumerate(report.findings):
        if finding.kind == "CRC changed":
            types = types_of(finding.symbol)
            if types:
                report.findings[index] = replace(finding, detail=finding.detail +
                                                 "; types changed: " + "; ".join(types))
                count += 1
    return count
