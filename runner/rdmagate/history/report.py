"""The history report: text for a terminal or a CI log, and one
self-contained HTML page (inline SVG trend plots, no script, no network)."""
import html
from dataclasses import dataclass

from ..report.page import CELL
from . import analysis


@dataclass
class Report:
    since: str
    runs: int
    changed: list
    flaky: list
    drifts: list
    trends: list      # every perf series
    timelines: list   # outcome series that were ever not as expected


def _where(s: analysis.Series) -> str:
    return f"{s.node}/{s.stack}/{s.profile} {s.name}"


def text(report: Report) -> list[str]:
    lines = [f"{report.runs} run(s) since {report.since}"]
    lines.append(f"changed since the run before: {len(report.changed)}")
    lines += [f"  {_where(s)}: {s.points[-2][2]} -> {s.points[-1][2]} (run {s.points[-1][0]})"
              for s in report.changed]
    lines.append(f"flaky (PASS and FAIL in turn, same node, stack and profile): "
                 f"{len(report.flaky)}")
    lines += [f"  {_where(s)}: {' '.join(p[2] for p in s.points)} ({analysis.flips(s)} flips)"
              for s in report.flaky]
    lines.append(f"perf drift: {len(report.drifts)}")
    lines += [f"  {_where(d.series)}: {d.before:.3f} -> {d.after:.3f} ({d.ratio:.2f}x) from "
              f"run {d.series.points[d.at][0]}" for d in report.drifts]
    return lines


def _svg(s: analysis.Series, drift: analysis.Drift | None) -> str:
    width, height, pad = 420, 120, 24
    values = [p[2] for p in s.points]
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    step = (width - 2 * pad) / max(len(values) - 1, 1)

    def xy(i, v):
        return pad + i * step, height - pad - (v - low) / span * (height - 2 * pad)
    points = " ".join(f"{x:.1f},{y:.1f}" for x, y in (xy(i, v) for i, v in enumerate(values)))
    mark = ""
    if drift is not None:
        x = xy(drift.at, 0)[0] - step / 2
        mark = (f'<line x1="{x:.1f}" y1="{pad / 2}" x2="{x:.1f}" y2="{height - pad / 2}" '
                f'stroke="#c00" stroke-dasharray="4 3"><title>changed at run '
                f'{html.escape(s.points[drift.at][0])}</title></line>')
    dots = "".join(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5"><title>'
                   f'{html.escape(p[0])}: {p[2]:.4g}</title></circle>'
                   for (x, y), p in zip((xy(i, v) for i, v in enumerate(values)), s.points))
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'role="img"><rect width="100%" height="100%" fill="#fafafa"/>'
            f'<text x="4" y="12" font-size="10">{high:.4g}</text>'
            f'<text x="4" y="{height - 4}" font-size="10">{low:.4g}</text>'
            f'<polyline fill="none" stroke="#246" points="{points}"/>{mark}{dots}</svg>')


def _timeline(s: analysis.Series) -> str:
    cells = "".join(f'<td style="background:{CELL.get(p[2], "#ffd8b5")}" '
                    f'title="{html.escape(p[0])} {html.escape(p[1])}">{html.escape(p[2])}</td>'
                    for p in s.points)
    return f"<tr><td>{html.escape(_where(s))}</td>{cells}</tr>"


def page(report: Report) -> str:
    esc = html.escape
    by_series = {id(d.series): d for d in report.drifts}
    rows = "".join(f"<li>{esc(line.strip())}</li>" for line in text(report)[1:])
    trends = "".join(f"<h3>{esc(_where(s))}</h3>{_svg(s, by_series.get(id(s)))}"
                     for s in report.trends)
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>rdmagate history"
            f"</title></head><body><h1>rdmagate history</h1><p>{esc(text(report)[0])}</p>"
            f"<ul>{rows}</ul><h2>outcomes over time (tests ever not as expected)</h2>"
            f"<table>{''.join(_timeline(s) for s in report.timelines)}</table>"
            f"<h2>perf trends</h2>{trends or '<p>no perf measurements</p>'}"
            f"</body></html>\n")
