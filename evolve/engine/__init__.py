"""The engine: research → plan → refactor → gates (up to 3 attempts) → branch and report.

`run_engine` is the one entry point the CLI and the GitHub App share. It never touches the
user's checkout, index or current branch: the base commit is exported into a plain directory outside
the repository (no `.git` inside), head is a fresh export plus Evolve's edits, and the commit is built
from the edits alone (see `evolve.git`).

The loop is a sequence of small steps over frozen values (`values.py`), with the I/O at the edges:

- `run.py`: `run_engine` and the sequence of steps (prepare, LLM stage, research, first proposal,
  environment, attempts, ending), writing the report.
- `planning.py`: research and plan; `plan_repository` for `evolve plan`; the pure plan-from-scan step.
- `proposal.py`: ask the codemod catalog or the LLM for edits; fall back to the catalog when the LLM gives none.
- `attempt_loop.py`: run the gates on the edits; `judge_attempt` (pure) decides stop, narrow or ask again.
- `finish.py`: publish a passing change (scan head, commit, branch) or report why nothing was committed.
- `reports.py`: pure builders of every RunReport a run can end with, the commit message and branch name.
"""

from __future__ import annotations

from .planning import LLM_THEME_BY_TASK, PlanOutcome, plan_repository, resolve_base
from .run import run_engine, write_report
from .values import Progress

__all__ = [
    "LLM_THEME_BY_TASK",
    "PlanOutcome",
    "Progress",
    "plan_repository",
    "resolve_base",
    "run_engine",
    "write_report",
]
