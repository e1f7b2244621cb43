"""Fuzzing every parser of input rdmagate reads.

Each parser gets mutated copies of real inputs (the checkout's manifests,
profiles and baselines, perftest's captured output, real ELF files): bytes
flipped, cut, repeated, spliced with tokens that break each format (YAML
aliases, NUL, invalid UTF-8, huge numbers), and for JSON values of another
type put anywhere. Only clean outcomes may come out: a result, or a
UsageError/InfraError (exit 2 or 3) of one line. Any other exception is a
crash (a traceback and exit 3 for the user) and fails the test, naming the
case to reproduce.

Seeded and bounded: RDMAGATE_FUZZ_CASES cases per parser (default 120, a
few seconds each in CI), RDMAGATE_FUZZ_SEED (default 19). By hand:
RDMAGATE_FUZZ_CASES=5000 python3 -m unittest tests.unit.test_fuzz"""
import copy
import glob
import json
import os
import random
import shutil
import tempfile
import time
import unittest
from pathlib import Path

import yaml

from rdmagate.abi import baseline as abi_baseline, findings, suppress
from rdmagate.errors import RdmagateError
from rdmagate.fleet import junit as fleet_junit, record as fleet_record
from rdmagate.kabi import baseline as kabi_baseline, modules
from rdmagate.outputs import results, rundir
from rdmagate.perf import baseline as perf_baseline, pair_baseline, perftest
from rdmagate import profiles
from rdmagate.stacks import elf, manifest, resolve
from rdmagate.upgrade import record as upgrade_record, verdict
from rdmagate.report import page
from tests.support import BASE, FIXTURES, REPO_ROOT, result_line

CASES = int(os.environ.get("RDMAGATE_FUZZ_CASES", "120"))
SEED = int(os.environ.get("RDMAGATE_FUZZ_SEED", "19"))
SLOWEST_S = 10   # one case taking longer is a hang in the making

TOKENS = [b"\xff", b"\xc3", b"\x00", b"\n", b"\r", b"\t", b" ", b"&a ", b"*a", b"&b [*a, *a]",
          b"[", b"]", b"{", b"}", b'"', b"'", b":", b": ", b"- ", b"#", b"=", b",", b"null",
          b"true", b"-1", b"0", b"1e999", b"-0.0", b"NaN", b"9" * 40, b"\\u0000", b"\\ud800",
          b"!!python/object/apply:os.system ['true']", b"!!binary AAAA", b"<<: *a",
          b"--- ", b"...", b"%YAML 1.1\n", b"[" * 300, b"[" * 5000, b'{"a":' * 3000, b"A" * 5000, b"\x7fELF", b"\x01\x01\x01"]
SUPPRESSIONS = b"""# seed
[suppress_function]
  symbol_name_regexp = ^ibv_.*
  symbol_version = IBVERBS_PRIVATE_34
  label = private
[suppress_type]
  name = ibv_context
  type_kind = member
[suppress_file]
  soname_regexp = libmlx5.*
"""


def mutate_bytes(rng: random.Random, data: bytes) -> bytes:
    data = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        at = rng.randrange(len(data) + 1)
        op = rng.randrange(7)
        if op == 0 and data:
            data[min(at, len(data) - 1)] ^= 1 << rng.randrange(8)
        elif op == 1:
            del data[at:]
        elif op == 2:
            del data[at:at + rng.randint(1, 64)]
        elif op == 3:
            span = bytes(data[at:at + rng.randint(1, 256)])
            data[at:at] = span * rng.randint(1, 8)
        elif op == 4:
            data[at:at] = rng.choice(TOKENS)
        elif op == 5:
            data[at:at + 8] = bytes(rng.randrange(256) for _ in range(8))
        else:   # a length or offset field set to something huge (ELF headers)
            data[at:at + 8] = rng.choice([b"\xff" * 8, b"\x00" * 8, (2**31).to_bytes(8, "little")])
    return bytes(data)


ODD_VALUES = [None, True, False, 0, -1, 1.5, 1e308, "", "x" * 300, "\x00\u202e", [], {}, [None],
              {"x": [1, "2"]}, [1] * 50,
              # types and values a typed record must refuse (or accept when valid): huge,
              # not finite, negative, from the future, outside every set, a terminal escape
              10**400, -10**400, 2**63, float("nan"), float("inf"), -3, 99, "MAYBE", "\x1b[2J"]


def mutate_json(rng: random.Random, value):
    """A parsed JSON value with one node replaced, dropped or added."""
    value = copy.deepcopy(value)
    path, node = [], value
    while isinstance(node, (dict, list)) and node and rng.random() < 0.75:
        key = rng.choice(list(node)) if isinstance(node, dict) else rng.randrange(len(node))
        path.append((node, key))
        node = node[key]
    if not path:
        return rng.choice(ODD_VALUES)
    parent, key = path[-1]
    op = rng.randrange(4)
    if op == 0:
        del parent[key]
    elif op == 1 and isinstance(parent, dict):
        parent[rng.choice(["unknown", str(key) + "x", str(key)[:-1] or "k"])] = parent[key]
    else:
        parent[key] = rng.choice(ODD_VALUES + [str(parent[key]), [parent[key]]])
    return value


def _json(seed: bytes):
    try:
        return json.loads(seed)
    except ValueError:
        return None   # a seed that is not plain JSON (perftest's own) is mutated as bytes


def _yaml(seed: bytes):
    try:
        return yaml.safe_load(seed)
    except yaml.YAMLError:
        return None


def _yaml_dump(value) -> bytes:
    return yaml.safe_dump(value, allow_unicode=True).encode()


JSON = (_json, lambda value: json.dumps(value).encode())
YAML = (_yaml, _yaml_dump)


class Fuzz(unittest.TestCase):
    def setUp(self):
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.dir = Path(tmp.name)

    def fuzz(self, name: str, seeds: list[bytes], parse, json_too: bool = False,
             structured: tuple | None = None) -> None:
        """CASES mutated inputs through parse(bytes); only clean outcomes. With
        json_too (or structured: (decode, encode), YAML's), half the cases
        mutate the parsed value: a node of another type or value, dropped, added."""
        structured = structured or (JSON if json_too else None)
        self.assertTrue(seeds, f"{name}: no seed inputs")
        rng = random.Random(f"{SEED}:{name}")
        outcomes = {"parsed": 0, "refused": 0}
        slowest = 0.0
        for case in range(CASES):
            seed = rng.choice(seeds)
            parsed = structured[0](seed) if structured and rng.random() < 0.5 else None
            if parsed is not None:
                data = structured[1](mutate_json(rng, parsed))
            else:
                data = mutate_bytes(rng, seed)
            started = time.monotonic()
            try:
                parse(data)
                outcomes["parsed"] += 1
            except RdmagateError as err:
                text = str(err)
                self.assertTrue(text.strip() and "\n" not in text,
                                f"{name} case {case}: not one line: {text!r}")
                outcomes["refused"] += 1
            except Exception as err:   # noqa: BLE001 -- exactly what must not happen
                kept = Path(tempfile.gettempdir()) / f"rdmagate-fuzz-{name}-{SEED}-{case}"
                kept.write_bytes(data)
                self.fail(f"{name} case {case} (RDMAGATE_FUZZ_SEED={SEED}): crashed with "
                          f"{type(err).__name__}: {str(err)[:200]} (input kept in {kept})")
            slowest = max(slowest, time.monotonic() - started)
        self.assertLess(slowest, SLOWEST_S, f"{name}: a case took {slowest:.1f} s")
        # the mutations must leave some inputs valid and make others invalid
        self.assertGreater(outcomes["refused"], 0, f"{name}: {outcomes}")

    def file(self, name: str, data: bytes) -> Path:
        path = self.dir / name
        path.write_bytes(data)
        return path

    def test_manifests(self):
        seeds = [p.read_bytes() for p in sorted((REPO_ROOT / "stacks").glob("*.yaml"))]
        self.fuzz("manifest", seeds, lambda data: manifest.load(self.file("s.yaml", data)))

    def test_profiles(self):
        seeds = [p.read_bytes() for p in sorted(profiles.PROFILES_DIR.glob("*.yaml"))]

        def parse(data):
            self.file("p.yaml", data)
            loaded = profiles.load("p", self.dir)
            profiles.expectations(loaded, None)
            profiles.notes_of(self.dir / "p.yaml")
        self.fuzz("profile", seeds, parse, structured=YAML)

    def test_manifests_typed(self):
        seeds = [p.read_bytes() for p in sorted((REPO_ROOT / "stacks").glob("*.yaml"))]
        self.fuzz("manifest-typed", seeds, lambda data: manifest.load(self.file("s.yaml", data)),
                  structured=YAML)

    def test_pair_baselines(self):
        seeds = [p.read_bytes() for p in sorted((REPO_ROOT / "baselines/perftest").glob("*/*.json"))]

        def parse(data):
            (self.dir / "rxe-6.1").mkdir(exist_ok=True)
            path = self.dir / "rxe-6.1" / "host.json"
            path.write_bytes(data)
            stored = pair_baseline.load(path)
            name = sorted(stored.measurements)[0]
            pair_baseline.compare(stored, name, [9000.0, 9100.0, 9050.0], 0.1,
                                  dict(stored.machine))
            pair_baseline.summary(stored)
        self.fuzz("pair-baseline", seeds, parse, json_too=True)

    def test_fleet_json(self):
        fleet = fleet_record.Fleet("host", "local", ["api"], started="2026-11-30T01:00:00+00:00",
                                   finished="2026-11-30T01:01:00+00:00", exit_code=3,
                                   nodes=[fleet_record.Node("n1", "tested", kind="rxe",
                                                            counts={"PASS": 3}),
                                          fleet_record.Node("n2", reason="node n2 is DOWN")],
                                   pairs=[fleet_record.Pair("n1", "n2", 1)])
        fleet.write(self.dir / "seed.json")
        seed = (self.dir / "seed.json").read_bytes()

        def parse(data):
            loaded = fleet_record.load(self.file("fleet.json", data))
            fleet_junit.write(loaded, self.dir)
        self.fuzz("fleet-json", [seed], parse, json_too=True)

    def test_findings_json(self):
        found = findings.FindingsFile(
            {"name": "debian-12"}, {"name": "debian-13"},
            {"applications": findings.AudienceVerdict("BREAKS", {"breaking": 1})}, ["tree"],
            {"libibverbs": 0}, [], [],
            [findings.Finding("libibverbs", "symbol removed", "breaking", "applications",
                              "ibv_x is gone", "ibv_x", "IBVERBS_1.1")])
        findings.write(found, self.dir / "seed.json")
        seed = (self.dir / "seed.json").read_bytes()

        def parse(data):
            loaded = findings.load(self.file("findings.json", data))
            sorted(loaded.findings, key=findings.rank)
            findings.verdicts(loaded.findings)
        self.fuzz("findings-json", [seed], parse, json_too=True)

    def test_run_directories_into_the_history(self):
        """run.json, results.jsonl and the database together, as history add
        reads and keeps them: a value SQLite cannot hold is refused first."""
        from rdmagate.history import db, ingest
        run_dir = self.dir / "run"
        run_dir.mkdir()
        (run_dir / "results.jsonl").write_text(json.dumps(result_line("api.x", "PASS")) + "\n")
        run = rundir.Run("r", "check", ["check"], "2026-12-01T00:00:00+00:00",
                         "2026-12-01T00:01:00+00:00", "abc", 0, stack="host",
                         counts={"PASS": 1})
        from rdmagate.outputs import records
        seed = json.dumps(records.to_json(run)).encode()
        conn = db.connect(self.dir / "h.sqlite")
        self.addCleanup(conn.close)

        def parse(data):
            (run_dir / "run.json").write_bytes(data)
            db.add(conn, ingest.read(run_dir))
        self.fuzz("history-run", [seed], parse, json_too=True)

    def test_perf_baselines(self):
        seeds = [p.read_bytes() for p in sorted((REPO_ROOT / "baselines/perf").glob("*/*.json"))]

        def parse(data):
            stored = perf_baseline.load(self.file("b.json", data))
            name = sorted(stored["measurements"])[0]
            perf_baseline.compare(stored, name, [30000 + i for i in range(50)], 0.1)
        self.fuzz("perf-baseline", seeds, parse, json_too=True)

    def fuzz_baseline_files(self, kind: str, names: list[str], load, json_too: bool = False):
        """Each case mutates one file of debian-12's committed kind baseline
        (a copy), the file chosen by an rng of its own seed, and loads it."""
        copy_root = self.dir / "baselines"
        directory = copy_root / kind / "debian-12"
        shutil.copytree(REPO_ROOT / "baselines" / kind / "debian-12", directory)
        stack = resolve("debian-12")
        originals = {n: (directory / n).read_bytes() for n in names}
        rng = random.Random(f"{SEED}:{kind}-baseline-file")
        os.environ["RDMAGATE_BASELINES"] = str(copy_root)
        self.addCleanup(os.environ.pop, "RDMAGATE_BASELINES")

        def parse(data):
            for name, text in originals.items():
                (directory / name).write_bytes(text)
            (directory / rng.choice(names)).write_bytes(data)
            load(stack)
        self.fuzz(f"{kind}-baseline", list(originals.values()), parse, json_too=json_too)

    def test_abi_baselines(self):
        self.fuzz_baseline_files("abi", ["meta.json", "inventory.json", "knowledge.txt",
                                         "prototypes.txt", "lib/libibverbs.abi"],
                                 abi_baseline.load, json_too=True)

    def test_kabi_baselines(self):
        self.fuzz_baseline_files("kabi", list(kabi_baseline.FILES), kabi_baseline.load,
                                 json_too=True)

    def test_suppression_files(self):
        self.fuzz("suppressions", [SUPPRESSIONS],
                  lambda data: suppress.read(self.file("s.supp", data)))

    def test_upgrade_json(self):
        seed = json.dumps(BASE).encode()

        def parse(data):
            loaded = upgrade_record.load(self.file("upgrade.json", data))
            verdict.decided(loaded)
            page.render(loaded)
        self.fuzz("upgrade-json", [seed], parse, json_too=True)

    def test_results_jsonl(self):
        lines = [json.dumps(result_line(f"verbs.t{i}", o)) for i, o in
                 enumerate(("PASS", "FAIL", "SKIP", "ERROR", "CRASH"))]
        seeds = ["\n".join(lines).encode() + b"\n"]

        def parse(data):
            found = results.read(self.file("results.jsonl", data), warn=lambda text: None)
            results.tally(found)
            results.exit_code(found)
        self.fuzz("results-jsonl", seeds, parse)

    def test_run_json(self):
        run = rundir.Run("r", "check", ["check"], "2026-12-01T00:00:00+00:00", None, "abc", 0,
                         stack="host", counts={"PASS": 1}, versions={"rdma-core": "44.0-2"})
        from rdmagate.outputs import records
        seed = json.dumps(records.to_json(run)).encode()

        def parse(data):
            (self.dir / "run.json").write_bytes(data)
            rundir.load(self.dir)
        self.fuzz("run-json", [seed], parse, json_too=True)

    def test_perftest_text(self):
        seeds = [p.read_bytes() for p in sorted((FIXTURES / "perftest").glob("*.txt"))]
        self.fuzz("perftest-text", seeds,
                  lambda data: perftest.parse(data.decode("utf-8", "replace"), "f.txt"))

    def test_perftest_json(self):
        seeds = [p.read_bytes() for p in sorted((FIXTURES / "perftest").glob("*.json"))]
        self.fuzz("perftest-json", seeds,
                  lambda data: perftest.parse_json(data.decode("utf-8", "replace"), "f.json"),
                  json_too=True)

    def test_elf_reader(self):
        paths = [p for p in ("/usr/lib/x86_64-linux-gnu/libibverbs.so.1", "/usr/bin/true")
                 if Path(p).is_file()]
        seeds = [Path(p).read_bytes() for p in paths]

        def parse(data):
            path = self.file("lib.so", data)
            elf.read_elf(path)
            elf.is_elf(path)
        self.fuzz("elf", seeds, parse)

    def test_kernel_module_reader(self):
        found = sorted(glob.glob(os.path.expanduser(
            "~/.cache/rdmagate/kernels/*/usr/lib/modules/*/kernel/net/key/af_key.ko")))
        seeds = [Path(p).read_bytes() for p in found[:1]] + [Path("/usr/bin/true").read_bytes()]
        self.fuzz("kernel-module", seeds,
                  lambda data: modules.parse(self.file("m.ko", data), data))


if __name__ == "__main__":
    unittest.main()
