"""Tree layouts real installs produce, on crafted rdma-core-like trees:
the layout recognised, the provider and configuration directories found
from the strings libibverbs compiles in, never silently empty."""
import json
import shutil
import tempfile
import unittest
from pathlib import Path
from unittest import mock

from rdmagate import stacks
from rdmagate.stacks import layout as stack_layout
from tests.support import TREE_LAYOUTS, abi_json, build_tree, rdmagate

KINDS = {"usr-multiarch": "/usr (multiarch)", "usr-lib64": "/usr (lib64)", "prefix": "prefix",
         "destdir": "DESTDIR root of /opt/rdma", "usr-local": "DESTDIR root of /usr/local",
         "packages": "package set (3 packages)"}


def show(tree: Path):
    done = rdmagate("stacks", "show", f"prefix:{tree}", "--json")
    return done, json.loads(done.stdout) if done.returncode == 0 else None


class Layouts(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = Path(self.tmp.name)

    def tearDown(self):
        self.tmp.cleanup()

    def test_every_layout_is_recognised_with_its_providers_and_configuration(self):
        for layout, (_, lib, include, config) in TREE_LAYOUTS.items():
            with self.subTest(layout=layout):
                tree = build_tree(self.dir / layout, layout)
                done, inv = show(tree)
                self.assertEqual(done.returncode, 0, done.stderr)
                self.assertEqual(inv["layout"]["kind"], KINDS[layout])
                self.assertEqual(set(inv["providers"]), {"foo", "bar"})
                self.assertEqual(inv["drivers"], ["bar", "foo"])
                self.assertEqual(inv["layout"]["config_dir"], config)
                self.assertEqual(inv["layout"]["include_dirs"], [include])
                self.assertEqual(inv["headers"], ["infiniband/verbs.h"])
                self.assertEqual(inv["libraries"]["libibverbs"]["file"], f"{lib}/libibverbs.so.1")
                self.assertEqual(inv["warnings"], [])
                text = rdmagate("stacks", "show", f"prefix:{tree}")
                self.assertIn(f"layout: {KINDS[layout]}", text.stdout)
                # the crafted libraries call nothing of the C library
                self.assertEqual(inv["glibc_floor"], None)
                self.assertIn("C library floor: none (no versioned C library symbol)", text.stdout)
                self.assertEqual(text.stderr, "")

    def test_the_provider_directory_is_the_compiled_in_one_not_a_dwarf_source_path(self):
        tree = build_tree(self.dir / "t", "destdir")
        self.assertIn(b"/src/libibverbs\0", (tree / "opt/rdma/lib/libibverbs.so.1").read_bytes())
        _, inv = show(tree)
        self.assertEqual(inv["provider_dir"], "opt/rdma/lib/libibverbs")
        self.assertEqual(inv["layout"]["compiled_provider_dir"], "/opt/rdma/lib/libibverbs")

    def test_an_opt_prefix_tree_itself_finds_providers_and_says_its_configuration_is_elsewhere(self):
        build_tree(self.dir / "d", "destdir")
        prefix = self.dir / "d" / "opt" / "rdma"      # the prefix, without its /etc/opt
        done, inv = show(prefix)
        self.assertEqual(inv["layout"]["kind"], "prefix")
        self.assertEqual(set(inv["providers"]), {"foo", "bar"})
        (warning,) = inv["warnings"]
        self.assertIn("no libibverbs.d configuration directory", warning)
        self.assertIn("/etc/opt/rdma/libibverbs.d", warning)
        text = rdmagate("stacks", "show", f"prefix:{prefix}")
        self.assertIn("rdmagate: warning: prefix:", text.stderr)

    def test_an_empty_provider_set_is_a_warning_and_one_breaking_finding(self):
        full = build_tree(self.dir / "full", "prefix")
        empty = build_tree(self.dir / "empty", "prefix", providers=())
        done, inv = show(empty)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(inv["providers"], {})
        self.assertIn("no providers in", " ".join(inv["warnings"]))
        done, report = abi_json(f"prefix:{full}", f"prefix:{empty}", "--no-consumers")
        self.assertEqual(done.returncode, 1, done.stderr)
        kinds = [f["kind"] for f in report["findings"]]
        self.assertNotIn("provider removed", kinds)
        (gone,) = [f for f in report["findings"] if f["kind"] == "no providers found"]
        self.assertEqual((gone["severity"], gone["audience"]), ("breaking", "applications"))
        self.assertIn("no providers in", done.stderr)      # the tree's warning, said by abi too
        # the other way round the old stack's providers are unknown: not silent either
        done, report = abi_json(f"prefix:{empty}", f"prefix:{full}", "--no-consumers")
        (unknown,) = [f for f in report["findings"] if f["kind"] == "no providers found"]
        self.assertEqual((unknown["severity"], unknown["audience"]), ("review", "applications"))
        self.assertIn("the old stack has a libibverbs but no provider", unknown["detail"])

    def test_a_missing_provider_directory_is_named(self):
        for layout, (_, lib, _, _) in TREE_LAYOUTS.items():
            with self.subTest(layout=layout):
                tree = build_tree(self.dir / layout, layout)
                providers = "ibverbs-providers/usr/lib/x86_64-linux-gnu" \
                    if layout == "packages" else lib
                shutil.rmtree(tree / providers / "libibverbs")
                _, inv = show(tree)
                self.assertEqual(inv["providers"], {})
                (warning,) = [w for w in inv["warnings"] if "providers" in w]
                self.assertIn("/libibverbs, which is not in the tree", warning)
        self.assertIn("/opt/rdma/lib/libibverbs, which is not in the tree",
                      show(self.dir / "destdir")[1]["warnings"][0])

    def test_a_prefix_install_has_its_headers_compared(self):
        old, new = (build_tree(self.dir / n, "prefix") for n in ("old", "new"))
        verbs = new / "include/infiniband/verbs.h"
        verbs.write_text(verbs.read_text().replace("int node_type;", "long node_type;"))
        done, report = abi_json(f"prefix:{old}", f"prefix:{new}", "--no-consumers")
        kinds = {(f["library"], f["kind"]) for f in report["findings"]}
        self.assertNotIn(("headers", "not compared"), kinds)
        self.assertIn(("infiniband/verbs.h", "member type changed"), kinds)
        # without them, the stack that has none is named
        shutil.rmtree(new / "include")
        done, report = abi_json(f"prefix:{old}", f"prefix:{new}", "--no-consumers")
        (said,) = [f for f in report["findings"] if f["kind"] == "not compared"]
        self.assertTrue(said["detail"].startswith(f"prefix:{new}: no infiniband/verbs.h"), said)

    def test_a_tree_is_detected_once_from_fetch_to_inventory(self):
        tree = build_tree(self.dir / "t", "destdir")
        with mock.patch.object(stack_layout, "detect", wraps=stack_layout.detect) as detect:
            fetched = stacks.fetch(stacks.resolve(f"prefix:{tree}"))
            inv = stacks.inventory(fetched)
        self.assertEqual(set(inv["providers"]), {"foo", "bar"})
        self.assertEqual(detect.call_count, 1)   # libibverbs' .rodata read once per tree


if __name__ == "__main__":
    unittest.main()
