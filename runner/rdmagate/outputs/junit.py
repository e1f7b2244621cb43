"""JUnit XML from results, for a run whose harness did not write it."""
import xml.etree.ElementTree as ET
from itertools import groupby
from pathlib import Path

from .. import outcomes
from .result import Result


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


def build(found: list[Result], name: str = "rdmagate") -> ET.ElementTree:
    root = ET.Element("testsuites", name=name)
    by_suite = groupby(found, key=lambda result: result.suite)
    for suite, suite_results in by_suite:
        cases = [_testcase(result) for result in suite_results]
        failures = sum(1 for c in cases if c.find("failure") is not None)
        errors = sum(1 for c in cases if c.find("error") is not None)
        skipped = sum(1 for c in cases if c.find("skipped") is not None)
        element = ET.SubElement(root, "testsuite", name=suite, tests=str(len(cases)),
                                failures=str(failures), errors=str(errors), skipped=str(skipped))
        element.extend(cases)
    root.set("tests", str(len(found)))
    return ET.ElementTree(root)


def write(found: list[Result], path: Path) -> None:
    write_tree(build(found), path)


def write_tree(tree: ET.ElementTree, path: Path) -> None:
    ET.indent(tree)
    tmp = path.with_suffix(".xml.tmp")
    tree.write(tmp, encoding="utf-8", xml_declaration=True)
    tmp.replace(path)
