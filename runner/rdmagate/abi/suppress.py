r"""libabigail suppression files, applied to rdmagate's own findings too.

The same file the user hands abidiff must silence the same changes in
rdmagate's report, or the two would disagree. So the file is read the way
libabigail 2.2 reads it, as measured with its abidiff on crafted files
(tests/unit/test_suppress_parity.py):

- a '#' or ';' anywhere starts a comment; lines end at '\n' only (a '\r'
  stays in the value); key and value are trimmed of blanks and tabs; the
  first of two equal keys in a section wins; a section name is exact;
- a backslash escapes the character after it, which stands for itself
  (\t a tab; \0, \a, \b, \r a blank): "\." reaches regcomp as ".", so
  a regular expression needs "\\." for a literal dot;
- a symbol change (rdmagate's ELF symbol findings) is silenced by
  [suppress_function] when the symbol is a function, by [suppress_variable]
  when it is a variable, and only when the section names the symbol by
  symbol_name (which then wins over symbol_name_regexp) or
  symbol_name_regexp, and/or by symbol_version (winning over
  symbol_version_regexp) or symbol_version_regexp; soname_regexp /
  soname_not_regexp, file_name_regexp / file_name_not_regexp and
  change_kind narrow it; name, name_regexp, the *_not_regexp of names and
  versions and every other property do not concern ELF symbols;
- [suppress_file] silences everything of a library when the base name of
  one of the two files abidiff compares matches its file_name_regexp and
  not its file_name_not_regexp (soname_regexp is ignored there); in the
  other sections file_name_regexp sees the whole path;
- [suppress_type] (name, name_regexp, type_kind,
  has_data_member_inserted_at) applies to rdmagate's header type findings.

Where rdmagate stays stricter than libabigail it refuses the file with one
line (exit 2) rather than differ silently: an unknown section (abidiff
ignores it), a line that is not [section] or key = value (abidiff 2.2
crashes), a regular expression glibc's regcomp refuses (abidiff then
silences every symbol) or that it cannot finish in time, an unescaped '{',
'}' or ',' in a regular expression (libabigail reads a tuple or a list).

Every *_regexp is a POSIX extended regular expression, matched by the same
engine as abidiff's (ere.py: glibc's regcomp/regexec): never by Python's re,
which reads (?=...) and (?i) where regcomp refuses them, and backtracks for
minutes on ^(\w*)*Q$ where glibc takes microseconds."""
from dataclasses import dataclass, field
from pathlib import Path

from .. import files
from ..errors import UsageError
from ..paths import REPO_ROOT
from ..stacks import elf
from . import abixml, ere
from .findings import Finding, Suppressed

DEFAULT = REPO_ROOT / "suites" / "abi" / "rdma-core.suppr"
SECTIONS = ("suppress_type", "suppress_function", "suppress_variable", "suppress_file")
TYPE_KINDS = ("type added", "type removed", "member", "size", "extended", "union member",
              "enumerator")
TYPE_PROPERTIES = {"name", "name_regexp", "type_kind", "has_data_member_inserted_at", "label"}
# change_kind values (comma separated) that cover a symbol removed or added
CHANGE_KINDS = {("suppress_function", "removed"): "deleted-function",
                ("suppress_function", "added"): "added-function",
                ("suppress_variable", "removed"): "deleted-variable",
                ("suppress_variable", "added"): "added-variable"}
_BLANKS = " \t"


@dataclass
class Library:
    """What a rule may test of one library besides the finding itself."""
    files: list[str] = field(default_factory=list)     # the two files abidiff compares
    sonames: list[str] = field(default_factory=list)
    variables: set[str] = field(default_factory=set)   # its data symbols


def libraries(sides) -> dict[str, Library]:
    """Per library, from (inventory, {library: file given to abidiff}) of
    each side: its files, sonames and variable symbols."""
    out: dict[str, Library] = {}
    for inventory, given in sides:
        for name, path in given.items():
            lib = out.setdefault(name, Library())
            lib.files.append(str(path))
            soname = (inventory["libraries"].get(name) or {}).get("soname")
            if soname:
                lib.sonames.append(soname)
            lib.variables |= elf.read_elf(path).objects if elf.is_elf(path) \
                else abixml.data_symbols(Path(path))
    return out


@dataclass
class Rule:
    section: str
    props: dict
    where: str
    # what each regexp matched among the strings the findings offer (apply())
    matched: dict[str, set[str]] = field(default_factory=dict, repr=False)

    def _search(self, key: str, value: str) -> bool:
        return value in self.matched[self.props[key]]

    def _names(self, key: str, value: str) -> bool | None:
        """key (exact) wins over key_regexp; None when the rule has neither."""
        if key in self.props:
            return self.props[key] == value
        if key + "_regexp" in self.props:
            return self._search(key + "_regexp", value)
        return None

    def _files(self, values: list[str], key: str) -> bool:
        """Some value matches key_regexp and not key_not_regexp (each when given)."""
        wanted, unwanted = self.props.get(key + "_regexp"), self.props.get(key + "_not_regexp")
        if wanted is None and unwanted is None:
            return True
        return any((wanted is None or self._search(key + "_regexp", v)) and
                   (unwanted is None or not self._search(key + "_not_regexp", v))
                   for v in values)

    def covers(self, finding: Finding, library: Library | None = None) -> bool:
        library = library or Library()
        if self.section == "suppress_file":
            if "file_name_regexp" not in self.props and "file_name_not_regexp" not in self.props:
                return False
            # a file suppression sees the base name, a symbol's the whole path
            return bool(library.files) and \
                self._files([Path(f).name for f in library.files], "file_name")
        if self.section == "suppress_type":
            return self._covers_type(finding)
        if not finding.kind.startswith(("symbol ", "private symbol ")):
            return False
        is_variable = finding.symbol in library.variables
        if is_variable != (self.section == "suppress_variable"):
            return False
        name = self._names("symbol_name", finding.symbol)
        version = self._names("symbol_version", finding.version)
        if name is None and version is None or name is False or version is False:
            return False
        if "change_kind" in self.props:
            kinds = {k.strip(_BLANKS) for k in self.props["change_kind"].split(",")}
            change = "removed" if finding.kind.endswith("removed") else "added"
            if "all" not in kinds and CHANGE_KINDS[(self.section, change)] not in kinds:
                return False
        return self._files(library.sonames, "soname") and self._files(library.files, "file_name")

    def _covers_type(self, finding: Finding) -> bool:
        if not finding.kind.startswith(TYPE_KINDS) or set(self.props) - TYPE_PROPERTIES:
            return False   # a property rdmagate does not apply to types: abidiff's alone
        if "type_kind" in self.props and not finding.detail.startswith(self.props["type_kind"]):
            return False
        # "inserted at end" silences growth only, never a member that moved
        if self.props.get("has_data_member_inserted_at") == "end" and \
                finding.kind not in ("size grew", "extended compatibly"):
            return False
        # types as before this reading was measured: name and name_regexp both hold
        name = finding.symbol.split(".", 1)[0]
        return self.props.get("name", name) == name and \
            ("name_regexp" not in self.props or self._search("name_regexp", name))


def _uncommented(line: str) -> str:
    """The line before its first '#' or ';' that no backslash escapes
    (libabigail's comments)."""
    escaped = False
    for at, char in enumerate(line):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char in "#;":
            return line[:at]
    return line


# libabigail's ini reader replaces a backslash and the character after it:
# these by what they stand for, any other by the character itself (so "\."
# reaches regcomp as "." and "\w" as "w")
_ESCAPES = {"0": " ", "a": " ", "b": " ", "r": " ", "t": "\t"}


def _value(text: str, where: str, regexp: bool) -> str:
    """A property's value as libabigail's ini reader hands it on. In a
    regular expression, an unescaped '{', '}' or ',' makes libabigail read a
    tuple or a list instead (it then drops the rest of the file, or the
    rule): refused, so the two never read different patterns."""
    out, chars = [], iter(text)
    for char in chars:
        if char == "\\":
            after = next(chars, None)
            if after is None:
                raise UsageError(f"{where}: a backslash at the end of a line continues it "
                                 "in libabigail; rdmagate does not read continued lines")
            out.append(_ESCAPES.get(after, after))
        elif regexp and char in "{},":
            raise UsageError(f"{where}: libabigail reads an unescaped '{char}' as a list or "
                             f"a tuple, not as part of a regular expression: write \\{char}")
        else:
            out.append(char)
    return "".join(out).strip(_BLANKS)


def read(path: Path) -> list[Rule]:
    rules: list = []
    props: dict = {}
    section, start = None, 0
    regexps: list[tuple[int, str, str]] = []   # (line, key, pattern) to compile
    # split on '\n' alone, as libabigail does: a '\r' stays in the value
    lines = files.read_text(path, "suppressions").split("\n")

    def close():
        if section:
            rules.append(Rule(section, dict(props), f"{path}:{start}"))

    for number, raw in enumerate(lines, start=1):
        line = _uncommented(raw).strip(_BLANKS)
        if not line:
            continue
        if line.startswith("[") and line.endswith("]"):
            close()
            section, props, start = line[1:-1], {}, number
            if section not in SECTIONS:
                raise UsageError(f"{path}:{number}: unknown section [{section}]")
            continue
        if section is None or "=" not in line:
            raise UsageError(f"{path}:{number}: expected [section] or property = value")
        key, value = line.split("=", 1)
        key = key.strip(_BLANKS)
        value = _value(value, f"{path}:{number}", key.endswith("_regexp"))
        if key.endswith("_regexp"):
            regexps.append((number, key, value))
        props.setdefault(key, value)   # the first of two equal keys wins, as in libabigail
    close()
    try:
        ere.matches([pattern for _, _, pattern in regexps], [])
    except ere.Refused as err:
        number, key, pattern = regexps[err.index]
        raise UsageError(f"{path}:{number}: {key} = {pattern}: {err}") from None
    return rules


def _offered(findings: list[Finding], libs: dict[str, Library]) -> list[str]:
    """Every string a rule may test: symbols, versions, type names, sonames,
    files and their base names."""
    found = {f.symbol for f in findings} | {f.symbol.split(".", 1)[0] for f in findings} | \
        {f.version or "" for f in findings}
    for lib in libs.values():
        found |= set(lib.sonames) | set(lib.files) | {Path(f).name for f in lib.files}
    return sorted(found)


def apply(findings: list[Finding], rules: list[Rule], libs: dict[str, Library] | None = None
          ) -> tuple[list[Finding], list[Suppressed]]:
    """(findings kept, what was suppressed and by which rule); libs: what
    libraries() says of the libraries the findings name."""
    kept: list[Finding] = []
    dropped: list[Suppressed] = []
    rule: Rule | None   # the one covering a finding, if any
    libs = libs or {}
    patterns = sorted({v for r in rules for k, v in r.props.items() if k.endswith("_regexp")})
    if patterns:
        try:
            matched = dict(zip(patterns, ere.matches(patterns, _offered(findings, libs))))
        except ere.Refused as err:   # read() compiled it: it ran out of time on these names
            pattern = patterns[err.index]
            where = next(r.where for r in rules if pattern in r.props.values())
            raise UsageError(f"{where}: {pattern}: {err}") from None
        for rule in rules:
            rule.matched = matched
    for finding in findings:
        rule = next((r for r in rules if r.covers(finding, libs.get(finding.library))), None)
        if rule is None:
            kept.append(finding)
        else:
            dropped.append(Suppressed(**finding.as_dict(), suppressed_by=rule.where))
    return kept, dropped
