"""Packages from the Debian archive, by exact version, through a private apt.

apt runs with its own sources, lists, status and cache under rdmagate's
cache, so the host's apt state and installed packages are never touched.
apt checks the suite's signed Release file against Debian's keyring and every
download against its hashes, exactly as it does for the host; a .deb reused
from the cache is checked against the same signed index (its size and
SHA256) before it is trusted, and fetched again when it differs."""
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import urllib.parse
from pathlib import Path

from .. import tools
from ..errors import InfraError, UsageError
from ..paths import cache_dir
from . import extract, names
from . import mirror as mirror_lookup
from .lock import locked

KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"
SUITES = ("bullseye", "bookworm", "trixie", "sid")
# Suites a kernel may come from besides a stack's own: the backports of a
# release carry the newer kernels sites move to first (bookworm's 6.12).
# bullseye-backports has left the main archive (no Release file there).
BACKPORTS = ("bookworm-backports", "trixie-backports")
_NETWORK_TROUBLE = re.compile(r"Could not connect|Failed to fetch|Temporary failure|"
                              r"Connection refused|Unable to connect|timed out|No route", re.I)


class Archive:
    """One Debian suite, seen through a private apt configuration."""

    def __init__(self, suite: str, cache: Path | None = None, mirror: str | None = None,
                 say=lambda text: None):
        if suite not in SUITES + BACKPORTS:
            raise UsageError(f"suite {suite!r}: not a Debian suite rdmagate knows "
                             f"({', '.join(SUITES + BACKPORTS)})")
        self.suite = suite
        self.cache = Path(cache) if cache else cache_dir()
        self.mirror = mirror_lookup.find(mirror)
        self.say = say
        self.root = self.cache / "apt" / suite
        self.debs = self.cache / "debs" / suite
        self.fresh = False  # lists read by this object: no point reading them again

    # -- private apt ------------------------------------------------------
    def _options(self) -> list[str]:
        state = self.root / "state"
        return ["-o", f"Dir::Etc::SourceList={self.root / 'sources.list'}",
                "-o", "Dir::Etc::SourceParts=/dev/null",
                "-o", "Dir::Etc::Preferences=/dev/null",
                "-o", "Dir::Etc::PreferencesParts=/dev/null",
                "-o", f"Dir::State={state}",
                "-o", f"Dir::State::Lists={state / 'lists'}",
                "-o", f"Dir::State::status={state / 'status'}",
                "-o", f"Dir::Cache={self.root / 'cache'}",
                # the index apt reads, kept between runs (some hosts' apt.conf
                # turns it off): read in 0.2 s instead of 5
                "-o", "Dir::Cache::pkgcache=pkgcache.bin", "-o", "Dir::Cache::srcpkgcache=",
                "-o", "APT::Architecture=amd64", "-o", "APT::Architectures=amd64",
                # Our files belong to the caller; apt's _apt sandbox user
                # could not write them.
                "-o", "APT::Sandbox::User=root" if os.geteuid() == 0 else "APT::Sandbox::User=",
                "-o", "Debug::NoLocking=true", "-q"]

    def _prepare(self) -> None:
        for sub in ("state/lists/partial", "cache/archives/partial"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        (self.root / "state" / "status").touch()
        line = f"deb [signed-by={KEYRING}] {self.mirror} {self.suite} main\n"
        sources = self.root / "sources.list"
        if not sources.exists() or sources.read_text() != line:
            sources.write_text(line)
            sources.chmod(0o600)  # the mirror URI may carry a user and password
            shutil.rmtree(self.root / "state" / "lists", ignore_errors=True)
            (self.root / "state" / "lists" / "partial").mkdir(parents=True)

    def _apt(self, tool: str, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
        if shutil.which(tool) is None:
            raise InfraError(f"{tool} is not installed: run ci/setup")
        return tools.run([tool, *self._options(), *args], tools.DOWNLOAD, cwd=cwd)

    def _has_lists(self) -> bool:
        return any((self.root / "state" / "lists").glob("*_Packages*"))

    def update(self, force: bool = False) -> None:
        """Fetch the suite's package lists, once (or again when forced)."""
        # apt's own lock is off (Debug::NoLocking: its lock files would sit in
        # the host's paths); rdmagate's lock keeps two updates apart.
        with locked(self.root):
            self._update(force)

    def _update(self, force: bool) -> None:
        self._prepare()
        if self._has_lists() and not force:
            return
        self.say(f"reading the {self.suite} package lists from {names.redact(self.mirror)}")
        done = self._apt("apt-get", "update")
        if done.returncode != 0 or not self._has_lists() or "W: " in done.stderr and \
                _NETWORK_TROUBLE.search(done.stderr):
            detail = _first_error(done.stderr)
            raise InfraError(f"cannot read the {self.suite} package lists from "
                             f"{names.redact(self.mirror)}: {detail}")
        self.fresh = True

    # -- queries and downloads -------------------------------------------
    def versions(self, name: str) -> list[str]:
        """Versions of a package the suite offers, newest first."""
        self.update()
        names.package(name, "a package to look up")
        done = self._apt("apt-cache", "madison", "--", name)
        return [parts[1].strip() for parts in
                (line.split("|") for line in done.stdout.splitlines()) if len(parts) >= 3]

    def cached(self, name: str, version: str) -> Path | None:
        """The cached .deb of exactly this name and version: compared field by
        field, never globbed, so no name can match another package's file."""
        if not self.debs.is_dir():
            return None
        found = []
        for deb in self.debs.iterdir():
            fields = deb.name.removesuffix(".deb").split("_")
            # apt names it NAME_VERSION_ARCH.deb, ':' written as %3a
            if deb.name.endswith(".deb") and len(fields) == 3 and fields[0] == name and \
                    urllib.parse.unquote(fields[1]) == version and deb.is_file():
                found.append(deb)
        return min(found) if found else None

    def download(self, packages: list[tuple[str, str]]) -> list[Path]:
        """Verified .debs for (name, exact version) pairs, from the cache when
        there; UsageError naming the package the suite does not have."""
        for n, v in packages:
            names.package(n, f"package {n!r}")
            names.version(v, f"package {n}={v!r}")
        if any(self.cached(n, v) for n, v in packages):
            with locked(self.debs):
                self._check_cached(packages)
        wanted = [(n, v) for n, v in packages if self.cached(n, v) is None]
        if wanted:
            with locked(self.debs):
                self._download(wanted)
        debs = [self.cached(n, v) for n, v in packages]
        missing = [f"{n}={v}" for (n, v), deb in zip(packages, debs) if deb is None]
        if missing:
            raise InfraError(f"apt reported success but did not deliver {', '.join(missing)}")
        return [deb for deb in debs if deb is not None]

    def _check_cached(self, packages: list[tuple[str, str]]) -> None:
        """Each cached .deb of packages checked against the size and SHA256
        the signed index gives for that name and version: one that differs (a
        truncated download, another release's file under this name), or that
        the index does not list, is removed, said in one line, and fetched
        again."""
        self.update()
        index = self._index([(n, v) for n, v in packages if self.cached(n, v)])
        for name, version in packages:
            deb = self.cached(name, version)
            why = _differs(deb, index.get((name, version))) if deb else None
            if deb and why:
                self.say(f"cached {deb.name} {why}: fetching it again")
                deb.unlink()

    def _index(self, packages: list[tuple[str, str]]) -> dict[tuple[str, str], tuple[int, str]]:
        """(name, version) -> (size, SHA256) of those packages, as the suite's
        signed index lists them."""
        done = self._apt("apt-cache", "show", "--", *(f"{n}={v}" for n, v in packages))
        if done.returncode != 0:
            raise InfraError(f"cannot read the {self.suite} index: {_first_error(done.stderr)}")
        out: dict[tuple[str, str], tuple[int, str]] = {}
        for record in done.stdout.split("\n\n"):
            fields = dict(line.split(": ", 1) for line in record.splitlines()
                          if ": " in line and not line.startswith(" "))
            if fields.get("Size", "").isdigit() and fields.get("SHA256") and \
                    "Package" in fields and "Version" in fields:
                out[fields["Package"], fields["Version"]] = \
                    (int(fields["Size"]), fields["SHA256"].lower())
        return out

    def _download(self, wanted: list[tuple[str, str]]) -> None:
        self.update()
        self.debs.mkdir(parents=True, exist_ok=True)
        # apt-get download writes into the current directory: a private
        # one, so a half-written .deb never lands among the complete ones.
        with tempfile.TemporaryDirectory(dir=self.debs, prefix=".partial-") as tmp:
            self.say(f"downloading {len(wanted)} packages from {self.suite}: "
                     + ", ".join(f"{n}={v}" for n, v in wanted))
            done = self._apt("apt-get", "download", "--", *(f"{n}={v}" for n, v in wanted),
                             cwd=Path(tmp))
            if done.returncode != 0 and not self.fresh and _stale_lists(done.stderr):
                # Lists read on an earlier day may lack a newer pin or name a
                # file the mirror has since dropped: read them again, once.
                with locked(self.root):
                    self._update(force=True)
                done = self._apt("apt-get", "download", "--", *(f"{n}={v}" for n, v in wanted),
                                 cwd=Path(tmp))
            if done.returncode != 0:
                raise _download_error(self.suite, done.stderr)
            for deb in Path(tmp).glob("*.deb"):
                deb.replace(self.debs / deb.name)


def _differs(deb: Path, expected: tuple[int, str] | None) -> str | None:
    """Why deb is not the file the index lists (None when it is)."""
    if expected is None:
        return f"is not in the {deb.parent.name} index, so it cannot be checked"
    size, sha256 = expected
    if deb.stat().st_size != size:
        return f"has {deb.stat().st_size} bytes where the {deb.parent.name} index says {size}"
    with open(deb, "rb") as handle:
        digest = hashlib.file_digest(handle, "sha256")
    if digest.hexdigest() != sha256:
        return f"does not have the SHA256 the {deb.parent.name} index gives"
    return None


def _first_error(stderr: str) -> str:
    for line in stderr.splitlines():
        if line.startswith(("E:", "Err:", "W:")):
            return names.redact(line.strip())
    return names.redact(stderr.strip().splitlines()[-1]) if stderr.strip() else "no output"


def _stale_lists(stderr: str) -> bool:
    detail = _first_error(stderr)
    return "404" in stderr or "not found" in detail or "Can't select" in detail


def _download_error(suite: str, stderr: str) -> Exception:
    detail = _first_error(stderr)
    if "not found" in detail or "Unable to locate" in detail or "Can't select" in detail:
        return UsageError(f"the {suite} archive has no such package version: {detail}")
    return InfraError(f"downloading from {suite} failed: {detail}")


def unpack(packages: list[Path], dest: Path) -> Path:
    """Every package (.deb, .rpm) laid into dest by rdmagate's own extractor
    (extract.py: nothing written through a link that leaves dest), atomically:
    built beside it under a temporary name and renamed when complete, removed
    when a package is refused. An existing dest is reused."""
    if dest.is_dir():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=dest.parent, prefix=f".{dest.name}.partial-"))
    try:
        tree = extract.Tree(tmp)
        for package in packages:
            extract.add_package(tree, package)
        tree.finish()
        tmp.chmod(0o755)
        tmp.rename(dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return dest
