"""Sections of the PR body / report.md, each a pure function of the report document (`RunReport.to_dict()`).

Everything that comes from the repository (paths, symbols, test ids, messages, codemod descriptions that
quote its code) reaches Markdown through `evolve.untrusted_text`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from evolve.changed_lines import ChangedLines
from evolve.changed_lines import executed_sentence as changed_lines_sentence
from evolve.results import GateResult, Metric
from evolve.suites.runner_counts import describe_counts
from evolve.untrusted_text import code_span, escape_markdown, redacted, untrusted_markdown
from evolve.wording import plural

STATUS_ICON = {"passed": "✅", "failed": "❌", "skipped": "⏭️", "errored": "⚠️"}
VERDICT_TEXT = {
    "tested": "executed by the tests",
    "equivalent": "proven equivalent (equal ASTs once the rewrite is normalised)",
    "unverified": "**unverified: no test runs these lines**",
    "dropped": "left out: no test runs it and nothing proves it equivalent",
    "no-code": "changes no statement that needs executing (imports, annotations, docstrings, comments or layout)",
}
RISK_ORDER = {"low": 0, "medium": 1, "high": 2}
MAX_HUNKS_PER_FILE = 12
MAX_FILES = 40


def format_number(value: float | None, unit: str = "") -> str:
    """Numbers for tables: integers plain, others with two decimals; missing as an em dash."""
    if value is None:
        return "—"
    text = str(int(value)) if float(value).is_integer() else f"{value:.2f}"
    return f"{text}{unit}"


NEGLIGIBLE = 0.005  # below what the tables show (two decimals): no direction to report


def metric_trend(metric: Metric) -> str:
    """A word for the direction of change; a change too small to show is "unchanged"."""
    if metric.delta is not None and abs(metric.delta) < NEGLIGIBLE:
        return "unchanged"
    if metric.improved:
        return "improved"
    if metric.regressed:
        return "worse"
    return "unchanged" if metric.delta == 0 else "—"


FINDING_ROWS = {"findings": None, "security findings": "security"}  # metric name -> finding kind (None: every kind)


def render_metrics_table(metrics: Sequence[Metric], finding_changes: Sequence[dict[str, Any]] = ()) -> str:
    """A markdown table of metrics, base → head. A findings row states only the change the edits caused, with the
    rules of the findings they resolved or introduced."""
    if not metrics:
        return "_No metrics were measured._"
    lines = ["| metric | base | head | change |", "|---|---:|---:|---|"]
    for metric in metrics:
        delta = metric.delta
        if delta is not None and abs(delta) < NEGLIGIBLE:
            delta = 0.0
        change = "—" if delta is None else f"{'+' if delta > 0 else ''}{format_number(delta)} ({metric_trend(metric)})"
        if metric.name in FINDING_ROWS:
            change = _findings_change(finding_changes, FINDING_ROWS[metric.name], change)
        lines.append(
            f"| {metric.name} | {format_number(metric.base, metric.unit)} | "
            f"{format_number(metric.head, metric.unit)} | {change} |"
        )
    return "\n".join(lines)


def _findings_change(changes: Sequence[dict[str, Any]], kind: str | None, change: str) -> str:
    rows = [row for row in changes if kind is None or row.get("kind") == kind]
    if not rows:
        return "none resolved or introduced by this change" if change != "—" else change
    resolved = sum(1 for row in rows if row.get("change") == "resolved")
    new = sum(1 for row in rows if row.get("change") == "new")
    net = new - resolved
    words = []
    for which in ("resolved", "new"):
        rules: dict[str, int] = {}
        for row in rows:
            if row.get("change") == which:
                rules[str(row["rule"])] = rules.get(str(row["rule"]), 0) + 1
        if rules:
            names = ", ".join(
                code_span(rule) + (f" ×{count}" if count > 1 else "") for rule, count in sorted(rules.items())
            )
            words.append(f"{which} {names}")
    return f"{'+' if net > 0 else ''}{net}: " + "; ".join(words)


def render_gates_table(results: Sequence[GateResult]) -> str:
    """A markdown table of the final attempt's gate results (summaries may quote the repository: escaped)."""
    if not results:
        return "_No gates ran._"
    lines = ["| gate | result | summary |", "|---|---|---|"]
    for result in results:
        summary = untrusted_markdown(result.summary, limit=400)
        lines.append(f"| {code_span(result.gate)} | {STATUS_ICON.get(result.status, '')} {result.status} | {summary} |")
    return "\n".join(lines)


def describe(text: str, limit: int = 300) -> str:
    """A codemod's change description: its `quoted` code as code spans, the rest escaped."""
    parts = re.split(r"`([^`]*)`", redacted(text)[:limit])
    return "".join(code_span(part) if index % 2 else escape_markdown(part) for index, part in enumerate(parts))


def line_range(first: int, last: int) -> str:
    """`line 4` or `lines 4–9`."""
    return f"line {first}" if last <= first else f"lines {first}–{last}"


def _hunk_line(hunk: dict[str, Any]) -> str:
    symbol = hunk.get("symbol")
    kind = hunk.get("symbol_kind") or ("function" if symbol and symbol[:1].islower() else "class")
    where = f"{code_span(symbol + '()' if kind == 'function' else symbol)}: " if symbol else ""
    what = "; ".join(describe(d) for d in hunk["descriptions"]) or escape_markdown(", ".join(hunk["codemods"]))
    first = hunk["base_start"]
    last = max(hunk["base_end"], first)
    verdict = VERDICT_TEXT[hunk["verdict"]]
    if hunk["verdict"] == "equivalent":
        verdict += {
            "executed": "; executed by the tests",
            "not-executed": "; no test runs it",
            "no-code": "; no statement that needs executing",
        }.get(hunk["execution"], "; not measured by the tests")
    executed, executable = hunk.get("executed_lines", 0), hunk.get("executable_lines", 0)
    if hunk["execution"] == "executed" and 0 < executed < executable:
        verdict += f" ({executed} of {executable} lines that need executing)"  # the figure's own count, in part
    return f"- {where}{what} ({line_range(first, last)}) — {verdict}"


def render_file_changes(proof: dict[str, Any], codemods: Sequence[dict[str, Any]]) -> str:
    """Each changed file with what changed where, in the code's terms, and whether tests execute it."""
    hunks = proof.get("hunks") or []
    if not hunks:
        return "_No edits._"
    by_path: dict[str, list[dict[str, Any]]] = {}
    for hunk in hunks:
        by_path.setdefault(hunk["path"], []).append(hunk)
    sections = []
    for path in sorted(by_path)[:MAX_FILES]:
        items = by_path[path]
        lines = [_hunk_line(h) for h in items[:MAX_HUNKS_PER_FILE]]
        if len(items) > MAX_HUNKS_PER_FILE:
            more = plural(len(items) - MAX_HUNKS_PER_FILE, "more change")
            lines.append(f"- … and {more} in this file (see the diff)")
        sections.append(f"**{code_span(path)}**\n" + "\n".join(lines))
    if len(by_path) > MAX_FILES:
        sections.append(f"_… and {plural(len(by_path) - MAX_FILES, 'more file')}; the diff has every change._")
    why = [
        f"- {code_span(meta['id'])} (risk {meta['risk']}): {meta['rationale']} _Review:_ {meta['review_guidance']}"
        for meta in codemods
    ]
    return "\n\n".join(sections) + ("\n\n**Why**\n\n" + "\n".join(why) if why else "")


def runner_counts_text(run: dict[str, Any]) -> str:
    """`3 failed, 1,324 passed, 2 xfailed; subtests: 158 passed in 3.5 s` — the runner's summary, count by count."""
    if run.get("no_tests"):
        return "no tests collected"
    text = describe_counts(run)
    return text + (f" in {run['duration']:.1f} s" if run.get("duration") else "")


def render_tests(tests: dict[str, Any], proof: dict[str, Any]) -> str:
    """The test command that ran, its counts on base and head, and the share of changed lines it executes."""
    if not tests:
        return "_The tests did not run._"
    lines = [f"Command: {code_span(tests.get('command') or '(none found)')}"]
    if tests.get("base"):
        cached = " (cached result for this base commit)" if tests.get("base_from_cache") else ""
        lines.append(f"- base: {runner_counts_text(tests['base'])}{cached}")
    if tests.get("head"):
        lines.append(f"- with this change: {runner_counts_text(tests['head'])}")
    lines += [f"- {escape_markdown(line)}" for line in tests.get("pythons") or ()]
    lines.append(f"- {executed_sentence(proof)}")
    return "\n".join(lines)


def proof_changed_lines(proof: dict[str, Any]) -> ChangedLines | None:
    """The proof's `changed_lines` figure (evolve/proof/executed_lines.py), or None when there is none."""
    raw = proof.get("changed_lines")
    if not isinstance(raw, dict):
        return None
    return ChangedLines(
        executed=int(raw.get("executed", 0)),
        executable=int(raw.get("executable", 0)),
        measured=bool(raw.get("measured")),
        unexecuted=tuple((str(p[0]), int(p[1]), int(p[2])) for p in raw.get("unexecuted") or ()),
        unmeasured=int(raw.get("unmeasured", 0)),
    )


def executed_sentence(proof: dict[str, Any]) -> str:
    """How much of the change the tests execute, and which changed lines they do not (the one figure)."""
    lines = proof_changed_lines(proof)
    text = changed_lines_sentence(lines)
    if lines is not None and lines.measured and lines.unexecuted:
        places = ", ".join(
            f"{code_span(path)} {line_range(first, last)}" for path, first, last in lines.unexecuted[:10]
        )
        more = f" and {len(lines.unexecuted) - 10} more" if len(lines.unexecuted) > 10 else ""
        text += f" The lines no test runs are in: {places}{more}."
    return text


def render_changed_code(rows: Sequence[dict[str, Any]]) -> str:
    """Metrics of the changed files and functions, before → after."""
    if not rows:
        return "_The changed code was not measured._"
    lines = ["| code | metric | before | after |", "|---|---|---:|---:|"]
    for row in rows[:60]:
        code = code_span(row["path"] + (f" {row['symbol']}" if row["symbol"] else ""))
        lines.append(f"| {code} | {row['metric']} | {format_number(row['before'])} | {format_number(row['after'])} |")
    if len(rows) > 60:
        lines.append(f"| … {len(rows) - 60} more | | | |")
    return "\n".join(lines)


def risk_label(codemods: Sequence[dict[str, Any]], proof: dict[str, Any], source: str) -> str:
    """`low`/`medium`/`high` from the codemods used, plus `unverified` when kept lines no test runs."""
    risks = [meta["risk"] for meta in codemods]
    label = max(risks, key=lambda r: RISK_ORDER.get(r, 1)) if risks else ("high" if source == "llm" else "low")
    if any(h["verdict"] == "unverified" for h in proof.get("hunks") or []):
        label += ", unverified"
    return label


def render_attempts(attempts: Sequence[dict[str, Any]]) -> str:
    """One line per attempt: files, gate outcome, how it was narrowed."""
    if not attempts:
        return "_No attempt was made._"
    lines = []
    for attempt in attempts:
        failed = [g["gate"] for g in attempt["gates"] if g["status"] in ("failed", "errored")]
        outcome = (
            "passed every gate"
            if attempt["passed"]
            else ("failed: " + ", ".join(failed) if failed else "made no edits")
        )
        line = f"{attempt['number']}. {plural(len(attempt['edits']), 'file')} — {outcome}"
        if attempt.get("note"):
            line += f"; {untrusted_markdown(attempt['note'], limit=500)}"
        lines.append(line)
    return "\n".join(lines)


def render_failures(results: Sequence[GateResult]) -> str:
    """What each failing gate said, escaped."""
    failing = [r for r in results if not r.ok]
    if not failing:
        return "_No gate failed; the change was left out before the gates ran._"
    return "\n".join(f"- {code_span(r.gate)}: {untrusted_markdown(r.summary, limit=600)}" for r in failing)


def render_llm_section(llm: dict[str, Any]) -> str:
    """Token use, estimated cost and fallbacks of the LLM stage, when it ran."""
    if not llm:
        return ""
    usage = llm.get("usage", llm)
    parts = [
        f"- models: {', '.join(usage.get('models', [])) or '—'}",
        f"- tokens: {usage.get('input_tokens', 0)} in / {usage.get('output_tokens', 0)} out",
        f"- estimated cost: ${usage.get('estimated_cost_usd', 0):.4f}",
    ]
    for fallback in usage.get("fallbacks", []) or []:
        parts.append(f"- fallback: {untrusted_markdown(str(fallback), limit=300)}")
    for note in [*llm.get("notes", []), *(usage.get("notes", []) or [])]:
        parts.append(f"- {untrusted_markdown(str(note), limit=500)}")
    return "### LLM stage\n\n" + "\n".join(parts) + "\n\n"
