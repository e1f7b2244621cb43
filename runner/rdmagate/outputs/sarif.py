"""findings.sarif: SARIF 2.1.0, the format code review and CI systems show
inline (GitHub and GitLab code scanning). One result per root cause; its
location is the header and line of the type or declaration where one is
known (a path under the stack's include directory, the base INCLUDEDIR),
else the library or kernel module by name (a logical location)."""
import json
from dataclasses import dataclass, field
from pathlib import Path

from .. import files

VERSION = "2.1.0"
SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INCLUDE = "INCLUDEDIR"
LEVELS = ("error", "warning", "note", "none")


@dataclass
class Location:
    header: str = ""      # relative to the include directory: infiniband/verbs.h
    line: int = 0
    module: str = ""      # a library or kernel module, when there is no header
    text: str = ""        # what is there (a related location's message)


@dataclass
class Entry:
    rule: str             # the rule id: audience/severity/kind
    rule_text: str        # what the rule means
    level: str            # error, warning, note, none
    message: str
    location: Location | None = None
    related: list[Location] = field(default_factory=list)
    properties: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.level not in LEVELS:
            raise ValueError(f"level {self.level!r}: one of {', '.join(LEVELS)}")


def _location(where: Location, index: int | None = None) -> dict:
    out: dict = {}
    if where.header:
        physical: dict = {"artifactLocation": {"uri": where.header, "uriBaseId": INCLUDE}}
        if where.line > 0:
            physical["region"] = {"startLine": where.line}
        out["physicalLocation"] = physical
    elif where.module:
        out["logicalLocations"] = [{"name": where.module, "kind": "module"}]
    if index is not None:
        out["id"] = index
    if where.text:
        out["message"] = {"text": where.text}
    return out


def document(entries: list[Entry], version: str, include_dir: str = "/usr/include/") -> dict:
    rules: dict[str, int] = {}
    rule_list: list[dict] = []
    results = []
    for entry in entries:
        if entry.rule not in rules:
            rules[entry.rule] = len(rule_list)
            rule_list.append({"id": entry.rule, "shortDescription": {"text": entry.rule_text},
                              "defaultConfiguration": {"level": entry.level}})
        result = {"ruleId": entry.rule, "ruleIndex": rules[entry.rule], "level": entry.level,
                  "message": {"text": entry.message}, "properties": entry.properties}
        if entry.location:
            result["locations"] = [_location(entry.location)]
        related = [_location(r, i) for i, r in enumerate(entry.related) if r.header or r.module]
        if related:
            result["relatedLocations"] = related
        results.append(result)
    return {"$schema": SCHEMA, "version": VERSION, "runs": [{
        "tool": {"driver": {"name": "rdmagate", "version": version, "rules": rule_list}},
        "originalUriBaseIds": {INCLUDE: {"uri": Path(include_dir).as_uri() + "/",
                                         "description": {"text": "the stack's include "
                                                         "directory"}}},
        "results": results}]}


def write(entries: list[Entry], path: Path, version: str) -> Path:
    files.write_atomic(path, json.dumps(document(entries, version), indent=1) + "\n",
                       "findings.sarif")
    return path
