"""Names read from input, checked before they become a path or an argument.

A manifest, a command line or a host file names stacks, packages, versions,
kernel releases and mirrors; each of them ends up in a cache path, an apt
argv or apt's sources list. Each is held to the syntax Debian itself allows
(Debian Policy 5.6.1 Source/Package, 5.6.12 Version), which has no '/', no
leading '-', no glob character and no white space, so a name can never climb
out of its directory, be read as an option or match more than itself."""
import re
import urllib.parse

from ..errors import UsageError

# Policy 5.6.1: lower case letters, digits, '+', '-', '.'; at least two
# characters; starts with an alphanumeric.
PACKAGE = re.compile(r"[a-z0-9][a-z0-9+.-]+")
# Policy 5.6.12: [epoch:]upstream[-revision]; upstream starts with a digit
# (dpkg only warns otherwise, so any alphanumeric is taken), then
# alphanumerics and . + ~ - (':' only after an epoch, which dpkg enforces).
VERSION = re.compile(r"(?:[0-9]+:)?[A-Za-z0-9][A-Za-z0-9.+~:-]*")
# A kernel release is a package name's tail (linux-image-RELEASE).
KERNEL_RELEASE = re.compile(r"[0-9][A-Za-z0-9.+~_-]*")
# A stack's own name becomes one directory name in the cache and build trees.
STACK = re.compile(r"[A-Za-z0-9][A-Za-z0-9.+_-]*")
# URI schemes apt has methods for (apt-transport-*), also behind mirror+.
MIRROR_SCHEMES = {"http", "https", "ftp", "file", "copy", "tor+http", "tor+https",
                  "mirror", "mirror+http", "mirror+https", "mirror+file"}


def _check(pattern: re.Pattern, value, where: str, what: str) -> str:
    if not isinstance(value, str) or pattern.fullmatch(value) is None:
        raise UsageError(f"{where}: {value!r} is not {what}")
    return value


def package(value, where: str) -> str:
    return _check(PACKAGE, value, where, "a Debian package name (a-z 0-9 + - ., "
                  "starting with a letter or digit)")


def version(value, where: str) -> str:
    return _check(VERSION, value, where, "a Debian version ([epoch:]upstream[-revision])")


def kernel_release(value, where: str) -> str:
    return _check(KERNEL_RELEASE, value, where, "a kernel release (such as 6.1.0-26-amd64)")


def stack(value, where: str) -> str:
    return _check(STACK, value, where, "a stack name (letters, digits, . + _ -, "
                  "starting with a letter or digit)")


def mirror(value: str, where: str) -> str:
    """A mirror URI that is one apt source word: a known scheme, no white
    space or control character that would end the sources line early."""
    try:
        parts = urllib.parse.urlsplit(value)
    except ValueError:   # an unbalanced [ in the host
        parts = None
    # brackets only around an IPv6 host ([::1]); elsewhere apt reads options
    outside_host = value.replace(parts.netloc, "", 1) if parts else value
    if parts is None or any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value) \
            or any(ch in value for ch in "\"'") or any(ch in outside_host for ch in "[]"):
        raise UsageError(f"{where}: {redact(value)!r} is not a mirror URI "
                         "(it holds white space, a control character, a quote or a bracket)")
    if parts.scheme not in MIRROR_SCHEMES or not (parts.netloc or parts.scheme.endswith("file")
                                                  or parts.scheme == "copy"):
        raise UsageError(f"{where}: {redact(value)!r} is not a mirror URI "
                         f"(scheme one of {', '.join(sorted(MIRROR_SCHEMES))}, then a host)")
    return value


# scheme://userinfo@ : the userinfo ends at the last '@' before the path.
_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)[^/\s]*@")


def redact(text: str) -> str:
    """Every URI in text as apt prints it: without its user and password
    (apt 2.6 writes `Err:1 http://host/debian ...` for
    http://user:secret@host/debian), so a credential is never printed or
    written into run.json."""
    return _USERINFO.sub(r"\g<scheme>", text)
