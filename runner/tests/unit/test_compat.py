"""rdmagate compat: a container image's RDMA userspace against a host.

Crafted images (a small rdma-core-like tree with the host's C library, so
the image runs in its own root) show each check's verdict; real images,
made from Debian's packages with mmdebstrap and packed with umoci or as a
docker archive, show the answer on real rdma-core."""
import html
import json
import shutil
import tempfile
import unittest
from pathlib import Path

from rdmagate.compat import record
from tests.images import (HAVE_MMDEBSTRAP, HAVE_UMOCI, debian_root, docker_archive, layer,
                          oci_layout, tree_layer, umoci_layout)
from tests.support import build_provider, build_tree, rdmagate

HOST_LIBC = Path("/lib/x86_64-linux-gnu/libc.so.6")
HOST_LD_SO = Path("/lib64/ld-linux-x86-64.so.2")


def crafted_root(root: Path) -> Path:
    """build_tree's stack with the host's dynamic loader and C library, so
    the image is a root its own binaries run in."""
    build_tree(root, "usr-multiarch")
    (root / "lib64").mkdir()
    shutil.copy(HOST_LD_SO.resolve(), root / "lib64" / HOST_LD_SO.name)
    shutil.copy(HOST_LIBC.resolve(), root / "usr/lib/x86_64-linux-gnu/libc.so.6")
    return root


class CompatCase(unittest.TestCase):
    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="rdmagate-compat-"))
        self.results = self.tmp / "results"

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def compat(self, image: str, *options: str, cache: Path | None = None):
        env = {"RDMAGATE_CACHE": str(cache)} if cache else None
        done = rdmagate("compat", "--image", image, "--results", str(self.results), "--json",
                        *options, env=env)
        self.assertNotIn("Traceback", done.stderr)
        self.assertIn(done.returncode, (0, 1), done.stderr)
        data = json.loads(done.stdout)
        run_dir = Path(data["run_dir"])
        # compat.json reads back as the same record, and junit.xml has a case per check
        self.assertEqual(record.load(run_dir / "compat.json").verdict, data["verdict"])
        junit = (run_dir / "junit.xml").read_text()
        self.assertEqual(junit.count("<testcase"), len(data["checks"]))
        report = (run_dir / "report.html").read_text()
        self.assertIn(f">{data['verdict']}</p>", report)
        for check in data["checks"]:
            self.assertIn(f"<td>{html.escape(check['name'])}</td><td>{check['status']}</td>",
                          report)
        return done.returncode, data, {c["name"]: c for c in data["checks"]}


class Crafted(CompatCase):
    def setUp(self):
        super().setUp()
        self.cache = self.tmp / "cache"
        self.base = tree_layer(crafted_root(self.tmp / "root"))

    def run_image(self, layers: list[bytes], *options: str):
        image = oci_layout(self.tmp / f"img{len(list(self.tmp.iterdir()))}", layers)
        return self.compat(f"oci:{image}", *options, cache=self.cache)

    def test_providers_for_every_device_and_one_set_is_go(self):
        code, data, checks = self.run_image([self.base], "--drivers", "foo,bar",
                                            "--host", "debian-12")
        self.assertEqual((code, data["verdict"]), (0, "GO"), checks)
        self.assertTrue(all(c["status"] == "ok" for c in checks.values()), checks)
        self.assertIn("2 of 2 providers load", checks["one set"]["evidence"])
        self.assertIn("uverbs ABI 6", checks["kernel"]["evidence"])

    def test_a_device_without_its_provider_is_no_go_naming_it(self):
        code, data, checks = self.run_image([self.base], "--drivers", "foo,mlx5",
                                            "--host", "debian-12")
        self.assertEqual((code, data["verdict"]), (1, "NO-GO"))
        self.assertEqual(checks["providers"]["status"], "breaks")
        self.assertIn("mlx5", checks["providers"]["evidence"])
        self.assertNotIn("foo", checks["providers"]["evidence"])
        self.assertIn("ibverbs-providers", checks["providers"]["action"])

    def test_an_image_without_providers_is_no_go(self):
        without = layer([("usr/lib/x86_64-linux-gnu/.wh.libibverbs", "file", b""),
                         ("etc/.wh.libibverbs.d", "file", b"")])
        code, data, checks = self.run_image([self.base, without], "--drivers", "foo")
        self.assertEqual((code, data["verdict"]), (1, "NO-GO"))
        self.assertIn("names no driver", checks["providers"]["evidence"])

    def test_a_driver_configured_without_its_file_is_no_go(self):
        gone = layer([("usr/lib/x86_64-linux-gnu/libibverbs/.wh.libfoo-rdmav34.so", "file", b"")])
        code, data, checks = self.run_image([self.base, gone], "--drivers", "foo,bar")
        self.assertEqual((code, checks["providers"]["status"]), (1, "breaks"))
        self.assertIn("foo (--drivers foo: no provider file)", checks["providers"]["evidence"])
        self.assertNotIn("bar", checks["providers"]["evidence"])

    def test_an_injected_libibverbs_d_is_what_libibverbs_reads(self):
        conf = self.tmp / "libibverbs.d"
        conf.mkdir()
        (conf / "foo.driver").write_text("# the host's own\ndriver foo\n")
        code, data, checks = self.run_image([self.base], "--drivers", "foo,bar",
                                            "--inject", str(conf))
        self.assertEqual((code, checks["providers"]["status"]), (1, "breaks"), checks)
        self.assertIn("bar (--drivers bar: not in the injected libibverbs.d)",
                      checks["providers"]["evidence"])
        self.assertNotIn("foo", checks["providers"]["evidence"])

    def test_no_device_known_leaves_the_providers_not_checked(self):
        code, data, checks = self.run_image([self.base], "--host", "debian-12")
        self.assertEqual((code, data["verdict"]), (0, "GO WITH RISKS"))
        self.assertEqual(checks["providers"]["status"], "not checked")
        self.assertIn("--drivers", checks["providers"]["evidence"])

    def test_injected_providers_of_another_private_node_are_no_go(self):
        host = self.tmp / "host-providers"
        host.mkdir()
        build_provider(host / "libfoo-rdmav34.so", ["verbs_register_driver_33"],
                       private="IBVERBS_PRIVATE_33")
        code, data, checks = self.run_image([self.base], "--drivers", "foo", "--host",
                                            "debian-12", "--inject", str(host))
        self.assertEqual((code, data["verdict"]), (1, "NO-GO"))
        self.assertEqual(checks["injected"]["status"], "breaks")
        self.assertIn("IBVERBS_PRIVATE_33", checks["injected"]["evidence"])
        self.assertIn("private node 33 against the image's 34", checks["injected"]["action"])
        self.assertEqual(checks["one set"]["status"], "ok")

    def test_injected_providers_of_the_same_node_load(self):
        host = self.tmp / "host-providers"
        host.mkdir()
        build_provider(host / "libfoo-rdmav34.so", ["verbs_register_driver_34"])
        code, data, checks = self.run_image([self.base], "--drivers", "foo", "--host",
                                            "debian-12", "--inject", str(host))
        self.assertEqual((code, checks["injected"]["status"]), (0, "ok"), checks)
        self.assertIn("all 1 injected providers load", checks["injected"]["evidence"])

    def test_a_hostile_image_writes_nothing_outside_and_names_its_layer(self):
        outside = self.tmp / "outside"
        outside.mkdir()
        evil = layer([("usr/evil", "link", str(outside)), ("usr/evil/pwned", "file", b"x")])
        image = oci_layout(self.tmp / "hostile", [self.base, evil])
        done = rdmagate("compat", "--image", f"oci:{image}", "--drivers", "foo",
                        env={"RDMAGATE_CACHE": str(self.cache)})
        self.assertEqual(done.returncode, 2, done.stderr)
        self.assertIn("layer 2", done.stderr)
        self.assertIn("usr/evil/pwned", done.stderr)
        self.assertEqual(list(outside.iterdir()), [])
        self.assertFalse(list((self.cache / "stacks").glob("*/*/root")))

    def test_not_an_image_and_a_bad_inject_are_usage_errors(self):
        for options in (("--image", "debian-12"), ("--image", f"oci:{self.tmp}/none"),
                        ("--image", "oci:/etc", "--inject", "/etc/hostname"),
                        ("--image", "oci:/etc", "--drivers", "../x")):
            with self.subTest(options=options):
                done = rdmagate("compat", *options, env={"RDMAGATE_CACHE": str(self.cache)})
                self.assertEqual(done.returncode, 2, done.stderr)
                self.assertEqual(len(done.stderr.strip().splitlines()), 1, done.stderr)


@unittest.skipUnless(HAVE_UMOCI and HAVE_MMDEBSTRAP, "needs umoci and mmdebstrap (ci/setup)")
class RealImages(CompatCase):
    """Images of Debian's rdma-core, built with mmdebstrap from the stacks'
    own package lists (network: Debian's archive)."""

    @classmethod
    def setUpClass(cls):
        cls.work = Path(tempfile.mkdtemp(prefix="rdmagate-images-"))
        cls.trixie = debian_root("debian-13")
        cls.oci13 = umoci_layout(cls.work / "oci13", [cls.trixie], tag="13")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.work, ignore_errors=True)

    def test_debian_13_image_on_a_debian_12_host_is_go(self):
        code, data, checks = self.compat(f"oci:{self.oci13}:13", "--host", "debian-12",
                                         "--drivers", "mlx5,rxe,efa")
        self.assertEqual((code, data["verdict"]), (0, "GO"), checks)
        self.assertIn("IBVERBS_PRIVATE_34", checks["one set"]["evidence"])
        self.assertIn("glibc 2.41", checks["C library"]["evidence"])

    def test_a_docker_archive_of_the_same_root_gives_the_same_answer(self):
        archive = docker_archive(self.work / "d13.tar", [self.trixie.read_bytes()])
        _, data, _ = self.compat(f"docker-archive:{archive}", "--host", "debian-12",
                                 "--drivers", "mlx5,rxe,efa")
        _, expected, _ = self.compat(f"oci:{self.oci13}:13", "--host", "debian-12",
                                     "--drivers", "mlx5,rxe,efa")
        self.assertEqual([c["status"] for c in data["checks"]],
                         [c["status"] for c in expected["checks"]])
        self.assertEqual(data["verdict"], "GO")

    def test_debian_11_providers_bound_into_the_image_are_no_go(self):
        fetched = rdmagate("stacks", "show", "--json", "debian-11")
        self.assertEqual(fetched.returncode, 0, fetched.stderr)
        inv = json.loads(fetched.stdout)
        providers = Path(inv["root"]) / inv["provider_dir"]
        code, data, checks = self.compat(f"oci:{self.oci13}:13", "--host", "debian-12",
                                         "--drivers", "mlx5", "--inject", str(providers))
        self.assertEqual((code, data["verdict"]), (1, "NO-GO"))
        self.assertIn("IBVERBS_PRIVATE_33", checks["injected"]["evidence"])
        self.assertIn("private node 33 against the image's 34", checks["injected"]["action"])

    def test_sid_image_on_a_debian_12_host(self):
        sid = umoci_layout(self.work / "sid", [debian_root("debian-sid")], tag="sid")
        code, data, checks = self.compat(f"oci:{sid}:sid", "--host", "debian-12",
                                         "--drivers", "mlx5,rxe")
        self.assertEqual((code, data["verdict"]), (0, "GO"), checks)

    def test_abi_against_the_image_is_the_abi_against_its_stack(self):
        def verdicts(new: str) -> tuple:
            done = rdmagate("abi", "--from", "debian-12", "--to", new, "--no-consumers",
                            "--results", str(self.results), "--json")
            self.assertIn(done.returncode, (0, 1), done.stderr)
            data = json.loads(done.stdout)
            kinds = sorted((f["audience"], f["severity"], f["library"], f["kind"])
                           for f in data["findings"])
            return done.returncode, data["verdicts"], kinds

        self.assertEqual(verdicts(f"oci:{self.oci13}:13"), verdicts("debian-13"))

    def test_the_gate_to_the_image_is_the_gate_to_its_stack(self):
        def gate(new: str) -> tuple:
            results = self.results / new.rsplit("/", 1)[-1]
            done = rdmagate("upgrade", "--from", "debian-12", "--to", new, "--no-consumers",
                            *[w for phase in ("kabi", "api", "verbs", "perf")
                              for w in ("--skip", phase)], "--results", str(results))
            self.assertEqual(done.returncode, 0, done.stderr)
            data = json.loads(next(results.glob("*/upgrade.json")).read_text())
            abi = [r for r in data["reasons"] if r["category"] != "untested"]
            # the reasons name the stacks: the image as its stack
            return data["verdict"], sorted((r["category"], r["audience"],
                                            r["text"].replace(new, "NEW")) for r in abi)

        self.assertEqual(gate(f"oci:{self.oci13}:13"), gate("debian-13"))


if __name__ == "__main__":
    unittest.main()
