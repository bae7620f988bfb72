"""Token use and estimated cost: per run in memory, per repository per day in a small SQLite file."""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evolve.llm.pricing import estimate_cost

DEFAULT_USAGE_STORE = Path("~/.local/share/evolve/llm-usage.sqlite")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS llm_usage (
    repo TEXT NOT NULL,
    day TEXT NOT NULL,
    input_tokens INTEGER NOT NULL DEFAULT 0,
    output_tokens INTEGER NOT NULL DEFAULT 0,
    cost_usd REAL NOT NULL DEFAULT 0,
    requests INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (repo, day)
)
"""


@dataclass
class RunUsage:
    """What one run has spent so far (mutable accumulator owned by one provider)."""

    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    requests: int = 0
    models: list[str] = field(default_factory=list)
    request_models: list[str] = field(default_factory=list)  # the model of each request, in order

    @property
    def tokens(self) -> int:
        """Input plus output tokens."""
        return self.input_tokens + self.output_tokens

    def add(self, model: str, input_tokens: int, output_tokens: int) -> float:
        """Record one request; return its estimated cost."""
        cost = estimate_cost(model, input_tokens, output_tokens)
        self.input_tokens += input_tokens
        self.output_tokens += output_tokens
        self.cost_usd += cost
        self.requests += 1
        self.request_models.append(model)
        if model not in self.models:
            self.models.append(model)
        return cost

    def snapshot(self) -> RunUsage:
        """A copy, to measure what one `propose` call spent."""
        return RunUsage(
            self.input_tokens,
            self.output_tokens,
            self.cost_usd,
            self.requests,
            list(self.models),
            list(self.request_models),
        )

    def since(self, earlier: RunUsage) -> dict[str, Any]:
        """Usage between `earlier` and now, in the `ProviderOutcome.usage` shape."""
        return {
            "input_tokens": self.input_tokens - earlier.input_tokens,
            "output_tokens": self.output_tokens - earlier.output_tokens,
            "estimated_cost_usd": round(self.cost_usd - earlier.cost_usd, 6),
            "models": list(dict.fromkeys(self.request_models[earlier.requests :])),
            "requests": self.requests - earlier.requests,
        }

    def to_dict(self) -> dict[str, Any]:
        """The run totals in the `ProviderOutcome.usage` shape."""
        return {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "estimated_cost_usd": round(self.cost_usd, 6),
            "models": list(self.models),
            "requests": self.requests,
        }


@dataclass(frozen=True)
class DayUsage:
    """What one repository has spent on one UTC day."""

    tokens: int = 0
    cost_usd: float = 0.0
    requests: int = 0


class UsageLedger:
    """Per-repository per-day totals in SQLite. Never raises: a broken store is reported, not fatal."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = (path or DEFAULT_USAGE_STORE).expanduser()
        self.error: str | None = None

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self.path, timeout=10)
        connection.execute(_SCHEMA)
        return connection

    @staticmethod
    def today() -> str:
        """The current UTC day as YYYY-MM-DD."""
        return dt.datetime.now(dt.timezone.utc).date().isoformat()

    def day(self, repo: str, day: str | None = None) -> DayUsage:
        """Totals for `repo` on `day` (today by default); zeros when unknown or unreadable."""
        try:
            with self._connect() as connection:
                row = connection.execute(
                    "SELECT input_tokens + output_tokens, cost_usd, requests FROM llm_usage WHERE repo = ? AND day = ?",
                    (repo, day or self.today()),
                ).fetchone()
        except (sqlite3.Error, OSError) as error:
            self.error = f"usage store {self.path} unreadable: {error}"
            return DayUsage()
        return DayUsage(int(row[0]), float(row[1]), int(row[2])) if row else DayUsage()

    def record(self, repo: str, input_tokens: int, output_tokens: int, cost_usd: float) -> None:
        """Add one request's usage to today's totals for `repo`."""
        try:
            with self._connect() as connection:
                connection.execute(
                    "INSERT INTO llm_usage (repo, day, input_tokens, output_tokens, cost_usd, requests)"
                    " VALUES (?, ?, ?, ?, ?, 1)"
                    " ON CONFLICT(repo, day) DO UPDATE SET input_tokens = input_tokens + excluded.input_tokens,"
                    " output_tokens = output_tokens + excluded.output_tokens,"
                    " cost_usd = cost_usd + excluded.cost_usd, requests = requests + 1",
                    (repo, self.today(), input_tokens, output_tokens, cost_usd),
                )
        except (sqlite3.Error, OSError) as error:
            self.error = f"usage store {self.path} not writable: {error}"


@dataclass(frozen=True)
class Budget:
    """Limits per run and per repository per day (tokens and estimated US dollars)."""

    tokens_per_run: int
    tokens_per_day: int
    cost_per_run_usd: float
    cost_per_day_usd: float

    def exceeded(self, run: RunUsage, day: DayUsage, next_input_tokens: int, next_input_cost: float) -> str | None:
        """Why the next request (of the given estimated input size) would break a budget, or None."""
        if run.tokens + next_input_tokens > self.tokens_per_run:
            return f"run token budget of {self.tokens_per_run} reached ({run.tokens} used)"
        if run.cost_usd + next_input_cost > self.cost_per_run_usd:
            return f"run cost budget of ${self.cost_per_run_usd:.2f} reached (${run.cost_usd:.4f} estimated)"
        if day.tokens + next_input_tokens > self.tokens_per_day:
            return f"daily token budget of {self.tokens_per_day} for this repository reached ({day.tokens} used today)"
        if day.cost_usd + next_input_cost > self.cost_per_day_usd:
            return (
                f"daily cost budget of ${self.cost_per_day_usd:.2f} for this repository reached"
                f" (${day.cost_usd:.4f} estimated today)"
            )
        return None

    def to_dict(self) -> dict[str, Any]:
        """Serialise for the report."""
        return {
            "tokens_per_run": self.tokens_per_run,
            "tokens_per_day": self.tokens_per_day,
            "cost_per_run_usd": self.cost_per_run_usd,
            "cost_per_day_usd": self.cost_per_day_usd,
        }
