"""POSIX extended regular expressions, matched by the engine libabigail uses,
so a suppression file means the same to rdmagate as to abidiff.

libabigail compiles every *_regexp with glibc's regcomp(REG_EXTENDED) and
tests it with regexec(nmatch 0, eflags 0) (src/abg-regex.cc); abidiff never
calls setlocale, so both run in the C locale. rdmagate calls the same two
functions through ctypes, in the C locale too.

glibc compiles a counted repetition by copying it ((a{1,1000}){1,1000} never
ends) and matches a back-reference by backtracking, so the work is done in a
child process (this file run as a script) with a memory limit, killed at a
deadline: a pattern that takes longer is refused (exit 2) naming it."""
import ctypes
import json
import os
import sys

REG_EXTENDED = 1
DEADLINE_S = 20            # every pattern's compile and matches (measured: well under 0.1 s)
MEMORY_LIMIT = 1 << 30     # the child's address space: regcomp fails (REG_ESPACE) past it
LC_ALL_MASK = 0x1FBF       # glibc's, every category


class Refused(Exception):
    """A pattern regcomp refuses, or one that runs past the deadline: the
    message says which."""

    def __init__(self, index: int, message: str):
        super().__init__(message)
        self.index = index


def matches(patterns: list[str], strings: list[str],
            deadline_s: float = DEADLINE_S) -> list[set[str]]:
    """For each pattern, the strings it matches (a search, as regexec does:
    unanchored unless the pattern says ^ or $). Refused for the first
    pattern that does not compile or does not finish in deadline_s."""
    if not patterns:
        return []
    from .. import tools   # the child runs this file alone, without the package
    request = json.dumps({"patterns": patterns, "strings": strings})
    try:
        done = tools.run([sys.executable, "-I", "-S", os.path.abspath(__file__)], deadline_s,
                         what="the regular expression matcher", input=request, text=False)
        output, why = done.stdout, f" (it ended with exit {done.returncode})"
    except tools.Killed as killed:
        output, why = killed.output, " (crashed)" if "crashed" in str(killed) else ""
    # a pattern that compiled and matched in time has its line; the first
    # without one is the pattern that could not be finished
    answers = [json.loads(line) for line in output.decode().splitlines()]
    for index, answer in enumerate(answers):
        if "error" in answer:
            raise Refused(index, f"not a POSIX extended regular expression ({answer['error']})")
    if len(answers) < len(patterns):
        raise Refused(len(answers), f"glibc's regcomp or regexec did not finish with it "
                      f"within {deadline_s} s and {MEMORY_LIMIT >> 20} MiB{why}")
    return [{strings[i] for i in answer["matched"]} for answer in answers]


def _serve() -> None:
    """The child: one JSON request on stdin, one JSON line a pattern out."""
    import resource
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.newlocale.restype = ctypes.c_void_p
    libc.newlocale.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p]
    libc.uselocale.restype = ctypes.c_void_p
    libc.uselocale.argtypes = [ctypes.c_void_p]
    libc.uselocale(libc.newlocale(LC_ALL_MASK, b"C", None))
    request = json.load(sys.stdin)
    strings = [s.encode("utf-8", "surrogateescape") for s in request["strings"]]
    compiled = ctypes.create_string_buffer(256)   # regex_t is 64 bytes on x86_64
    for pattern in request["patterns"]:
        code = libc.regcomp(compiled, pattern.encode("utf-8", "surrogateescape"), REG_EXTENDED)
        if code:
            message = ctypes.create_string_buffer(256)
            libc.regerror(code, compiled, message, len(message))
            answer: dict[str, object] = {"error": message.value.decode("utf-8", "replace")}
        else:
            # libabigail matches a std::string's c_str(): a NUL ends it
            hits = [i for i, s in enumerate(strings)
                    if libc.regexec(compiled, s.split(b"\0", 1)[0], 0, None, 0) == 0]
            libc.regfree(compiled)
            answer = {"matched": hits}
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    _serve()
