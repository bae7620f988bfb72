"""Prompts from the template files in `templates/`, with repository text fenced as untrusted data."""

from __future__ import annotations

import functools
import html
import json
import re
from dataclasses import dataclass
from importlib import resources
from string import Template
from typing import Any

from evolve.llm.docstring_style import STYLE_GUIDANCE, DocstringStyle
from evolve.runs import AttemptFeedback

# Tag lookalikes inside repository text get their "<" swapped for this, so data cannot close its fence.
NEUTRALISED_TAG = "\u2039"
_TAG_LOOKALIKE = re.compile(r"<(\s*/?\s*untrusted)", re.IGNORECASE)
_NEUTRALISED = re.compile(NEUTRALISED_TAG + r"\s*/?\s*untrusted", re.IGNORECASE)

MAX_FILE_CHARS = 60_000
MAX_DETAILS_CHARS = 6_000
MAX_DIFF_CHARS = 12_000


@functools.cache
def template(name: str) -> Template:
    """The template `templates/<name>.md`."""
    text = resources.files("evolve.llm.templates").joinpath(f"{name}.md").read_text(encoding="utf-8")
    return Template(text)


def render(name: str, **values: object) -> str:
    """Fill template `name`; missing placeholders are an error (a template bug, caught by the tests)."""
    return template(name).substitute(**values).strip("\n")


def neutralise(text: str) -> str:
    """Make any `<untrusted...` / `</untrusted...` lookalike in repository text inert."""
    return _TAG_LOOKALIKE.sub(NEUTRALISED_TAG + r"\1", text)


def contains_neutralised_tag(text: str) -> bool:
    """Whether text carries a neutralised fence (so an edit copied prompt delimiters into code)."""
    return bool(_NEUTRALISED.search(text))


def untrusted_block(kind: str, text: str, **attributes: object) -> str:
    """Fence `text` as untrusted data: `<untrusted_kind attr="...">` ... `</untrusted_kind>`."""
    attrs = "".join(f' {key}="{html.escape(str(value), quote=True)}"' for key, value in attributes.items())
    body = neutralise(text)
    if not body.endswith("\n"):
        body += "\n"
    return f"<untrusted_{kind}{attrs}>\n{body}</untrusted_{kind}>"


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit // 3] + "\n…(clipped)…\n" + text[-(2 * limit) // 3 :]


@dataclass(frozen=True)
class TaskBrief:
    """One task as the prompt describes it."""

    kind: str
    path: str
    module: str
    symbol: str | None = None
    complexity: int | None = None
    tests_first: bool = False
    findings: tuple[str, ...] = ()
    tests_dir: str = "tests"  # where the project keeps its tests, and how it names them (`mutant` tasks)
    test_naming: str = "test_*.py"

    def describe(self) -> str:
        """The instruction text for this task."""
        values = {"path": self.path, "symbol": self.symbol or "the module", "module": self.module}
        if self.kind == "docstring":
            return render("task_docstring", **values)
        if self.kind == "complexity":
            text = render(
                "task_complexity", complexity=self.complexity if self.complexity is not None else "?", **values
            )
            return render("task_complexity_tests_first", **values) + " " + text if self.tests_first else text
        if self.kind == "tests":
            return render("task_tests", **values)
        if self.kind == "mutant":
            finding = neutralise("; ".join(self.findings)) or "see the surviving mutant reported for this line"
            return render("task_mutant", finding=finding, tests_dir=self.tests_dir, naming=self.test_naming, **values)
        where = f" (function `{self.symbol}`)" if self.symbol else ""
        finding = "; ".join(self.findings) or "see the semgrep finding reported for this code"
        return render("task_security", where=where, finding=finding, **values)


@dataclass(frozen=True)
class PromptInputs:
    """Everything the first user message is built from."""

    title: str
    theme: str
    attempt: int
    tasks: tuple[TaskBrief, ...]
    files: dict[str, str]  # path -> current text
    style: DocstringStyle
    feedback: AttemptFeedback | None = None


def system_prompt() -> str:
    """The system prompt: role, tools, and the rule that repository text is data."""
    return render("system")


def _file_blocks(files: dict[str, str], modules: dict[str, str]) -> str:
    blocks = []
    for path in sorted(files):
        text = files[path]
        note = {}
        if len(text) > MAX_FILE_CHARS:
            text, note = _clip(text, MAX_FILE_CHARS), {"clipped": "true"}
        blocks.append(untrusted_block("source", text, path=path, module=modules.get(path, ""), **note))
    return "\n\n".join(blocks)


def feedback_section(feedback: AttemptFeedback | None) -> str:
    """The failing gates and diff of the previous attempt, fenced as untrusted, or empty."""
    if feedback is None:
        return ""
    gates = []
    for result in feedback.gate_results:
        if result.ok:
            continue
        regressions = [
            f"{m.name}: {m.base} -> {m.head} (worse; {m.better} is better)" for m in result.metrics if m.regressed
        ]
        text = "\n".join(
            part
            for part in (
                f"summary: {result.summary}",
                f"files blamed: {', '.join(result.blame)}" if result.blame else "",
                "metric regressions:\n" + "\n".join(regressions) if regressions else "",
                "details:\n" + _clip(result.details, MAX_DETAILS_CHARS) if result.details else "",
            )
            if part
        )
        gates.append(untrusted_block("gate_output", text, gate=result.gate, status=result.status))
    diff = "".join(edit.diff() for edit in feedback.previous_edits)
    diff_block = untrusted_block("diff", _clip(diff, MAX_DIFF_CHARS), attempt=feedback.attempt) if diff else ""
    return render("feedback", attempt=feedback.attempt, gates="\n\n".join(gates) or "(no gate output)", diff=diff_block)


def user_prompt(inputs: PromptInputs) -> str:
    """The first user message of a conversation."""
    modules = {brief.path: brief.module for brief in inputs.tasks}
    tasks = "\n".join(f"{n}. [{brief.kind}] {brief.describe()}" for n, brief in enumerate(inputs.tasks, 1))
    module_list = ", ".join(f"`{path}` -> `{name}`" for path, name in sorted(modules.items()) if name) or "(none)"
    return render(
        "request",
        title=inputs.title,
        theme=inputs.theme,
        attempt=inputs.attempt,
        tasks=tasks,
        style_guidance=f"{inputs.style}: {STYLE_GUIDANCE[inputs.style]}",
        modules=module_list,
        files=_file_blocks(inputs.files, modules),
        feedback=feedback_section(inputs.feedback),
    )


@functools.cache
def _tool_json() -> str:
    return resources.files("evolve.llm.templates").joinpath("tools.json").read_text(encoding="utf-8")


def tool_definitions() -> list[dict[str, Any]]:
    """The four tools the model may call (a fresh copy each time)."""
    return json.loads(_tool_json())
