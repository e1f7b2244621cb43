"""Output files as dataclasses: JSON in and out through one definition.

A record is a dataclass; its type hints are its schema. from_json checks a
parsed file against them and names the field that is wrong, so a corrupt or
foreign file ends in one clear UsageError instead of a KeyError somewhere in
a report. Conventions:

- a field with the default None is optional: written only when set (so a
  killed gate's upgrade.json lacks the sections it never reached, as before);
- a field whose JSON key is not a Python name (`from`) says its key in
  field(metadata={"key": "from"});
- a file's top-level record has a `format` field: the version of its shape.
  Files written before the shapes were versioned have none and read as
  version 1, which is their shape plus that field.

Every value is checked as its hint says, in this one place: a bool is not an
int, an int fits in 64 bits (SQLite's, and a float's range), a float is
finite, a Literal[...] field holds one of its values (an outcome, a status,
a severity: the sets are the tuples that define them), and an
Annotated[int | float, Range(low, high)] field lies in its range. A Name is
a string without control characters (it is printed, and used as a key)."""
import dataclasses
import json
import math
import types
import typing
from pathlib import Path

from .. import files
from ..errors import UsageError


def key(field: dataclasses.Field) -> str:
    return field.metadata.get("key", field.name)


def _optional(field: dataclasses.Field) -> bool:
    return field.default is None


def to_json(value):
    """A record (or a list or dict of them) as plain JSON values."""
    if dataclasses.is_dataclass(value):
        return {key(f): to_json(getattr(value, f.name)) for f in dataclasses.fields(value)
                if not (_optional(f) and getattr(value, f.name) is None)}
    if isinstance(value, (list, tuple)):
        return [to_json(item) for item in value]
    if isinstance(value, dict):
        return {name: to_json(item) for name, item in value.items()}
    return value


class Mismatch(Exception):
    """A value that is not of its declared type, or fails its record's check."""


MAX_INT = 2**63 - 1   # SQLite's INTEGER; far beyond any count, size or time a record holds


@dataclasses.dataclass(frozen=True)
class Range:
    """Annotated[int, Range(1, 64)]: the bounds of a number field, both included."""
    low: float
    high: float


class _NameMark:
    """Annotated[str, NAME]: a string without control characters."""


NAME = _NameMark()
Name = typing.Annotated[str, NAME]


def _mismatch(where: str, text: str) -> Mismatch:
    return Mismatch(f"field {where or '(top)'}: {text}")


def _type_name(hint) -> str:
    return getattr(hint, "__name__", None) or str(hint).replace("typing.", "")


def convert(hint, value, where: str):
    """value (parsed JSON) as the type hint says; Mismatch naming where when not."""
    origin = typing.get_origin(hint)
    if hint is typing.Any:
        return value
    if origin is typing.Annotated:
        value = convert(hint.__origin__, value, where)
        for mark in hint.__metadata__:
            _marked(mark, value, where)
        return value
    if origin is typing.Literal:
        choices = typing.get_args(hint)
        # 1 == True to Python: the type must match too
        if not any(value == c and type(value) is type(c) for c in choices):
            raise _mismatch(where, f"{json.dumps(value)[:40]} is not one of "
                            + ", ".join(json.dumps(c) for c in choices))
        return value
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in typing.get_args(hint):
            return None
        choices = tuple(h for h in typing.get_args(hint) if h is not type(None))
        for choice in choices[:-1]:
            try:
                return convert(choice, value, where)
            except Mismatch:
                continue
        return convert(choices[-1], value, where)
    if dataclasses.is_dataclass(hint):
        return from_json(hint, value, where)
    if origin is list:
        if not isinstance(value, list):
            raise _mismatch(where, f"expected a list, got {type(value).__name__}")
        (item,) = typing.get_args(hint)
        return [convert(item, v, f"{where}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise _mismatch(where, f"expected an object, got {type(value).__name__}")
        _, item = typing.get_args(hint)
        for k in value:   # a key is a name: a test, a library, a measurement
            _marked(NAME, k, f"{where}.{json.dumps(k)[1:-1]}")
        return {k: convert(item, v, f"{where}.{k}") for k, v in value.items()}
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        hint = int   # JSON has one number type; kept as written so 0 reads back as 0
    if not isinstance(value, hint) or (isinstance(value, bool) and hint is not bool):
        raise _mismatch(where, f"expected {_type_name(hint)}, got {_shown(value)}")
    if hint is int and not -MAX_INT <= value <= MAX_INT:
        raise _mismatch(where, f"{_shown(value)} is out of range")
    if hint is float and not math.isfinite(value):
        raise _mismatch(where, f"{_shown(value)} is not a finite number")
    return value


def _shown(value) -> str:
    """A value in an error line: its JSON, cut short (a 400-digit number too)."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_INT:
        return f"a number of {len(str(abs(value)))} digits"
    return json.dumps(value)[:40]


def _marked(mark, value, where: str) -> None:
    """value against one Annotated mark of its field."""
    if isinstance(mark, Range) and not mark.low <= value <= mark.high:
        raise _mismatch(where, f"{_shown(value)} is not in {mark.low:g} to {mark.high:g}")
    if mark is NAME and not value.isprintable():
        raise _mismatch(where, f"{_shown(value)} holds a control character")


def from_json(cls, data, where: str = ""):
    """An instance of the dataclass cls from a parsed JSON object."""
    if not isinstance(data, dict):
        raise _mismatch(where, f"expected an object, got {type(data).__name__}")
    hints = typing.get_type_hints(cls, include_extras=True)
    fields = dataclasses.fields(cls)
    unknown = set(data) - {key(f) for f in fields}
    if unknown:
        name = sorted(unknown, key=str)[0]
        raise _mismatch(f"{where}.{name}" if where else name,
                        "unknown" + files.nearest(name, [key(f) for f in fields]))
    values = {}
    for f in fields:
        path = f"{where}.{key(f)}" if where else key(f)
        if key(f) in data:
            values[f.name] = convert(hints[f.name], data[key(f)], path)
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise _mismatch(path, "missing")
    try:
        return cls(**values)
    except ValueError as err:   # a record's own check (__post_init__) names its field
        raise Mismatch(f"{where}: {err}" if where else str(err)) from None


def load(cls, path: Path, what: str):
    """Read and check one JSON file written from cls (what: its name for
    people); UsageError naming the file and the field when it is corrupt,
    foreign or of a newer format."""
    text = files.read_text(path, what)
    try:
        data = json.loads(text)
    except RecursionError:
        raise UsageError(f"{path}: not {what}: nested too deeply") from None
    except json.JSONDecodeError as err:
        raise UsageError(f"{path}: not {what}: not JSON ({err})") from None
    if not isinstance(data, dict):
        raise UsageError(f"{path}: not {what}: a JSON {type(data).__name__}, not an object")
    version = data.get("format", 1)
    known = cls.__dataclass_fields__["format"].default
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise UsageError(f"{path}: field format: {_shown(version)} is not a version of "
                         f"{what}")
    if version > known:
        raise UsageError(f"{path}: field format: version {_shown(version)} of {what} is newer than "
                         f"this rdmagate reads ({known}): use a newer rdmagate")
    try:
        return from_json(cls, {**data, "format": known})
    except Mismatch as err:
        raise UsageError(f"{path}: not {what}: {err}") from None


def write(record, path: Path, sort_keys: bool = False) -> None:
    """Write a record atomically: a reader sees the old file or the new one."""
    files.write_atomic(path, json.dumps(to_json(record), indent=2, sort_keys=sort_keys) + "\n",
                       path.name)
