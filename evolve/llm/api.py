"""Calls to the Messages API: secret scrubbing, budgets, retries with backoff, fallback model, usage."""

from __future__ import annotations

import json
import random
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import anthropic

from evolve.llm.pricing import estimate_cost
from evolve.llm.redaction import redact
from evolve.llm.usage import Budget, RunUsage, UsageLedger

RETRYABLE_STATUS = frozenset({408, 409, 429}) | frozenset(range(500, 600))  # 529 = overloaded
CHARS_PER_TOKEN = 3  # conservative: real prompts average closer to 3.5-4 characters per token


class LLMUnavailable(Exception):
    """Every configured model failed; the message says why."""


class BudgetExceeded(Exception):
    """A per-run or per-day budget forbids another request; the message says which."""


@dataclass(frozen=True)
class RetryPolicy:
    """Our own bounded retries (the SDK's are off so that each retry is visible in the notes)."""

    attempts_per_model: int = 3
    base_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 30.0

    def delay(self, retry: int, headers: Mapping[str, str] | None) -> float:
        """Seconds to wait before retry number `retry` (0-based): the server's retry-after, else jittered backoff."""
        for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
            value = (headers or {}).get(name)
            try:
                if value is not None:
                    return min(max(float(value) * scale, 0.0), self.max_retry_after)
            except ValueError:
                continue
        return min(self.base_delay * 2**retry, self.max_delay) * (1 - 0.25 * random.random())


@dataclass(frozen=True)
class Reply:
    """The parts of one API response the conversation needs."""

    content: list[dict[str, Any]]
    stop_reason: str | None
    model: str


@dataclass
class MessagesClient:
    """One run's gateway to the API. Notes collect what happened (retries, fallbacks, redactions)."""

    sdk: Any  # anthropic.Anthropic
    models: Sequence[str]  # primary first, then fallback
    max_tokens: int
    budget: Budget
    ledger: UsageLedger
    secrets: list[str]
    retry: RetryPolicy = RetryPolicy()
    sleep: Callable[[float], None] = time.sleep
    repo_key: str = "unknown"
    usage: RunUsage = field(default_factory=RunUsage)
    notes: list[str] = field(default_factory=list)
    fallbacks: list[str] = field(default_factory=list)
    model_index: int = 0
    redactions: int = 0

    def note(self, text: str) -> None:
        """Record an event once (repeated events would flood the report)."""
        if text not in self.notes:
            self.notes.append(text)

    def create(self, system: str, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> Reply:
        """Send one request with forced tool use; raise LLMUnavailable or BudgetExceeded instead of API errors."""
        body, redacted = redact({"system": system, "messages": messages, "tools": tools}, self.secrets)
        if redacted:
            self.redactions += redacted
            self.note("redacted secret-looking values from the prompt before sending it")
        self._check_budget(body)
        last_error = "no model configured"
        while self.model_index < len(self.models):
            model = self.models[self.model_index]
            for retry in range(self.retry.attempts_per_model):
                try:
                    return self._send(model, body)
                except anthropic.APIStatusError as error:
                    status = error.status_code
                    last_error = f"{status} {_error_type(error)}".strip()
                    if status in (401, 403):
                        raise LLMUnavailable(f"the API refused the key ({last_error})") from None
                    if status not in RETRYABLE_STATUS:
                        break  # 400/404: this model cannot serve the request; the fallback may
                    headers = error.response.headers if error.response is not None else None
                except anthropic.APITimeoutError:
                    last_error, headers = "timeout", None
                except anthropic.APIConnectionError as error:
                    last_error, headers = f"connection error ({error.__class__.__name__})", None
                if retry + 1 < self.retry.attempts_per_model:
                    self.note(f"retried after {last_error}")
                    self.sleep(self.retry.delay(retry, headers))
            self.model_index += 1
            if self.model_index < len(self.models):
                fallback = self.models[self.model_index]
                self.fallbacks.append(fallback)
                self.note(f"fell back to {fallback} after {model} failed ({last_error})")
        tried = ", ".join(self.models)
        raise LLMUnavailable(f"the API did not answer successfully ({tried}; last error: {last_error})")

    def _check_budget(self, body: dict[str, Any]) -> None:
        model = self.models[min(self.model_index, len(self.models) - 1)]
        estimated_input = len(json.dumps(body)) // CHARS_PER_TOKEN
        reason = self.budget.exceeded(
            self.usage, self.ledger.day(self.repo_key), estimated_input, estimate_cost(model, estimated_input, 0)
        )
        if reason:
            raise BudgetExceeded(reason)

    def _send(self, model: str, body: dict[str, Any]) -> Reply:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # reported once as a note by build_provider
            response = self.sdk.messages.create(
                model=model,
                max_tokens=self.max_tokens,
                system=body["system"],
                messages=body["messages"],
                tools=body["tools"],
                tool_choice={"type": "any"},
            )
        usage = response.usage
        input_tokens = (
            (usage.input_tokens or 0)
            + (getattr(usage, "cache_creation_input_tokens", 0) or 0)
            + (getattr(usage, "cache_read_input_tokens", 0) or 0)
        )
        output_tokens = usage.output_tokens or 0
        cost = self.usage.add(model, input_tokens, output_tokens)
        self.ledger.record(self.repo_key, input_tokens, output_tokens, cost)
        return Reply(_content_dicts(response.content), response.stop_reason, model)


def _error_type(error: anthropic.APIStatusError) -> str:
    body = error.body
    if isinstance(body, dict):
        inner = body.get("error")
        if isinstance(inner, dict) and isinstance(inner.get("type"), str):
            return inner["type"]
    return ""


def _content_dicts(blocks: Sequence[Any]) -> list[dict[str, Any]]:
    """Response blocks as request-ready dicts (tool_use and text only; other kinds are dropped)."""
    content: list[dict[str, Any]] = []
    for block in blocks:
        kind = getattr(block, "type", None)
        if kind == "tool_use":
            content.append({"type": "tool_use", "id": block.id, "name": block.name, "input": block.input})
        elif kind == "text" and block.text:
            content.append({"type": "text", "text": block.text})
    return content
