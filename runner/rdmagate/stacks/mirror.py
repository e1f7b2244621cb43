"""Which Debian mirror to use: the one this host's apt already uses.

No archive host name is written into rdmagate: --mirror / RDMAGATE_MIRROR
wins, else the URI that serves Debian's main component in the host's apt
sources (one-line .list and deb822 .sources files)."""
import os
from pathlib import Path

from ..errors import UsageError
from . import names

SOURCES = (Path("/etc/apt/sources.list"), Path("/etc/apt/sources.list.d"))


def _one_line_entries(text: str):
    for line in text.splitlines():
        words = line.split("#", 1)[0].split()
        if len(words) < 4 or words[0] != "deb":
            continue
        if words[1].startswith("["):  # options: [signed-by=... arch=...]
            while words and not words[1].endswith("]"):
                words.pop(1)
            words.pop(1)
        if len(words) >= 4:
            yield words[1], words[2:3], words[3:]


def _deb822_entries(text: str):
    for stanza in text.split("\n\n"):
        fields = {}
        for line in stanza.splitlines():
            if ":" in line and not line.startswith(("#", " ")):
                key, value = line.split(":", 1)
                fields[key.strip().lower()] = value.split()
        if "deb" in fields.get("types", []) and fields.get("enabled", ["yes"]) != ["no"]:
            for uri in fields.get("uris", []):
                yield uri, fields.get("suites", []), fields.get("components", [])


def _entries():
    files = [SOURCES[0]] if SOURCES[0].is_file() else []
    if SOURCES[1].is_dir():
        files += sorted(SOURCES[1].glob("*.list")) + sorted(SOURCES[1].glob("*.sources"))
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        parse = _deb822_entries if path.suffix == ".sources" else _one_line_entries
        for uri, suites, components in parse(text):
            yield uri, suites, components, path


def _usable(uri: str, path: Path) -> bool:
    """A host entry rdmagate can put in its own sources line (a cdrom: one
    with brackets cannot be): the next entry is tried otherwise."""
    try:
        names.mirror(uri, f"{path}: a Debian mirror")
    except UsageError:
        return False
    return True


def find(explicit: str | None = None) -> str:
    """The mirror URI, without a trailing slash."""
    chosen = explicit or os.environ.get("RDMAGATE_MIRROR")
    if chosen:
        where = "--mirror" if explicit else "RDMAGATE_MIRROR"
        return names.mirror(chosen, where).rstrip("/")
    for uri, suites, components, path in _entries():
        plain = [s for s in suites if "-" not in s]  # not -security, -updates
        if plain and "main" in components and "security" not in uri and _usable(uri, path):
            return uri.rstrip("/")
    raise UsageError("no Debian mirror in this host's apt sources "
                     "(/etc/apt/sources.list*); name one with --mirror or RDMAGATE_MIRROR")
