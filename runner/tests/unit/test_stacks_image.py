"""Container images as stacks, read from layers written here: layers applied
in order with their whiteouts, digests checked, and hostile images (a link
then a file through it, a whiteout through a link, a layer that is not a tar,
a member climbing out) refused with exit 2 naming the layer, with nothing
written outside the cache and nothing left in it."""
import gzip
import json
import os
import tempfile
import unittest
from pathlib import Path

from tests.images import docker_archive, layer, oci_layout, tree_layer
from tests.support import build_tree, rdmagate


class ImageCase(unittest.TestCase):
    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="rdmagate-image-"))
        self.cache = self.tmp / "cache"
        self.outside = self.tmp / "outside"
        self.outside.mkdir()
        self.stack_root = build_tree(self.tmp / "tree", "usr-multiarch")
        self.base = tree_layer(self.stack_root)

    def tearDown(self):
        import shutil
        shutil.rmtree(self.tmp, ignore_errors=True)

    def show(self, name: str):
        return rdmagate("stacks", "show", "--json", name,
                        env={"RDMAGATE_CACHE": str(self.cache)})

    def root(self) -> Path:
        roots = list((self.cache / "stacks").glob("*/*/root"))
        self.assertEqual(len(roots), 1, roots)
        return roots[0]

    def assert_refused(self, done, *words: str):
        self.assertEqual(done.returncode, 2, done.stdout + done.stderr)
        line = done.stderr.strip().splitlines()[-1]
        for word in words:
            self.assertIn(word, line)
        self.assertNotIn("Traceback", done.stderr)
        planted = {self.outside / name for name in ("secret", "victim")}
        self.assertEqual(set(self.outside.iterdir()) - planted, set(),
                         "written outside the cache")
        self.assertEqual([p for p in self.cache.rglob("*") if p.name not in (".lock",)
                          and p.is_file()], [], "left behind in the cache")


class Layers(ImageCase):
    def test_oci_layout_is_a_stack_with_its_inventory(self):
        image = oci_layout(self.tmp / "img", [self.base], tag="v1")
        done = self.show(f"oci:{image}:v1")
        self.assertEqual(done.returncode, 0, done.stderr)
        inv = json.loads(done.stdout)
        self.assertEqual(sorted(inv["providers"]), ["bar", "foo"])
        self.assertEqual(inv["drivers"], ["bar", "foo"])
        self.assertEqual(inv["libraries"]["libibverbs"]["private_versions"],
                         ["IBVERBS_PRIVATE_34"])

    def test_gzip_layers_and_docker_archive_give_the_same_tree(self):
        found = []
        for name, make in (("oci-gz", lambda p: oci_layout(p, [self.base], compress=True)),
                           ("docker.tar", lambda p: docker_archive(p, [self.base]))):
            path = make(self.tmp / name)
            kind = "docker-archive" if name.endswith(".tar") else "oci"
            done = self.show(f"{kind}:{path}")
            self.assertEqual(done.returncode, 0, done.stderr)
            found.append(json.loads(done.stdout)["providers"])
        self.assertEqual(found[0], found[1])

    def test_whiteouts_remove_lower_files_and_opaque_directories(self):
        lower = layer([("etc", "dir"), ("etc/keep", "file", b"k"), ("etc/gone", "file", b"g"),
                       ("opt", "dir"), ("opt/d", "dir"), ("opt/d/old", "file", b"o"),
                       ("opt/link", "link", "/etc"), ("opt/was-dir", "dir"),
                       ("opt/was-dir/x", "file", b"x")])
        upper = layer([("etc/.wh.gone", "file", b""), ("opt/d/.wh..wh..opq", "file", b""),
                       ("opt/d/new", "file", b"n"), ("opt/.wh.link", "file", b""),
                       ("opt/was-dir", "file", b"now a file")])
        image = oci_layout(self.tmp / "img", [self.base, lower, upper])
        self.assertEqual(self.show(f"oci:{image}").returncode, 0)
        root = self.root()
        self.assertTrue((root / "etc/keep").is_file())
        self.assertFalse((root / "etc/gone").exists())
        self.assertEqual(sorted(p.name for p in (root / "opt/d").iterdir()), ["new"])
        self.assertFalse((root / "opt/link").is_symlink())
        self.assertEqual((root / "opt/was-dir").read_bytes(), b"now a file")

    def test_tag_picks_the_image_and_a_missing_tag_names_those_there(self):
        image = oci_layout(self.tmp / "img", [self.base], tag="v1")
        done = self.show(f"oci:{image}:v2")
        self.assertEqual(done.returncode, 2)
        self.assertIn("no image tagged 'v2'", done.stderr)
        self.assertIn("v1", done.stderr)


class Hostile(ImageCase):
    def test_a_file_through_a_link_of_a_lower_layer_is_refused(self):
        evil = layer([("usr/evil", "link", str(self.outside))])
        through = layer([("usr/evil/pwned", "file", b"x")])
        image = oci_layout(self.tmp / "img", [self.base, evil, through])
        self.assert_refused(self.show(f"oci:{image}"), "layer 3", "usr/evil/pwned", "outside")

    def test_a_file_through_a_link_of_the_same_layer_is_refused(self):
        evil = layer([("usr/evil", "link", "../../../../../../../.." + str(self.outside)),
                      ("usr/evil/pwned", "file", b"x")])
        image = docker_archive(self.tmp / "img.tar", [self.base, evil])
        self.assert_refused(self.show(f"docker-archive:{image}"), "layer 2", "usr/evil/pwned")

    def test_a_whiteout_through_a_link_is_refused(self):
        (self.outside / "victim").write_text("keep me")
        evil = layer([("usr/evil", "link", str(self.outside))])
        whiteout = layer([("usr/evil/.wh.victim", "file", b"")])
        image = oci_layout(self.tmp / "img", [self.base, evil, whiteout])
        done = self.show(f"oci:{image}")
        self.assertEqual(done.returncode, 2, done.stderr)
        self.assertIn("layer 3", done.stderr)
        self.assertEqual((self.outside / "victim").read_text(), "keep me")

    def test_members_climbing_out_are_refused(self):
        for name in ("../../escaped", "/abs/escaped", "usr/../../escaped"):
            with self.subTest(name=name):
                image = oci_layout(self.tmp / f"img{hash(name)}",
                                   [self.base, layer([(name, "file", b"x")])])
                self.assert_refused(self.show(f"oci:{image}"), "layer 2", "refused")

    def test_a_hard_link_to_a_file_outside_is_refused(self):
        (self.outside / "secret").write_text("s")
        evil = layer([("usr/evil", "link", str(self.outside)),
                      ("usr/copy", "hardlink", "usr/evil/secret")])
        image = oci_layout(self.tmp / "img", [self.base, evil])
        self.assert_refused(self.show(f"oci:{image}"), "layer 2", "usr/copy")
        self.assertEqual(os.stat(self.outside / "secret").st_nlink, 1)

    def test_a_layer_that_is_not_a_tar_is_named(self):
        image = oci_layout(self.tmp / "img", [self.base, b"this is not a tar at all" * 40])
        self.assert_refused(self.show(f"oci:{image}"), "layer 2", "not a readable archive")

    def test_a_layer_altered_after_the_manifest_is_refused(self):
        image = oci_layout(self.tmp / "img", [self.base, layer([("a", "file", b"1")])])
        manifest = json.loads((image / "index.json").read_text())["manifests"][0]["digest"]
        layers = json.loads((image / "blobs/sha256" / manifest[7:]).read_text())["layers"]
        target = image / "blobs/sha256" / layers[1]["digest"][7:]
        target.write_bytes(layer([("a", "file", b"2")]))
        self.assert_refused(self.show(f"oci:{image}"), "layer 2", "does not match its digest")

    def test_a_truncated_layer_is_named(self):
        data = gzip.compress(layer([("big", "file", b"\0" * 100000)]))[:200]
        image = oci_layout(self.tmp / "img", [self.base])
        target = next(p for p in (image / "blobs/sha256").iterdir()
                      if p.read_bytes() == self.base)
        target.write_bytes(data)
        done = self.show(f"oci:{image}")
        self.assertEqual(done.returncode, 2, done.stderr)
        self.assertIn("layer 1", done.stderr)


if __name__ == "__main__":
    unittest.main()
