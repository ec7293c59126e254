"""`check --html out.html`: one self-contained page with the diagram, findings and numbers."""

from __future__ import annotations

from html import escape

from panelpilot.cli.check_diagram import render_svg
from panelpilot.cli.check_text import TITLES, computed_lines
from panelpilot.design.checker import Report
from panelpilot.design.findings import SEVERITY_ORDER
from panelpilot.site.model import Site

COLOURS = {"error": "#b00020", "warning": "#a66300", "info": "#00639b"}
STYLE = """
body { font-family: sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; width: 100%; margin-bottom: 1.5em; }
th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
.diagram { overflow-x: auto; border: 1px solid #ddd; padding: 8px; }
"""


def render_html(report: Report, site: Site) -> str:
    """The whole HTML page of a design report."""
    verdict = "FAIL" if report.has_errors else "PASS"
    body = [
        f"<h1>{escape(report.site_name)}: {verdict}</h1>",
        "<p>" + ", ".join(f"{report.count(s)} {TITLES[s].lower()}" for s in SEVERITY_ORDER),
        "</p>",
        "<h2>Single-line diagram</h2>",
        f'<div class="diagram">{render_svg(site)}</div>',
    ]
    for severity in SEVERITY_ORDER:
        rows = [f for f in report.findings if f.severity is severity]
        if not rows:
            continue
        colour = COLOURS[severity.value]
        body.append(f'<h2 style="color:{colour}">{TITLES[severity]} ({len(rows)})</h2>')
        body.append("<table><tr><th>rule</th><th>finding</th><th>line</th><th>source</th></tr>")
        for f in rows:
            line = "" if f.line is None else str(f.line)
            body.append(
                f"<tr><td><code>{escape(f.rule)}</code></td><td>{escape(f.message)}</td>"
                f"<td>{line}</td><td>{escape(f.source)}</td></tr>"
            )
        body.append("</table>")
    lines = computed_lines(report.computed)
    if lines:
        body.append("<h2>Computed</h2><ul>")
        body += [f"<li>{escape(line)}</li>" for line in lines]
        body.append("</ul>")
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>panelpilot check: {escape(report.site_name)}</title>"
        f"<style>{STYLE}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n"
    )
