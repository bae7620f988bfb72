"""The PR's mutation section: would the tests notice a mistake in the lines this PR changes? Pure.

It reads the mutation gate's own result (its counts and survivors, as the gate states them in its details), so every
figure is the gate's. Code from the repository (paths, the mutated snippets) reaches Markdown as code spans.
"""

from __future__ import annotations

from collections.abc import Sequence

from evolve.mutation.evidence import Counts, Survivor, read_details
from evolve.results import GateResult
from evolve.untrusted_text import code_span, redacted, untrusted_markdown

MAX_LISTED = 25
GUIDANCE = (
    "A survivor is a small change to a line this PR touches that no test running that line fails on. For a change "
    "meant to preserve behaviour it is not a defect of the change: it is a gap in the tests of those lines, or an "
    "equivalent mutant (one no test could tell apart, such as `>=` where the values can never be equal). Review "
    "each one: where it should matter, a test that fails on it closes the gap."
)


def _row(label: str, counts: Counts) -> str:
    score = "—" if counts.score is None else f"{counts.score:.1f}%"
    return (
        f"| {label} | {counts.generated} | {counts.killed} | {counts.survived} | {counts.timeout} | "
        f"{counts.not_run + counts.error} | {score} |"
    )


def survivor_markdown(survivor: Survivor) -> str:
    """One survivor as a sentence: "no test distinguishes `<` from `<=` at `pkg/x.py:42`"."""
    before, after = code_span(redacted(survivor.before)), code_span(redacted(survivor.after))
    where = code_span(redacted(survivor.location))
    if survivor.operator == "call":
        return f"no test notices {before} removed at {where}"
    if survivor.operator == "return":
        return f"no test notices {before} replaced by `return None` at {where}"
    if survivor.operator == "condition":
        return f"no test notices the condition {before} negated at {where}"
    return f"no test distinguishes {before} from {after} at {where}"


def render_mutation_section(final_gates: Sequence[GateResult]) -> str:
    """The section (a heading and its text), or nothing when the mutation gate did not run."""
    result = next((r for r in final_gates if r.gate == "mutation"), None)
    if result is None:
        return ""
    if result.status != "passed" and result.status != "failed":
        return f"### Mutation evidence\n\n{untrusted_markdown(result.summary, limit=400)}\n\n"
    counts, survivors = read_details(result.details)
    lines = [
        "### Mutation evidence",
        "",
        "Mutants of the changed lines that the tests run (arid code such as logging, docstrings and annotations "
        "left out, a few per line), each run against the tests that run its line.",
        "",
        "| lines | generated | killed | survived | timed out | not run | score |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    if "head" in counts:
        lines.append(_row("changed (head)", counts["head"]))
    if "base" in counts:
        lines.append(_row("replaced (base)", counts["base"]))
    lines.append("")
    if survivors:
        lines.append(f"**Survivors** ({len(survivors)}):")
        lines.append("")
        lines.extend(f"- {survivor_markdown(survivor)}" for survivor in survivors[:MAX_LISTED])
        if len(survivors) > MAX_LISTED:
            lines.append(f"- … and {len(survivors) - MAX_LISTED} more (see the `mutation` gate's details)")
        lines += ["", GUIDANCE]
    else:
        lines.append("Every mutant that ran was killed by a covering test.")
    return "\n".join(lines) + "\n\n"
