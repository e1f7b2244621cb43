"""A fleet run's report.html: one self-contained page (no script, no
network; everything from the data escaped): the nodes, a node x test
matrix with the tests that deviate first, the outlier nodes and links, and
the pairs' latency as a server x client picture (inline SVG) with each
pair's verdict against the stored pair baseline, and those verdicts ranked
(slower on a device first, lab findings after)."""
from pathlib import Path

from .. import files, outcomes
from ..outputs import results
from ..outputs.result import Result
from ..report.page import CELL, esc, STYLE, WHERE
from . import pairs
from .record import NOT_TESTED, Fleet


def _matrix(fleet: Fleet, fleet_dir: Path) -> str:
    names = [n.name for n in fleet.nodes]
    outcome: dict[str, dict[str, Result]] = {}
    for node in fleet.nodes:
        if node.run_dir:
            for r in results.read(fleet_dir / node.run_dir / "results.jsonl"):
                outcome.setdefault(r.test, {})[node.name] = r

    def deviates(test: str) -> bool:
        cells = outcome[test]
        seen = {cells[n].outcome if n in cells else None for n in names}
        return len(seen) > 1 or bool(seen - outcomes.AS_EXPECTED)
    tests = sorted(outcome, key=lambda t: (not deviates(t), t))
    head = "".join(f"<th>{esc(n)}</th>" for n in names)
    rows = []
    for test in tests:
        cells = []
        for name in names:
            cell = outcome[test].get(name)
            word = cell.outcome if cell else "not run"
            colour = CELL.get(word, "#ffd8b5")
            why = cell.why if cell else "the node stopped first"
            cells.append(f'<td style="background:{colour}" title="{esc(why)}">{esc(word)}</td>')
        rows.append(f"<tr><td><code>{esc(test)}</code></td>{''.join(cells)}</tr>")
    deviating = sum(1 for t in tests if deviates(t))
    return (f"<p>{deviating} of {len(tests)} test(s) deviate on some node (shown first).</p>"
            f"<table><tr><th>test</th>{head}</tr>{''.join(rows)}</table>")


def _pair_picture(fleet: Fleet) -> str:
    lat = {(p.server, p.client): v for p in fleet.pairs for v in p.verdicts
           if v["metric"].endswith("_us")}
    if not lat:
        return "<p>no pair latency measured.</p>"
    names = sorted({n for pair in lat for n in pair})
    cell, left = 64, 80
    size = left + cell * len(names)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" '
             'role="img" font-size="11">']
    for i, name in enumerate(names):
        parts.append(f'<text x="{left + i * cell + 4}" y="{left - 8}">{esc(name)}</text>'
                     f'<text x="4" y="{left + i * cell + cell // 2}">{esc(name)}</text>')
    for (server, client), v in sorted(lat.items()):
        x, y = left + names.index(client) * cell, left + names.index(server) * cell
        ratio = v.get("ratio", 1.0)
        red = max(0, min(255, int(255 * (ratio - 1) / 0.5)))
        colour = f"rgb({200 + red // 5},{230 - red // 2},{200 - red // 2})" if "value" in v \
            else "#ddd"
        label = f"{v['value']:.4g}" if "value" in v else "n/m"
        against = (pairs.against(v) or {}).get("verdict", "none stored")
        # a pair slower than its stored baseline: outlined, and said under the figure
        edge = ' stroke="#cf222e" stroke-width="3"' if against == "slower" else ""
        parts.append(f'<rect x="{x}" y="{y}" width="{cell - 2}" height="{cell - 2}" '
                     f'fill="{colour}"{edge}><title>{esc(server)} to {esc(client)}: '
                     f'{esc(v.get("measurement"))} {esc(label)} us, {esc(v.get("verdict"))}; '
                     f'baseline: {esc(against)}</title></rect>'
                     f'<text x="{x + 4}" y="{y + cell // 2}">{esc(label)}</text>'
                     f'<text x="{x + 4}" y="{y + cell // 2 + 14}">{esc(against)}</text>')
    parts.append("</svg>")
    return ("<p>rows: server, columns: client; typical 2-byte RDMA WRITE latency in us, "
            "redder the further above the fleet's median; under it the verdict against the "
            "stored pair baseline (outlined red: slower).</p>" + "".join(parts))


def _against_baseline(fleet: Fleet) -> str:
    """Every measured pair against the stored pair baseline: slower on a
    device first, then slower in the lab (a lab finding), then the rest."""
    rows = [(p, v) for p in fleet.pairs for v in p.verdicts if pairs.against(v)]
    if not rows:
        return "<p>no pair measured against a stored baseline.</p>"

    def rank(row) -> int:
        b = row[1]["baseline"]
        return 0 if b["verdict"] == "slower" and b.get("where") == "device" else \
            1 if b["verdict"] == "slower" else 2
    cells = "".join(
        f"<tr><td>{esc(p.server)}-{esc(p.client)}</td><td>{esc(v['measurement'])}</td>"
        f"<td>{esc(v['baseline']['verdict'])}</td><td>{esc(pairs.baseline_text(v['baseline']))}"
        f"</td></tr>" for p, v in sorted(rows, key=rank))
    lab = any(v["baseline"].get("where") == "lab" for _, v in rows)
    return ((f"<p>{esc(WHERE['lab'])}</p>" if lab else "")
            + f"<table><tr><th>pair</th><th>measurement</th><th>against the baseline</th>"
            f"<th>why</th></tr>{cells}</table>")


def render(fleet: Fleet, fleet_dir: Path) -> str:
    tested = sum(1 for n in fleet.nodes if n.status != NOT_TESTED)
    rows = "".join(
        f"<tr><td>{esc(n.name)}</td><td>{esc(n.status)}</td><td>{esc(n.reason)}</td>"
        f"<td>{esc(n.kernel)}</td><td>{esc(n.device)} ({esc(n.kind)}, {esc(n.profile)})</td>"
        f"<td>{esc(', '.join(f'{d} {v}' for d, v in n.firmware.items()))}</td>"
        f"<td>{esc(n.taint_before)} / {esc(n.taint_after)}</td>"
        f"<td>{esc(', '.join(f'{c} {o.lower()}' for o, c in n.counts.items() if c))}</td></tr>"
        for n in fleet.nodes)
    outliers = fleet.outliers or {}
    drain = "".join(f"<li><code>{esc(line)}</code></li>" for line in fleet.drain)
    job = fleet.job
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>rdmagate fleet: {esc(fleet.stack)}</title><style>{STYLE}</style></head><body>
<h1>rdmagate fleet: {esc(fleet.stack)} on {len(fleet.nodes)} node(s)</h1>
<p>{tested} of {len(fleet.nodes)} node(s) tested through {esc(fleet.scheduler)}
{f"(Slurm job {esc(job.get('id'))}, {esc(job.get('state'))})" if job.get('id') else ''};
exit code {esc(fleet.exit_code)}; suites {esc(', '.join(fleet.suites))};
{esc(fleet.started)} to {esc(fleet.finished)}.</p>
{f"<p><b>{esc(job['reason'])}</b></p>" if job.get('reason') else ''}
<h2>Nodes</h2><table><tr><th>node</th><th>status</th><th>reason</th><th>kernel</th>
<th>device</th><th>firmware</th><th>taint before / after</th><th>tests</th></tr>{rows}</table>
<h2>Node x test</h2>{_matrix(fleet, fleet_dir)}
<h2>Outliers</h2><p>nodes: {esc(', '.join(outliers.get('nodes', [])) or 'none')};
links: {esc(', '.join(outliers.get('links', [])) or 'none')}</p>
<h2>Pairs</h2>{_pair_picture(fleet)}
<h3>Pairs against the stored pair baseline</h3>{_against_baseline(fleet)}
<h2>To drain</h2>{f"<ul>{drain}</ul>" if drain else "<p>none.</p>"}
</body></html>
"""


def write(fleet: Fleet, fleet_dir: Path) -> Path:
    path = fleet_dir / "report.html"
    files.write_atomic(path, render(fleet, fleet_dir), "report.html")
    return path
