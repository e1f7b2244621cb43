"""libabigail suppression files, applied to rdmagate's own findings too.

The same file the user hands abidiff must silence the same changes in
rdmagate's report, or the two would disagree. Understood: [suppress_type]
(name, name_regexp), [suppress_function] and [suppress_variable] (name,
name_regexp, symbol_name, symbol_name_regexp, symbol_version,
symbol_version_regexp), [suppress_file] (file_name_regexp, soname_regexp);
a section with a property rdmagate does not know only goes to abidiff."""
import re
from dataclasses import dataclass
from pathlib import Path

from .. import files
from ..errors import UsageError
from ..paths import REPO_ROOT
from .findings import Finding, Suppressed

DEFAULT = REPO_ROOT / "suites" / "abi" / "rdma-core.suppr"
KNOWN = {
    "suppress_type": {"name", "name_regexp", "type_kind", "has_data_member_inserted_at", "label"},
    "suppress_function": {"name", "name_regexp", "symbol_name", "symbol_name_regexp",
                          "symbol_version", "symbol_version_regexp", "label"},
    "suppress_variable": {"name", "name_regexp", "symbol_name", "symbol_name_regexp",
                          "symbol_version", "symbol_version_regexp", "label"},
    "suppress_file": {"file_name_regexp", "soname_regexp", "label"},
}
TYPE_KINDS = ("type added", "type removed", "member", "size", "extended", "union member",
              "enumerator")


@dataclass
class Rule:
    section: str
    props: dict
    where: str

    def _match(self, key: str, value: str) -> bool:
        if key in self.props and self.props[key] != value:
            return False
        regexp = self.props.get(key + "_regexp")
        return not regexp or re.search(regexp, value) is not None

    def covers(self, finding: Finding) -> bool:
        if self.section == "suppress_file":
            return self._match("soname", finding.library) and \
                self._match("file_name", finding.library)
        if self.section == "suppress_type":
            if not finding.kind.startswith(TYPE_KINDS):
                return False
            if "type_kind" in self.props and not finding.detail.startswith(self.props["type_kind"]):
                return False
            # "inserted at end" silences growth only, never a member that moved
            if self.props.get("has_data_member_inserted_at") == "end" and \
                    finding.kind not in ("size grew", "extended compatibly"):
                return False
            return self._match("name", finding.symbol.split(".", 1)[0])
        if finding.kind.startswith(("symbol", "private symbol")):
            return self._match("name", finding.symbol) and \
                self._match("symbol_name", finding.symbol) and \
                self._match("symbol_version", finding.version)
        return False


def read(path: Path) -> list[Rule]:
    rules, section, props, start = [], None, {}, 0
    lines = files.read_text(path, "suppressions").splitlines()

    def close():
        if section and set(props) <= KNOWN[section]:
            rules.append(Rule(section, dict(props), f"{path}:{start}"))

    for number, raw in enumerate(lines, start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("[") and line.endswith("]"):
            close()
            section, props, start = line[1:-1].strip(), {}, number
            if section not in KNOWN:
                raise UsageError(f"{path}:{number}: unknown section [{section}]")
            continue
        if section is None or "=" not in line:
            raise UsageError(f"{path}:{number}: expected [section] or property = value")
        key, value = (part.strip() for part in line.split("=", 1))
        if key.endswith("_regexp"):
            try:
                re.compile(value)
            except re.error as err:
                raise UsageError(f"{path}:{number}: bad regular expression ({err})") from None
        props[key] = value
    close()
    return rules


def apply(findings: list[Finding], rules: list[Rule]) -> tuple[list[Finding], list[Suppressed]]:
    """(findings kept, what was suppressed and by which rule)."""
    kept, dropped = [], []
    for finding in findings:
        rule = next((r for r in rules if r.covers(finding)), None)
        if rule is None:
            kept.append(finding)
        else:
            dropped.append(Suppressed(**finding.as_dict(), suppressed_by=rule.where))
    return kept, dropped
