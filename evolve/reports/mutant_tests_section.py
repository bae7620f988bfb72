"""The PR's section on tests written to catch surviving mutants: each kept test with the mutant it kills, and each
proposed test left out with the reason (flaky, fails on the current code, kills no mutant). Pure.

It reads the report's `llm.mutant_tests` (the engine's verdicts, `evolve/mutation/kill_proof.py`); paths and the
mutants' code come from the repository and the model, so they reach Markdown only as code spans or escaped text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from evolve.untrusted_text import code_span, redacted, untrusted_markdown
from evolve.wording import plural

MAX_LISTED = 25
REJECTED_AS = {
    "flaky": "flaky",
    "fails-on-base": "fails on the current code",
    "does-not-kill": "does not kill its mutant",
    "not-judged": "could not be judged",
}
PROOF = (
    "Each test was proposed by the LLM stage for one surviving mutant (a small change to a line the tests run that "
    "no test failed on). A test is kept only if it passed three runs in a row on the unchanged code and failed "
    "with the mutant swapped in, both in the sandbox."
)


def _sentence(text: object) -> str:
    """A survivor sentence (code already in backticks) as Markdown: redacted, and escaped outside its code."""
    parts = redacted(str(text)).split("`")
    return "".join(
        code_span(part) if index % 2 else untrusted_markdown(part, limit=300) for index, part in enumerate(parts)
    )


def _entries(raw: object) -> list[Mapping[str, Any]]:
    return [entry for entry in raw if isinstance(entry, Mapping)] if isinstance(raw, Sequence) else []


def render_mutant_tests_section(llm: Mapping[str, Any]) -> str:
    """The section, or nothing when no test was proposed against a surviving mutant."""
    verdicts = _entries(llm.get("mutant_tests"))
    if not verdicts:
        return ""
    kept = [v for v in verdicts if v.get("decision") == "kept"]
    rejected = [v for v in verdicts if v.get("decision") != "kept"]
    lines = [
        "### Tests that catch surviving mutants",
        "",
        PROOF,
        "",
        f"**Kept** ({plural(len(kept), 'test file')}):" if kept else "**Kept**: none.",
    ]
    for verdict in kept[:MAX_LISTED]:
        kills = [str(kill) for kill in verdict.get("kills") or ()]
        lines.append(f"- {code_span(str(verdict.get('path', '')))} kills: " + "; ".join(_sentence(k) for k in kills))
    if rejected:
        lines += ["", f"**Rejected** ({plural(len(rejected), 'proposed test file')}):"]
        for verdict in rejected[:MAX_LISTED]:
            label = REJECTED_AS.get(str(verdict.get("decision")), "rejected")
            reason = _sentence(str(verdict.get("reason") or "").split("\n", 1)[0][:600])
            lines.append(f"- {code_span(str(verdict.get('path', '')))}: **{label}** — {reason}")
    hidden = max(0, len(kept) - MAX_LISTED) + max(0, len(rejected) - MAX_LISTED)
    if hidden:
        lines.append(f"- … and {plural(hidden, 'more file')} (see report.json)")
    return "\n".join(lines) + "\n\n"
