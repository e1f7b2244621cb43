"""JUnit XML from results: the one writer of every junit.xml (check,
upgrade, fleet, report)."""
import re
import xml.etree.ElementTree as ET
from itertools import groupby
from pathlib import Path

from .. import files, outcomes
from .result import Result

# What XML 1.0 cannot hold even escaped (a test's message can carry any byte
# a device or a tool printed): replaced, so junit.xml stays well-formed.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _clean(element: ET.Element) -> None:
    for node in element.iter():
        node.attrib = {name: _NOT_XML.sub("\ufffd", value) for name, value in node.attrib.items()}
        if node.text:
            node.text = _NOT_XML.sub("\ufffd", node.text)


def _testcase(result: Result) -> ET.Element:
    case = ET.Element("testcase", classname=result.suite, name=result.name,
                      time=f"{result.duration_s:.3f}")
    outcome = result.outcome
    if outcome in outcomes.UNEXPECTED:
        ET.SubElement(case, "failure", message=result.reason or outcome,
                      type=outcome).text = result.why or outcome
    elif outcome in outcomes.INFRA:
        ET.SubElement(case, "error", message=result.reason or outcome,
                      type=outcome).text = result.why or outcome
    elif outcome != "PASS":
        ET.SubElement(case, "skipped", message=f"{outcome}: {result.reason}")
    return case


def build(found: list[Result], name: str = "rdmagate",
          properties: dict[str, dict[str, str]] | None = None) -> ET.ElementTree:
    """One <testsuite> a run of results of one suite, with that suite's
    properties (suite name -> name -> value) when given."""
    root = ET.Element("testsuites", name=name)
    by_suite = groupby(found, key=lambda result: result.suite)
    for suite, suite_results in by_suite:
        cases = [_testcase(result) for result in suite_results]
        failures = sum(1 for c in cases if c.find("failure") is not None)
        errors = sum(1 for c in cases if c.find("error") is not None)
        skipped = sum(1 for c in cases if c.find("skipped") is not None)
        element = ET.SubElement(root, "testsuite", name=suite, tests=str(len(cases)),
                                failures=str(failures), errors=str(errors), skipped=str(skipped))
        if properties and suite in properties:
            listed = ET.SubElement(element, "properties")
            for key, value in properties[suite].items():
                ET.SubElement(listed, "property", name=key, value=value)
        element.extend(cases)
    root.set("tests", str(len(found)))
    return ET.ElementTree(root)


def write(found: list[Result], path: Path) -> None:
    write_tree(build(found), path)


def write_tree(tree: ET.ElementTree, path: Path) -> None:
    _clean(tree.getroot())
    ET.indent(tree)
    files.write_atomic(path, ET.tostring(tree.getroot(), encoding="utf-8", xml_declaration=True),
                       "junit.xml")
