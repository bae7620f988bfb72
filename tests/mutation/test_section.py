"""The PR's mutation section, read from the gate's own result; repository text stays inert."""

from __future__ import annotations

from evolve.mutation.evidence import read_details
from evolve.reports.mutation_section import render_mutation_section
from evolve.results import Passed, Skipped

DETAILS = "\n".join(
    [
        "head: generated 3, killed 1, survived 2, timed out 0, errors 0, not run 0, score 33.3%",
        "base: generated 2, killed 1, survived 1, timed out 0, errors 0, not run 0, score 50.0%",
        "survivor pkg/x.py:42 [comparison] < => <=",
        "survivor pkg/x.py:43 [call] notify(`@admin`) => (call removed)",
    ]
)


def test_counts_and_survivors_are_read_back():
    counts, survivors = read_details(DETAILS)
    assert counts["head"].survived == 2 and counts["head"].score == 33.3 and counts["base"].generated == 2
    assert [s.location for s in survivors] == ["pkg/x.py:42", "pkg/x.py:43"]


def test_section_lists_survivors_as_sentences_with_guidance():
    section = render_mutation_section([Passed(gate="mutation", summary="3 mutants", details=DETAILS)])
    assert "| changed (head) | 3 | 1 | 2 | 0 | 0 | 33.3% |" in section
    assert "| replaced (base) | 2 | 1 | 1 | 0 | 0 | 50.0% |" in section
    assert "- no test distinguishes `<` from `<=` at `pkg/x.py:42`" in section
    assert "- no test notices ``notify(`@admin`)`` removed at `pkg/x.py:43`" in section  # a code span: inert
    assert "equivalent mutant" in section


def test_no_section_without_the_gate_and_a_line_when_skipped():
    assert render_mutation_section([]) == ""
    skipped = render_mutation_section([Skipped(gate="mutation", summary="Nothing to mutate: @someone.")])
    assert skipped.startswith("### Mutation evidence") and "@someone" not in skipped
