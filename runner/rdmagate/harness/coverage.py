"""API coverage, measured: which public functions of the stack the suites
called at least once, from the run itself (harness/coverage/interposer.c).

Exported functions are counted by the preloaded interposer, generated from
the stack's own libraries; inline verbs (ibv_post_send, ibv_wr_*,
rdma_post_send) by the suites' -finstrument-functions hook. The universe of
inline verbs is what the compiler finds in the stack's headers
(-fkeep-inline-functions), not a list kept here."""
import json
import re
import struct
import tempfile
from pathlib import Path

import yaml

from ..outputs import results
from .. import devinfo, files, tools
from ..errors import InfraError
from ..paths import REPO_ROOT

MAGIC = 0x31305643475244
INLINE_SLOTS = 4096
LIBRARY = "librdmagate-coverage.so"
PREFIXES = {"ibv_": "libibverbs", "rdma_": "librdmacm", "umad_": "libibumad"}
# Functions reached only after a verb a device may lack (see that file).
REACHED_THROUGH = yaml.safe_load((REPO_ROOT / "suites" / "coverage-reasons.yaml").read_text())
HEADERS = ("infiniband/verbs.h", "infiniband/umad.h", "rdma/rdma_cma.h", "rdma/rdma_verbs.h")


def preload(harness: Path, run_dir: Path) -> list[str]:
    """The environment assignments that turn on counting for one run."""
    library = harness.parent / LIBRARY
    if not library.is_file():
        return []
    return [f"LD_PRELOAD={library}", f"RDMAGATE_COVERAGE={run_dir / 'coverage.bin'}"]


def _counts(data: bytes, symbols: list[tuple[str, ...]], where: Path):
    if len(data) < 16 or struct.unpack_from("<QQ", data)[0] != MAGIC:
        raise InfraError(f"{where}: not a coverage file of this rdmagate")
    n = struct.unpack_from("<Q", data, 8)[0]
    if n != len(symbols) or len(data) < 8 * (2 + n + INLINE_SLOTS):
        raise InfraError(f"{where}: has {n} counters, the build lists {len(symbols)} functions")
    counts = struct.unpack_from(f"<{n}Q", data, 16)
    slots = struct.unpack_from(f"<{INLINE_SLOTS}Q", data, 16 + 8 * n)
    return dict(zip(symbols, counts)), {s - 1 for s in slots if s}


def _nm(path: Path) -> dict[int, str]:
    done = tools.run(["nm", "--defined-only", str(path)], tools.QUICK)
    if done.returncode != 0:
        raise InfraError(f"nm {path}: {done.stderr.strip()}")
    out = {}
    for line in done.stdout.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in "tTwW":
            out[int(parts[0], 16)] = parts[2]
    return out


def _ours(name: str) -> str | None:
    return next((lib for prefix, lib in PREFIXES.items() if name.startswith(prefix)), None)


def inline_universe(include: Path) -> set[str]:
    """Every inline function of the stack's public headers, as gcc keeps them."""
    with tempfile.TemporaryDirectory(prefix="rdmagate-inline-") as tmp:
        source = Path(tmp) / "all.c"
        source.write_text("".join(f"#include <{h}>\n" for h in HEADERS
                                  if (include / h).is_file()))
        done = tools.run(["gcc", "-c", "-O0", "-fkeep-inline-functions", "-isystem",
                          str(include), str(source), "-o", str(Path(tmp) / "all.o")],
                         tools.COMPILE)
        if done.returncode != 0:
            raise InfraError(f"compiling the headers of {include}: {done.stderr.strip()[:300]}")
        return {name for name in _nm(Path(tmp) / "all.o").values() if _ours(name)}


def _declared(include: Path) -> str:
    return "\n".join(p.read_text(errors="replace") for p in include.rglob("*.h")
                     if p.parts[-2] in ("infiniband", "rdma"))


def _why_not(name: str, headers: str, inline: set, outcomes: dict) -> str:
    if name in inline or re.search(rf"#\s*define\s+{re.escape(name)}\b", headers):
        return "the header's inline or macro of the same name is what code calls"
    if not re.search(rf"\b{re.escape(name)}\s*\(", headers):
        return "declared in no public header (kept for old binaries)"
    return gated_reason(name, outcomes)


def _advertised(rule: dict, text: str) -> str | None:
    """None if the device's ibv_devinfo -v (text) advertises what a
    capability rule of coverage-reasons.yaml names; else what it says."""
    if "line" in rule:
        found = any(line.strip() == rule["line"] for line in text.splitlines())
        return None if found else f"prints no '{rule['line']}'"
    value = devinfo.parse(text)["device"].get(rule["capability"])
    if value is None:
        return f"prints no {rule['capability']}"
    number = devinfo.number(value) if isinstance(value, str) else len(value)
    if "bit" in rule:
        if number is not None and number >> rule["bit"] & 1:
            return None
        return f"{rule['capability']} {value}, bit {rule['bit']} clear"
    return None if number else f"{rule['capability']} {value}"


def gated_reason(name: str, outcomes: dict, gates: dict | None = None,
                 device: str | None = None) -> str:
    """Why a function (exported or inline) was not called: the outcome of the
    one test that reaches it (coverage-reasons.yaml) when that test did not
    pass, or the capability it needs when the device's ibv_devinfo -v text
    (device) does not advertise it, computed from this run; otherwise the
    suites do not call it."""
    gate = (REACHED_THROUGH if gates is None else gates).get(name)
    if isinstance(gate, dict):
        said = _advertised(gate, device) if device else "was not recorded"
        if said:
            return f"the device does not advertise {gate['needs']} (ibv_devinfo -v {said})"
        return f"not called by the suites, though the device advertises {gate['needs']}"
    if gate in outcomes and outcomes[gate].outcome != "PASS":
        result = outcomes[gate]
        return f"reached only through {gate}, {result.outcome} here: {result.reason}"
    return "not called by the suites"


def report(harness: Path, run_dir: Path, include: Path) -> dict:
    """Per library: exported functions called/total and the missing ones with
    a reason; the same for inline verbs."""
    symbols_file = harness.parent / "coverage" / "symbols.txt"
    symbols = [tuple(line.split("\t")) for line in symbols_file.read_text().splitlines()]
    counts, offsets = _counts((run_dir / "coverage.bin").read_bytes(), symbols,
                              run_dir / "coverage.bin")
    entered = {name for addr, name in _nm(harness).items() if addr in offsets}
    headers = _declared(include)
    inline = inline_universe(include)
    outcomes = {r.test: r for r in results.read(run_dir / "results.jsonl")}
    where = run_dir / "devinfo.txt"
    device = where.read_text(errors="replace") if where.is_file() else None
    if device and "hca_id" not in device:
        device = None   # ibv_devinfo failed: nothing known of the device
    out: dict = {}
    for (lib, name), count in counts.items():
        entry = out.setdefault(lib, {"called": 0, "total": 0, "missing": []})
        entry["total"] += 1
        if count:
            entry["called"] += 1
        else:
            entry["missing"].append({"name": name, "reason": _why_not(name, headers, inline,
                                                                      outcomes)})
    for name in sorted(inline):
        entry = out.setdefault(f"{_ours(name)} (inline)", {"called": 0, "total": 0,
                                                            "missing": []})
        entry["total"] += 1
        if name in entered:
            entry["called"] += 1
        else:
            entry["missing"].append({"name": name, "reason": gated_reason(name, outcomes,
                                                                         device=device)})
    return out


def write(harness: Path, run_dir: Path, include: Path) -> dict:
    data = report(harness, run_dir, include)
    files.write_atomic(run_dir / "coverage.json", json.dumps(data, indent=2) + "\n",
                       "coverage.json")
    return data


def summary(data: dict) -> list[str]:
    """One line a library; an exported line carries its inline figure too,
    since the fast path (post, poll, ibv_wr_*) is only in the inline one."""
    def inline_figure(lib: str) -> str:
        d = data.get(f"{lib} (inline)")
        return f" (inline {d['called']}/{d['total']})" if d and not lib.endswith(")") else ""

    return [f"coverage {lib}: {d['called']}/{d['total']} called{inline_figure(lib)}"
            + (f"; not: {', '.join(m['name'] for m in d['missing'][:8])}"
               + (" ..." if len(d["missing"]) > 8 else "") if d["missing"] else "")
            for lib, d in sorted(data.items())]
