"""rdmagate abi on crafted libraries that repeat what rdma-core's own history
did: the private interface's types changed under one node, a public function
under a private node, legacy provider helpers removed, consumers of both
kinds, abidiff's library report of changes already classified."""
import subprocess
import tempfile
import unittest
from pathlib import Path

from tests.support import abi_json, build_fake_stack

LIB = "usr/lib/x86_64-linux-gnu/libibverbs.so.1"


def stack(root: Path, nodes: dict, headers: dict[str, str], source: str = "",
          debug: bool = False, internal: dict[str, str] | None = None) -> Path:
    """A prefix tree: usr/include/infiniband/<name> for each header, and a
    libibverbs exporting nodes (node -> symbols) from source, which may
    include the headers as INCLUDE/name, and internal headers (driver.h,
    which rdma-core builds with but does not install) as BUILD/name, so its
    debug info places their types in include/infiniband/ as rdma-core's
    build does."""
    include, build = (root / d / "include" / "infiniband" for d in ("usr", "build"))
    for directory, texts in ((include, headers), (build, internal or {})):
        directory.mkdir(parents=True)
        for name, text in texts.items():
            (directory / name).write_text(text)
    symbols = [s for names in nodes.values() for s in names]
    code = source.replace("INCLUDE/", f"{include}/").replace("BUILD/", f"{build}/") or \
        "".join(f"int {s}(void) {{ return 0; }}\n" for s in symbols)
    return build_fake_stack(root, nodes, source=code, debug=debug)


def found(report: dict, **match) -> list[dict]:
    return [f for f in report["findings"] if all(f[k] == v for k, v in match.items())]


def pair(tmp: Path, old: Path, new: Path, *options: str):
    done, report = abi_json(f"prefix:{old}", f"prefix:{new}", "--no-load",
                            *(options or ["--no-consumers"]), results=tmp / "results")
    if report is None:
        raise AssertionError(done.stderr)
    return report


OPS_OLD = "struct verbs_context_ops {\n\tint (*alloc_pd)(void);\n\tint (*query_port)(void);\n};\n"
# rdma-core 35: a new op in the middle (the members are kept sorted)
OPS_NEW = "struct verbs_context_ops {\n\tint (*alloc_pd)(void);\n\tint (*import_dm)(void);\n" \
    "\tint (*query_port)(void);\n};\n"
SET_OPS = '#include "BUILD/driver.h"\nint ibv_foo(void) { return 0; }\n' \
    "void verbs_set_ops(struct verbs_context_ops *ops) { (void)ops; }\n"


class PrivateTypes(unittest.TestCase):
    """A driver.h struct that verbs_set_ops@IBVERBS_PRIVATE_1 passes gains a
    member in the middle while the node stays: providers break."""

    def trees(self, tmp: Path, debug: bool) -> tuple[Path, Path]:
        nodes = {"IBVERBS_1.0": ["ibv_foo"], "IBVERBS_PRIVATE_1": ["verbs_set_ops"]}
        # two builds, not one library twice (that would leave nothing to compare)
        return tuple(stack(tmp / name, nodes, {"verbs.h": "int ibv_foo(void);\n"},
                           SET_OPS + f'const char *rg_build = "{name}";\n',
                           debug=debug, internal={"driver.h": ops + "void verbs_set_ops("
                                                  "struct verbs_context_ops *ops);\n"})
                     for name, ops in (("old", OPS_OLD), ("new", OPS_NEW)))

    def test_a_member_inserted_under_the_same_node_breaks_providers(self):
        with tempfile.TemporaryDirectory() as tmp:
            report = pair(Path(tmp), *self.trees(Path(tmp), debug=True))
        (change,) = found(report, symbol="verbs_context_ops")
        self.assertEqual((change["kind"], change["severity"], change["audience"],
                          change["version"]),
                         ("private ABI changed without a new version node", "breaking",
                          "providers", "IBVERBS_PRIVATE_1"))
        self.assertIn("import_dm inserted", change["detail"])
        self.assertIn("query_port 64 -> 128 bits", change["detail"])
        self.assertEqual(report["verdicts"]["providers"]["verdict"], "BREAKS")
        self.assertEqual(report["verdicts"]["applications"]["verdict"], "OK")

    def test_without_debug_info_it_says_they_were_not_compared(self):
        with tempfile.TemporaryDirectory() as tmp:
            report = pair(Path(tmp), *self.trees(Path(tmp), debug=False))
        (said,) = found(report, kind="private types not compared")
        self.assertEqual((said["severity"], said["audience"]), ("review", "providers"))
        self.assertIn("no debug info in prefix:", said["detail"])
        self.assertEqual(report["verdicts"]["providers"]["verdict"], "NEEDS REVIEW")


OPCODE_STR = "const char *ibv_wr_opcode_str(int opcode);\n"


class PrivateAddition(unittest.TestCase):
    """rdma-core 37 added __verbs_log to IBVERBS_PRIVATE_34, which it had
    released in 34 without it: 37's providers then failed on 36's
    libibverbs with "undefined symbol: __verbs_log, version
    IBVERBS_PRIVATE_34"."""

    def test_a_symbol_added_to_an_unchanged_private_node_is_a_defect(self):
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            old, new = (stack(tmp / name, {"IBVERBS_1.0": ["ibv_foo"],
                                           "IBVERBS_PRIVATE_1": private}, {"verbs.h": ""})
                        for name, private in (("old", ["priv_a"]),
                                              ("new", ["priv_a", "__verbs_log"])))
            report = pair(tmp, old, new)
        (added,) = found(report, symbol="__verbs_log")
        self.assertEqual((added["kind"], added["severity"], added["audience"],
                          added["version"]),
                         ("private symbol added without a new version node", "review",
                          "providers", "IBVERBS_PRIVATE_1"))
        self.assertIn("undefined symbol: __verbs_log, version IBVERBS_PRIVATE_1",
                      added["detail"])
        self.assertEqual(report["verdicts"]["providers"]["verdict"], "NEEDS REVIEW")


class PublicApiUnderAPrivateNode(unittest.TestCase):
    """verbs.h declares ibv_wr_opcode_str, exported only as
    ibv_wr_opcode_str@IBVERBS_PRIVATE_N (rdma-core 49 on)."""

    def tree(self, root: Path, private: str, declared: bool) -> Path:
        nodes = {"IBVERBS_1.0": ["ibv_foo"], private: ["priv_a"] + ["ibv_wr_opcode_str"] * declared}
        return stack(root, nodes, {"verbs.h": "int ibv_foo(void);\n" + OPCODE_STR * declared})

    def test_reported_when_it_appears_and_breaking_when_its_node_goes(self):
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            v48 = self.tree(tmp / "48", "IBVERBS_PRIVATE_1", False)
            v49 = self.tree(tmp / "49", "IBVERBS_PRIVATE_1", True)
            v57 = self.tree(tmp / "57", "IBVERBS_PRIVATE_2", True)
            appears, replaced = pair(tmp, v48, v49), pair(tmp, v49, v57)
        (defect,) = found(appears, symbol="ibv_wr_opcode_str", audience="applications")
        self.assertEqual((defect["kind"], defect["severity"], defect["audience"],
                          defect["version"]),
                         ("public function under a private node", "review", "applications",
                          "IBVERBS_PRIVATE_1"))
        (broken,) = found(replaced, symbol="ibv_wr_opcode_str")
        self.assertEqual((broken["kind"], broken["severity"], broken["audience"]),
                         ("public function's private node replaced", "breaking",
                          "applications"))
        self.assertIn("version `IBVERBS_PRIVATE_1' not found", broken["detail"])
        self.assertEqual(replaced["verdicts"]["applications"]["verdict"], "BREAKS")


class LegacyAudience(unittest.TestCase):
    """libibverbs 1.1.8 -> rdma-core: provider helpers leave the public node,
    integers change signedness at the same width, a placeholder flag moves,
    and (1.1.8 itself) symbols were added to a node already released."""
    EVENT = ("#include <stdint.h>\ntypedef uint64_t __be64;\nstruct ibv_async_event {\n"
             "\tunion {\n\t\tint *cq;\n\t\tint *qp;\n%s\t\tint port_num;\n\t} element;\n};\n")
    OLD_VERBS = EVENT % "" + "uint64_t ibv_get_device_guid(int *device);\n" + (
                 "int ibv_foo(void);\nstruct ibv_x {\n\tint a;\n\tunsigned long b;\n};\n"
                 "enum ibv_srq_init_attr_mask {\n\tIBV_SRQ_INIT_ATTR_TYPE = 1 << 0,\n"
                 "\tIBV_SRQ_INIT_ATTR_RESERVED = 1 << 1\n};\n")
    # a union member listed before the last one (ibv_async_event gained wq so)
    NEW_VERBS = EVENT % "\t\tint *wq;\n" + "__be64 ibv_get_device_guid(int *device);\n" + (
                 "int ibv_foo(void);\nint ibv_baz(void);\nstruct ibv_x {\n\tunsigned int a;\n"
                 "\tunsigned long long b;\n};\nenum ibv_srq_init_attr_mask {\n"
                 "\tIBV_SRQ_INIT_ATTR_TYPE = 1 << 0,\n\tIBV_SRQ_INIT_ATTR_PD = 1 << 1,\n"
                 "\tIBV_SRQ_INIT_ATTR_RESERVED = 1 << 2\n};\n")

    def test_each_change_goes_to_who_it_hurts(self):
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            old = stack(tmp / "old", {"IBVERBS_1.0": ["ibv_foo", "ibv_cmd_bar", "ibv_hidden"]},
                        {"verbs.h": self.OLD_VERBS, "driver.h": "int ibv_cmd_bar(void);\n"})
            new = stack(tmp / "new", {"IBVERBS_1.0": ["ibv_foo", "ibv_baz", "ibv_cmd_new"]},
                        {"verbs.h": self.NEW_VERBS, "driver.h": "int ibv_cmd_new(void);\n"})
            report = pair(tmp, old, new)
        removed = {(f["symbol"], f["kind"], f["severity"], f["audience"])
                   for f in report["findings"] if "removed" in f["kind"]
                   and f["library"] == "libibverbs"}
        self.assertEqual(removed, {(s, "provider symbol removed", "breaking", "providers")
                                   for s in ("ibv_cmd_bar", "ibv_hidden")})
        widths = {(f["symbol"], f["severity"], f["audience"])
                  for f in found(report, kind="member signedness changed")}
        self.assertEqual(widths, {("ibv_x.a", "review", "build"), ("ibv_x.b", "review", "build")})
        (union,) = found(report, symbol="ibv_async_event.element")
        self.assertEqual((union["kind"], union["severity"]), ("union member added", "benign"))
        (guid,) = found(report, symbol="ibv_get_device_guid")
        self.assertEqual((guid["kind"], guid["severity"], guid["audience"]),
                         ("prototype signedness changed", "review", "build"))
        (marker,) = found(report, symbol="IBV_SRQ_INIT_ATTR_RESERVED")
        self.assertEqual((marker["kind"], marker["severity"]), ("end marker moved", "benign"))
        added = {(f["symbol"], f["severity"], f["audience"], f["version"])
                 for f in found(report, kind="symbol added to a released node")}
        self.assertEqual(added, {("ibv_baz", "review", "applications", "IBVERBS_1.0"),
                                 ("ibv_cmd_new", "review", "providers", "IBVERBS_1.0")})
        self.assertEqual([f for f in report["findings"] if f["audience"] == "applications"
                          and f["severity"] == "breaking"], [])


class ConsumerAudience(unittest.TestCase):
    """A consumer is judged as what it is: lib<name>-rdmav<N>.so (or one that
    registers a driver) as a provider, anything else as an application."""

    def test_a_provider_and_an_application(self):
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            headers = {"verbs.h": "int ibv_foo(void);\n" + OPCODE_STR,
                       "driver.h": "int ibv_cmd_bar(void);\n"}
            old = stack(tmp / "old", {"IBVERBS_1.0": ["ibv_foo", "ibv_cmd_bar"],
                                      "IBVERBS_PRIVATE_1": ["ibv_wr_opcode_str"]}, headers)
            new = stack(tmp / "new", {"IBVERBS_1.0": ["ibv_foo"],
                                      "IBVERBS_PRIVATE_2": ["ibv_wr_opcode_str"]},
                        {"verbs.h": headers["verbs.h"]})
            (tmp / "app.c").write_text(OPCODE_STR + "int main(void) "
                                       "{ return ibv_wr_opcode_str(0) != 0; }\n")
            (tmp / "mlx4.c").write_text("int ibv_cmd_bar(void);\n"
                                        "int mlx4_init(void) { return ibv_cmd_bar(); }\n")
            consumers = tmp / "consumers"
            consumers.mkdir()
            for argv in (["-o", str(consumers / "app"), str(tmp / "app.c")],
                         ["-shared", "-fPIC", "-o", str(consumers / "libmlx4-rdmav2.so"),
                          str(tmp / "mlx4.c")]):
                subprocess.run(["gcc", *argv, str(old / LIB)], check=True)
            report = pair(tmp, old, new, "--consumers", str(consumers))
        audience = {f["library"].rsplit("/", 1)[-1]: (f["kind"], f["audience"])
                    for f in report["findings"] if f["kind"].startswith("consumer")}
        self.assertEqual(audience, {"app": ("consumer fails to load", "applications"),
                                    "libmlx4-rdmav2.so": ("consumer fails to resolve",
                                                          "providers")})


class NoReviewThatRepeats(unittest.TestCase):
    """abidiff's report of a library with debug info lists only what rdmagate
    classified already: a comp_mask struct grown at its end; a reserved
    array of one becoming a plain member is the same layout."""

    def test_every_change_already_classified_needs_no_review(self):
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            trees = []
            for name, extra, reserved in (("old", "", "uint8_t reserved[1];"),
                                          ("new", "\tuint32_t max_sge;\n", "uint8_t reserved;")):
                verbs = ("#include <stdint.h>\nstruct ibv_thing_attr {\n\tuint32_t comp_mask;\n"
                         f"\tuint32_t max_wr;\n{extra}}};\nstruct efadv_qp_init_attr {{\n"
                         f"\tuint64_t comp_mask;\n\tuint32_t flags;\n\t{reserved}\n}};\n"
                         "int ibv_thing(struct ibv_thing_attr *attr);\n"
                         "int efadv_qp(struct efadv_qp_init_attr *attr);\n")
                source = ('#include "INCLUDE/verbs.h"\n'
                          "int ibv_thing(struct ibv_thing_attr *attr) { return attr->max_wr; }\n"
                          "int efadv_qp(struct efadv_qp_init_attr *attr) { return attr->flags; }\n")
                trees.append(stack(tmp / name, {"IBVERBS_1.0": ["ibv_thing", "efadv_qp"]},
                                   {"verbs.h": verbs}, source, debug=True))
            report = pair(tmp, *trees)
            library = (Path(report["run_dir"]) / "abidiff" / "libibverbs.txt").read_text()
        self.assertIn("struct ibv_thing_attr", library)     # abidiff did see the change
        self.assertEqual(report["abidiff"]["libibverbs"], 4)
        self.assertEqual([f for f in report["findings"] if f["severity"] == "review"], [])
        (same,) = found(report, symbol="efadv_qp_init_attr")
        self.assertEqual((same["kind"], same["severity"]), ("abidiff disagrees", "info"))

    def test_a_reserved_member_carved_needs_no_review(self):
        """abidiff says only that efadv_device_attr's uint8_t reserved[2] is
        now uint16_t inline_buf_size_ex (rdma-core 62 to 63), which
        rdmagate calls members added in existing space."""
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            trees = []
            for name, member in (("old", "uint8_t reserved[2];"),
                                 ("new", "uint16_t inline_buf_size_ex;")):
                verbs = ("#include <stdint.h>\nstruct efadv_device_attr {\n"
                         f"\tuint64_t comp_mask;\n\tuint16_t inline_buf_size;\n\t{member}\n"
                         "\tuint32_t device_caps;\n};\n"
                         "int efadv_query_device(struct efadv_device_attr *attr);\n")
                source = ('#include "INCLUDE/verbs.h"\nint efadv_query_device('
                          "struct efadv_device_attr *attr) { return attr->device_caps; }\n")
                trees.append(stack(tmp / name, {"EFA_1.0": ["efadv_query_device"]},
                                   {"verbs.h": verbs}, source, debug=True))
            report = pair(tmp, *trees)
            library = (Path(report["run_dir"]) / "abidiff" / "libibverbs.txt").read_text()
        self.assertIn("inline_buf_size_ex", library)     # abidiff did see the change
        self.assertEqual([f for f in report["findings"] if f["severity"] == "review"], [])
        (carved,) = found(report, symbol="efadv_device_attr")
        self.assertEqual((carved["kind"], carved["severity"]), ("members added", "benign"))


class CompatPrototype(unittest.TestCase):
    """libibverbs 1.1.8 -> rdma-core: ibv_query_port@IBVERBS_1.1 now takes a
    struct _compat_ibv_port_attr, the old layout kept for old binaries
    (new code calls an inline wrapper): 1.1.8's ibv_devinfo still works."""
    PORT = "struct ibv_port_attr {\n\tint state;\n\tint lid;\n};\n"

    def test_a_parameter_renamed_to_compat_is_kept_for_old_binaries(self):
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            old = stack(tmp / "old", {"IBVERBS_1.1": ["ibv_query_port"]}, {"verbs.h": (
                self.PORT + "int ibv_query_port(void *ctx, struct ibv_port_attr *attr);\n")})
            new = stack(tmp / "new", {"IBVERBS_1.1": ["ibv_query_port"]}, {"verbs.h": (
                self.PORT + "struct _compat_ibv_port_attr;\n"
                "int ibv_query_port(void *ctx, struct _compat_ibv_port_attr *attr);\n")})
            (tmp / "devinfo.c").write_text("int ibv_query_port(void *ctx, void *attr);\n"
                                           "int main(void) { return ibv_query_port(0, 0); }\n")
            consumers = tmp / "consumers"
            consumers.mkdir()
            subprocess.run(["gcc", "-o", str(consumers / "ibv_devinfo"), str(tmp / "devinfo.c"),
                            str(old / LIB)], check=True)
            report = pair(tmp, old, new, "--consumers", str(consumers))
        (kept,) = found(report, symbol="ibv_query_port")
        self.assertEqual((kept["kind"], kept["severity"], kept["audience"]),
                         ("prototype kept for old binaries", "benign", "applications"))
        self.assertEqual([f for f in report["findings"] if f["severity"] == "review"], [])
        self.assertEqual(report["verdicts"]["applications"]["verdict"], "OK")


class UnwiredHook(unittest.TestCase):
    """libibverbs 1.1.8 -> rdma-core: struct ibv_mw_bind was taken only by the
    driver hook ibv_context_ops.bind_mw, which no function of 1.1.8's headers
    called (ibv_bind_mw came in 1.2, with the new layout): its members moved,
    but no application could have passed the old one. A struct an inline
    wrapper passes through its hook, or whose hook an inline calls, or that
    a callback of an attribute struct takes (the library may call it and
    an application implement it), still breaks applications."""
    VERBS = ("#include <stdint.h>\nstruct ibv_mw_bind {\n%s};\n"
             "struct ibv_send_wr {\n%s};\nstruct ibv_x_attr {\n%s};\n"
             "struct ibv_alloc_req {\n%s};\nstruct ibv_pd_init_attr {\n\tint comp_mask;\n"
             "\tvoid *(*alloc)(struct ibv_alloc_req *req);\n};\n"
             "int ibv_alloc_pd_ex(struct ibv_pd_init_attr *attr);\n"
             "struct ibv_context_ops {\n"
             "\tint (*query_x)(void *ctx, struct ibv_x_attr *attr);\n"
             "\tint (*bind_mw)(void *qp, struct ibv_mw_bind *mw_bind);\n"
             "\tint (*post_send)(void *qp, struct ibv_send_wr *wr);\n};\n"
             "static inline int ibv_post_send(struct ibv_context_ops *ops, "
             "struct ibv_send_wr *wr)\n{\n\treturn ops->post_send(0, wr);\n}\n"
             "static inline int ibv_query_x(struct ibv_context_ops *ops, void *attr)\n"
             "{\n\treturn ops->query_x(0, attr);\n}\n")
    OLD = ("\tuint64_t wr_id;\n\tvoid *mr;\n\tint send_flags;\n",
           "\tuint64_t wr_id;\n\tvoid *sg_list;\n\tint opcode;\n", "\tint a;\n\tlong b;\n",
           "\tint size;\n\tlong align;\n")
    NEW = ("\tuint64_t wr_id;\n\tint send_flags;\n\tvoid *mr;\n",
           "\tuint64_t wr_id;\n\tint opcode;\n\tvoid *sg_list;\n", "\tlong b;\n\tint a;\n",
           "\tlong align;\n\tint size;\n")

    def test_a_hook_no_function_calls_hurts_only_its_implementers(self):
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            old, new = (stack(tmp / name, {"IBVERBS_1.0": ["ibv_foo"]},
                              {"verbs.h": self.VERBS % members})
                        for name, members in (("old", self.OLD), ("new", self.NEW)))
            report = pair(tmp, old, new)
        moved = {(f["symbol"], f["severity"], f["audience"])
                 for f in found(report, kind="member moved")}
        self.assertEqual(moved, {("ibv_mw_bind.send_flags", "breaking", "providers"),
                                 ("ibv_mw_bind.mr", "breaking", "providers"),
                                 ("ibv_send_wr.opcode", "breaking", "applications"),
                                 ("ibv_send_wr.sg_list", "breaking", "applications"),
                                 ("ibv_x_attr.a", "breaking", "applications"),
                                 ("ibv_x_attr.b", "breaking", "applications"),
                                 ("ibv_alloc_req.size", "breaking", "applications"),
                                 ("ibv_alloc_req.align", "breaking", "applications")})
        (said,) = found(report, symbol="ibv_mw_bind.send_flags")
        self.assertIn("only as a parameter of ibv_context_ops.bind_mw", said["detail"])


if __name__ == "__main__":
    unittest.main()
