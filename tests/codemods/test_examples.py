"""Tests generated from every registered codemod's examples and valid sources (Fixit-style)."""

from __future__ import annotations

import ast

import libcst as cst
import pytest

from evolve.codemods.base import Codemod, CodemodContext, Example
from evolve.codemods.registry import available_codemods

CODEMODS = available_codemods()


def _context(example: Example | None = None) -> CodemodContext:
    context = CodemodContext(path="pkg/module.py", min_python=(3, 8))
    return context.replace(**dict(example.context)) if example else context


def _apply(codemod: Codemod, source: str, context: CodemodContext) -> tuple[str, list]:
    module, changes = codemod.transform(cst.parse_module(source), context)
    return module.code, changes


EXAMPLES = [
    pytest.param(codemod_id, example, id=f"{codemod_id}-{index}")
    for codemod_id, cls in CODEMODS.items()
    for index, example in enumerate(cls.examples)
]
VALID = [
    pytest.param(codemod_id, source, id=f"{codemod_id}-valid-{index}")
    for codemod_id, cls in CODEMODS.items()
    for index, source in enumerate(cls.valid)
]


@pytest.mark.parametrize("codemod_id", sorted(CODEMODS))
def test_every_codemod_ships_metadata_and_examples(codemod_id: str) -> None:
    cls = CODEMODS[codemod_id]
    assert cls.metadata.id == codemod_id
    assert cls.metadata.theme in {"cleanup", "correctness", "modernize", "typing", "security", "deprecations"}
    assert cls.metadata.references and all(ref.startswith("https://") for ref in cls.metadata.references)
    assert len(cls.examples) >= 3 and len(cls.valid) >= 3
    assert cls.__doc__ and cls.metadata.review_guidance


@pytest.mark.parametrize(("codemod_id", "example"), EXAMPLES)
def test_example_before_becomes_after(codemod_id: str, example: Example) -> None:
    after, changes = _apply(CODEMODS[codemod_id](), example.before, _context(example))
    assert after == example.after
    assert changes and all(change.codemod == codemod_id and change.line >= 1 for change in changes)
    compile(after, "<after>", "exec")


@pytest.mark.parametrize(("codemod_id", "example"), EXAMPLES)
def test_example_after_is_a_fixed_point(codemod_id: str, example: Example) -> None:
    codemod, context = CODEMODS[codemod_id](), _context(example)
    after, changes = _apply(codemod, example.after, context)
    assert after == example.after
    assert changes == []


@pytest.mark.parametrize(("codemod_id", "example"), EXAMPLES)
def test_detect_finds_every_example(codemod_id: str, example: Example) -> None:
    occurrences = CODEMODS[codemod_id]().detect(ast.parse(example.before), example.before, _context(example))
    assert occurrences
    assert all(o.line >= 1 and o.end_line >= o.line for o in occurrences)


@pytest.mark.parametrize(("codemod_id", "source"), VALID)
def test_valid_source_is_left_unchanged(codemod_id: str, source: str) -> None:
    after, changes = _apply(CODEMODS[codemod_id](), source, _context())
    assert after == source
    assert changes == []


@pytest.mark.parametrize(("codemod_id", "source"), VALID)
def test_detect_finds_nothing_in_valid_source(codemod_id: str, source: str) -> None:
    assert CODEMODS[codemod_id]().detect(ast.parse(source), source, _context()) == []
