"""Files read from people and files written for them, done one way.

Every input file (manifest, profile, baseline, suppression file, a record
read back, a library or module) is read through read_text or read_bytes:
only when it is a regular file (a FIFO or /dev/zero is refused, not read),
bounded in size, decoded as UTF-8 for text, and a compressed module is
decompressed only up to a bound; one UsageError line names the file when
it is not so. YAML goes through
load_yaml, which also bounds what aliases expand to (an alias bomb is a few
hundred bytes that a walk over turns into billions of nodes) and refuses a
key given twice in one mapping, naming its line. Every output
file is written through write_atomic: aside under an exclusive temporary
name, fsync, rename, so a full disk or a kill leaves the old file or the new
one, never a torn one, and the failure is an InfraError (exit 3)."""
import difflib
import lzma
import os
import stat
import tempfile
from pathlib import Path

import yaml

from . import tools
from .errors import InfraError, UsageError

MAX_BYTES = 32 * 1024 * 1024   # far above any file rdmagate reads (the largest, a perf baseline: 0.3 MB)
# a library, program or kernel module (decompressed): the largest in Debian's
# stacks are tens of MB (a kernel module with debug info can be a few hundred)
MAX_BINARY_BYTES = 1024 * 1024 * 1024
# YAML files people write (the largest, a profile: 8 KB): bounded in time too,
# since PyYAML's Python loader composes about 100k nodes a second; its C
# loader (CSafeLoader) is not used: it overflows the C stack (SIGSEGV) on
# deeply nested input, where the Python one raises RecursionError.
MAX_YAML_BYTES = 256 * 1024
MAX_YAML_NODES = 100_000       # aliases expanded


def open_regular(path: Path, what: str):
    """An input file opened for reading, once it is known to be a regular
    file: a FIFO would block the open (or the read) forever and a device
    such as /dev/zero never ends, so both are refused with one line, even
    through a link. The open does not block (O_NONBLOCK) and the kind is
    checked on what was opened, not on a name that could change after."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as err:
        raise UsageError(f"{path}: cannot read {what} ({err.strerror})") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise UsageError(f"{path}: not {what}: {kind(mode)}, not a regular file")
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def kind(mode: int) -> str:
    """What a file that is not a regular one is, for people."""
    for test, name in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a regular file"


def check_regular(path: Path, what: str) -> None:
    """UsageError naming path unless it is a regular file: before it is handed
    to a tool (dpkg-deb on a FIFO waits forever for a writer)."""
    open_regular(path, what).close()


def read_bytes(path: Path, what: str, limit: int = MAX_BYTES) -> bytes:
    """The bytes of a regular input file; UsageError naming it when it
    cannot be read or is larger than limit."""
    with open_regular(path, what) as file:
        try:
            data = file.read(limit + 1)
        except OSError as err:
            raise UsageError(f"{path}: cannot read {what} ({err.strerror})") from None
    if len(data) > limit:
        raise UsageError(f"{path}: not {what}: larger than the {limit} bytes rdmagate reads")
    return data


def read_text(path: Path, what: str, limit: int = MAX_BYTES) -> str:
    """The text of an input file; UsageError naming it when it cannot be read,
    is not a regular file, is larger than limit or is not UTF-8."""
    data = read_bytes(path, what, limit)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data[:err.start].count(b"\n") + 1
        raise UsageError(f"{path}:{line}: not {what}: not UTF-8 text (byte {err.start}: "
                         f"{err.reason})") from None


def read_unpacked(path: Path, what: str, limit: int) -> bytes:
    """A file's bytes, decompressed when its name ends in .xz or .zst (a
    kernel module), never past limit."""
    return unpack(read_bytes(path, what, limit), Path(path).name, str(path), what, limit)


def unpack(data: bytes, name: str, where: str, what: str, limit: int) -> bytes:
    """data decompressed as its name says (.xz, .zst; anything else as it
    is), streamed and stopped at limit: a 460 KB .ko.xz can expand to 3 GB,
    refused with one line naming where it came from."""
    if name.endswith(".xz"):
        unpacker = lzma.LZMADecompressor()
        try:
            data = unpacker.decompress(data, max_length=limit + 1)
        except lzma.LZMAError as err:
            raise UsageError(f"{where}: not {what}: not xz-compressed ({err})") from None
        if len(data) > limit:
            raise UsageError(f"{where}: not {what}: it expands past the {limit} bytes "
                             "rdmagate reads")
        if not unpacker.eof:
            raise UsageError(f"{where}: not {what}: its xz stream is cut short")
    elif name.endswith(".zst"):
        done = tools.run(["zstd", "-q", "-d", "-c"], tools.UNPACK, what=where, text=False,
                         input=data, max_output=limit)
        if done.returncode != 0:
            raise UsageError(f"{where}: not {what}: not zstd-compressed")
        data = done.stdout
    return data


def _expanded(node, limit: int) -> int:
    """How many nodes the document becomes once every alias is expanded;
    stops counting past limit and refuses an alias that contains itself."""
    sizes: dict[int, int] = {}
    open_: set[int] = set()

    def size(node) -> int:
        if id(node) in sizes:
            return sizes[id(node)]
        if id(node) in open_:
            raise UsageError("an alias that contains itself")
        open_.add(id(node))
        total = 1
        if isinstance(node, yaml.SequenceNode):
            children = node.value
        elif isinstance(node, yaml.MappingNode):
            children = [part for pair in node.value for part in pair]
        else:
            children = []
        for child in children:
            total += size(child)
            if total > limit:
                break
        open_.discard(id(node))
        sizes[id(node)] = total
        return total
    return size(node)


def _duplicate_key(node) -> yaml.Node | None:
    """The first key that a mapping of the document repeats (YAML lets the
    last one win in silence: a field written twice, the first one lost)."""
    seen: set[int] = set()
    todo = [node]
    while todo:
        node = todo.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            keys = set()
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.tag != "tag:yaml.org,2002:merge":
                    if (key.tag, key.value) in keys:
                        return key
                    keys.add((key.tag, key.value))
                todo += [key, value]
        elif isinstance(node, yaml.SequenceNode):
            todo += node.value
    return None


def parse_yaml(text: str, where: str, what: str):
    """A YAML document (safe types only) as Python values; UsageError naming
    where when it is not YAML or expands past MAX_YAML_NODES."""
    loader = None
    try:
        loader = yaml.SafeLoader(text)   # refuses a NUL or other control character here
        node = loader.get_single_node()
        if node is None:
            return None
        try:
            if _expanded(node, MAX_YAML_NODES) > MAX_YAML_NODES:
                raise UsageError(f"{where}: not {what}: more than {MAX_YAML_NODES} YAML nodes "
                                 "once its aliases are expanded")
        except UsageError as err:
            if str(err).startswith(where):
                raise
            raise UsageError(f"{where}: not {what}: {err}") from None
        duplicate = _duplicate_key(node)
        if duplicate is not None:
            raise UsageError(f"{where}:{duplicate.start_mark.line + 1}: not {what}: key "
                             f"{duplicate.value[:40]!r} given twice in one mapping")
        return loader.construct_document(node)
    except yaml.YAMLError as err:
        raise UsageError(f"{where}: not valid YAML ({' '.join(str(err).split())})") from None
    except RecursionError:
        raise UsageError(f"{where}: not {what}: nested too deeply") from None
    finally:
        if loader is not None:
            loader.dispose()


def load_yaml(path: Path, what: str):
    """An input YAML file: read_text, then parse_yaml."""
    return parse_yaml(read_text(path, what, MAX_YAML_BYTES), str(path), what)


def nearest(name: str, known) -> str:
    """' (did you mean "expect"?)' for a misspelt key, or ''."""
    close = difflib.get_close_matches(str(name), [str(k) for k in known], n=1, cutoff=0.6)
    return f' (did you mean "{close[0]}"?)' if close else ""


def write_atomic(path: Path, content: str | bytes, what: str = "") -> None:
    """Write a whole file so that a reader, a kill or a full disk sees the old
    content or the new, never part of it. The temporary file beside it is
    created exclusively (never a name planted there); InfraError naming the
    file when the write fails."""
    path = Path(path)
    data = content.encode("utf-8") if isinstance(content, str) else content
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "wb") as file:
            os.fchmod(file.fileno(), 0o644)
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, path)
        tmp = None
        directory = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(directory)   # the rename itself survives a crash
        finally:
            os.close(directory)
    except OSError as err:
        raise InfraError(f"{path}: cannot write{' ' + what if what else ''} "
                         f"({err.strerror or err})") from None
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
