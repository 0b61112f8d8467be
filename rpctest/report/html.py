"""``rpctest report --html``: the coverage matrix and the last runs' findings as one HTML file.

One self-contained page: the styles are inline, there is no script and nothing to fetch, and a
Content-Security-Policy forbids both, so the file opens from a CI artifact with no server. Every
text from a contract or a run (operation names, codes, test ids, messages) is escaped for HTML after
the characters HTML cannot show are written as :func:`~rpctest.report.escape.printable` says: an
operation named ``<script>`` is shown, never run.
"""

from __future__ import annotations

import html
from typing import Any, Mapping

from rpctest.report.coverage import CodeRow, Coverage, OperationRow, ServiceCoverage
from rpctest.report.escape import printable
from rpctest.report.model import TITLES
from rpctest.report.state import COMMANDS

__all__ = ["render_html"]

#: what a user runs to store each command's last run
_HOW = {
    "verify": "rpctest contracts verify --live --provider MODULE:OBJECT (or --address ADDRESS)",
    "fuzz": "rpctest fuzz --provider MODULE:OBJECT (or --address ADDRESS)",
    "framing": "rpctest fuzz --framing --provider MODULE:OBJECT (or --address ADDRESS)",
    "diff": "rpctest contracts diff OLD NEW",
}
#: at most this many findings of one run are listed (the JSON file has them all)
_LISTED = 200

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 1.5rem; color: #1f2328; background: #fff; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.25rem; margin-top: 2rem; } h3 { font-size: 1.05rem; }
table { border-collapse: collapse; margin: .5rem 0 1rem; }
table.matrix { width: 100%; }
th, td { border: 1px solid #d0d7de; padding: .3rem .55rem; text-align: left; vertical-align: top; font-size: .9rem; overflow-wrap: break-word; }
th { background: #f6f8fa; }
code, pre { font-family: ui-monospace, "SFMono-Regular", Menlo, monospace; font-size: .85rem; }
pre { white-space: pre-wrap; word-break: break-word; margin: .3rem 0; }
.ok { background: #dafbe1; } .gap { background: #fff8c5; } .bad { background: #ffebe9; }
.own { background: #ddf4ff; } .none { background: #f6f8fa; color: #656d76; }
.unknown { background: repeating-linear-gradient(45deg, #f6f8fa, #f6f8fa 6px, #eaeef2 6px, #eaeef2 12px); color: #656d76; }
.verdict { display: inline-block; padding: .1rem .5rem; border-radius: .6rem; font-weight: 600; }
.passed { background: #dafbe1; color: #116329; } .failed { background: #ffebe9; color: #a40e26; }
.legend td { font-size: .8rem; } .muted { color: #656d76; } ul.tests { margin: 0; padding-left: 1.1rem; } ul.tests code { overflow-wrap: anywhere; }
"""


def _e(value: Any) -> str:
    """Text for HTML: what HTML cannot show written as ``\\xNN``, then markup escaped."""
    return html.escape(printable(str(value)), quote=True)


def _cell(css: str, text: str, title: str = "", *, rows: int = 1) -> str:
    tip = f' title="{_e(title)}"' if title else ""
    span = f' rowspan="{rows}"' if rows > 1 else ""
    return f'<td class="{css}"{span}{tip}>{text}</td>'


def _declared_cell(row: CodeRow) -> str:
    return {
        "declared": _cell("ok", "declared"),
        "stack": _cell("own", "the stack's own", "the stack answers this code for any operation"),
        "open": _cell("own", "open", "the export could not list the codes (introspection): any code is taken as deliberate"),
        "no": _cell("bad", "not declared"),
    }[row.declared]


def _stub_cell(row: CodeRow) -> str:
    if row.stubbed_by:
        names = ", ".join(_e(name) for name in row.stubbed_by)
        return _cell("ok" if row.allowed else "bad", names, "" if row.allowed else "a consumer stubs a code the provider never answers")
    if row.declared == "declared":
        return _cell("gap", "no consumer stubs it", "no consumer tests how it handles this error")
    return _cell("none", "&mdash;")


def _seen_cell(seen: bool | None, row: CodeRow, what: str) -> str:
    if seen is None:
        return _cell("unknown", f"no {what} run")
    if seen:
        return _cell("ok" if row.allowed else "bad", "seen", "" if row.allowed else "the provider answered a code it does not declare")
    return _cell("none", "not seen")


def _consumers_cell(operation: OperationRow, rows: int) -> str:
    if not operation.consumers:
        return _cell("gap", "no consumer calls it", rows=rows)
    parts = []
    for consumer, tests in sorted(operation.consumers.items()):
        listed = "".join(f"<li><code>{_e(test)}</code></li>" for test in tests) or '<li class="muted">no test ids recorded</li>'
        parts.append(f"<strong>{_e(consumer)}</strong><ul class=\"tests\">{listed}</ul>")
    return _cell("ok", "".join(parts), rows=rows)


def _service_table(service: ServiceCoverage) -> str:
    head = ("<tr><th>operation</th><th>consumers (tests)</th><th>error code</th><th>provider declares</th>"
            "<th>consumers stub</th><th>fuzzer produced</th><th>live verification saw</th></tr>")
    rows = []
    for operation in service.operations:
        span = max(1, len(operation.codes))
        name = f"<code>{_e(operation.name)}</code>"
        op_cell = (f'<td rowspan="{span}">{name}</td>' if operation.declared else
                   f'<td rowspan="{span}" class="bad" title="consumers call it; the provider contract has no such operation">'
                   f"{name}<br>not in the provider contract</td>")
        consumers = _consumers_cell(operation, span)
        if not operation.codes:
            rows.append(f"<tr>{op_cell}{consumers}<td class=\"none\" colspan=\"5\">no error codes known</td></tr>")
            continue
        for index, code in enumerate(operation.codes):
            lead = op_cell + consumers if index == 0 else ""
            rows.append(f"<tr>{lead}<td><code>{_e(code.code)}</code></td>{_declared_cell(code)}{_stub_cell(code)}"
                        f"{_seen_cell(code.fuzzed, code, 'fuzz')}{_seen_cell(code.live, code, 'live verification')}</tr>")
    where = f' <span class="muted">({_e(service.provider)})</span>' if service.provider else ""
    return (f'<h3 id="{_e(service.key)}"><code>{_e(service.key)}</code>{where}</h3>'
            f'<table class="matrix">{head}{"".join(rows)}</table>')


def _run_section(command: str, run: Mapping[str, Any] | None) -> str:
    title = f"<h3>rpctest {_e(TITLES.get(command, command))}</h3>"
    if run is None:
        return (f'{title}<p class="muted">No stored run: run <code>{_e(_HOW.get(command, command))}</code> '
                "in this project to store one.</p>")
    ok = bool(run.get("ok"))
    verdict = f'<span class="verdict {"passed" if ok else "failed"}">{"passed" if ok else "FAILED"}</span>'
    stored = f' <span class="muted">stored {_e(run["stored_at"])}</span>' if run.get("stored_at") else ""
    meta = run.get("meta") if isinstance(run.get("meta"), Mapping) else {}
    facts = ", ".join(f"{_e(k)} <code>{_e(v)}</code>" for k, v in (meta or {}).items() if v not in (None, ""))
    parts = [title, f"<p>{verdict} {_e(run.get('headline', ''))}{stored}</p>"]
    if facts:
        parts.append(f"<p class=\"muted\">{facts}</p>")
    findings = [f for f in run.get("findings", []) if isinstance(f, Mapping)]
    if not findings:
        parts.append("<p>No findings.</p>")
        return "".join(parts)
    rows = []
    for finding in findings[:_LISTED]:
        severity = str(finding.get("severity", ""))
        css = "bad" if severity == "error" else "gap" if severity == "warning" else "none"
        where = finding.get("where") or " ".join(str(p) for p in finding.get("case") or [])
        rows.append(f'<tr><td class="{css}">{_e(severity)}</td><td><code>{_e(finding.get("check", ""))}</code></td>'
                    f"<td>{_e(where)}</td><td>{_e(finding.get('message', ''))}</td></tr>")
    more = f"<p class=\"muted\">and {len(findings) - _LISTED} more (see the stored JSON)</p>" if len(findings) > _LISTED else ""
    parts.append(f"<table><tr><th>severity</th><th>check</th><th>where</th><th>message</th></tr>{''.join(rows)}</table>{more}")
    return "".join(parts)


_LEGEND = (
    '<table class="legend"><tr>'
    '<td class="ok">agrees</td><td class="own">the stack\'s own code</td>'
    '<td class="gap">a gap: nothing tests it</td><td class="bad">a contradiction</td>'
    '<td class="none">not seen</td><td class="unknown">no stored run covers it</td></tr></table>'
)


def render_html(cov: Coverage, *, sources: list[str]) -> str:
    """The page for ``cov`` (the contracts read from ``sources``)."""
    services = "".join(_service_table(service) for service in cov.services) or (
        '<p class="muted">No provider contract found: export one with <code>rpctest contracts export</code>.</p>')
    orphans = ""
    if cov.orphans:
        items = "".join(f"<li><code>{_e(key)}</code>: {_e(', '.join(names))}</li>" for key, names in sorted(cov.orphans.items()))
        orphans = f"<h2>Consumers of services with no provider contract</h2><ul>{items}</ul>"
    operations = sum(len(s.operations) for s in cov.services)
    runs = "".join(_run_section(command, cov.runs.get(command)) for command in COMMANDS)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>rpctest report</title><style>{_STYLE}</style></head><body>"
        "<h1>rpctest report</h1>"
        f"<p>{operations} operation(s) of {len(cov.services)} provider contract(s), from "
        f"{', '.join(f'<code>{_e(s)}</code>' for s in sources)}.</p>"
        f"<h2>Error-code coverage</h2>{_LEGEND}{services}{orphans}"
        f"<h2>Last runs</h2>{runs}"
        "</body></html>\n"
    )
