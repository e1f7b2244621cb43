"""junit.xml of a fleet run: every node's results with the node in the
classname (<node>.<suite>), so names stay unique across nodes; a node not
tested is one error case <node>.node.tested with the reason; each pair's
measurements under pair.<server>-<client> (a FAIL when off the fleet's
median or slower than the stored pair baseline, with its ratio and
interval); the stack, node and kernel as properties of each suite."""
import dataclasses
from pathlib import Path

from ..outputs import junit, results
from ..outputs.result import Result
from . import pairs
from .record import NOT_TESTED, Fleet


def records(fleet: Fleet, fleet_dir: Path) -> list[tuple[dict, Result]]:
    """(node properties, result record renamed for the fleet), in node order."""
    out = []
    for node in fleet.nodes:
        props = {"stack": fleet.stack, "node": node.name, "kernel": node.kernel,
                 "device": node.device, "profile": node.profile}
        finished = results.read(fleet_dir / node.run_dir / "results.jsonl") \
            if node.run_dir else []
        for record in finished:
            out.append((props, dataclasses.replace(record, suite=f"{node.name}.{record.suite}")))
        if node.status == NOT_TESTED:
            out.append((props, Result(f"{node.name}.node.tested", f"{node.name}.node", "tested",
                                      "ERROR", reason=f"not tested: {node.reason}",
                                      message=node.reason)))
    for pair in fleet.pairs:
        props = {"stack": fleet.stack, "server": pair.server, "client": pair.client,
                 "round": str(pair.round)}
        suite = f"pair.{pair.server}-{pair.client}"
        if pair.status == NOT_TESTED:
            out.append((props, Result(f"{suite}.tested", suite, "tested", "ERROR",
                                      reason=f"not tested: {pair.reason}", message=pair.reason)))
        for v in pair.verdicts:
            outcome = {"as the fleet": "PASS", "off the fleet": "FAIL"}.get(
                v.get("verdict", ""), "ERROR")
            reason = v.get("verdict", "")
            text = (f"{v['metric']} {v['value']:.4g}: {v['ratio']}x the fleet's median "
                    f"{v['fleet_median']:.4g}") if "value" in v else v.get("error", "")
            if v.get("failed_runs"):
                text += (f"; {len(v['failed_runs'])} run(s) gave no figure: "
                         f"{v['failed_runs'][0]}")
            if pairs.against(v):
                text += f"; {pairs.baseline_text(v['baseline'])}"
                if v["baseline"]["verdict"] == "slower":
                    outcome = "FAIL"
                    reason = "slower than its baseline" + (
                        "" if reason == "off the fleet" else f", {reason}")
            out.append((props, Result(f"{suite}.{v['measurement']}", suite, v["measurement"],
                                      outcome, reason=reason, message=text)))
    return out


def write(fleet: Fleet, fleet_dir: Path) -> None:
    pairs = records(fleet, fleet_dir)
    tree = junit.build([record for _, record in pairs], name="rdmagate fleet",
                       properties={record.suite: props for props, record in pairs})
    junit.write_tree(tree, fleet_dir / "junit.xml")
