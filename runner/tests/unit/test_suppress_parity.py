"""rdmagate reads a suppression file the way libabigail does, section by
section: each crafted file is given to the real abidiff and to rdmagate on
the same two libraries, and both must silence the same symbol changes."""
import pickle
import re
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

from rdmagate.abi import suppress, symbols
from rdmagate.errors import UsageError
from rdmagate.stacks import fetch, inventory, resolve
from tests.support import abi_json

LIBDIR = Path("usr/lib/x86_64-linux-gnu")
RUNNER = Path(__file__).resolve().parents[2]
# name -> (node, is a variable); old loses a b c d var, new gains f g newvar
OLD = {"ibv_a": ("IBVERBS_1.0", False), "ibv_b": ("IBVERBS_1.0", False),
       "ibv_c": ("IBVERBS_1.0", False), "ibv_e": ("IBVERBS_1.0", False),
       "ibv_var": ("IBVERBS_1.0", True), "ibv_d": ("IBVERBS_1.1", False),
       "ibv_h": ("IBVERBS_1.1", False),
       # a long name: Python's re backtracks for minutes on ^(\w*)*Q$ here
       "ibv_query_device_with_a_long_name_x": ("IBVERBS_1.0", False)}
NEW = {"ibv_e": ("IBVERBS_1.0", False), "ibv_f": ("IBVERBS_1.0", False),
       "ibv_newvar": ("IBVERBS_1.0", True), "ibv_h": ("IBVERBS_1.1", False),
       "ibv_g": ("IBVERBS_1.1", False)}

# Each a section as users write them; what libabigail 2.2 does with it was
# measured, and this test holds rdmagate to the same.
FILES = {
    "label only": "[suppress_function]\n  label = x\n",
    "symbol_name": "[suppress_function]\n  symbol_name = ibv_a\n",
    "name is not a symbol name": "[suppress_function]\n  name = ibv_a\n",
    "name_regexp is not a symbol name": "[suppress_function]\n  name_regexp = ibv\n",
    "comment after #": "[suppress_function]\n  symbol_name = ibv_a # why\n",
    "comment after ;": "[suppress_function]\n  symbol_name = ibv_a ; why\n",
    "comment lines": "; one\n# two\n[suppress_function]\n  symbol_name = ibv_a\n",
    "comment glued": "[suppress_function]\n  symbol_name = ibv_a#x\n",
    "quotes stay": '[suppress_function]\n  symbol_name = "ibv_a"\n',
    "a blank inside a value": "[suppress_function]\n  symbol_name = ibv_a x\n",
    "an unknown property": "[suppress_function]\n  symbol_name = ibv_a\n  frobnicate = yes\n",
    "regexp": "[suppress_function]\n  symbol_name_regexp = ^ibv_[ab]$\n",
    "not_regexp alone": "[suppress_function]\n  symbol_name_not_regexp = ^ibv_[ab]$\n",
    "not_regexp beside a regexp": "[suppress_function]\n  symbol_name_regexp = ibv\n"
                                  "  symbol_name_not_regexp = ibv_a\n",
    "symbol_name wins over regexp": "[suppress_function]\n  symbol_name_regexp = ibv\n"
                                    "  symbol_name = ibv_c\n",
    "version": "[suppress_function]\n  symbol_version = IBVERBS_1.1\n",
    "version regexp": "[suppress_function]\n  symbol_version_regexp = 1\\.1\n",
    "name and version": "[suppress_function]\n  symbol_name_regexp = ^ibv_a\n"
                        "  symbol_version = IBVERBS_1.1\n",
    "the first of two keys": "[suppress_function]\n  symbol_name = ibv_a\n  symbol_name = ibv_b\n",
    "a variable by suppress_variable": "[suppress_variable]\n  symbol_name_regexp = var\n",
    "a variable is not a function": "[suppress_function]\n  symbol_name = ibv_var\n",
    "a function is not a variable": "[suppress_variable]\n  symbol_name = ibv_a\n",
    "variables of a node": "[suppress_variable]\n  symbol_version = IBVERBS_1.0\n",
    "change_kind deleted": "[suppress_function]\n  symbol_name_regexp = ibv\n"
                           "  change_kind = deleted-function\n",
    "change_kind added": "[suppress_function]\n  symbol_name_regexp = ibv\n"
                         "  change_kind = added-function\n",
    "change_kind list": "[suppress_function]\n  symbol_name_regexp = ibv\n"
                        "  change_kind = added-function, deleted-function\n",
    "change_kind blanks": "[suppress_function]\n  symbol_name_regexp = ibv\n"
                          "  change_kind = added-function deleted-function\n",
    "change_kind of variables": "[suppress_variable]\n  symbol_name_regexp = ibv\n"
                                "  change_kind = deleted-variable\n",
    "change_kind all": "[suppress_variable]\n  symbol_name_regexp = ibv\n  change_kind = all\n",
    "change_kind case": "[suppress_function]\n  symbol_name_regexp = ibv\n"
                        "  change_kind = Deleted-Function\n",
    "soname": "[suppress_function]\n  symbol_name_regexp = ibv\n"
              "  soname_regexp = ^libibverbs\\.so\\.1$\n",
    "another soname": "[suppress_function]\n  symbol_name_regexp = ibv\n"
                      "  soname_regexp = ^libibverbs$\n",
    "soname_not_regexp": "[suppress_function]\n  symbol_name_regexp = ibv\n"
                         "  soname_not_regexp = ^libibverbs$\n",
    "soname alone": "[suppress_function]\n  soname_regexp = libibverbs\n",
    "file of a function": "[suppress_function]\n  symbol_name_regexp = ibv\n"
                          "  file_name_regexp = zzz\n",
    "file_name_not_regexp of a function": "[suppress_function]\n  symbol_name_regexp = ibv\n"
                                          "  file_name_not_regexp = /old/\n",
    "a whole file by base name": "[suppress_file]\n  file_name_regexp = ^libibverbs\\.so\\.1$\n",
    "a whole file by its path": "[suppress_file]\n  file_name_regexp = /old/\n",
    "a file and not": "[suppress_file]\n  file_name_regexp = ^lib\n  file_name_not_regexp = so\n",
    "a function by path": "[suppress_function]\n  symbol_name_regexp = ibv\n"
                          "  file_name_regexp = /new/usr/\n",
    "a function by base name": "[suppress_function]\n  symbol_name_regexp = ibv\n"
                               "  file_name_regexp = ^libibverbs\\.so\\.1$\n",
    "file by soname": "[suppress_file]\n  soname_regexp = ^libibverbs\\.so\\.1$\n",
    "file label only": "[suppress_file]\n  label = x\n",
    "type section": "[suppress_type]\n  name = ibv_a\n",
    "carriage return": "[suppress_function]\n  symbol_name_regexp = ibv\r\n",
    "tabs": "[suppress_function]\n\tsymbol_name_regexp\t=\tibv_a\n",
    "two sections": "[suppress_function]\n  symbol_name = ibv_a\n[suppress_function]\n"
                    "  symbol_name = ibv_b\n",
    # POSIX extended regular expressions, as glibc's regcomp reads them
    "a bracket class": "[suppress_function]\n  symbol_name_regexp = ^ibv_[[:lower:]]$\n",
    "an interval, escaped for the ini reader": "[suppress_function]\n"
                                               "  symbol_name_regexp = ^ibv_.\\{1\\}$\n",
    "a backslash is the ini reader's": "[suppress_function]\n  symbol_name_regexp = ^ibv\\.a$\n",
    "an escaped comment sign": "[suppress_function]\n  symbol_name_regexp = ^ibv_[a\\#]$\n",
    "a back-reference": "[suppress_function]\n  symbol_name_regexp = ^ibv_(.)\\1*$\n",
    "a GNU word class": "[suppress_function]\n  symbol_name_regexp = ^ibv_\\w$\n",
    "alternatives": "[suppress_function]\n  symbol_name_regexp = ^ibv_(a|f)$\n",
    "a perl class is a letter": "[suppress_function]\n  symbol_name_regexp = ^ibv_\\d$\n",
}
# a pattern Python's re backtracks on for minutes; glibc, as abidiff, at once
BACKTRACKS = "[suppress_function]\n  symbol_name_regexp = ^(\\w*)*Q$\n"
# Files rdmagate refuses (exit 2) where abidiff ignores a section, crashes or,
# for a bad regular expression, silences every symbol.
REFUSED = {
    "a section name with blanks": "[ suppress_function ]\n  symbol_version = IBVERBS_1.1\n",
    "a section name in capitals": "[Suppress_Function]\n  symbol_name = ibv_a\n",
    "a property before any section": "symbol_name = ibv_a\n",
    "a property without a value": "[suppress_function]\n  symbol_name\n",
    "a bad regular expression": "[suppress_function]\n  symbol_name_regexp = ibv_[a\n",
    # Python's re reads both; regcomp refuses them, and abidiff then silences everything
    "a lookahead": "[suppress_function]\n  symbol_name_regexp = (?=ibv_)\n",
    "an inline flag": "[suppress_function]\n  symbol_version_regexp = (?i)ibverbs\n",
    # libabigail reads a tuple or a list there, then drops the rest of the file
    "an unescaped interval": "[suppress_function]\n  symbol_name_regexp = ^ibv_.{1}$\n",
    "an unescaped comma": "[suppress_function]\n  symbol_name_regexp = ^ibv_(a|b){1,2}$\n",
    "a pattern that never finishes compiling":
        "[suppress_function]\n  symbol_name_regexp = ((a{1,1000}){1,1000}){1,100}\n",
}


def build(root: Path, exports: dict) -> Path:
    """A libibverbs.so.1 of these functions and variables, with gcc and a
    version script, stripped of nothing but without debug info (as Debian's)."""
    lib = root / LIBDIR
    (lib / "libibverbs").mkdir(parents=True)
    code = "".join(f"int {n} = 1;\n" if var else f"int {n}(void) {{ return 1; }}\n"
                   for n, (_, var) in exports.items())
    (root / "lib.c").write_text(code)
    nodes: dict[str, list[str]] = {}
    for name, (node, _) in exports.items():
        nodes.setdefault(node, []).append(name)
    script, previous = "", ""
    for node, names in sorted(nodes.items()):
        local = "" if previous else "local: *;"
        script += f"{node} {{ global: {' '.join(n + ';' for n in names)} {local} }} {previous};\n"
        previous = node
    (root / "lib.map").write_text(script)
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(lib / "libibverbs.so.1"),
                    "-Wl,-soname,libibverbs.so.1", f"-Wl,--version-script={root / 'lib.map'}",
                    str(root / "lib.c")], check=True)
    return root


class Parity(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="rdmagate-suppr-")
        cls.dir = Path(cls.tmp.name)
        cls.sides = []
        for name, exports in (("old", OLD), ("new", NEW)):
            tree = fetch(resolve(f"prefix:{build(cls.dir / name, exports)}"))
            inv = inventory(tree)
            cls.sides.append((inv, {"libibverbs": tree.root / inv["libraries"]["libibverbs"]["file"]}))
        cls.findings = symbols.compare(cls.sides[0][0], cls.sides[1][0])
        cls.libs = suppress.libraries(cls.sides)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def abidiff_left(self, path: Path) -> set[tuple[str, str]]:
        """(removed or added, symbol) that abidiff still reports."""
        done = subprocess.run(["abidiff", "--suppressions", str(path),
                               *(str(files["libibverbs"]) for _, files in self.sides)],
                              capture_output=True, text=True, check=False)
        self.assertLess(done.returncode & 3, 1, done.stderr)   # neither error nor usage
        marks = {"D": "removed", "A": "added"}
        return {(marks[m], name) for m, name in re.findall(r"^\s+\[([DA])\] (\w+)@", done.stdout,
                                                            re.M)}

    def rdmagate_left(self, path: Path) -> set[tuple[str, str]]:
        kept, _ = suppress.apply(self.findings, suppress.read(path), self.libs)
        # a symbol added to a node the old library had is still an addition to abidiff
        kinds = {"symbol removed": "removed", "symbol added": "added",
                 "symbol added to a released node": "added"}
        return {(kinds[f.kind], f.symbol) for f in kept if f.kind in kinds}

    def test_without_suppressions_both_see_every_change(self):
        empty = self.dir / "empty.suppr"
        empty.write_text("")
        changes = {("removed", n) for n in set(OLD) - set(NEW)} | \
            {("added", n) for n in set(NEW) - set(OLD)}
        self.assertEqual(self.abidiff_left(empty), changes)
        self.assertEqual(self.rdmagate_left(empty), changes)

    def test_each_file_silences_the_same_changes(self):
        for label, text in FILES.items():
            with self.subTest(file=label):
                path = self.dir / "case.suppr"
                path.write_text(text)
                self.assertEqual(self.rdmagate_left(path), self.abidiff_left(path), text)

    def test_a_pattern_python_backtracks_on_ends_as_in_abidiff(self):
        path = self.dir / "backtracks.suppr"
        path.write_text(BACKTRACKS)
        # in a child: Python's re holds the interpreter while it backtracks
        code = ("import pickle, sys\nfrom rdmagate.abi import suppress\n"
                "findings, libs = pickle.load(sys.stdin.buffer)\n"
                "kept, _ = suppress.apply(findings, suppress.read(sys.argv[1]), libs)\n"
                "print(sorted(f.symbol for f in kept if f.kind.startswith('symbol ')))")
        try:   # abidiff takes 0.1 s; Python's re took minutes
            done = subprocess.run([sys.executable, "-c", code, str(path)], timeout=120,
                                  input=pickle.dumps((self.findings, self.libs)),
                                  capture_output=True, cwd=RUNNER, check=True)
        except subprocess.TimeoutExpired:
            self.fail(f"rdmagate did not finish matching {BACKTRACKS!r} in 120 s")
        self.assertEqual(done.stdout.decode().strip(),
                         str(sorted(name for _, name in self.abidiff_left(path))))

    def test_refused_patterns_are_what_abidiff_cannot_compile(self):
        """abidiff does not refuse them: a [suppress_function] whose regcomp
        failed silences every function, which is why rdmagate stops instead."""
        variables = {name for name, (_, var) in {**OLD, **NEW}.items() if var}
        for label in ("a lookahead", "an inline flag"):
            with self.subTest(file=label):
                path = self.dir / "refused.suppr"
                path.write_text(REFUSED[label])
                self.assertLessEqual({name for _, name in self.abidiff_left(path)}, variables)

    def test_files_rdmagate_refuses_with_the_line(self):
        for label, text in REFUSED.items():
            with self.subTest(file=label):
                path = self.dir / "refused.suppr"
                path.write_text(text)
                with self.assertRaisesRegex(UsageError, rf"^{re.escape(str(path))}:\d+: "):
                    suppress.read(path)

    def test_the_abi_command_applies_the_same_reading(self):
        path = self.dir / "mixed.suppr"
        path.write_text("[suppress_variable]\n  symbol_name_regexp = var\n"
                        "[suppress_function]\n  name_regexp = ibv\n  symbol_name = ibv_a\n")
        done, report = abi_json(f"prefix:{self.dir / 'old'}", f"prefix:{self.dir / 'new'}",
                                "--no-consumers", "--no-default-suppressions",
                                "--suppressions", str(path))
        self.assertIsNotNone(report, done.stderr)
        silenced = {s["symbol"] for s in report["suppressed"] if s["kind"].startswith("symbol")}
        self.assertEqual(silenced, {"ibv_var", "ibv_newvar", "ibv_a"})
        left = {name for _, name in self.abidiff_left(path)}
        self.assertFalse(silenced & left, "abidiff reports what rdmagate silenced")


if __name__ == "__main__":
    unittest.main()
