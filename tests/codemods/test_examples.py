"""Tests generated from every installed codemod's examples and valid sources, by the harness plugin authors get
(`evolve.testing`); plus the stricter bar the built-ins hold themselves to."""

from __future__ import annotations

import pytest

from evolve.codemods.registry import CODEMODS, available_codemods
from evolve.testing import codemod_test_class

INSTALLED = available_codemods()
BUILT_INS = CODEMODS.built_in_names()

TestInstalledCodemods = codemod_test_class(*INSTALLED.values())


def test_every_built_in_codemod_is_installed():
    assert BUILT_INS and set(BUILT_INS) <= set(INSTALLED)


@pytest.mark.parametrize("codemod_id", BUILT_INS)
def test_built_ins_ship_three_examples_three_valid_sources_and_references(codemod_id: str) -> None:
    cls = INSTALLED[codemod_id]
    assert cls.metadata.theme in {"cleanup", "correctness", "modernize", "typing", "security", "deprecations"}
    assert cls.metadata.references
    assert len(cls.examples) >= 3 and len(cls.valid) >= 3
