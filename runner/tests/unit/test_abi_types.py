"""Header type rules on crafted headers: each of rdma-core's extension
mechanisms passes, and each way to break what old binaries do is caught."""
import tempfile
import unittest
from pathlib import Path

from tests.support import HEADER_PARTS, abi_json, build_header_stack

class HeaderRules(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = Path(self.tmp.name)

    def tearDown(self):
        self.tmp.cleanup()

    def diff(self, old_headers=None, new_headers=None, exports=None, new_changes=None,
             **changes):
        """changes: to both stacks' headers where new_changes is given (which
        then holds the new stack's own changes), else to the new one's."""
        pair = Path(tempfile.mkdtemp(dir=self.dir)).name   # several diffs in one test
        more = {"exports": exports} if exports is not None else {}
        both = changes if new_changes is not None else {}
        old = build_header_stack(self.dir / pair / "old", more_headers=old_headers, **more, **both)
        new = build_header_stack(self.dir / pair / "new", more_headers=new_headers, **more,
                                 **{**changes, **(new_changes or {})})
        done, report = abi_json(f"prefix:{old}", f"prefix:{new}", "--no-consumers",
                                results=self.dir / "results")
        self.assertIn(done.returncode, (0, 1), done.stderr)
        self.all_findings = report["findings"]
        return done.returncode, [f for f in report["findings"]
                                 if f["library"] in ("infiniband/verbs.h", "headers")]

    def kinds(self, findings, severity):
        return {(f["kind"], f["symbol"]) for f in findings if f["severity"] == severity}

    def test_identical_headers_have_no_findings(self):
        code, findings = self.diff()
        self.assertEqual((code, findings), (0, []))

    def test_swapped_function_pointers_break_applications(self):
        # invisible to symbol-level tools: the calls are inline in applications
        code, findings = self.diff(ops="int (*poll_cq)(struct ibv_cq *cq, int n);\n"
                                       "int (*post_send)(struct ibv_qp *qp, int flags);")
        self.assertEqual(code, 1)
        self.assertIn(("member moved", "ibv_context_ops.post_send"), self.kinds(findings, "breaking"))

    def test_changed_function_pointer_signature_breaks_applications(self):
        code, findings = self.diff(ops="int (*post_send)(struct ibv_qp *qp, long flags);\n"
                                       "int (*poll_cq)(struct ibv_cq *cq, int n);")
        self.assertEqual(code, 1)
        (finding,) = [f for f in findings if f["kind"] == "member type changed"]
        self.assertIn("long int", finding["detail"])

    def test_verbs_context_grows_at_the_front(self):
        code, findings = self.diff(verbs_context="int (*alloc_dm)(void);\n"
                                   + HEADER_PARTS["verbs_context"])
        self.assertEqual(code, 0, findings)
        self.assertIn(("extended compatibly", "verbs_context"), self.kinds(findings, "benign"))

    def test_verbs_context_member_added_next_to_the_context_breaks(self):
        code, findings = self.diff(verbs_context="int (*query_port)(void);\n"
                                   "int (*advise_mr)(void);\nsize_t sz;\nint (*late)(void);\n"
                                   "struct ibv_context context;")
        self.assertEqual(code, 1)
        self.assertIn(("member moved", "verbs_context.query_port"), self.kinds(findings, "breaking"))

    def test_comp_mask_struct_grows_at_its_end(self):
        code, findings = self.diff(attr_ex=HEADER_PARTS["attr_ex"] + "\nuint64_t new_field;")
        self.assertEqual(code, 0)
        self.assertIn(("extended compatibly", "ibv_thing_attr_ex"), self.kinds(findings, "benign"))

    def test_struct_the_library_hands_out_grows_at_its_end(self):
        code, findings = self.diff(qp=HEADER_PARTS["qp"] + "\nuint64_t new_field;")
        self.assertEqual(code, 0)
        self.assertIn(("extended compatibly", "ibv_qp"), self.kinds(findings, "benign"))

    def test_struct_applications_allocate_growing_needs_review(self):
        code, findings = self.diff(plain=HEADER_PARTS["plain"] + "\nuint32_t c;")
        self.assertIn(("size grew", "ibv_plain"), self.kinds(findings, "review"))

    def test_member_moved_in_a_plain_struct_breaks(self):
        code, findings = self.diff(plain="uint32_t b;\nuint32_t a;")
        self.assertEqual(code, 1)
        self.assertIn(("member moved", "ibv_plain.a"), self.kinds(findings, "breaking"))

    def test_reserved_space_carved_into_a_new_member(self):
        code, findings = self.diff(reserved="uint32_t flags;\nuint8_t mode;\nuint8_t reserved[3];")
        self.assertEqual(code, 0, findings)
        self.assertEqual(self.kinds(findings, "breaking"), set())

    def test_changed_prototype_needs_review_and_a_renamed_parameter_does_not(self):
        code, findings = self.diff(protos="void ibv_use_plain(struct ibv_plain *p);")
        self.assertEqual((code, findings), (0, []))
        code, findings = self.diff(protos="int ibv_use_plain(struct ibv_plain *plain, int flags);")
        self.assertIn(("prototype changed", "ibv_use_plain"), self.kinds(findings, "review"))

    def test_removed_prototype_breaks_the_build_and_a_macro_does_not(self):
        code, findings = self.diff(protos="")
        self.assertEqual(code, 0)  # the build, not applications or providers
        self.assertIn(("prototype removed", "ibv_use_plain"), self.kinds(findings, "breaking"))
        code, findings = self.diff(protos="#define ibv_use_plain(p) ((void)(p))")
        self.assertIn(("prototype now a macro", "ibv_use_plain"), self.kinds(findings, "benign"))

    def test_a_removed_declaration_no_library_exported_is_no_break(self):
        code, findings = self.diff(protos="", exports=("ibv_create_qp",))
        self.assertEqual(self.kinds(findings, "breaking"), set())
        self.assertIn(("declaration removed", "ibv_use_plain"), self.kinds(findings, "info"))

    def test_a_header_not_shipped_is_said_once(self):
        extra = ("#include <stdint.h>\nstruct ibv_extra_a { uint32_t a; };\n"
                 "struct ibv_extra_b { uint32_t b; };\nenum ibv_extra_e { IBV_EXTRA_X = 1 };\n"
                 "int ibv_extra_query(struct ibv_extra_a *a);\n")
        code, findings = self.diff(old_headers={"extra.h": extra})
        extra_findings = [f for f in findings if "extra" in f["library"] + f["symbol"]]
        (said,) = [f for f in self.all_findings if f["library"] == "infiniband/extra.h"]
        self.assertEqual((said["kind"], said["severity"], said["audience"]),
                         ("header not shipped", "breaking", "build"))
        self.assertIn("3 types and 1 functions", said["detail"])
        self.assertEqual(extra_findings, [])     # no type or prototype removed, one by one

    def test_a_struct_passed_as_an_array_that_grows_breaks_unless_the_old_symbol_stays(self):
        proto = HEADER_PARTS["protos"] + "\nint ibv_post_plains(struct ibv_plain *plains, int num);"
        grown = "uint32_t a;\n\tuint32_t b;\n\tuint32_t c;"
        exports = ("ibv_create_qp", "ibv_use_plain", "ibv_post_plains")
        code, findings = self.diff(protos=proto, exports=exports, new_changes={"plain": grown})
        self.assertEqual(code, 1)
        (grew,) = [f for f in findings if f["symbol"] == "ibv_plain"]
        self.assertEqual((grew["kind"], grew["severity"]), ("array element grew", "breaking"))
        self.assertIn("passed as an array to ibv_post_plains", grew["detail"])
        self.assertIn("fix: keep the old symbol", grew["detail"])
        # rdma-core's fix: the old symbol (old stride) kept beside a new version
        versioned = ("int ibv_post_plains_1_0(void) { return 0; }\n"
                     "int ibv_post_plains_1_1(void) { return 1; }\n"
                     '__asm__(".symver ibv_post_plains_1_0,ibv_post_plains@IBVERBS_1.0");\n'
                     '__asm__(".symver ibv_post_plains_1_1,ibv_post_plains@@IBVERBS_1.1");\n'
                     "int ibv_create_qp(void) { return 0; }\nint ibv_use_plain(void) { return 0; }\n")
        nodes = {"IBVERBS_1.0": list(exports), "IBVERBS_1.1": ["ibv_post_plains"]}
        code, findings = self.diff(protos=proto, exports=exports, new_changes={
            "plain": grown, "nodes": nodes, "source": versioned})
        (grew,) = [f for f in findings if f["symbol"] == "ibv_plain"]
        self.assertEqual((grew["kind"], grew["severity"]), ("extended compatibly", "benign"))
        self.assertIn("ibv_post_plains@IBVERBS_1.0 is kept", grew["detail"])
        # the two versions were there before the growth: an older fix, not this one's
        code, findings = self.diff(protos=proto, exports=exports, nodes=nodes, source=versioned,
                                   new_changes={"plain": grown})
        (grew,) = [f for f in findings if f["symbol"] == "ibv_plain"]
        self.assertEqual((grew["kind"], grew["severity"]), ("array element grew", "breaking"))
        # the same growth, not passed as an array: review, as before
        code, findings = self.diff(protos=HEADER_PARTS["protos"], plain=grown)
        (grew,) = [f for f in findings if f["symbol"] == "ibv_plain"]
        self.assertEqual(grew["kind"], "size grew")

    def test_which_parameters_are_arrays_of_structs(self):
        from rdmagate.abi import headers
        text = ("struct ibv_cq; struct ibv_wc; struct ibv_plain; struct dr_dom; struct dr_dest;\n"
                "int ibv_poll_cq(struct ibv_cq *cq, int num_entries, struct ibv_wc *wc);\n"
                "int ibv_post_plains(struct ibv_plain plains[], int n);\n"
                "void *dr_create_dest_array(struct dr_dom *domain, size_t num_dest,\n"
                "                           struct dr_dest *dests[]);\n"
                "void *dr_create_dests(struct dr_dom *domain, size_t num_dest,\n"
                "                      struct dr_dest **dests);\n")
        with tempfile.TemporaryDirectory() as tmp:
            (Path(tmp) / "infiniband").mkdir()
            (Path(tmp) / "infiniband" / "arrays.h").write_text(text)
            found = headers.array_passed([Path(tmp)], ["infiniband/arrays.h"])
        # an array of pointers has a pointer's stride: neither the object the
        # call is on nor the pointed-to struct is passed as an array
        self.assertEqual(found, {("ibv_wc", "ibv_poll_cq"), ("ibv_plain", "ibv_post_plains")})

    def test_abidiff_changes_rdmagate_does_not_classify_are_reconciled(self):
        # a reserved member's type changed: rdmagate's rules skip reserved
        # members, abidiff calls it incompatible; the two must not disagree silently
        code, findings = self.diff(reserved="uint32_t flags;\n\tuint32_t reserved;")
        (said,) = findings
        self.assertEqual((said["kind"], said["severity"], said["symbol"]),
                         ("unreconciled abidiff change", "review", "ibv_resv"))
        # a change rdmagate classifies is reconciled: no second finding
        code, findings = self.diff(plain="uint32_t a;\n\tuint64_t b;")
        self.assertIn("member type changed", [f["kind"] for f in findings])
        self.assertNotIn("unreconciled abidiff change", [f["kind"] for f in findings])

    def test_a_struct_changed_through_a_member_type_rdmagate_judged_is_reconciled(self):
        # abidiff names a member's type without its keyword ('ibv_thing t'):
        # the enumerator removed from it is rdmagate's finding, said once
        code, findings = self.diff(protos=HEADER_PARTS["protos"] + "\nstruct ibv_tagged "
                                   "{ enum ibv_thing t; };", new_changes={"enum": "IBV_THING_A = 0,"})
        self.assertIn(("enumerator removed", "IBV_THING_B"), self.kinds(findings, "breaking"))
        self.assertNotIn("unreconciled abidiff change", [f["kind"] for f in findings])

    def test_enumerator_value_change_breaks(self):
        code, findings = self.diff(enum="IBV_THING_A = 0,\nIBV_THING_B = 2,")
        self.assertEqual(code, 1)
        self.assertIn(("enumerator value changed", "IBV_THING_B"), self.kinds(findings, "breaking"))

    def test_an_end_marker_moved_by_additions_is_benign(self):
        # libibmad 44.0 -> 56.1: enumerators added before IB_FIELD_LAST_ /* must be last */
        code, findings = self.diff(enum="IBV_THING_A = 0,\n\tIBV_THING_B = 1,\n\tIBV_THING_LAST_",
                                   new_changes={"enum": "IBV_THING_A = 0,\n\tIBV_THING_B = 1,"
                                                "\n\tIBV_THING_C,\n\tIBV_THING_LAST_"})
        self.assertEqual(code, 0, findings)
        self.assertIn(("end marker moved", "IBV_THING_LAST_"), self.kinds(findings, "benign"))
        self.assertEqual(self.kinds(findings, "breaking") | self.kinds(findings, "review"), set())
        # the same move with another enumerator renumbered still breaks
        code, findings = self.diff(enum="IBV_THING_A = 0,\n\tIBV_THING_B = 1,\n\tIBV_THING_LAST_",
                                   new_changes={"enum": "IBV_THING_A = 0,\n\tIBV_THING_C,"
                                                "\n\tIBV_THING_B,\n\tIBV_THING_LAST_"})
        self.assertEqual(code, 1)
        self.assertIn(("enumerator value changed", "IBV_THING_B"), self.kinds(findings, "breaking"))
        self.assertIn(("enumerator value changed", "IBV_THING_LAST_"),
                      self.kinds(findings, "breaking"))

    def test_enumerator_addition_is_benign(self):
        code, findings = self.diff(enum=HEADER_PARTS["enum"] + "\nIBV_THING_C = 2,")
        self.assertEqual(code, 0)
        self.assertIn(("enumerators added", "ibv_thing"), self.kinds(findings, "benign"))


if __name__ == "__main__":
    unittest.main()
