"""Types from a stack's public headers, through DWARF and libabigail.

Debian ships no debug info for rdma-core, so rdmagate makes its own: one
translation unit including every public header of the stack that compiles
on its own, built with -g -fno-eliminate-unused-debug-types so every type is
emitted, then read by abidw. gcc's -aux-info lists the prototypes, which tell
which structs the library allocates and hands out by pointer."""
import re
import shutil
import tempfile
from pathlib import Path
from typing import NamedTuple

from .. import files, tools
from ..errors import InfraError, UsageError
from ..stacks import layout

ANCHOR = "int rdmagate_abi_anchor(void) { return 0; }\n"   # abidw needs one symbol
# "/* PATH:LINE:NF */ decl;": N a prototype, F a definition (an inline
# function of the header), C a declaration only
_AUX_LINE = re.compile(r"^/\* (?P<path>[^:]+):\d+:(?P<code>\w+) \*/ (?P<decl>[^;]*\));")
PUBLIC_DIRS = ("/include/infiniband/", "/include/rdma/")
_C_TYPE_WORDS = {"int", "char", "long", "short", "unsigned", "signed", "double", "float",
                 "void", "_Bool", "const", "volatile", "struct", "union", "enum"}
_RETURNS_POINTER = re.compile(r"\bextern (?:const )?struct (\w+) \*\s*\w+ \(")
# an inline function taking `struct X *p` whose body uses sizeof(*p), or a
# header passing sizeof(struct X) (the library then knows the caller's size)
_SIZE_PASSED = re.compile(r"struct (\w+) \*(\w+)\)\s*\{(?:(?!\n\}).)*?sizeof\(\*\2\)", re.S)
_SIZEOF_STRUCT = re.compile(r"sizeof\s*\(\s*struct (\w+)\s*\)")
_DEFINE = re.compile(r"^\s*#\s*define\s+(\w+)", re.M)
# a function (or function pointer) declaration's name and parameter list
_FUNCTION = re.compile(r"(?:\(\s*\*\s*)?\b(\w+)\s*\)?\s*\(([^;{}()]*)\)\s*[;{]")
_STRUCT_PARAM = re.compile(r"struct\s+(\w+)\s*(?:\*\s*(?:const\s+)?(\w+)|(\w+)\s*\[\s*\])$")
# an array of pointers (T *x[], T **x): its stride is a pointer's, whatever T's size
_POINTERS = re.compile(r"\*\s*(?:const\s+)?\w+\s*\[\s*\]$|\*\s*\*")
# a count beside a struct pointer makes it an array: poll_cq(cq, num_entries, wc)
_COUNT = re.compile(r"^(n|num|count|cnt|num_\w+|\w+_count|\w*entries|nent)$")
MACRO = "#define"
_GCC_ERROR = re.compile(r"(.+?):(\d+):\d+: (?:fatal )?error: (.*)")


def _includes(include: list[Path]) -> list[str]:
    return [f"-I{d}" for d in include]


def _compile_error(include: list[Path], headers: list[str], work: Path) -> str:
    """gcc's first error on a unit including these headers; '' when it compiles."""
    probe = work / "probe.c"
    probe.write_text("".join(f"#include <{h}>\n" for h in headers))
    done = tools.run(["gcc", "-w", "-D_GNU_SOURCE", "-fsyntax-only", *_includes(include),
                      str(probe)], tools.COMPILE, what="gcc on the stack's headers")
    if done.returncode == 0:
        return ""
    lines = done.stderr.strip().splitlines()
    return next((line for line in lines if "error: " in line), (lines or ["no message"])[0])


def _compiles(include: list[Path], headers: list[str], work: Path) -> bool:
    return not _compile_error(include, headers, work)


def _text(include: list[Path], header: str) -> str:
    """A header's text, from the first include directory that has it."""
    path = next((d / header for d in include if (d / header).is_file()), include[0] / header)
    return path.read_text(errors="replace")


def _usable(include: list[Path], candidates: list[str], work: Path) -> list[str]:
    """The headers that compile together: all of them when they do (a Debian
    stack's do), else each kept only if it compiles with those kept before it
    (a host's /usr/include/rdma also holds kernel headers that clash). A
    header that does not compile even alone is broken, not a change of the
    stack: UsageError naming it and gcc's first error (every public header of
    the four Debian stacks and of Debian 12's host compiles alone)."""
    for header in candidates:
        path = next((d / header for d in include if (d / header).exists()), include[0] / header)
        files.check_regular(path, "a public header")   # gcc would wait on a FIFO
        error = _compile_error(include, [header], work)
        if error:
            # named where gcc stopped: the broken header may be one it includes
            found = _GCC_ERROR.match(error)
            where, message = (f"{found[1]}:{found[2]}", found[3]) if found else (str(path), error)
            by = "" if where.startswith(f"{path}:") else f" (included from {path})"
            raise UsageError(f"{where}: a public header gcc cannot compile: {message}{by}")
    if _compiles(include, candidates, work):
        return candidates
    kept: list[str] = []
    for header in candidates:
        if _compiles(include, kept + [header], work):
            kept.append(header)
    return kept


def _strip_name(parameter: str) -> str:
    """`struct ibv_qp *qp` -> `struct ibv_qp *`: a parameter's name is not its type."""
    words = parameter.replace("*", " * ").split()
    if len(words) > 1 and re.fullmatch(r"\w+", words[-1]) and words[-1] not in _C_TYPE_WORDS \
            and (words[-2] == "*" or words[-2] not in ("struct", "union", "enum")):
        words = words[:-1]
    return " ".join(words).replace(" *", "*")


class Prototype(NamedTuple):
    signature: str            # without parameter names; MACRO for a #define
    header: str = ""          # infiniband/verbs.h ("" in files written before it was kept)
    inline: bool | None = None   # defined in the header (None: not known)


def public_header(path: str) -> str | None:
    """infiniband/verbs.h of .../include/infiniband/verbs.h; None outside them."""
    for marker in PUBLIC_DIRS:
        if marker in path:
            return marker.split("/")[-2] + "/" + path.split(marker, 1)[1]
    return None


def prototypes(aux_info: str) -> dict[str, Prototype]:
    """Public functions the stack's headers declare or define inline, by name,
    with their signature (parameter names dropped), from gcc's -aux-info."""
    found = {}
    for line in aux_info.splitlines():
        match = _AUX_LINE.match(line)
        header = public_header(match.group("path")) if match else None
        if match is None or not header:
            continue
        decl = re.sub(r"^(extern|static)\s+(inline\s+)?", "", match.group("decl"))
        head, _, params = decl.partition(" (")
        name = head.replace("*", " ").split()[-1]
        if name.startswith("_"):
            continue  # the library's own helpers behind the public inline functions
        returned = _strip_name(head[: head.rindex(name)] + " x")
        arguments = ", ".join(_strip_name(p) for p in params.rstrip(")").split(", "))
        found[name] = Prototype(f"{returned} ({arguments})", header, "F" in match.group("code"))
    return found


def write_prototypes(path: Path, found: dict[str, Prototype]) -> None:
    def inline(p: Prototype) -> str:
        return {True: "inline", False: "declared", None: "-"}[p.inline]
    path.write_text("".join(f"{name}\t{p.signature}\t{p.header or '-'}\t{inline(p)}\n"
                            for name, p in sorted(found.items())))


def read_prototypes(path: Path) -> dict[str, Prototype]:
    """prototypes.txt: name, signature, header, inline|declared (tab-separated;
    the last two absent in files written before they were kept)."""
    found = {}
    for number, line in enumerate(files.read_text(path, "prototypes").splitlines(),
                                  start=1):
        fields = line.split("\t")
        if len(fields) not in (2, 4) or (len(fields) == 4 and fields[3] not in
                                         ("inline", "declared", "-")):
            raise UsageError(f"{path}:{number}: not a 'name<TAB>signature[<TAB>header"
                             "<TAB>inline|declared]' line")
        header, inline = (fields[2:] if len(fields) == 4 else ["-", "-"])
        found[fields[0]] = Prototype(fields[1], "" if header == "-" else header,
                                     {"inline": True, "declared": False}.get(inline))
    return found


def size_passed(include: list[Path], used: list[str]) -> set[str]:
    """Structs whose size an inline wrapper passes to the library."""
    found = set()
    for header in used:
        text = _text(include, header)
        found |= {struct for struct, _ in _SIZE_PASSED.findall(text)}
        found |= set(_SIZEOF_STRUCT.findall(text))
    return found


def array_passed(include: list[Path], used: list[str]) -> set[tuple[str, str]]:
    """(struct, function) where a function takes an array of the struct: a
    `struct T x[]` parameter, or a `struct T *` next to a count parameter."""
    found = set()
    for header in used:
        text = re.sub(r"/\*.*?\*/", " ", _text(include, header), flags=re.S)
        for function, params in _FUNCTION.findall(text):
            words = [w.strip() for w in params.split(",")]
            structs = {i: m for i, w in enumerate(words)
                       if (m := _STRUCT_PARAM.search(w.replace("const ", "")))}
            arrays = {m.group(1) for m in structs.values() if m.group(3)}
            if arrays:     # T x[] says it: the pointers beside are single objects
                found |= {(name, function) for name in arrays}
                continue
            counts = [i for i, w in enumerate(words) if len(w.split()) > 1 and "struct" not in w
                      and _COUNT.match(w.split()[-1].lstrip("*"))]
            for i in counts:
                if i + 1 < len(words) and _POINTERS.search(words[i + 1]):
                    continue   # the count is of an array of pointers: no struct stride
                # the object the call is on comes first (when there are two);
                # the array follows its count (poll_cq(cq, n, wc)) or precedes it
                # (entries, max_entries)
                first = 0 if len(structs) == 1 else 1
                after, before = structs.get(i + 1), structs.get(i - 1) if i - 1 >= first else None
                if hit := after or before:
                    found.add((hit.group(1), function))
    return found


# a function-pointer member's name before its parameter list: `(*bind_mw)(`
_HOOK = re.compile(r"\(\s*\*\s*(\w+)\s*\)\s*$")
# a use of a struct, not its definition or a forward declaration
_STRUCT_USE = re.compile(r"\bstruct\s+(\w+)\b(?!\s*[{;])")
_OWNER = re.compile(r"\bstruct\s+(\w+)\s*$")


def _opening(text: str, end: int, opening: str, closing: str, stops: str = "") -> int:
    """The position of the unmatched `opening` before `end`; -1 when none
    or when one of `stops` comes first."""
    depth = 0
    for at in range(end - 1, -1, -1):
        if text[at] in stops:
            return -1
        if text[at] == closing:
            depth += 1
        elif text[at] == opening:
            if depth == 0:
                return at
            depth -= 1
    return -1


def hook_only(include: list[Path], used: list[str]) -> set[tuple[str, str]]:
    """(struct, owner.hook) for a struct the headers name only in the
    parameters of members of operations tables (structs of function pointers
    only: driver hooks) that nothing else in them names: no inline wrapper calls the hook and no prototype, member
    or sizeof carries the struct, so an application compiled against these
    headers had no function to hand it to the library (libibverbs 1.1.8's
    ibv_mw_bind, taken only by ibv_context_ops.bind_mw: no provider set it
    and no function of 1.1.8 called it; ibv_bind_mw came in 1.2)."""
    text = re.sub(r"/\*.*?\*/|//[^\n]*", " ", "\n".join(_text(include, h) for h in used),
                  flags=re.S)
    hooks: dict[str, set[str]] = {}
    carried = set()
    for use in _STRUCT_USE.finditer(text):
        # a parameter list holds no statement or block
        paren = _opening(text, use.start(), "(", ")", ";{}")
        hook = _HOOK.search(text[max(paren - 80, 0):paren]) if paren >= 0 else None
        if not hook:
            carried.add(use.group(1))
            continue
        brace = _opening(text, paren, "{", "}")
        owner = _OWNER.search(text[max(brace - 80, 0):brace]) if brace >= 0 else None
        if not owner or not _ops_table(text, brace):
            # a callback of an attribute struct or a prototype: the library
            # may call it, and an application implement it
            carried.add(use.group(1))
            continue
        hooks.setdefault(use.group(1), set()).add(f"{owner.group(1)}.{hook.group(1)}")
    return {(struct, min(names)) for struct, names in hooks.items()
            if struct not in carried and not any(_named_elsewhere(text, h) for h in names)}


def _ops_table(text: str, brace: int) -> bool:
    """Whether the struct whose body opens at `brace` holds function pointers
    only: an operations table, which the provider behind it fills."""
    depth = 0
    for at in range(brace, len(text)):
        depth += {"{": 1, "}": -1}.get(text[at], 0)
        if depth == 0:
            members = [m for m in text[brace + 1:at].split(";") if m.strip()]
            return bool(members) and all(re.search(r"\(\s*\*", m) for m in members)
    return False


def _named_elsewhere(text: str, hook: str) -> bool:
    """Whether the headers name a hook other than where they declare it: an
    inline calling it (ops->bind_mw(...), verbs_get_ctx_op(ctx, bind_mw))."""
    name = hook.rpartition(".")[2]
    named = len(re.findall(rf"\b{name}\b", text))
    return named > len(re.findall(rf"\(\s*\*\s*{name}\s*\)", text))


def macros(include: list[Path], used: list[str]) -> dict[str, str]:
    """Names the headers #define, with the header: a function may become a
    macro over an inline wrapper and still be called the same way."""
    return {name: header for header in reversed(used)
            for name in _DEFINE.findall(_text(include, header))}


def build(root: Path, found, out_dir: Path) -> tuple[Path, dict, list[str]]:
    """(ABIXML corpus, what the headers' code says of each struct, headers used)."""
    for tool in ("gcc", "abidw"):
        if shutil.which(tool) is None:
            raise InfraError(f"{tool} is not installed: run ci/setup")
    include = found.include_dirs if found and found.include_dirs else [root / "usr" / "include"]
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="rdmagate-headers-") as tmp:
        work = Path(tmp)
        used = _usable(include, layout.headers(root, found), work)
        unit = work / "headers.c"
        unit.write_text("".join(f"#include <{h}>\n" for h in used) + ANCHOR)
        shared, protos = work / "headers.so", work / "protos.txt"
        done = tools.run(["gcc", "-w", "-D_GNU_SOURCE", "-g", "-fno-eliminate-unused-debug-types",
                          *_prefix_maps(root, work), "-shared", "-fPIC", *_includes(include),
                          "-aux-info", str(protos), "-o", str(shared), str(unit)],
                         tools.COMPILE, what="gcc on the stack's headers", cwd=work)
        if done.returncode != 0:
            raise InfraError(f"the headers of {root} do not compile together: "
                             f"{done.stderr.strip().splitlines()[-1:]}")
        corpus = out_dir / "headers.abi"
        done = tools.run(["abidw", "--load-all-types", "--out-file", str(corpus.resolve()),
                          shared.name], tools.COMPILE, what="abidw on the stack's headers",
                         cwd=work)
        if done.returncode != 0:
            raise InfraError(f"abidw failed on the headers of {root}: {done.stderr.strip()}")
        aux = protos.read_text(errors="replace")
        knowledge = {"handed_out": set(_RETURNS_POINTER.findall(aux)),
                     "size_passed": size_passed(include, used),
                     "array_passed": array_passed(include, used),
                     "hook_only": hook_only(include, used)}
        declared = prototypes(aux)
        declared.update({name: Prototype(MACRO, header) for name, header in
                         macros(include, used).items() if name not in declared})
        write_prototypes(out_dir / "prototypes.txt", declared)
    return corpus, knowledge, used


def _prefix_maps(root: Path, work: Path) -> list[str]:
    """gcc options that record the corpus's paths as the stack installs them
    (/usr/include/...) and the scratch unit under a fixed name, so a corpus
    (and a committed baseline) does not change with the cache's or the
    temporary directory's name."""
    maps = [f"-fdebug-prefix-map={work}=/rdmagate-headers"]
    if root.resolve() != Path("/"):
        maps += [f"-fdebug-prefix-map={path}=" for path in dict.fromkeys((root, root.resolve()))]
    return maps


# array_passed: struct function; hook_only: struct owner.hook (absent from
# files written before it: none known, so nothing is judged unreachable)
KNOWLEDGE_KINDS = ("handed_out", "size_passed", "array_passed", "hook_only")
PAIRS = ("array_passed", "hook_only")
CACHE_FORMAT = 4      # of the files cached beside a stack: 2 keeps each prototype's header, 3 arrays,
                      # 4 the corpus's paths as installed


def write_knowledge(path: Path, knowledge: dict) -> None:
    def words(item) -> str:
        return " ".join(item) if isinstance(item, tuple) else item
    path.write_text("".join(f"{kind} {words(item)}\n" for kind in KNOWLEDGE_KINDS
                            for item in sorted(knowledge.get(kind, ()))))


def read_knowledge(path: Path) -> dict:
    """knowledge.txt as write_knowledge wrote it; a bad line is an error naming it."""
    knowledge: dict[str, set] = {kind: set() for kind in KNOWLEDGE_KINDS}
    for number, line in enumerate(files.read_text(path, "knowledge.txt").splitlines(),
                                  start=1):
        words = line.split()
        if not words or words[0] not in knowledge or \
                len(words) != (3 if words[0] in PAIRS else 2):
            raise UsageError(f"{path}:{number}: not a 'kind struct' (or 'array_passed "
                             "struct function', 'hook_only struct owner.hook') line")
        knowledge[words[0]].add(tuple(words[1:]) if len(words) == 3 else words[1])
    return knowledge


def abidw_version() -> str:
    """The installed abidw's version: a corpus one abidw wrote may not load in another."""
    done = tools.run(["abidw", "--version"], tools.QUICK)
    return done.stdout.split()[-1] if done.stdout.split() else "unknown"


def of_stack(tree, scratch: Path):
    """(ABIXML of the stack's headers, what its headers say of each struct),
    cached beside a fetched Debian stack (keyed by the abidw version: an older
    abidw may not read a newer one's corpus); None without headers."""
    found = tree.layout
    if not found or not any((d / "infiniband" / "verbs.h").exists() for d in found.include_dirs):
        return None
    cached = tree.root.parent / f"headers-abidw-{abidw_version()}-{CACHE_FORMAT}"
    if tree.stack.kind == "debian" and (cached / "prototypes.txt").exists():
        return cached / "headers.abi", read_knowledge(cached / "knowledge.txt")
    out = cached if tree.stack.kind == "debian" else scratch
    built, knowledge, _ = build(tree.root, found, out)
    write_knowledge(out / "knowledge.txt", knowledge)
    return built, knowledge
