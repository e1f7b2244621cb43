"""Names from input never become paths or options, and secrets stay secret:
each test is one defect found by feeding rdmagate what a careless or
hostile user would."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path
from unittest import mock

from rdmagate.abi import baseline as abi_baseline
from rdmagate.errors import UsageError
from rdmagate.kabi import baseline as kabi_baseline
from rdmagate.perf import baseline as perf_baseline
from rdmagate.outputs import rundir
from rdmagate.paths import within
from rdmagate.stacks import archive, mirror, names, resolve
from rdmagate.targets.lab import qemu
from tests.support import REPO_ROOT, UNREACHABLE_MIRROR, rdmagate

GOOD = (REPO_ROOT / "stacks" / "debian-12.yaml").read_text()
SECRET_MIRROR = "http://alice:s3cret@127.0.0.1:9/debian"


class Temp(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="rdmagate-names-")
        self.dir = Path(self.tmp.name)
        self.env = {"RDMAGATE_CACHE": str(self.dir / "cache"),
                    "RDMAGATE_MIRROR": UNREACHABLE_MIRROR}

    def tearDown(self):
        self.tmp.cleanup()

    def manifest(self, text: str) -> Path:
        path = self.dir / "bad.yaml"
        path.write_text(text)
        return path

    def assert_one_line(self, done, code: int, text: str):
        self.assertEqual(done.returncode, code, done.stderr)
        lines = done.stderr.strip().splitlines()
        self.assertEqual(len([line for line in lines if "error" in line.lower()]), 1, done.stderr)
        self.assertIn(text, lines[-1])
        self.assertNotIn("Traceback", done.stderr)


class ManifestNames(Temp):
    def test_stack_name_that_climbs_out_of_the_cache(self):
        for bad in ("../../escaped", "..", "a/b", "-x"):
            with self.subTest(name=bad):
                path = self.manifest(GOOD.replace("name: debian-12", f"name: '{bad}'"))
                done = rdmagate("stacks", "show", str(path), env=self.env, timeout=120)
                self.assert_one_line(done, 2, f"{path}: field name: {bad!r} is not a stack name")
        self.assertFalse((self.dir / "escaped").exists())

    def test_package_name_that_is_a_path_a_glob_or_an_option(self):
        for bad in ("../bookworm/libibverbs1", "lib*", "-oDebug::pkgProblemResolver=1",
                    "libibverbs1 perftest", "LibIbverbs1"):
            with self.subTest(name=bad):
                path = self.manifest(GOOD.replace("{name: libibverbs1,", f"{{name: '{bad}',"))
                done = rdmagate("stacks", "show", str(path), env=self.env, timeout=120)
                self.assert_one_line(done, 2, f"field packages[0].name: {bad!r} is not a Debian "
                                     "package name")

    def test_version_that_is_a_glob(self):
        path = self.manifest(GOOD.replace("version: 44.0-2}", "version: '*'}", 1))
        done = rdmagate("stacks", "show", str(path), env=self.env, timeout=120)
        self.assert_one_line(done, 2, "field packages[0].version: '*' is not a Debian version")

    def test_kernel_release_that_is_a_path(self):
        path = self.manifest(GOOD.replace("release: 6.1.0-", "release: ../../6.1.0-", 1))
        done = rdmagate("stacks", "show", str(path), env=self.env, timeout=120)
        self.assert_one_line(done, 2, "field kernel.release: '../../6.1.0-")

    def test_real_manifests_and_versions_pass(self):
        for text in ("1:2.3+dfsg-4~bpo12+1", "56.1-1", "25.01.0+0.80-1", "6.12.117-1"):
            self.assertEqual(names.version(text, "here"), text)
        for text in ("libibverbs1", "librdmacm1t64", "linux-image-6.1.0-26-amd64", "g++"):
            self.assertEqual(names.package(text, "here"), text)

    def test_a_name_joined_to_a_root_stays_inside(self):
        root = self.dir / "root"
        root.mkdir()
        for bad in (("..",), ("../x",), ("a", "../../x"), ("/etc",), ("",)):
            with self.subTest(name=bad), self.assertRaises(UsageError):
                within(root, *bad)
        self.assertEqual(within(root, "debian-12", "abc"), root / "debian-12" / "abc")
        # a link its owner made in the cache is the owner's: names are checked
        (root / "elsewhere").symlink_to(self.dir)
        self.assertEqual(within(root, "elsewhere", "x"), root / "elsewhere" / "x")

    def test_baselines_of_a_prefix_named_with_dots_stay_in_baselines(self):
        tree = self.dir / "a" / "b" / "c"
        tree.mkdir(parents=True)
        climbing = resolve(f"prefix:{tree}/../../../../../../../../../..{tree}")
        for load in (abi_baseline.load, kabi_baseline.load):
            with self.subTest(load=load.__module__), self.assertRaises(UsageError):
                load(climbing)
        with self.assertRaises(UsageError):
            perf_baseline.path_for("../../../etc", "passwd")


class KernelOption(Temp):
    def test_a_guest_cpu_count_that_is_none_is_refused_before_any_build(self):
        for argv in (["check", "--stack", "debian-12", "--lab", "--guest-cpus", "0"],
                     ["baseline", "record", "--stack", "debian-12", "--suite", "perf",
                      "--lab", "--guest-cpus=-smp"]):
            with self.subTest(argv=argv):
                done = rdmagate(*argv, env=self.env)
                self.assert_one_line(done, 2, "--guest-cpus: ")

    def test_a_kernel_that_is_no_release_is_refused_before_any_build(self):
        for argv in (["check", "--stack", "debian-12", "--kernel", "../../etc"],
                     ["profile", "capture", "--stack", "debian-12", "--kernel", "6.1/../x"],
                     ["upgrade", "--from", "debian-12", "--to", "debian-12", "--kernel=-oX"]):
            with self.subTest(argv=argv):
                done = rdmagate(*argv, "--results", str(self.dir), timeout=60)
                self.assert_one_line(done, 2, "--kernel: ")
                self.assertNotIn("building", done.stdout + done.stderr)
        self.assertEqual(list(self.dir.iterdir()), [])


class CachedDebs(Temp):
    """apt checks what it downloads; a cached .deb is picked by exact name and
    version only, so no name reaches another suite's or package's file."""

    def setUp(self):
        super().setUp()
        cache = self.dir / "cache"
        (cache / "debs" / "bookworm").mkdir(parents=True)
        (cache / "debs" / "trixie").mkdir(parents=True)
        (cache / "debs" / "bookworm" / "libibverbs1_44.0-2_amd64.deb").write_bytes(b"deb")
        (cache / "debs" / "trixie" / "libmlx5-1_1%3a56.1-1_amd64.deb").write_bytes(b"deb")
        self.trixie = archive.Archive("trixie", cache, UNREACHABLE_MIRROR)

    def test_no_name_picks_another_file(self):
        self.assertIsNone(self.trixie.cached("../bookworm/libibverbs1", "44.0-2"))
        self.assertIsNone(self.trixie.cached("lib*", "1:56.1-1"))
        self.assertIsNone(self.trixie.cached("libmlx5-1", "*"))
        self.assertEqual(self.trixie.cached("libmlx5-1", "1:56.1-1").name,
                         "libmlx5-1_1%3a56.1-1_amd64.deb")

    def test_download_refuses_bad_names_before_apt(self):
        for pair in (("../bookworm/libibverbs1", "44.0-2"), ("-oDebug::x=1", "1"),
                     ("libibverbs1", "44.0-2 perftest")):
            with self.subTest(pair=pair), self.assertRaises(UsageError):
                self.trixie.download([pair])

    def test_apt_gets_its_operands_after_double_dash(self):
        bin_dir = self.dir / "bin"
        bin_dir.mkdir()
        log = self.dir / "argv"
        # apt-get download writes NAME_VERSION_amd64.deb for each NAME=VERSION
        deliver = "for a; do case $a in [a-z]*=[0-9]*) touch \"${a%%=*}_${a#*=}_amd64.deb\";; " \
            "esac; done\n"
        for tool, body in (("apt-get", deliver), ("apt-cache", "")):
            (bin_dir / tool).write_text(f"#!/bin/sh\nprintf '%s\\n' \"$@\" >> {log}\n{body}"
                                        "exit 0\n")
            (bin_dir / tool).chmod(0o755)
        self.trixie._prepare()
        (self.trixie.root / "state" / "lists" / "x_Packages").write_text("")
        with mock.patch.dict(os.environ, {"PATH": f"{bin_dir}:{os.environ['PATH']}"}):
            self.trixie.download([("perftest", "25.01.0+0.80-1")])
            self.trixie.versions("perftest")
        words = log.read_text().splitlines()
        self.assertEqual(words[words.index("download") + 1:words.index("download") + 3],
                         ["--", "perftest=25.01.0+0.80-1"])
        self.assertEqual(words[words.index("madison") + 1:], ["--", "perftest"])


class Mirrors(Temp):
    def test_a_newline_never_reaches_the_sources_list(self):
        injected = "http://127.0.0.1:9/debian bookworm main\ndeb [trusted=yes] http://evil/ x"
        with self.assertRaises(UsageError):
            mirror.find(injected)
        done = rdmagate("stacks", "fetch", "debian-11", "--mirror", injected,
                        env={"RDMAGATE_CACHE": str(self.dir / "cache")}, timeout=120)
        self.assert_one_line(done, 2, "--mirror: ")
        self.assertIn("is not a mirror URI", done.stderr)
        sources = list((self.dir / "cache").rglob("sources.list"))
        self.assertEqual([p for p in sources if "trusted=yes" in p.read_text()], [])

    def test_a_bad_mirror_is_refused_even_where_the_stack_is_cached(self):
        """The option is checked when given: a cached stack needs no mirror,
        and once accepted the same line would reach apt on the next fetch."""
        done = rdmagate("stacks", "fetch", "debian-12", "--mirror", "http://x\ndeb http://evil x",
                        timeout=120)
        self.assert_one_line(done, 2, "--mirror: ")

    def test_other_bad_mirrors(self):
        for bad in ("ftp//nohost", "javascript:alert(1)", "http://a/b c", "[trusted=yes]",
                    "-oDebug::x=1", "http://h/debian]", "http://[::1/x", "http://h/'x'"):
            with self.subTest(uri=bad), self.assertRaises(UsageError):
                mirror.find(bad)
        self.assertEqual(mirror.find("https://deb.example.org/debian/"),
                         "https://deb.example.org/debian")
        for good in ("http://[::1]:3142/debian", "mirror+file:/etc/apt/mirrors/debian.list",
                     "file:///srv/mirror/debian"):
            self.assertEqual(mirror.find(good), good)

    def test_credentials_are_never_printed(self):
        done = rdmagate("stacks", "fetch", "debian-11", "--mirror", SECRET_MIRROR,
                        env={"RDMAGATE_CACHE": str(self.dir / "cache")}, timeout=300)
        self.assertEqual(done.returncode, 3, done.stderr)
        self.assertIn("http://127.0.0.1:9/debian", done.stderr + done.stdout)
        self.assertNotIn("s3cret", done.stderr + done.stdout)
        self.assertNotIn("alice", done.stderr + done.stdout)
        sources = next((self.dir / "cache").rglob("sources.list"))
        self.assertEqual(sources.stat().st_mode & 0o077, 0, "the sources list holds the secret")

    def test_credentials_are_never_written_into_run_json(self):
        run_dir = self.dir / "run"
        run_dir.mkdir()
        argv = ["rdmagate", "stacks", "fetch", "--mirror", SECRET_MIRROR, f"--x={SECRET_MIRROR}"]
        with mock.patch.object(sys, "argv", argv):
            rundir.RunRecord(run_dir, "check")
        text = (run_dir / "run.json").read_text()
        self.assertNotIn("s3cret", text)
        self.assertIn("http://127.0.0.1:9/debian", json.loads(text)["argv"])

    def test_redaction_is_aptes(self):
        self.assertEqual(names.redact("Err:1 https://u:p@w@host:8/debian x"),
                         "Err:1 https://host:8/debian x")
        self.assertEqual(names.redact("file:///srv/a@b"), "file:///srv/a@b")


@unittest.skipUnless(shutil.which(qemu.QEMU), "needs QEMU")
class QemuOptions(Temp):
    def test_a_comma_in_a_shared_path_is_escaped(self):
        shared = self.dir / "a,readonly=off,b"
        shared.mkdir()
        guest = qemu.Guest(Path("/k"), Path("/i"), "", [qemu.Share("t", shared)])
        args = qemu.argv(guest, "tcg")
        virtfs = args[args.index("-virtfs") + 1]
        self.assertIn(f"path={str(shared).replace(',', ',,')},mount_tag=t,", virtfs)
        # Real QEMU reads the option as one path: it starts (paused) and quits.
        done = subprocess.run([qemu.QEMU, "-accel", "tcg", "-nodefaults", "-display", "none",
                               "-S", "-monitor", "stdio", "-virtfs", virtfs], input="quit\n",
                              capture_output=True, text=True, timeout=60, check=False)
        self.assertEqual(done.returncode, 0, done.stderr)


if __name__ == "__main__":
    unittest.main()
