"""Tests generated from a codemod's own examples (Fixit-style), for built-ins and third-party codemods alike.

In a test module:

    from evolve.testing import codemod_test_class
    from my_package.codemod import MyCodemod

    TestMyCodemod = codemod_test_class(MyCodemod)

pytest then runs, for every example (with the example's `settings`, if any): before becomes after, after is a fixed
point, detection finds it; and for every `valid` source (with the codemod's default settings): nothing changes and
nothing is detected. The checks are also plain functions.
"""

from __future__ import annotations

import ast

import libcst as cst
import pytest

from evolve.codemods.base import Change, Codemod, CodemodContext, Example

DEFAULT_CONTEXT = CodemodContext(path="pkg/module.py", min_python=(3, 8))


def example_context(example: Example | None = None, base: CodemodContext = DEFAULT_CONTEXT) -> CodemodContext:
    """The context an example runs in: the default one with the example's overrides."""
    return base.replace(**dict(example.context)) if example else base


def example_codemod(codemod: type[Codemod], example: Example | None = None) -> Codemod:
    """The codemod an example runs: configured with the example's settings (its defaults when it has none)."""
    from evolve.codemods.registry import configured

    return configured(codemod, dict(example.settings)) if example and example.settings else codemod()


def apply_codemod(codemod: Codemod, source: str, context: CodemodContext = DEFAULT_CONTEXT) -> tuple[str, list[Change]]:
    """The source after one transform, and the changes the codemod reported."""
    module, changes = codemod.transform(cst.parse_module(source), context)
    return module.code, changes


def assert_codemod(codemod: Codemod, before: str, after: str, context: CodemodContext = DEFAULT_CONTEXT) -> None:
    """`before` becomes exactly `after`, with changes reported under the codemod's id, and the result compiles."""
    result, changes = apply_codemod(codemod, before, context)
    assert result == after, f"{codemod.metadata.id} produced:\n{result}\nexpected:\n{after}"
    assert changes, f"{codemod.metadata.id} changed the code but reported no change"
    assert all(change.codemod == codemod.metadata.id and change.line >= 1 for change in changes), changes
    compile(result, "<after>", "exec")


def assert_unchanged(codemod: Codemod, source: str, context: CodemodContext = DEFAULT_CONTEXT) -> None:
    """The codemod leaves `source` byte for byte as it is and reports no change."""
    result, changes = apply_codemod(codemod, source, context)
    assert result == source, f"{codemod.metadata.id} changed code it must leave alone:\n{result}"
    assert changes == [], changes


def assert_detects(
    codemod: Codemod, source: str, context: CodemodContext = DEFAULT_CONTEXT, *, expected: bool = True
) -> None:
    """Cheap detection finds an occurrence in `source` (or, with expected=False, finds none)."""
    occurrences = codemod.detect(ast.parse(source), source, context)
    if not expected:
        assert occurrences == [], occurrences
        return
    assert occurrences, f"{codemod.metadata.id}.detect found nothing in:\n{source}"
    assert all(o.line >= 1 and o.end_line >= o.line for o in occurrences), occurrences


def assert_metadata(codemod: type[Codemod]) -> None:
    """The class ships what the plan and the PR text need: metadata, a docstring, examples and valid sources."""
    metadata = codemod.metadata
    assert metadata.id and metadata.title and metadata.theme and metadata.rationale and metadata.review_guidance
    assert all(reference.startswith("https://") for reference in metadata.references), metadata.references
    assert codemod.__doc__, f"{codemod.__name__} has no docstring"
    assert codemod.examples, f"{metadata.id} has no examples to generate its tests from"
    assert codemod.valid, f"{metadata.id} lists no valid source it must leave alone"


def codemod_test_class(*codemods: type[Codemod]) -> type:
    """A pytest test class whose tests are generated from the examples and valid sources of `codemods`."""
    examples = [
        pytest.param(cls, example, id=f"{cls.metadata.id}-{index}")
        for cls in codemods
        for index, example in enumerate(cls.examples)
    ]
    valid = [
        pytest.param(cls, source, id=f"{cls.metadata.id}-valid-{index}")
        for cls in codemods
        for index, source in enumerate(cls.valid)
    ]
    ids = [pytest.param(cls, id=cls.metadata.id) for cls in codemods]

    class CodemodExampleTests:
        """Generated from the codemods' own examples."""

        @pytest.mark.parametrize("codemod", ids)
        def test_metadata_docstring_and_examples(self, codemod: type[Codemod]) -> None:
            assert_metadata(codemod)

        @pytest.mark.parametrize(("codemod", "example"), examples)
        def test_example_before_becomes_after(self, codemod: type[Codemod], example: Example) -> None:
            assert_codemod(example_codemod(codemod, example), example.before, example.after, example_context(example))

        @pytest.mark.parametrize(("codemod", "example"), examples)
        def test_example_after_is_a_fixed_point(self, codemod: type[Codemod], example: Example) -> None:
            assert_unchanged(example_codemod(codemod, example), example.after, example_context(example))

        @pytest.mark.parametrize(("codemod", "example"), examples)
        def test_detect_finds_every_example(self, codemod: type[Codemod], example: Example) -> None:
            assert_detects(example_codemod(codemod, example), example.before, example_context(example))

        @pytest.mark.parametrize(("codemod", "source"), valid)
        def test_valid_source_is_left_unchanged(self, codemod: type[Codemod], source: str) -> None:
            assert_unchanged(codemod(), source)

        @pytest.mark.parametrize(("codemod", "source"), valid)
        def test_detect_finds_nothing_in_valid_source(self, codemod: type[Codemod], source: str) -> None:
            assert_detects(codemod(), source, expected=False)

    return CodemodExampleTests
