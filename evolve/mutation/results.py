"""What running a change's mutants showed: each mutant's verdict, the counts, the score, survivors as sentences. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from evolve.mutation.generation import Mutant

Verdict = Literal["killed", "survived", "timeout", "error", "not-run"]
VERDICTS: tuple[Verdict, ...] = ("killed", "survived", "timeout", "error", "not-run")


@dataclass(frozen=True)
class MutantResult:
    """One mutant's verdict: `killed` (a covering test failed), `survived` (all passed), `timeout`, `error` (could
    not be run), `not-run` (out of budget, or the covering tests fail without any mutant)."""

    mutant: Mutant
    verdict: Verdict
    seconds: float = 0.0
    mode: str = ""  # "swap": code swapped in a forked worker; "fresh": a fresh interpreter (module-level code)


@dataclass(frozen=True)
class MutationRun:
    """Every mutant of one tree's changed lines, run against its covering tests."""

    results: tuple[MutantResult, ...] = ()
    seconds: float = 0.0  # wall time of the sandboxed run
    clean_ok: bool = True  # the covering tests pass on the unmutated tree (else no verdict means anything)
    problem: str = ""  # why nothing could be run, when so

    def count(self, verdict: Verdict) -> int:
        """How many mutants ended with `verdict`."""
        return sum(1 for result in self.results if result.verdict == verdict)

    @property
    def generated(self) -> int:
        """The mutants made for the changed lines."""
        return len(self.results)

    @property
    def score(self) -> float | None:
        """Killed or timed-out mutants as a percentage of those that ran to a verdict; None when none did."""
        detected = self.count("killed") + self.count("timeout")
        judged = detected + self.count("survived")
        return 100.0 * detected / judged if judged else None

    @property
    def survivors(self) -> tuple[Mutant, ...]:
        """The mutants no covering test noticed, in source order."""
        return tuple(result.mutant for result in self.results if result.verdict == "survived")


def survivor_sentence(mutant: Mutant) -> str:
    """`no test distinguishes `<` from `<=` at `pkg/x.py:42``: what a surviving mutant says about the tests."""
    m = mutant.mutation
    where = f"`{mutant.location}`"
    if m.operator == "call":
        return f"no test notices `{m.before}` removed at {where}"
    if m.operator == "return":
        return f"no test notices `{m.before}` replaced by `return None` at {where}"
    if m.operator == "condition":
        return f"no test notices the condition `{m.before}` negated at {where}"
    return f"no test distinguishes `{m.before}` from `{m.after}` at {where}"


def survivor_diff(mutant: Mutant) -> str:
    """The survivor as a one-line diff: `path:line: - before + after`."""
    m = mutant.mutation
    after = "(call removed)" if m.operator == "call" else m.after
    return f"{mutant.location}: - {m.before} + {after}"
