"""Helpers shared by the runner's tests: run the real entry script, build
crafted stacks, read ELF files with binutils."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

from rdmagate.abi.findings import Finding
from rdmagate.abi.loads import LoadRun, ProviderLoad
from rdmagate.outputs import records
from rdmagate.outputs.results import read as read_results
from rdmagate.upgrade import record as upgrade_record, verdict

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
RDMAGATE = REPO_ROOT / "rdmagate"
# ctest sets it to its build tree (harness, suites); run by hand, tests that
# need built programs skip
BUILT = "RDMAGATE_TEST_BUILD_DIR" in os.environ
BUILD_DIR = Path(os.environ.get("RDMAGATE_TEST_BUILD_DIR", "/nonexistent"))
HAVE_QEMU = shutil.which("qemu-system-x86_64") is not None
UNREACHABLE_MIRROR = "http://127.0.0.1:9/debian"   # port 9 (discard): refused at once


def rdmagate(*args: str, env: dict | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run ./rdmagate as a user would; capture its output."""
    full_env = dict(os.environ, **(env or {}))
    return subprocess.run([sys.executable, str(RDMAGATE), *args], capture_output=True,
                          text=True, env=full_env, timeout=timeout, check=False)


def abi_json(old: str, new: str, *options: str, results: Path | None = None,
             env: dict | None = None):
    """(the finished process, its --json report or None) of `rdmagate abi`;
    the run directory goes under results, or into a temporary one removed after."""
    if results is None:
        with tempfile.TemporaryDirectory() as tmp:
            return abi_json(old, new, *options, results=Path(tmp), env=env)
    done = rdmagate("abi", "--from", old, "--to", new, *options, "--results", str(results),
                    "--json", env=env)
    return done, (json.loads(done.stdout) if done.stdout.startswith("{") else None)


def check_run(*args: str):
    """`rdmagate check` (of the api suite unless --suite says otherwise):
    (the finished process, its run.json, its results by test name, ktap.log)."""
    if "--suite" not in args:
        args = ("--suite", "api", *args)
    with tempfile.TemporaryDirectory() as tmp:
        done = rdmagate("check", *args, "--results", tmp)
        (run_dir,) = Path(tmp).iterdir()
        return done, json.loads((run_dir / "run.json").read_text()), \
            {r.name: r.to_json() for r in read_results(run_dir / "results.jsonl")}, \
            (run_dir / "ktap.log").read_text()


def upgrade_reasons(data: dict) -> str:
    """The reasons of an upgrade.json (or of upgrade --json), one "category
    audience text" line each."""
    sections = {k: v for k, v in data.items() if k not in ("run_dir", "exit_code")}
    return "\n".join(f"{r.category} {r.audience} {r.text}"
                     for r in upgrade_of(sections).reasons)


def upgrade_done(done) -> tuple[Path, upgrade_record.Upgrade]:
    """The run directory of `rdmagate upgrade --json` and its upgrade.json, read."""
    run_dir = Path(json.loads(done.stdout)["run_dir"])
    return run_dir, upgrade_record.load(run_dir / "upgrade.json")


HOST_LIBDIR = Path("/usr/lib/x86_64-linux-gnu")


def copy_host_stack(root: Path) -> Path:
    """This host's RDMA headers and libraries copied under root, a prefix
    stack to change (a header edited: an API or ABI change); its include dir."""
    include = root / "usr" / "include"
    for sub in ("infiniband", "rdma"):
        shutil.copytree(Path("/usr/include") / sub, include / sub)
    libs = root / "usr" / "lib" / "x86_64-linux-gnu"
    libs.mkdir(parents=True)
    for lib in HOST_LIBDIR.glob("lib*.so*"):
        if lib.name.startswith(("libibverbs.", "librdmacm.", "libibumad.")):
            shutil.copy2(lib, libs / lib.name, follow_symlinks=False)
    return include


def result_line(test: str, outcome: str, **extra) -> dict:
    suite, name = test.split(".", 1)
    return {"test": test, "suite": suite, "name": name, "outcome": outcome,
            "raw_outcome": outcome, "expected": "PASS", "reason": "", "message": "",
            "observed": "", "failure": "", "data_check": False, "duration_s": 0.01,
            "stack": "host", "device": "none",
            **extra}


def result(test: str, outcome: str, **extra):
    """result_line as the Result the runner reads back."""
    from rdmagate.outputs.result import Result
    return Result(**result_line(test, outcome, **extra))


def readelf_versions(path: Path, section: str = "definition") -> dict[str, set[str]]:
    """Version nodes as binutils' readelf reads them: section "definition"
    gives {"": nodes defined}; "needs" gives {library: nodes needed}."""
    out = subprocess.run(["readelf", "-V", "-W", str(path)], capture_output=True, text=True,
                         check=True).stdout
    if section == "definition":
        block = out.split("Version definition section", 1)[-1].split("Version needs section", 1)[0] \
            if "Version definition section" in out else ""
        return {"": set(re.findall(r"Name: (\S+)", block))}
    needs = {}
    block = out.split("Version needs section", 1)[1] if "Version needs section" in out else ""
    for part in block.split("File: ")[1:]:
        needs[part.split()[0]] = set(re.findall(r"Name: (\S+)", part))
    return needs


def readelf_dynsyms(path: Path) -> tuple[set, set]:
    """(defined, undefined) as {(symbol, version)} per binutils' readelf."""
    out = subprocess.run(["readelf", "--dyn-syms", "-W", str(path)], capture_output=True,
                         text=True, check=True).stdout
    defined, undefined = set(), set()
    for line in out.splitlines():
        words = line.split()
        if len(words) < 8 or not words[0].rstrip(":").isdigit() or words[4] == "LOCAL":
            continue
        name, _, version = words[7].partition("@")
        version = version.lstrip("@").split(" ")[0] or None
        if words[6] == "ABS" and version is None:
            continue  # the linker's version-node markers carry no interface
        if words[6] == "UND":
            if name:
                undefined.add((name, version))
        else:
            defined.add((name, version))
    return defined, undefined


def build_fake_stack(root: Path, nodes: dict[str, list[str]], source: str | None = None,
                     debug: bool = False) -> Path:
    """A prefix tree whose libibverbs.so.1 exports `nodes` (node -> symbols),
    built with gcc and a version script, as rdma-core builds its own. source:
    the library's C code (default: one function per symbol); debug: with -g."""
    libdir = root / "usr" / "lib" / "x86_64-linux-gnu"
    (libdir / "libibverbs").mkdir(parents=True)
    build_library(libdir / "libibverbs.so.1", nodes, source, debug)
    return root


def build_library(path: Path, nodes: dict[str, list[str]], source: str | None = None,
                  debug: bool = False, links: tuple[Path, ...] = ()) -> Path:
    """A shared library (path: its soname) exporting `nodes` (node -> symbols)
    through a version script; source: its C code (default: one function per
    symbol); links: libraries it links."""
    symbols = [s for names in nodes.values() for s in names]
    code, script = path.with_suffix(".c"), path.with_suffix(".map")
    code.write_text(source if source is not None else
                    "".join(f"int {s}(void) {{ return {i}; }}\n" for i, s in enumerate(symbols)))
    previous = ""
    text = ""
    for node, names in nodes.items():
        body = " ".join(f"{s};" for s in names)
        text += f"{node} {{ global: {body} {'local: *;' if not previous else ''} }} {previous};\n"
        previous = node
    script.write_text(text)
    subprocess.run(["gcc", "-shared", "-fPIC", *(["-g"] if debug else []),
                    "-o", str(path), f"-Wl,-soname,{path.name}",
                    f"-Wl,--version-script={script}", str(code), *map(str, links)], check=True)
    code.unlink()
    script.unlink()
    return path



def build_provider(path: Path, calls: list[str], private: str = "IBVERBS_PRIVATE_34",
                   needs: str | None = None) -> Path:
    """A provider file (path: lib<name>-rdmav<NN>.so) that imports each of
    calls@private from libibverbs.so.1, linked against a stub libibverbs made
    beside it and removed after (as an out-of-tree provider is built against
    its vendor's libibverbs). needs: one more library it links (also a stub,
    removed after: it is then missing where the provider is loaded)."""
    work = Path(tempfile.mkdtemp(dir=path.parent, prefix=".stub-"))
    try:
        (work / "stub.c").write_text("".join(f"int {c}(void) {{ return 0; }}\n" for c in calls))
        (work / "stub.map").write_text(f"{private} {{ global: {' '.join(c + ';' for c in calls)} "
                                       "local: *; };\n")
        subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(work / "libibverbs.so.1"),
                        "-Wl,-soname,libibverbs.so.1", f"-Wl,--version-script={work / 'stub.map'}",
                        str(work / "stub.c")], check=True)
        extra = []
        if needs:
            (work / "extra.c").write_text("int rdmagate_extra(void) { return 0; }\n")
            subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(work / needs),
                            f"-Wl,-soname,{needs}", str(work / "extra.c")], check=True)
            extra = [str(work / needs)]
        body = " + ".join(f"{c}()" for c in calls + (["rdmagate_extra"] if needs else []))
        decls = "".join(f"int {c}(void);\n" for c in calls + (["rdmagate_extra"] if needs else []))
        (work / "provider.c").write_text(f"{decls}int provider_probe(void) {{ return {body}; }}\n")
        subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(path), str(work / "provider.c"),
                        str(work / "libibverbs.so.1"), *extra], check=True)
    finally:
        shutil.rmtree(work)
    return path


# Where each layout of build_tree puts things: (install prefix compiled into
# libibverbs, lib dir, include dir, configuration dir), relative to the tree;
# a package set spreads them over one directory per package.
TREE_LAYOUTS = {
    "usr-multiarch": ("/usr", "usr/lib/x86_64-linux-gnu", "usr/include", "etc/libibverbs.d"),
    "usr-lib64": ("/usr", "usr/lib64", "usr/include", "etc/libibverbs.d"),
    "prefix": ("/srv/rdma-core", "lib", "include", "etc/libibverbs.d"),
    "destdir": ("/opt/rdma", "opt/rdma/lib", "opt/rdma/include", "etc/opt/rdma/libibverbs.d"),
    "usr-local": ("/usr/local", "usr/local/lib", "usr/local/include", "usr/local/etc/libibverbs.d"),
    "packages": ("/usr", "libibverbs1/usr/lib/x86_64-linux-gnu", "libibverbs-dev/usr/include",
                 "ibverbs-providers/etc/libibverbs.d"),
}


def build_tree(root: Path, layout: str, providers: tuple[str, ...] = ("foo", "bar"),
               debug: bool = True) -> Path:
    """A small rdma-core-like install in one of TREE_LAYOUTS: a libibverbs.so.1
    with its provider directory and configuration directory compiled in as
    rdma-core does ("DIR/lib%s-rdmav34.so", "ETC/libibverbs.d"), built from a
    source directory named libibverbs with debug info (so DWARF holds a
    .../libibverbs source path too), providers needing IBVERBS_PRIVATE_34 and
    their .driver files, and a public infiniband/verbs.h."""
    prefix, lib, include, config = TREE_LAYOUTS[layout]
    sysconf = "/etc/opt/rdma" if prefix.startswith("/opt/") else \
        ("/etc" if prefix == "/usr" else f"{prefix}/etc")
    libdir = f"{prefix}/{'lib64' if layout == 'usr-lib64' else 'lib'}"
    if layout in ("usr-multiarch", "packages"):
        libdir = "/usr/lib/x86_64-linux-gnu"
    lib_dir = root / lib
    provider_dir = (root / "ibverbs-providers/usr/lib/x86_64-linux-gnu/libibverbs"
                    if layout == "packages" else lib_dir / "libibverbs")
    source = root / "src" / "libibverbs"
    source.mkdir(parents=True)
    (source / "init.c").write_text(
        f'const char *rg_provider_path = "{libdir}/libibverbs/lib%s-rdmav34.so";\n'
        f'const char *rg_config_dir = "{sysconf}/libibverbs.d";\n'
        "int ibv_get_device_list(void) { return rg_provider_path[0]; }\n"
        "int verbs_register_driver_34(void) { return 0; }\n")
    (source / "lib.map").write_text(
        "IBVERBS_1.0 { global: ibv_get_device_list; local: *; };\n"
        "IBVERBS_PRIVATE_34 { global: verbs_register_driver_34; };\n")
    lib_dir.mkdir(parents=True)
    subprocess.run(["gcc", "-shared", "-fPIC", *(["-g"] if debug else []),
                    "-o", str(lib_dir / "libibverbs.so.1"), "-Wl,-soname,libibverbs.so.1",
                    "-Wl,--version-script=lib.map", "init.c"], cwd=source, check=True)
    provider_dir.mkdir(parents=True, exist_ok=True)
    (root / config).mkdir(parents=True)
    for name in providers:
        code = source / f"{name}.c"
        code.write_text("extern int verbs_register_driver_34(void);\n"
                        f"int {name}_init(void) {{ return verbs_register_driver_34(); }}\n")
        subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(provider_dir / f"lib{name}-rdmav34.so"),
                        str(code), str(lib_dir / "libibverbs.so.1")], check=True)
        (root / config / f"{name}.driver").write_text(f"driver {name}\n")
    (root / include / "infiniband").mkdir(parents=True)
    (root / include / "infiniband" / "verbs.h").write_text(
        "struct ibv_device { int node_type; };\nint ibv_get_device_list(void);\n")
    shutil.rmtree(root / "src")
    return root


# The parts of the crafted verbs.h of build_header_stack, each a struct body
# (or the enum's, or extra prototypes) that a test replaces to make a change.
HEADER_PARTS = {
    "ops": "int (*post_send)(struct ibv_qp *qp, int flags);\n\tint (*poll_cq)(struct ibv_cq *cq, int n);",
    "verbs_context": "int (*query_port)(void);\n\tint (*advise_mr)(void);\n\tsize_t sz;\n\tstruct ibv_context context;",
    "attr_ex": "uint32_t comp_mask;\n\tuint32_t max_wr;",
    "plain": "uint32_t a;\n\tuint32_t b;",
    "qp": "struct ibv_context *context;\n\tuint32_t qp_num;",
    "enum": "IBV_THING_A = 0,\n\tIBV_THING_B = 1,",
    "reserved": "uint32_t flags;\n\tuint8_t reserved[4];",
    "protos": "void ibv_use_plain(struct ibv_plain *plain);",
}


def verbs_header(parts: dict) -> str:
    return textwrap.dedent(f"""\
        #include <stddef.h>
        #include <stdint.h>
        struct ibv_qp;
        struct ibv_cq;
        struct ibv_context {{ int cmd_fd; }};
        struct ibv_context_ops {{ {parts['ops']} }};
        struct verbs_context {{ {parts['verbs_context']} }};
        struct ibv_thing_attr_ex {{ {parts['attr_ex']} }};
        struct ibv_plain {{ {parts['plain']} }};
        struct ibv_qp {{ {parts['qp']} }};
        struct ibv_resv {{ {parts['reserved']} }};
        enum ibv_thing {{ {parts['enum']} }};
        struct ibv_qp *ibv_create_qp(struct ibv_context *context);
        {parts['protos']}
        """)


def build_header_stack(root: Path, exports: tuple[str, ...] = ("ibv_create_qp", "ibv_use_plain"),
                       more_headers: dict[str, str] | None = None, nodes: dict | None = None,
                       source: str | None = None, **changes: str) -> Path:
    """A crafted stack with a public infiniband/verbs.h: HEADER_PARTS, with
    the parts named in changes replaced; its library exports `exports` in
    IBVERBS_1.0 (or `nodes`, from `source`, as build_fake_stack);
    more_headers: other headers (name under infiniband/ -> text)."""
    build_fake_stack(root, nodes or {"IBVERBS_1.0": list(exports)}, source=source)
    include = root / "usr" / "include" / "infiniband"
    include.mkdir(parents=True)
    (include / "verbs.h").write_text(verbs_header({**HEADER_PARTS, **changes}))
    for name, text in (more_headers or {}).items():
        (include / name).write_text(text)
    return root


# an upgrade.json of the gate, as the report tests build on it
def point(size, a, b, verdict_="same", ratio=1.0):
    return {"size": size, "verdict": verdict_, "ratio": ratio, "ci": [ratio - .05, ratio + .05],
            "a": {"median": a, "low": a * .9, "high": a * 1.1},
            "b": {"median": b, "low": b * .9, "high": b * 1.1}}


def upgrade_of(data: dict) -> upgrade_record.Upgrade:
    """An upgrade.json's sections, as built here, read as `rdmagate report` reads them."""
    return records.from_json(upgrade_record.Upgrade, json.loads(json.dumps(data)))


BASE = {
    "run_id": "20261125-upgrade", "started": "2026-11-25T04:00:00", "host": "h (6.1)",
    "from": {"name": "debian-11", "rdma_core": "33.2-1", "kernel": "5.10.0-32-amd64"},
    "to": {"name": "debian-13", "rdma_core": "56.1-1", "kernel": "6.12.117+deb13-amd64"},
    "compat_column": "debian-11 build on debian-13", "device_driver": "rxe",
    "phases": [{"name": p, "status": "done", "seconds": 1.0, "note": "ok"}
               for p in ("fetch", "abi", "api", "verbs", "perf")],
    "api": {"compiles": True, "error": ""},
    "abi": {"verdicts": {"applications": {"verdict": "OK", "counts": {"breaking": 0}}},
            "findings": []},
    "consumers": [],
    "verbs": {"columns": ["debian-11", "debian-13", "debian-11 build on debian-13"],
              "tests": {"verbs.send": {"debian-11": "PASS", "debian-13": "PASS",
                                       "debian-11 build on debian-13": "PASS"}},
              "messages": {}},
    "perf": [{"name": "write_lat", "title": "RDMA WRITE latency", "kind": "latency",
              "unit": "us", "points": [point(2, 30, 31), point(4096, 60, 62)]}],
    "commands": ["rdmagate upgrade --from debian-11 --to debian-13"],
}


def only_run(results_dir: str) -> Path:
    """The one run directory a command wrote under results_dir."""
    runs = list(Path(results_dir).iterdir())
    assert len(runs) == 1, runs
    return runs[0]


# findings of a gate, as the tests of causes, SARIF and the report build on them
def node_findings() -> list[Finding]:
    return [Finding("libibverbs", "private ABI changed", "breaking", "providers",
                    "IBVERBS_PRIVATE_33 -> IBVERBS_PRIVATE_34: providers built for the old "
                    "private ABI no longer load", version="IBVERBS_PRIVATE_34"),
            Finding("/opt/vendor/libfoo-rdmav33.so", "consumer fails to load", "breaking",
                    "providers", "missing: IBVERBS_PRIVATE_33 (libibverbs.so.1)")]


def failing(names: list[str]) -> LoadRun:
    return LoadRun("upgrade", "old", "new", "/x/libibverbs.so.1", "lib%s-rdmav34.so", "/", [
        ProviderLoad(n, f"/x/lib{n}-rdmav33.so", False, False,
                     "/x/libibverbs.so.1: version `IBVERBS_PRIVATE_33' not found", "fails", True)
        for n in names])


def gate_record(moved: int) -> upgrade_record.Upgrade:
    """A gate's record with a grown management struct, a node, an i40iw removal."""
    findings = [Finding("infiniband/ibnetdisc.h", "member type changed", "breaking",
                        "applications", "struct ibnd_node.nodedesc: char[64] -> char[65]",
                        "ibnd_node.nodedesc")]
    findings += [Finding("infiniband/ibnetdisc.h", "member moved", "breaking", "applications",
                         f"struct ibnd_node.m{i}: offset {i} -> {i + 8} bits", f"ibnd_node.m{i}")
                 for i in range(moved)]
    findings += node_findings()[:1] + [
        Finding("provider i40iw", "provider removed", "breaking", "applications",
                "devices driven by i40iw have no userspace driver")]
    data = {"run_id": "r", "started": "t", "host": "h", "from": {"name": "debian-11"},
            "to": {"name": "debian-13"}, "compat_column": "c",
            "phases": [{"name": p, "status": "done", "seconds": 1, "note": "ok"}
                       for p in ("fetch", "abi", "kabi", "api", "verbs", "perf")],
            "abi": {"findings": [f.as_dict() for f in findings],
                    "loads": [json.loads(json.dumps(failing([f"p{i}" for i in range(15)]),
                                                    default=lambda o: o.__dict__))]}}
    return verdict.decided(upgrade_of(data))
