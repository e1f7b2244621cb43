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

from .abixml import Corpus, Record
from .findings import Finding

ANCHOR_TYPE = "struct ibv_context"
RESERVED = re.compile(r"^(reserved|rsvd|resv|_?ABI_placeholder|pad|padding)\w*$|^<unnamed", re.I)
_ANON = re.compile(r"^(struct|union):(\d+) \{(.*)\}$")


def _union_grew_in_place(old_type: str, new_type: str) -> bool:
    """union:128 {conn, ud} -> union:128 {conn, ud, arg}: same size, old
    members kept in order, new ones after them."""
    old, new = _ANON.match(old_type), _ANON.match(new_type)
    if not old or not new or old.group(1) != "union" or old.group(2) != new.group(2):
        return False
    old_names, new_names = old.group(3).split(", "), new.group(3).split(", ")
    return new_names[:len(old_names)] == old_names


def _anchor(record: Record) -> int:
    """The offset members are reached from: the embedded public context when
    it is the last member (the verbs_context convention), else the start."""
    if record.order and record.members[record.order[-1]][1] == ANCHOR_TYPE \
            and len(record.order) > 1:
        return record.members[record.order[-1]][0]
    return 0


def _record(old: Record, new: Record, knowledge: dict) -> list[Finding]:
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
        found.append(_growth(old, new, knowledge, added))
    elif added and not moved:
        found.append(Finding(where, "members added", "benign", "applications",
                             f"{name}: {', '.join(added)} in existing space", old.name))
    return found


def _growth(old: Record, new: Record, knowledge: dict, added: list[str]) -> Finding:
    name, grew = f"{old.kind} {old.name}", f"{old.size // 8} -> {new.size // 8} bytes"
    members = ", ".join(added) or "padding"
    if _anchor(old):
        why = "grown toward lower addresses before the embedded ibv_context (verbs_context)"
        return Finding(new.header, "extended compatibly", "benign", "applications",
                       f"{name} {grew}, new {members}: {why}", old.name)
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


def _enum(name: str, old: dict, new: dict, header: str) -> list[Finding]:
    found = []
    for enumerator, value in old.items():
        if enumerator not in new:
            found.append(Finding(header, "enumerator removed", "breaking", "build",
                                 f"enum {name}: {enumerator} is gone", enumerator))
        elif new[enumerator] != value:
            found.append(Finding(header, "enumerator value changed", "breaking", "applications",
                                 f"enum {name}: {enumerator} {value} -> {new[enumerator]}",
                                 enumerator))
    added = [e for e in new if e not in old]
    if added:
        found.append(Finding(header, "enumerators added", "benign", "applications",
                             f"enum {name}: {', '.join(added)}", name))
    return found


def compare(old: Corpus, new: Corpus, knowledge: dict) -> list[Finding]:
    """knowledge: what the new headers' code says of each struct, from
    headers.build: handed_out (returned by pointer), size_passed (sizeof at
    the call site)."""
    found = []
    for name, record in old.records.items():
        if name not in new.records:
            found.append(Finding(record.header, "type removed", "breaking", "build",
                                 f"{record.kind} {name} is no longer declared", name))
        else:
            found += _record(record, new.records[name], knowledge)
    for name, record in new.records.items():
        if name not in old.records:
            found.append(Finding(record.header, "type added", "info", "applications",
                                 f"{record.kind} {name}", name))
    for name, (header, values) in old.enums.items():
        if name in new.enums:
            found += _enum(name, values, new.enums[name][1], new.enums[name][0])
        else:
            found.append(Finding(header, "type removed", "breaking", "build",
                                 f"enum {name} is no longer declared", name))
    return found


def compare_prototypes(old: dict[str, str], new: dict[str, str]) -> list[Finding]:
    """Functions of the public headers: one gone no longer compiles; one whose
    signature changed is called by old binaries with the old one (inline
    functions are compiled into them), so it needs review."""
    macro = "#define"
    functions = {name for name, signature in old.items() if signature != macro}
    found = [Finding("headers", "prototype removed", "breaking", "build",
                     f"{name} is no longer declared: code calling it no longer compiles", name)
             for name in sorted(functions - set(new))]
    for name in sorted(functions & set(new)):
        if new[name] == macro:
            found.append(Finding("headers", "prototype now a macro", "benign", "build",
                                 f"{name} is now a macro (over an inline wrapper): calls "
                                 "still compile; binaries keep the exported symbol", name))
        elif old[name] != new[name]:
            found.append(Finding("headers", "prototype changed", "review", "applications",
                                 f"{name}: {old[name]} -> {new[name]}", name))
    added = sorted(n for n in set(new) - set(old) if new[n] != macro)
    if added:
        found.append(Finding("headers", "prototypes added", "info", "applications",
                             ", ".join(added)))
    return found
