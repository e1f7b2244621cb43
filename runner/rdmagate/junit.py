"""JUnit XML from result records, for a run whose harness did not write it."""
import xml.etree.ElementTree as ET
from itertools import groupby
from pathlib import Path


def _testcase(record: dict) -> ET.Element:
    case = ET.Element("testcase", classname=record["suite"], name=record["name"],
                      time=f"{float(record.get('duration_s', 0.0)):.3f}")
    outcome = record["outcome"]
    text = record.get("message") or record.get("reason") or outcome
    if outcome == "FAIL":
        ET.SubElement(case, "failure", message=record.get("reason") or "FAIL", type="FAIL").text = text
    elif outcome in ("TIMEOUT", "CRASH"):
        ET.SubElement(case, "failure", message=record.get("reason") or outcome, type=outcome).text = text
    elif outcome == "ERROR":
        ET.SubElement(case, "error", message=record.get("reason") or "ERROR", type="ERROR").text = text
    elif outcome in ("SKIP", "UNSUPPORTED", "XFAIL"):
        ET.SubElement(case, "skipped", message=f"{outcome}: {record.get('reason', '')}")
    return case


def build(records: list[dict], name: str = "rdmagate") -> ET.ElementTree:
    root = ET.Element("testsuites", name=name)
    by_suite = groupby(records, key=lambda record: record["suite"])
    for suite, suite_records in by_suite:
        cases = [_testcase(record) for record in suite_records]
        failures = sum(1 for c in cases if c.find("failure") is not None)
        errors = sum(1 for c in cases if c.find("error") is not None)
        skipped = sum(1 for c in cases if c.find("skipped") is not None)
        element = ET.SubElement(root, "testsuite", name=suite, tests=str(len(cases)),
                                failures=str(failures), errors=str(errors), skipped=str(skipped))
        element.extend(cases)
    root.set("tests", str(len(records)))
    return ET.ElementTree(root)


def write(records: list[dict], path: Path) -> None:
    write_tree(build(records), path)


def write_tree(tree: ET.ElementTree, path: Path) -> None:
    ET.indent(tree)
    tmp = path.with_suffix(".xml.tmp")
    tree.write(tmp, encoding="utf-8", xml_declaration=True)
    tmp.replace(path)
