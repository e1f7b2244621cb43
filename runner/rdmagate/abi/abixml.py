"""A small reader of libabigail's ABIXML (what abidw writes): the structs,
unions and enums a stack's headers declare, with every member's offset and
type spelled out, so two stacks' corpora can be compared by name."""
from collections import deque
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from .. import tools
from ..errors import InfraError, UsageError
from .headers import public_header


@dataclass
class Record:
    """A struct or union: size and members (name -> (offset, type, raw type))."""
    kind: str
    name: str
    size: int
    header: str
    members: dict[str, tuple[int, str]] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)


@dataclass
class Corpus:
    records: dict[str, Record] = field(default_factory=dict)
    enums: dict[str, tuple[str, dict[str, int]]] = field(default_factory=dict)  # header, values
    # the declaration line of each type, member (type.member) and enumerator, from DWARF
    lines: dict[str, int] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)   # typedef name -> the type it names


class _Types:
    """Spells a type id as C would, typedefs resolved (so __u64 == uint64_t)."""

    def __init__(self, root: ET.Element):
        self.by_id = {e.get("id"): e for e in root.iter() if e.get("id")}

    def spell(self, type_id: str | None, depth: int = 0) -> str:
        """"?" for a type-id the corpus lacks or does not define."""
        node = self.by_id.get(type_id) if type_id else None
        if node is None or depth > 40:
            return "?"
        tag, name = node.tag, node.get("name", "")
        if tag == "type-decl":
            return name
        if tag in ("class-decl", "union-decl", "enum-decl"):
            word = {"class-decl": "struct", "union-decl": "union", "enum-decl": "enum"}[tag]
            if name.startswith("__anonymous"):
                inner = [var.get("name", "") for m in node.findall("data-member")
                         if (var := m.find("var-decl")) is not None]
                return f"{word}:{node.get('size-in-bits', '?')} {{{', '.join(inner)}}}"
            return f"{word} {name}"
        if tag == "typedef-decl":
            return self.spell(node.get("type-id"), depth + 1)
        if tag == "pointer-type-def":
            return self.spell(node.get("type-id"), depth + 1) + "*"
        if tag == "qualified-type-def":
            quals = " ".join(q for q in ("const", "volatile") if node.get(q) == "yes")
            return f"{quals} {self.spell(node.get('type-id'), depth + 1)}"
        if tag == "array-type-def":
            lengths = "".join(f"[{s.get('length')}]" for s in node.iter("subrange"))
            return self.spell(node.get("type-id"), depth + 1) + lengths
        if tag == "function-type":
            params = [self.spell(p.get("type-id"), depth + 1) if p.get("type-id") else "..."
                      for p in node.findall("parameter")]
            ret = node.find("return")
            returned = self.spell(ret.get("type-id"), depth + 1) if ret is not None else "void"
            return f"{returned}({', '.join(params)})"
        return tag


def _header(node: ET.Element) -> str | None:
    return public_header(node.get("filepath", ""))


def _line(node: ET.Element) -> int:
    return int(node.get("line", 0) or 0)


def _enumerators(node: ET.Element) -> dict[str, int]:
    """name -> value of an enum's enumerators; one without both is not one."""
    out = {}
    for enumerator in node.findall("enumerator"):
        name, value = enumerator.get("name"), enumerator.get("value")
        if name and value:
            out[name] = int(value)
    return out


def _members(node: ET.Element, base: int, types: _Types, record: Record,
             lines: dict[str, int]) -> None:
    """Members by the names C code uses: those of an anonymous struct or
    union member are reached directly, so they are listed as the parent's."""
    for member in node.findall("data-member"):
        var = member.find("var-decl")
        if var is None:
            continue
        offset = base + int(member.get("layout-offset-in-bits", 0))
        inner = types.by_id.get(var.get("type-id"))
        if not var.get("name") and inner is not None and inner.tag in ("class-decl", "union-decl"):
            _members(inner, offset, types, record, lines)
            continue
        name = var.get("name") or f"<unnamed at {offset}>"
        lines.setdefault(f"{record.name}.{name}", _line(var))
        record.members[name] = (offset, types.spell(var.get("type-id")))
        record.order.append(name)


def read(path: Path) -> Corpus:
    try:
        root = ET.parse(path).getroot()
    except (ET.ParseError, OSError) as err:
        raise UsageError(f"{path}: not a readable ABIXML corpus ({err})") from None
    types, corpus = _Types(root), Corpus()
    for node in root.iter():
        header = _header(node)
        name = node.get("name", "")
        if header is None or not name or name.startswith("__anonymous") or \
                node.get("is-declaration-only") == "yes":
            continue
        if node.tag in ("class-decl", "union-decl"):
            record = Record("struct" if node.tag == "class-decl" else "union", name,
                            int(node.get("size-in-bits", 0)), header)
            _members(node, 0, types, record, corpus.lines)
            corpus.records.setdefault(name, record)
            corpus.lines.setdefault(name, _line(node))
        elif node.tag == "typedef-decl":
            corpus.aliases.setdefault(name, types.spell(node.get("type-id")))
        elif node.tag == "enum-decl":
            enumerators = _enumerators(node)
            corpus.enums.setdefault(name, (header, enumerators))
            corpus.lines.setdefault(name, _line(node))
            for enumerator in enumerators:   # DWARF gives them no line
                corpus.lines.setdefault(enumerator, _line(node))
    return corpus


def data_symbols(path: Path) -> set[str]:
    """The names of a library corpus's variable symbols (type='object-type'
    or 'tls-type' in its elf-variable-symbols), as abidw recorded them."""
    try:
        return {node.get("name") for _, node in ET.iterparse(path)
                if node.tag == "elf-symbol" and node.get("type") in ("object-type", "tls-type")}
    except (OSError, ET.ParseError) as err:
        raise UsageError(f"{path}: not a readable ABIXML corpus ({err})") from None


def _where(node: ET.Element) -> str:
    """The header a library's own type is declared in (infiniband/driver.h),
    or its file's last two path components."""
    path = node.get("filepath", "")
    return public_header(path) or "/".join(path.split("/")[-2:])


def reachable_records(corpus: Path, functions: set[str]) -> dict[str, tuple[Record, str]]:
    """The named structs and unions of a library corpus that the given
    functions' parameters and returns reach (through pointers, typedefs,
    members and function pointers): name -> (record, the function that
    reaches it in the fewest steps). A type declared only in one translation unit is
    found by its name in another."""
    try:
        root = ET.parse(corpus).getroot()
    except (ET.ParseError, OSError) as err:
        raise UsageError(f"{corpus}: not a readable ABIXML corpus ({err})") from None
    types = _Types(root)
    defined: dict[str, ET.Element] = {}
    for node in root.iter():
        if node.tag in ("class-decl", "union-decl") and (name := node.get("name")) and \
                node.get("is-declaration-only") != "yes":
            defined.setdefault(name, node)
    starts = sorted(((function, node) for node in root.iter("function-decl")
                     if (function := node.get("elf-symbol-id", "").split("@", 1)[0])
                     and function in functions),
                    key=lambda start: start[0])
    found: dict[str, tuple[Record, str]] = {}   # also the library's internal types
    # breadth first from every function at once: a type is named with the
    # function that passes it most directly
    todo = deque((p.get("type-id"), function) for function, decl in starts
                 for p in decl if p.tag in ("parameter", "return"))
    seen: set[int] = set()
    while todo:
        type_id, function = todo.popleft()
        node = types.by_id.get(type_id)
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        name = node.get("name", "")
        if node.tag in ("class-decl", "union-decl") and name and \
                not name.startswith("__anonymous"):
            node = defined.get(name, node)
            if name not in found and node.get("is-declaration-only") != "yes":
                record = Record("struct" if node.tag == "class-decl" else "union", name,
                                int(node.get("size-in-bits", 0)), _where(node))
                _members(node, 0, types, record, {})   # their lines are not reported
                found[name] = (record, function)
        todo.extend((child.get("type-id"), function) for child in node.iter()
                    if child.get("type-id"))
    return found


def function_signatures(library: Path, corpus: Path) -> dict[str, str]:
    """symbol@version -> "return(parameters)" of every exported function of a
    library with debug info (abidw writes its corpus to `corpus`)."""
    done = tools.run(["abidw", "--out-file", str(corpus), str(library)], tools.COMPILE)
    if done.returncode != 0:
        raise InfraError(f"abidw failed on {library}: {done.stderr.strip()}")
    root = ET.parse(corpus).getroot()
    types, out = _Types(root), {}
    for node in root.iter("function-decl"):
        symbol = node.get("elf-symbol-id")
        if not symbol:
            continue
        params = [types.spell(p.get("type-id")) if p.get("type-id") else "..."
                  for p in node.findall("parameter")]
        ret = node.find("return")
        returned = types.spell(ret.get("type-id")) if ret is not None else "void"
        out[symbol.replace("@@", "@")] = f"{returned}({', '.join(params)})"
    return out
