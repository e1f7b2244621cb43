"""The upgrade gate's report and the abi command's: one self-contained HTML
file (no network, no script), readable by an operator and a vendor. The first
screen holds the verdict, what to do and one line per pillar; the details
follow, folded (<details>), each cause once with its consequences under it.
Everything taken from the data is escaped; the plots are inline SVG drawn here.

    render(upgrade) -> str       an Upgrade (upgrade.json; any section may be missing)
    write(upgrade, path) -> Path
    write_abi(found, runs, path) -> Path   findings.json and providers.json' runs
    write_compat(found, path) -> Path      compat.json
"""
import html
import math
from pathlib import Path

from .. import files
from ..abi import causes
from ..abi.loads import reason as loader_words
from ..paths import cache_dir
from ..upgrade import actions
from ..upgrade.record import Abi, Consumer, Series, Upgrade

COLOURS = {"GO": "#1a7f37", "GO WITH RISKS": "#9a6700", "NO-GO": "#cf222e",
           "INCOMPLETE": "#57606a", "NOT TESTED": "#57606a"}
CELL = {"PASS": "#dafbe1", "XFAIL": "#fff8c5", "UNSUPPORTED": "#eaeef2", "SKIP": "#eaeef2",
        "FAIL": "#ffebe9", "CRASH": "#ffebe9", "TIMEOUT": "#ffebe9", "ERROR": "#ffd8b5"}
STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:1em auto;max-width:75em;color:#1f2328}
h1{font-size:1.6em}h2{border-bottom:1px solid #d0d7de;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #d0d7de;padding:.2em .5em;
text-align:left;vertical-align:top}th{background:#f6f8fa}.verdict{color:#fff;font-size:1.5em;
padding:.4em 1em;border-radius:6px;font-weight:bold}.small{color:#57606a;font-size:.9em}
code{font-size:.9em}svg{background:#fff;border:1px solid #d0d7de}
details{margin:.3em 0}details>summary{cursor:pointer;font-weight:600}
details.section>summary{font-size:1.2em;border-bottom:1px solid #d0d7de;padding:.2em 0}
h1{margin:.2em 0}ol.actions li{margin:.15em 0}ul.pillars{list-style:none;padding-left:0}
ul.pillars li{white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
@media print{body{margin:0}.verdict{-webkit-print-color-adjust:exact}}
"""


def esc(value) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _table(headers: list[str], rows: list[list], raw_cells: bool = False) -> str:
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(c if raw_cells else f"<td>{esc(c)}</td>" for c in row)
                   + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _missing(upgrade: Upgrade, phase: str) -> str:
    for p in upgrade.phases:
        if p.name == phase and p.status != "done":
            return f"<p><strong>Not tested</strong> ({esc(p.status)}): {esc(p.note)}</p>"
    return "<p>No data.</p>"


def _size_label(size: int) -> str:
    for unit, div in (("M", 1 << 20), ("K", 1 << 10)):
        if size >= div and size % div == 0:
            return f"{size // div}{unit}"
    return str(size)


def plot(series: Series, names: tuple[str, str], width: int = 640, height: int = 320) -> str:
    """Value against message size (log2 x), A and B, each point with its
    interval as a vertical bar; log y when the range is wide."""
    points = series.points
    if not points:
        return "<p>No points.</p>"
    left, right, top, bottom = 70, 20, 20, 50
    values = [v for p in points for side in (p.a, p.b) for v in
              (side.low, side.high, side.median)]
    lo, hi = min(values), max(values)
    log_y = lo > 0 and hi / lo > 50
    if log_y:
        lo, hi = math.log10(lo), math.log10(hi)
    if hi - lo < 1e-9:
        lo, hi = lo - 1, hi + 1
    pad = (hi - lo) * 0.08
    lo, hi = (lo - pad if log_y or lo - pad > 0 else 0), hi + pad
    xs = [math.log2(p.size) for p in points]
    x0, x1 = min(xs), max(xs)
    if x1 - x0 < 1e-9:
        x0, x1 = x0 - 1, x1 + 1

    def px(size: int) -> float:
        return left + (math.log2(size) - x0) / (x1 - x0) * (width - left - right)

    def py(value: float) -> float:
        v = math.log10(value) if log_y else value
        return top + (hi - v) / (hi - lo) * (height - top - bottom)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="plot" width="{width}" '
           f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
           f'aria-label="{esc(series.title)}">']
    out.append(f'<line x1="{left}" y1="{height - bottom}" x2="{width - right}" '
               f'y2="{height - bottom}" stroke="#57606a"/><line x1="{left}" y1="{top}" '
               f'x2="{left}" y2="{height - bottom}" stroke="#57606a"/>')
    for p in points:
        x = px(p.size)
        out.append(f'<text x="{x:.1f}" y="{height - bottom + 16}" font-size="11" '
                   f'text-anchor="middle">{esc(_size_label(p.size))}</text>')
    for i in range(5):
        v = lo + (hi - lo) * i / 4
        label = 10 ** v if log_y else v
        y = top + (hi - v) / (hi - lo) * (height - top - bottom)
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end">'
                   f'{label:.3g}</text><line x1="{left}" x2="{width - right}" y1="{y:.1f}" '
                   f'y2="{y:.1f}" stroke="#eaeef2"/>')
    out.append(f'<text x="{(left + width - right) / 2}" y="{height - 12}" font-size="12" '
               f'text-anchor="middle">message size (bytes, log scale)</text>')
    out.append(f'<text x="14" y="{(top + height - bottom) / 2}" font-size="12" '
               f'text-anchor="middle" transform="rotate(-90 14 {(top + height - bottom) / 2})">'
               f'{esc(series.unit)}{" (log)" if log_y else ""}</text>')
    styles = (("a", "#0969da", "circle"), ("b", "#cf222e", "square"))
    for side, colour, shape in styles:
        offset = -4 if side == "a" else 4
        line = []
        for p in points:
            x, m = px(p.size) + offset, getattr(p, side)
            line.append(f"{x:.1f},{py(m.median):.1f}")
            out.append(f'<line class="ci" x1="{x:.1f}" x2="{x:.1f}" y1="{py(m.low):.1f}" '
                       f'y2="{py(m.high):.1f}" stroke="{colour}" stroke-width="2"/>')
            y = py(m.median)
            out.append(f'<circle class="pt" cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{colour}"/>'
                       if shape == "circle" else
                       f'<rect class="pt" x="{x - 4:.1f}" y="{y - 4:.1f}" width="8" height="8" '
                       f'fill="{colour}"/>')
        out.append(f'<polyline points="{" ".join(line)}" fill="none" stroke="{colour}" '
                   f'stroke-opacity=".5"/>')
    for i, ((side, colour, shape), name) in enumerate(zip(styles, names)):
        y = top + 8 + 16 * i
        mark = (f'<circle cx="{width - 150}" cy="{y}" r="4" fill="{colour}"/>' if shape == "circle"
                else f'<rect x="{width - 154}" y="{y - 4}" width="8" height="8" fill="{colour}"/>')
        out.append(f'{mark}<text x="{width - 140}" y="{y + 4}" font-size="12">{esc(name)}</text>')
    out.append("</svg>")
    return "".join(out)


def _ci(ci: list[float]) -> str:
    return f"{ci[0]:.3f}-{ci[1]:.3f}" if len(ci) == 2 else "none"


WHERE = {"lab": "Measured in the lab: soft-RoCE under an emulated CPU. A difference here is "
         "about the kernel's rxe path under emulation, not about a device; it ranks below "
         "every finding measured on a device.",
         "device": "Measured on the device."}


def _perf(upgrade: Upgrade) -> str:
    series = upgrade.perf or []
    if not series:
        return _missing(upgrade, "perf")
    names = (upgrade.old.name, upgrade.new.name)
    parts = []
    where = next((s.where for s in series if s.where), "")
    if where:
        parts.append(f'<p class="where">{esc(WHERE.get(where, where))}</p>')
    for s in series:
        if s.not_measured:
            parts.append(f"<h3>{esc(s.title)}</h3><p>{esc(s.not_measured)}</p>")
            continue
        if not s.points and not s.unmeasured:
            continue
        parts.append(f"<h3>{esc(s.title)}</h3>{plot(s, names)}")
        if s.clock == "instructions":   # exact figures: each side's run spread, no interval
            parts.append(f'<p class="where">Unit: {esc(s.unit_meaning or s.unit)}</p>')
            rows = [[_size_label(p.size), p.verdict, f"{p.ratio:.3f}",
                     "/".join(f"{x:.2%}" for x in p.spread or []),
                     "/".join(map(str, p.runs or [1, 1])), f"{p.a.median:.3f}",
                     f"{p.b.median:.3f}", p.note or ""] for p in s.points]
            parts.append(_table(["size", "verdict", "ratio B/A", "run spread A/B", "runs A/B",
                                 f"{names[0]} ({s.unit})", f"{names[1]} ({s.unit})", "note"],
                                rows))
            for p in s.points:   # where the path got longer, next to the measurement
                if not p.attribution:
                    continue
                head = (f"<p>Where the path got longer at {esc(_size_label(p.size))} "
                        f"({p.ratio:.2f}x): share of the virtual time</p>")
                if "why" in p.attribution:
                    parts.append(head + f"<p>{esc(p.attribution['why'])}</p>")
                    continue
                parts.append(head + _table(
                    ["function", names[0], names[1]],
                    [[f["function"], f"{f['before']:.1f}%", f"{f['after']:.1f}%"]
                     for f in p.attribution.get("functions", [])]))
        else:
            rows = [[_size_label(p.size), p.verdict, f"{p.ratio:.3f}", _ci(p.ci),
                     "/".join(map(str, p.runs or [1, 1])), f"{p.a.median:.2f}",
                     f"{p.b.median:.2f}"] for p in s.points]
            parts.append(_table(["size", "verdict", "ratio B/A (time)", "99% CI", "runs A/B",
                                 f"{names[0]} ({s.unit})", f"{names[1]} ({s.unit})"],
                                rows))
        if s.unmeasured:
            parts.append("<p>Not measured:</p>" + _table(
                ["stack", "size", "why"],
                [[gap.stack, _size_label(gap.size), gap.why] for gap in s.unmeasured]))
    if upgrade.baseline:
        rows = [[b.name, b.verdict, f"{b.ratio:.3f}", _ci(b.ci),
                 "/".join(map(str, b.runs or [1, 1])), b.note or "", b.baseline]
                for b in upgrade.baseline]
        parts.append("<h3>The new stack against its stored baseline</h3>"
                     + _table(["measurement", "verdict", "ratio", "99% CI", "runs then/now",
                               "note", "baseline"], rows))
    return "".join(parts)


def _verbs(upgrade: Upgrade) -> str:
    verbs = upgrade.verbs
    if not verbs or not verbs.tests:
        return _missing(upgrade, "verbs")
    columns = verbs.columns
    rows = []
    for test, cells in sorted(verbs.tests.items()):
        row = [f"<td><code>{esc(test)}</code></td>"]
        for column in columns:
            outcome = cells.get(column, "")
            why = verbs.messages.get(test, {}).get(column, "")
            row.append(f'<td style="background:{CELL.get(outcome, "#fff")}" '
                       f'title="{esc(why)}">{esc(outcome or "-")}</td>')
        rows.append(row)
    stopped = "".join(f"<p><b>{esc(column)} stopped early</b>: {esc(why)}. A &ldquo;-&rdquo; "
                      f"in its column is a test that did not run.</p>"
                      for column, why in verbs.cut_short.items())
    return stopped + _table(["test", *columns], rows, raw_cells=True)


def _kabi(upgrade: Upgrade) -> str:
    kabi = upgrade.kabi
    if not kabi:
        return _missing(upgrade, "kabi")
    old, new = kabi.releases
    summary = kabi.summary
    parts = [f"<p>Linux {esc(old)} &rarr; {esc(new)}: {esc(kabi.verdict.verdict)}; "
             f"{summary.exports_compared} RDMA exports compared: "
             + esc(", ".join(f"{n} {k}" for k, n in sorted(summary.by_kind.items()))
                   or "no changes") + " (kabi.json lists each).</p>"]
    if kabi.kernel:
        parts.append(_table(["severity", "kernel", "detail"],
                            [[f.severity, f.kind, f.detail] for f in kabi.kernel]))
    proofs = kabi.proofs    # in the order of the modules
    if kabi.modules:
        parts.append(_table(
            ["module", "file", f"on {new}", "refused by", "what the kernel says", "lab"],
            [[m.module, m.path, "loads" if m.loads else "refused", m.check or "-",
              "\n".join(m.messages) or "-",
              ("-" if i >= len(proofs) else
               ("loaded" if proofs[i].loaded else "refused")
               + ("" if proofs[i].agrees else " (DISAGREES)"))]
             for i, m in enumerate(kabi.modules)]))
    else:
        parts.append("<p>No out-of-tree modules were named (<code>--modules</code>): every "
                     "module built for the old kernel must be rebuilt for the new one.</p>")
    return "".join(parts)


# the consumers that matter first: those that break, then those that need a
# look; those the upgrade itself replaces (rdma-core's own tools) only counted
_IMPACT_ORDER = ("fails to load", "fails to resolve", "loads with changed signatures",
                 "not checked", "ok")


def _consumers(consumers: list, new_name: str, listed_in: str = "upgrade.json") -> str:
    counts: dict[str, int] = {}
    for c in consumers:
        counts[c.impact] = counts.get(c.impact, 0) + 1
    broken = sum(n for impact, n in counts.items() if impact in _IMPACT_ORDER[:2])
    summary = ", ".join(f"{n} {esc(impact)}" for impact, n in
                        sorted(counts.items(), key=lambda i: _rank(i[0])))
    shown = sorted((c for c in consumers if c.impact != "replaced by the upgrade"),
                   key=lambda c: (_rank(c.impact), c.path))
    checked = len(consumers) - counts.get("not checked", 0)   # not ELF, broken, not a file
    text = (f"<p>{checked} checked ({summary or 'none'}), {broken} would not load "
            f"on {esc(new_name)}.</p>")
    if shown:
        text += _table(["binary", "impact", "detail"], [[c.path, c.impact, c.detail] for c in shown])
    if counts.get("replaced by the upgrade"):
        text += (f"<p class=\"small\">{counts['replaced by the upgrade']} replaced by the upgrade "
                 f"(files of the packages it installs) are listed in {listed_in}.</p>")
    return text


def _rank(impact: str) -> int:
    return _IMPACT_ORDER.index(impact) if impact in _IMPACT_ORDER else len(_IMPACT_ORDER)


def _abi(abi: Abi) -> str:
    """The verdict per audience and the findings that matter, one cause a
    row with its findings folded under it."""
    found = causes.group(abi.findings, abi.loads)
    acting = [c for c in found if c.actionable]
    return (_table(["audience", "verdict", "breaking", "review", "benign", "info"],
                   [[a, v.verdict, *(v.counts.get(s, 0) for s in
                                     ("breaking", "review", "benign", "info"))]
                    for a, v in abi.verdicts.items()])
            + "".join(_cause(c) for c in acting)
            + f"<p class=\"small\">{len(found) - len(acting)} benign and informational "
            "causes are in findings.json.</p>")


def _cause(cause) -> str:
    """One cause: its title, its consequences, its findings in a table."""
    rows = [[f.severity, f.audience, f.library, f.kind, f.detail] for f in cause.findings]
    return (f"<details><summary>{esc(cause.severity)} ({esc(cause.audience)}): "
            f"{esc(cause.title)}</summary>"
            + ("<ul>" + "".join(f"<li>{esc(c)}</li>" for c in cause.consequences) + "</ul>"
               if cause.consequences else "")
            + _table(["severity", "audience", "library", "kind", "detail"], rows)
            + "</details>")


def in_stack(path: str) -> str:
    """A path of a fetched stack's tree from the stack's root (stack:/usr/lib/...)."""
    stacks = str(cache_dir() / "stacks") + "/"
    if not path.startswith(stacks):
        return path
    parts = path[len(stacks):].split("/", 3)   # name, key, root or rootfs, the rest
    return f"{parts[0]}:/{parts[3]}" if len(parts) == 4 else f"{parts[0]}:/"


def _loads(runs: list | None) -> str:
    """Each direction's providers grouped by what the loader answered and
    what the static rules said; a disagreement (rdmagate's own error)
    marked; the files, from each stack's root, folded."""
    if runs is None:
        return "<p>Not loaded (<code>--no-load</code>, or the phase did not get that far).</p>"
    parts = []
    for run in runs:
        loaded = sum(p.loaded for p in run.loads)
        parts.append(f"<h3>{esc(run.direction)}: {esc(run.providers_of)}'s providers with "
                     f"{esc(run.libibverbs_of)}'s libibverbs</h3>")
        if run.skipped:
            parts.append(f"<p><strong>Not loaded</strong>: {esc(run.skipped)}</p>")
            continue
        wrong = len(run.disagreements)
        parts.append(f"<p>{loaded} of {len(run.loads)} loaded (root {esc(in_stack(run.root))}); "
                     + (f"<strong>{wrong} DISAGREE with the static rules</strong> "
                        "(an error of rdmagate)" if wrong else "the static rules predicted each")
                     + ".</p>")
        groups: dict[tuple, list] = {}
        for p in run.loads:
            key = ("loaded" if p.loaded else "not loaded", loader_words(p.message),
                   p.predicted, "yes" if p.agrees else "DISAGREES")
            groups.setdefault(key, []).append(p)
        parts.append(_table(["outcome", "why", "static rules", "agree", "providers"],
                            [[*key, ", ".join(p.provider for p in found)]
                             for key, found in groups.items()]))
        parts.append("<details><summary>files</summary>" + _table(
            ["provider", "file"], [[p.provider, in_stack(p.file)] for p in run.loads])
            + "</details>")
    return "".join(parts)


def _section(title: str, body: str, open_: bool = False) -> str:
    return (f'<details class="section"{" open" if open_ else ""}><summary>{esc(title)}'
            f"</summary>{body}</details>")


PILLARS = {"fetch": "stacks", "abi": "ABI", "kabi": "kernel modules", "api": "API (build)",
           "verbs": "verbs", "perf": "performance"}


def _first_screen(upgrade: Upgrade) -> str:
    """The verdict, what to do, and one line per pillar: what a person acts on."""
    todo = actions.actions(upgrade)
    return ('<h2 id="actions">What to do</h2><ol class="actions">'
            + "".join(f"<li>{esc(a.text)}</li>" for a in todo) + "</ol>"
            if todo else '<h2 id="actions">What to do</h2><p>Nothing.</p>') + (
        '<ul class="pillars" id="pillars">' + "".join(
            f"<li><b>{esc(PILLARS.get(p.name, p.name))}</b>: {esc(p.status)}, {esc(p.note)}</li>"
            for p in upgrade.phases) + "</ul>")


def _why(upgrade: Upgrade) -> str:
    items = actions.why(upgrade)
    if not items:
        return "<p>Nothing found against this upgrade.</p>"
    return "".join(
        f"<details><summary>{esc(i.category)} ({esc(i.audience)}): {esc(i.title)}"
        + (f" [{len(i.reasons)} reasons]" if len(i.reasons) > 1 else "") + "</summary><ul>"
        + "".join(f"<li>{esc(c)}</li>" for c in i.consequences)
        + "".join(f"<li>{r.rank}. {esc(r.text)}</li>" for r in i.reasons) + "</ul></details>"
        for i in items)


def render(upgrade: Upgrade) -> str:
    old, new = upgrade.old, upgrade.new
    verdict = upgrade.verdict or "INCOMPLETE"
    parts = [f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
             f"<title>rdmagate: {esc(old.name)} to {esc(new.name)}</title>"
             f"<style>{STYLE}</style></head><body>",
             f"<h1>Upgrade {esc(old.name)} &rarr; {esc(new.name)}</h1>",
             f'<div class="verdict" id="verdict" style="background:'
             f'{COLOURS.get(verdict, "#57606a")}">Verdict: {esc(verdict)}</div>',
             _first_screen(upgrade),
             f"<p class=\"small\">run {esc(upgrade.run_id)}, started "
             f"{esc(upgrade.started)} on {esc(upgrade.host)}</p>"]
    reasons = upgrade.reasons or []
    parts.append(_section(f"Why: {len(reasons)} reasons, one line a cause", _why(upgrade)))
    parts.append(_section("Phases", _table(
        ["phase", "status", "seconds", "note"],
        [[p.name, p.status, p.seconds, p.note] for p in upgrade.phases])))
    abi = upgrade.abi
    if abi and abi.verdicts:
        parts.append(_section("ABI, per audience", _abi(abi)))
        parts.append(_section("Providers loaded", _loads(abi.loads)))
    else:
        parts.append(_section("ABI, per audience", _missing(upgrade, "abi")))
    consumers = upgrade.consumers or []
    parts.append(_section("Consumers on this host", _missing(upgrade, "abi")
                          if not abi or not abi.verdicts else _consumers(consumers, new.name)))
    parts.append(_section("Kernel modules", _kabi(upgrade)))
    verbs = _verbs(upgrade)
    coverage = upgrade.coverage or {}
    if coverage:
        rows = [[column, lib, f"{d['called']}/{d['total']}"]
                for column, libs in coverage.items() for lib, d in sorted(libs.items())]
        verbs += "<h3>API coverage, measured</h3>" + _table(["run", "library", "called"], rows)
    parts.append(_section("Verbs outcomes", verbs))
    parts.append(_section("Performance", _perf(upgrade)))
    parts.append(_section("Reproduce", "<pre>" + esc("\n".join(upgrade.commands))
                          + "</pre>" + _table(["", "name", "rdma-core", "kernel", "perftest"],
                                              [[side, s.name, s.rdma_core, s.kernel, s.perftest]
                                               for side, s in (("from", old), ("to", new))])
                          + _table(["tool", "version"],
                                   [[k, v] for k, v in upgrade.versions.items()])))
    parts.append("</body></html>\n")
    return "".join(parts)


def write(upgrade: Upgrade, path: Path) -> Path:
    files.write_atomic(path, render(upgrade), "report.html")
    return path


def render_abi(found, runs: list | None) -> str:
    """The abi command's page: found a findings.json (abi.findings.FindingsFile),
    runs the provider loads (None: not loaded)."""
    old, new = found.old.get("name"), found.new.get("name")
    todo = causes.actions(causes.group(found.findings, runs), runs)
    return "".join([
        f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>rdmagate abi: {esc(old)} to {esc(new)}</title><style>{STYLE}</style>"
        f"</head><body><h1>ABI {esc(old)} &rarr; {esc(new)}</h1>",
        '<h2 id="actions">What to do</h2><ol class="actions">'
        + "".join(f"<li>{esc(a.text)}</li>" for a in todo) + "</ol>",
        f"<p class=\"small\">from {esc(', '.join(in_stack(s) for s in found.sources))}</p>",
        "<h2>ABI, per audience</h2>", _abi(Abi(found.verdicts, found.findings)),
        _section("Providers loaded", _loads(runs)),
        _section("Consumers", _consumers([Consumer.of(c) for c in found.consumers], new,
                                         "findings.json")),
        "</body></html>\n"])


def write_abi(found, runs: list | None, path: Path) -> Path:
    files.write_atomic(path, render_abi(found, runs), "report.html")
    return path


def render_compat(found) -> str:
    """The compat command's page: found a compat.json (compat.record.Compat)."""
    colour = COLOURS.get(found.verdict, "#57606a")
    todo = list(dict.fromkeys(c.action for c in found.checks if c.action))
    return "".join([
        f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>rdmagate compat: {esc(found.image)}</title><style>{STYLE}</style>"
        f"</head><body><h1>{esc(found.image)} on {esc(found.host)}</h1>",
        f'<p id="verdict" class="verdict" style="background:{colour}">{esc(found.verdict)}</p>',
        '<h2 id="actions">What to do</h2><ol class="actions">'
        + ("".join(f"<li>{esc(a)}</li>" for a in todo) or "<li>nothing</li>") + "</ol>",
        f"<p class=\"small\">devices ({esc(found.devices_from)}): "
        f"{esc(', '.join(found.devices) or 'none')}</p>",
        "<h2>Checks</h2>", _table(["check", "status", "evidence"],
                                  [[c.name, c.status, c.evidence] for c in found.checks]),
        _section("Providers loaded", _loads(found.loads)),
        "</body></html>\n"])


def write_compat(found, path: Path) -> Path:
    files.write_atomic(path, render_compat(found), "report.html")
    return path
