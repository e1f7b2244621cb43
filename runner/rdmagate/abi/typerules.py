"""rdma-core's ways of extending its ABI, as rules over header types.

A generic diff calls every grown struct a change; rdma-core grows structs on
purpose where the mechanism keeps old binaries working:
- a struct with a comp_mask member is extended at its end, and the library
  reads the new members only when the caller's comp_mask says they are there;
- a struct the library allocates and hands out by pointer (ibv_qp, ibv_cq,
  ...) may grow at its end: applications never allocate or copy it;
- struct verbs_context ends with the embedded struct ibv_context and grows
  toward lower addresses: inline functions compiled into applications reach
  its members at negative offsets from the ibv_context pointer they hold
  (verbs_get_ctx_op and its size check), so what must stay fixed is each
  member's offset relative to the embedded ibv_context, not from the start.
- a struct an inline wrapper passes with its compile-time size (for example
  ibv_query_port passing sizeof(*port_attr)) may grow at its end: the library
  fills only what the caller's size covers;
- reserved members (reserved, rsvd, _ABI_placeholder...) exist to be carved
  into new members without moving anything else;
- an anonymous union that gains a member within its size changes nothing.
What these mechanisms do not cover breaks applications compiled against the
old headers: a member that moves (relative to the anchor that matters), a
member whose type or function-pointer signature changes, a struct that shrinks
or grows where applications allocate it, an enumerator whose value changes."""
import re
from collections.abc import Set as AbstractSet
from dataclasses import replace

from .abixml import Corpus, Record
from .findings import Finding
from .symbols import CHANGED_PRIVATE, PROVIDER_HEADER

ANCHOR_TYPE = "struct ibv_context"
# C's integer types by their width on LP64, as DWARF (through abidw) and gcc's
# -aux-info spell them: a change between two of one width keeps every offset
# and every call's registers, only its signedness or spelling changes
_INTEGER_BITS = {
    8: ("char", "signed char", "unsigned char", "int8_t", "uint8_t", "__s8", "__u8"),
    16: ("short", "short int", "signed short", "short signed int", "unsigned short",
         "short unsigned int", "int16_t", "uint16_t", "__s16", "__u16", "__be16", "__le16"),
    32: ("int", "signed int", "signed", "unsigned int", "unsigned", "int32_t", "uint32_t",
         "__s32", "__u32", "__be32", "__le32"),
    64: ("long", "long int", "signed long", "long signed int", "unsigned long",
         "long unsigned int", "long long", "long long int", "long long signed int",
         "unsigned long long", "long long unsigned int", "int64_t", "uint64_t", "__s64",
         "__u64", "__be64", "__le64", "size_t", "ssize_t", "uintptr_t", "intptr_t"),
}
_INTEGER = re.compile(r"(?<!\w)(?:" + "|".join(
    re.escape(name) for name in sorted((n for names in _INTEGER_BITS.values() for n in names),
                                       key=len, reverse=True)) + r")(?![\w])")
_WIDTH = {name: bits for bits, names in _INTEGER_BITS.items() for name in names}


def _widths(spelled: str) -> str:
    """A type or signature with each integer type replaced by its width."""
    return _INTEGER.sub(lambda m: f"<int{_WIDTH[m.group(0)]}>", spelled)


def same_width(old: str, new: str) -> bool:
    """Two different spellings of a type (or signature) that differ only in
    integer types of the same width: int -> unsigned int, unsigned long ->
    unsigned long long."""
    return old != new and _widths(old) == _widths(new)
RESERVED = re.compile(r"^(reserved|rsvd|resv|_?ABI_placeholder|pad|padding)\w*$|^<unnamed", re.I)
_ANON = re.compile(r"^(struct|union):(\d+) \{(.*)\}$")


def _union_grew_in_place(old_type: str, new_type: str) -> bool:
    """union:128 {conn, ud} -> union:128 {conn, ud, arg}: same size, every
    old member kept (a union's members all start at its start, so where the
    new one is listed does not matter: {cq, qp, srq, port_num} -> {cq, qp,
    srq, wq, port_num} of ibv_async_event)."""
    old, new = _ANON.match(old_type), _ANON.match(new_type)
    if not old or not new or old.group(1) != "union" or old.group(2) != new.group(2):
        return False
    return set(old.group(3).split(", ")) <= set(new.group(3).split(", "))


def _anchor(record: Record) -> int:
    """The offset members are reached from: the embedded public context when
    it is the last member (the verbs_context convention), else the start."""
    if record.order and record.members[record.order[-1]][1] == ANCHOR_TYPE \
            and len(record.order) > 1:
        return record.members[record.order[-1]][0]
    return 0


def _record(old: Record, new: Record, knowledge: dict, exports: dict) -> list[Finding]:
    where = f"{new.header}"
    name = f"{old.kind} {old.name}"
    found = []
    old_anchor, new_anchor = _anchor(old), _anchor(new)
    moved = False
    for member in old.order:
        old_offset, old_type = old.members[member]
        if RESERVED.match(member):
            continue  # carved into new members: judged by what else moved
        if member not in new.members:
            found.append(Finding(where, "member removed", "breaking", "build",
                                 f"{name}.{member} is gone: code using it no longer compiles",
                                 f"{old.name}.{member}"))
            continue
        new_offset, new_type = new.members[member]
        if old_type != new_type and _union_grew_in_place(old_type, new_type):
            found.append(Finding(where, "union member added", "benign", "applications",
                                 f"{name}.{member}: {old_type} -> {new_type}, same size",
                                 f"{old.name}.{member}"))
        elif same_width(old_type, new_type):
            found.append(Finding(where, "member signedness changed", "review", "build",
                                 f"{name}.{member}: {old_type} -> {new_type}, the same width: "
                                 "binaries are unaffected; code compiled against the new "
                                 "header may compare or convert it differently",
                                 f"{old.name}.{member}"))
        elif old_type != new_type:
            found.append(Finding(where, "member type changed", "breaking", "applications",
                                 f"{name}.{member}: {old_type} -> {new_type}",
                                 f"{old.name}.{member}"))
        if old_offset - old_anchor != new_offset - new_anchor:
            moved = True
            found.append(Finding(where, "member moved", "breaking", "applications",
                                 f"{name}.{member}: offset {old_offset - old_anchor} -> "
                                 f"{new_offset - new_anchor} bits"
                                 + (" from the embedded ibv_context" if old_anchor else ""),
                                 f"{old.name}.{member}"))
    added = [m for m in new.order if m not in old.members and not RESERVED.match(m)]
    if new.size < old.size:
        found.append(Finding(where, "size shrank", "breaking", "applications",
                             f"{name}: {old.size // 8} -> {new.size // 8} bytes", old.name))
    elif new.size > old.size and not moved:
        found.append(_growth(old, new, knowledge, added, exports))
    elif added and not moved:
        found.append(Finding(where, "members added", "benign", "applications",
                             f"{name}: {', '.join(added)} in existing space", old.name))
    hook = knowledge.get("old_hook_only", {}).get(old.name)
    if hook:
        found = [_implementers(f, hook) if f.audience == "applications" and
                 f.severity in ("breaking", "review") else f for f in found]
    return found


def _implementers(finding: Finding, hook: str) -> Finding:
    """A layout change of a struct the old headers pass only to a driver hook
    none of their functions calls: no application could hand it to the
    library, so it hurts only code that implements the hook."""
    return replace(finding, audience="providers", detail=(
        f"{finding.detail}: no application compiled against the old headers passes it "
        f"(they take it only as a parameter of {hook}, which none of their functions "
        "calls); code implementing that hook lays it out the old way"))


def _array_growth(old: Record, new: Record, functions: list[str], old_functions: list[str],
                  exports: dict, grew: str, old_exports: dict) -> Finding:
    """A struct passed as an array that grew: callers compiled with the old
    size step through it with the old stride, whatever size a wrapper passes,
    unless the library keeps the old symbol (old stride) beside a new one:
    the same name under a new default version and the old one, or
    (mlx5dv_create_flow in rdma-core 65) the old function kept while the
    headers now call a new symbol. Two versions the old stack had already
    are an older fix, not one for this growth."""
    name = f"{old.kind} {old.name}"
    for function in functions:
        default, every = exports.get(function, (None, set()))
        kept = sorted(v for v in every if v != default)
        if default and kept and default != old_exports.get(function, (None,))[0]:
            return Finding(new.header, "extended compatibly", "benign", "applications",
                           f"{name} {grew}, passed as an array to {function}: the old symbol "
                           f"{function}@{kept[-1]} is kept for the old stride, "
                           f"{function}@@{default} takes the new one", old.name)
    kept = [f for f in old_functions if f not in functions and exports.get(f, (None,))[0]]
    fresh = [f for f in functions if f not in old_functions and exports.get(f, (None,))[0]]
    if kept and fresh:
        return Finding(new.header, "extended compatibly", "benign", "applications",
                       f"{name} {grew}, passed as an array: the old symbol "
                       f"{kept[0]}@{exports[kept[0]][0]} is kept for the old stride, the headers "
                       f"now call {fresh[0]}@@{exports[fresh[0]][0]} for the new one", old.name)
    takes = ", ".join(functions)
    return Finding(new.header, "array element grew", "breaking", "applications",
                   f"{name} {grew}, passed as an array to {takes}: binaries compiled with the "
                   "old size step through it with the old stride (even where an inline wrapper "
                   "passes sizeof); fix: keep the old symbol with the old stride and export the "
                   "new layout under a new symbol version", old.name)


def _growth(old: Record, new: Record, knowledge: dict, added: list[str],
            exports: dict | None = None) -> Finding:
    name, grew = f"{old.kind} {old.name}", f"{old.size // 8} -> {new.size // 8} bytes"
    members = ", ".join(added) or "padding"
    if _anchor(old):
        why = "grown toward lower addresses before the embedded ibv_context (verbs_context)"
        return Finding(new.header, "extended compatibly", "benign", "applications",
                       f"{name} {grew}, new {members}: {why}", old.name)
    arrays = sorted(f for struct, f in knowledge.get("array_passed", ()) if struct == old.name)
    if arrays:
        before = sorted(f for struct, f in knowledge.get("old_array_passed", ())
                        if struct == old.name)
        return _array_growth(old, new, arrays, before, exports or {}, grew,
                             knowledge.get("old_versions", {}))
    if "comp_mask" in old.members:
        return Finding(new.header, "extended compatibly", "benign", "applications",
                       f"{name} {grew}, new {members}: read only when comp_mask says so",
                       old.name)
    if old.name in knowledge["handed_out"]:
        return Finding(new.header, "extended compatibly", "benign", "applications",
                       f"{name} {grew}, new {members}: the library allocates it and hands it "
                       "out by pointer", old.name)
    if old.name in knowledge["size_passed"]:
        return Finding(new.header, "extended compatibly", "benign", "applications",
                       f"{name} {grew}, new {members}: the inline wrapper passes the size the "
                       "application was compiled with", old.name)
    return Finding(new.header, "size grew", "review", "applications",
                   f"{name} {grew}, new {members}: code that allocates it, copies it or "
                   "uses arrays of it was compiled with the old size", old.name)


_COUNT_NAME = re.compile(r"(^|_)(LAST|MAX|NUM|COUNT|END|RESERVED)(_|$)")


def _end_marker(enumerator: str, old: dict, new: dict) -> bool:
    """rdma-core's "must be last" enumerator (IB_FIELD_LAST_ of libibmad's
    MAD_FIELDS, IBV_SRQ_INIT_ATTR_RESERVED past the last flag): named as a
    count or a placeholder, the highest value before and after, and moved
    only because enumerators were added while every other one kept its
    value."""
    return bool(_COUNT_NAME.search(enumerator)) and old[enumerator] == max(old.values()) \
        and new[enumerator] == max(new.values()) and new[enumerator] > old[enumerator] \
        and all(new.get(e) == v for e, v in old.items() if e != enumerator)


def _enum(name: str, old: dict, new: dict, header: str) -> list[Finding]:
    found = []
    for enumerator, value in old.items():
        if enumerator not in new:
            found.append(Finding(header, "enumerator removed", "breaking", "build",
                                 f"enum {name}: {enumerator} is gone", enumerator))
        elif new[enumerator] != value and _end_marker(enumerator, old, new):
            # rdma-core extends MAD_FIELDS this way in most releases without a
            # new soname: an old binary keeps the old count and sees only the
            # values it knew, all unchanged, so this is how an enum grows
            found.append(Finding(header, "end marker moved", "benign", "applications",
                                 f"enum {name}: {enumerator} {value} -> {new[enumerator]}: "
                                 "enumerators were added before its last one, a count; every "
                                 "other value is unchanged, and code compiled with the old "
                                 "count sees only the values it knew", enumerator))
        elif new[enumerator] != value:
            found.append(Finding(header, "enumerator value changed", "breaking", "applications",
                                 f"enum {name}: {enumerator} {value} -> {new[enumerator]}",
                                 enumerator))
    added = [e for e in new if e not in old]
    if added:
        found.append(Finding(header, "enumerators added", "benign", "applications",
                             f"enum {name}: {', '.join(added)}", name))
    return found


def compare(old: Corpus, new: Corpus, knowledge: dict,
            not_shipped: AbstractSet[str] = frozenset(),
            exports: dict | None = None) -> list[Finding]:
    """knowledge: what the new headers' code says of each struct, from
    headers.build: handed_out (returned by pointer), size_passed (sizeof at
    the call site), array_passed ((struct, function) taking an array of it),
    old_hook_only (struct -> the driver hook, the only use the old headers
    make of it);
    exports: the new stack's symbol -> (default version, every version)."""
    found = []
    for name, record in old.records.items():
        if record.header in not_shipped:
            continue     # said once, by header_not_shipped
        if name not in new.records:
            found.append(Finding(record.header, "type removed", "breaking", "build",
                                 f"{record.kind} {name} is no longer declared", name))
        else:
            found += _record(record, new.records[name], knowledge, exports or {})
    for name, record in new.records.items():
        if name not in old.records:
            found.append(Finding(record.header, "type added", "info", "applications",
                                 f"{record.kind} {name}", name))
    for name, (header, values) in old.enums.items():
        if header in not_shipped:
            continue
        if name in new.enums:
            found += _enum(name, values, new.enums[name][1], new.enums[name][0])
        else:
            found.append(Finding(header, "type removed", "breaking", "build",
                                 f"enum {name} is no longer declared", name))
    return found


_COMPAT = re.compile(r"\bstruct _compat_(\w+)")


def _compat_renamed(old: str, new: str) -> bool:
    """ibv_query_port(..., struct ibv_port_attr*) -> (..., struct
    _compat_ibv_port_attr*): rdma-core's way to grow a struct an exported
    function fills; the exported symbol keeps the old layout under the
    _compat_ name, and the headers send new code to a new entry point."""
    return old != new and _COMPAT.sub(r"struct \1", new) == old


def compare_prototypes(old: dict, new: dict, exported: set[str] | None = None,
                       not_shipped: AbstractSet[str] = frozenset()) -> list[Finding]:
    """Functions of the public headers (headers.Prototype by name): one gone
    no longer compiles, unless it was only a declaration no library of the
    old stack exported (nothing could link it) or its whole header is gone
    (said once, by header_not_shipped); one whose signature changed is
    called by old binaries with the old one (inline functions are compiled
    into them), so it needs review, unless only a parameter's struct took
    rdma-core's _compat_ name (the exported symbol keeps the old layout)."""
    macro = "#define"
    functions = {name for name, p in old.items() if p.signature != macro}
    found = []
    for name in sorted(functions - set(new)):
        if old[name].header in not_shipped:
            continue
        if exported is not None and old[name].inline is False and name not in exported:
            found.append(Finding("headers", "declaration removed", "info", "build",
                                 f"{name} is no longer declared, but no library of the old stack "
                                 "exported it: nothing could call it", name))
            continue
        found.append(Finding("headers", "prototype removed", "breaking", "build",
                             f"{name} is no longer declared: code calling it no longer compiles",
                             name))
    for name in sorted(functions & set(new)):
        if new[name].signature == macro:
            found.append(Finding("headers", "prototype now a macro", "benign", "build",
                                 f"{name} is now a macro (over an inline wrapper): calls "
                                 "still compile; binaries keep the exported symbol", name))
        elif _compat_renamed(old[name].signature, new[name].signature):
            found.append(Finding("headers", "prototype kept for old binaries", "benign",
                                 "applications", f"{name}: {old[name].signature} -> "
                                 f"{new[name].signature}: the library keeps the old layout "
                                 "under the _compat_ name for binaries built with the old "
                                 "headers; new code reaches the new one through an inline "
                                 "wrapper", name))
        elif same_width(old[name].signature, new[name].signature):
            found.append(Finding("headers", "prototype signedness changed", "review", "build",
                                 f"{name}: {old[name].signature} -> {new[name].signature}, the "
                                 "same widths: binaries call it the same way", name))
        elif old[name].signature != new[name].signature:
            found.append(Finding("headers", "prototype changed", "review", "applications",
                                 f"{name}: {old[name].signature} -> {new[name].signature}", name))
    added = sorted(n for n in set(new) - set(old) if new[n].signature != macro)
    if added:
        found.append(Finding("headers", "prototypes added", "info", "applications",
                             ", ".join(added)))
    return found


def header_not_shipped(missing: set[str], old: Corpus, old_prototypes: dict) -> list[Finding]:
    """A public header of the old stack the new one does not ship: one finding,
    not one per type and function it declared."""
    found = []
    for header in sorted(missing):
        types = sum(1 for r in old.records.values() if r.header == header) + \
            sum(1 for h, _ in old.enums.values() if h == header)
        functions = sum(1 for p in old_prototypes.values() if p.header == header)
        found.append(Finding(header, "header not shipped", "breaking", "build",
                             f"{header} is not in the new stack: code including it no longer "
                             f"compiles ({types} types and {functions} functions or macros it "
                             "declared)", header))
    return found


def layout_changes(old: Record, new: Record) -> list[str]:
    """What moved in a type both sides of an interface must lay out alike
    (no extension convention applies): members removed, moved, retyped to
    another width, members inserted before the old end, the size; [] for
    the same layout."""
    said, moved = [], []
    for member in old.order:
        old_offset, old_type = old.members[member]
        if member not in new.members:
            if not RESERVED.match(member):
                said.append(f"{member} removed")
            continue
        new_offset, new_type = new.members[member]
        if old_offset != new_offset:
            moved.append(f"{member} {old_offset} -> {new_offset} bits")
        elif old_type != new_type and not same_width(old_type, new_type) and \
                not _union_grew_in_place(old_type, new_type) and \
                old_type.removesuffix("[1]") != new_type.removesuffix("[1]"):
            said.append(f"{member}: {old_type} -> {new_type}")
    inserted = [m for m in new.order if m not in old.members and not RESERVED.match(m)
                and new.members[m][0] < old.size]
    if inserted and moved:
        said.insert(0, f"{', '.join(inserted)} inserted")
    if moved:
        said.append(f"{len(moved)} members moved (first: {moved[0]})")
    if old.size != new.size:
        said.append(f"size {old.size // 8} -> {new.size // 8} bytes")
    return said


def private_layouts(old: dict, new: dict, version: str) -> list[Finding]:
    """Types the private interface passes (name -> (Record, the function that
    reaches it), from each side's debug info) whose layout changed while the
    private node stayed: a provider built for the node lays them out the old
    way, whatever its symbols resolve to. driver.h's types must keep their
    layout whole; a public type may grow at its end (its own convention),
    but no member of it may move from the start (a provider embeds
    verbs_context at the start of its own context)."""
    found = []
    for name in sorted(set(old) & set(new)):
        (before, function), (after, _) = old[name], new[name]
        if not after.header.startswith(("infiniband/", "rdma/")):
            continue   # libibverbs' own (ibverbs.h): providers never lay it out
        changes = layout_changes(before, after)
        if after.header != PROVIDER_HEADER and all(c.startswith("size ") for c in changes):
            continue   # a public type grown at its end: its extension convention holds
        if changes:
            found.append(Finding("libibverbs", CHANGED_PRIVATE, "breaking", "providers",
                                 f"{before.kind} {name} ({after.header}): {'; '.join(changes)}; "
                                 f"it is passed through {function}@{version}: providers built "
                                 f"for {version} lay it out the old way; the change needs a new "
                                 "IBVERBS_PRIVATE node", name, version))
    return found
