"""Registry behaviour: discovery, ordering, validation and selection."""

from __future__ import annotations

from importlib.metadata import EntryPoint

import pytest

from evolve.codemods.base import Codemod
from evolve.codemods.registry import (
    ENTRY_POINT_GROUP,
    CodemodEntry,
    CodemodRegistryError,
    available_codemods,
    get_codemod,
    list_entries,
    load_entry,
    select_codemods,
)

EXPECTED = {
    "empty-literals",
    "modern-annotations",
    "none-comparison",
    "none-return",
    "not-in",
    "object-base",
    "open-encoding",
    "redundant-else",
    "requests-timeout",
    "super-call",
    "unused-imports",
    "yaml-safe-load",
}


def _ep(name: str, value: str) -> EntryPoint:
    return EntryPoint(name=name, value=value, group=ENTRY_POINT_GROUP)


def test_all_builtin_codemods_are_registered_in_id_order() -> None:
    codemods = available_codemods()
    assert set(codemods) == EXPECTED
    assert list(codemods) == sorted(codemods)
    assert all(issubclass(cls, Codemod) for cls in codemods.values())


def test_listing_does_not_import_and_sorts() -> None:
    entries = list_entries([_ep("b-mod", "nowhere.at_all:Missing"), _ep("a-mod", "nowhere.else:Gone")])
    assert [entry.id for entry in entries] == ["a-mod", "b-mod"]  # nothing was imported, so no error yet


def test_duplicate_id_with_different_targets_fails_loudly() -> None:
    with pytest.raises(CodemodRegistryError, match="declared twice"):
        list_entries([_ep("not-in", "evolve.codemods.not_in:NotIn"), _ep("not-in", "other.pkg:NotIn")])


def test_identical_duplicate_declarations_collapse() -> None:
    entries = list_entries(
        [_ep("not-in", "evolve.codemods.not_in:NotIn"), _ep("not-in", "evolve.codemods.not_in:NotIn")]
    )
    assert len(entries) == 1


def test_metadata_id_must_match_entry_point_name() -> None:
    with pytest.raises(CodemodRegistryError, match="metadata.id='not-in'"):
        load_entry(CodemodEntry("renamed", "evolve.codemods.not_in:NotIn"))


def test_non_codemod_and_import_errors_are_reported() -> None:
    with pytest.raises(CodemodRegistryError, match="not a subclass"):
        load_entry(CodemodEntry("edits", "evolve.edits:FileEdit"))
    with pytest.raises(CodemodRegistryError, match="failed to import"):
        load_entry(CodemodEntry("ghost", "evolve.codemods.no_such_module:Ghost"))


def test_get_codemod_returns_fresh_instances_and_rejects_unknown_ids() -> None:
    first, second = get_codemod("not-in"), get_codemod("not-in")
    assert first is not second and first.metadata.id == "not-in"
    with pytest.raises(ValueError, match="known codemods: empty-literals"):
        get_codemod("nope")


def test_select_codemods_only_and_disabled() -> None:
    assert [c.metadata.id for c in select_codemods()] == sorted(EXPECTED)
    assert [c.metadata.id for c in select_codemods(only=["not-in", "super-call"])] == ["not-in", "super-call"]
    assert "not-in" not in [c.metadata.id for c in select_codemods(disabled=["not-in"])]
    assert select_codemods(only=["not-in"], disabled=["not-in"]) == []
    with pytest.raises(ValueError, match="unknown codemod id\\(s\\) typo.*known codemods"):
        select_codemods(only=["typo"])
    with pytest.raises(ValueError, match="unknown codemod"):
        select_codemods(disabled=["also-typo"])
