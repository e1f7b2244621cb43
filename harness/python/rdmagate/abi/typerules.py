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
What these mechanisms do not cover breaks applications compiled against the
old headers: a member that moves (relative to the anchor that matters), a
member whose type or function-pointer signature changes, a struct that shrinks
or grows where applications allocate it, an enumerator whose value changes."""
from .abixml import Corpus, Record
from .findings import Finding

ANCHOR_TYPE = "struct ibv_context"


def _anchor(record: Record) -> int:
    """The offset members are reached from: the embedded public context when
    it is the last member (the verbs_context convention), else the start."""
    if record.order and record.members[record.order[-1]][1] == ANCHOR_TYPE \
            and len(record.order) > 1:
        return record.members[record.order[-1]][0]
    return 0


def _record(old: Record, new: Record, handed_out: set[str]) -> list[Finding]:
    where = f"{new.header}"
    name = f"{old.kind} {old.name}"
    found = []
    old_anchor, new_anchor = _anchor(old), _anchor(new)
    moved = False
    for member in old.order:
        old_offset, old_type = old.members[member]
        if member not in new.members:
            found.append(Finding(where, "member removed", "breaking", "build",
                                 f"{name}.{member} is gone: code using it no longer compiles",
                                 f"{old.name}.{member}"))
            continue
        new_offset, new_type = new.members[member]
        if old_type != new_type:
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
    added = [m for m in new.order if m not in old.members]
    if new.size < old.size:
        found.append(Finding(where, "size shrank", "breaking", "applications",
                             f"{name}: {old.size // 8} -> {new.size // 8} bytes", old.name))
    elif new.size > old.size and not moved:
        found.append(_growth(old, new, handed_out, added))
    elif added and not moved:
        found.append(Finding(where, "members added", "benign", "applications",
                             f"{name}: {', '.join(added)} in existing space", old.name))
    return found


def _growth(old: Record, new: Record, handed_out: set[str], added: list[str]) -> Finding:
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
    if old.name in handed_out:
        return Finding(new.header, "extended compatibly", "benign", "applications",
                       f"{name} {grew}, new {members}: the library allocates it and hands it "
                       "out by pointer", old.name)
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


def compare(old: Corpus, new: Corpus, handed_out: set[str]) -> list[Finding]:
    found = []
    for name, record in old.records.items():
        if name not in new.records:
            found.append(Finding(record.header, "type removed", "breaking", "build",
                                 f"{record.kind} {name} is no longer declared", name))
        else:
            found += _record(record, new.records[name], handed_out)
    for name, record in new.records.items():
        if name not in old.records:
            found.append(Finding(record.header, "type added", "info", "applications",
                                 f"{record.kind} {name}", name))
    for name, values in old.enums.items():
        if name in new.enums:
            found += _enum(name, values, new.enums[name], "headers")
        else:
            found.append(Finding("headers", "type removed", "breaking", "build",
                                 f"enum {name} is no longer declared", name))
    return found
