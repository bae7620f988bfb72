"""The tool-use loop: ask, apply each tool call through the edit session, send the results back, repeat."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from evolve.llm.api import MessagesClient
from evolve.llm.edit_session import EditSession

NO_TOOL_REMINDER = "Answer only with tool calls (replace_function, set_docstring, add_test_file, finish)."
NOT_FINISHED = "Not finished yet: other calls in this turn were rejected. Correct them, then call finish again."
TRUNCATED_REMINDER = "Your answer was cut off at the token limit. Send one smaller tool call at a time."


@dataclass(frozen=True)
class ConversationResult:
    """How a conversation ended."""

    finished: bool
    rounds: int
    stopped: str = ""  # why it ended without finish, for the notes


def run_conversation(
    client: MessagesClient,
    session: EditSession,
    system: str,
    first_message: str,
    tools: list[dict[str, Any]],
    max_rounds: int,
) -> ConversationResult:
    """Drive the model until it calls finish (with no rejected call in that turn) or `max_rounds` requests.

    Raises LLMUnavailable / BudgetExceeded from the client; the provider turns them into notes.
    """
    messages: list[dict[str, Any]] = [{"role": "user", "content": first_message}]
    for round_number in range(1, max_rounds + 1):
        reply = client.create(system, messages, tools)
        messages.append({"role": "assistant", "content": reply.content or [{"type": "text", "text": "(empty)"}]})
        calls = [block for block in reply.content if block["type"] == "tool_use"]
        if not calls:
            reminder = TRUNCATED_REMINDER if reply.stop_reason == "max_tokens" else NO_TOOL_REMINDER
            messages.append({"role": "user", "content": reminder})
            continue
        results: list[dict[str, Any]] = []
        finished = errors = False
        for call in calls:
            answer = session.handle(call["name"], call.get("input"))
            finished = finished or answer.finished
            errors = errors or answer.is_error
            result: dict[str, Any] = {"type": "tool_result", "tool_use_id": call["id"], "content": answer.text}
            if answer.is_error:
                result["is_error"] = True
            results.append(result)
        if finished and not errors:
            return ConversationResult(True, round_number)
        for call, result in zip(calls, results):
            if call["name"] == "finish" and not result.get("is_error"):
                result["content"] = NOT_FINISHED
        if reply.stop_reason == "max_tokens":
            results.append({"type": "text", "text": TRUNCATED_REMINDER})
        messages.append({"role": "user", "content": results})
    return ConversationResult(False, max_rounds, f"stopped after {max_rounds} requests without the model finishing")
