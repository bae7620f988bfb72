"""AST equivalence per codemod: each codemod's own examples are proven, behaviour changes are not."""

import pytest

from evolve.codemods.registry import available_codemods
from evolve.proof.equivalence import NORMALISERS, proven_equivalent

PROVABLE = sorted(NORMALISERS)


@pytest.mark.parametrize("codemod_id", PROVABLE)
def test_every_example_of_a_provable_codemod_is_proven_equivalent(codemod_id):
    codemod = available_codemods()[codemod_id]
    assert codemod.examples
    for example in codemod.examples:
        assert proven_equivalent(example.before, example.after, [codemod_id]), example.before


@pytest.mark.parametrize("codemod_id", ["unused-imports", "yaml-safe-load", "requests-timeout", "open-encoding"])
def test_codemods_that_change_behaviour_by_design_are_never_proven(codemod_id):
    for example in available_codemods()[codemod_id].examples:
        assert not proven_equivalent(example.before, example.after, [codemod_id]), example.before


def test_a_real_change_of_behaviour_is_not_normalised_away():
    before = "def f(x):\n    if x:\n        return 1\n    else:\n        return 2\n"
    changed = "def f(x):\n    if x:\n        return 1\n    return 3\n"
    assert not proven_equivalent(before, changed, ["redundant-else"])
    # Flattening an `else` whose `if` branch does not exit would change behaviour: not proven.
    conditional = "def f(x):\n    if x:\n        y = 1\n    else:\n        y = 2\n    return y\n"
    flattened = "def f(x):\n    if x:\n        y = 1\n    y = 2\n    return y\n"
    assert not proven_equivalent(conditional, flattened, ["redundant-else"])
    assert not proven_equivalent("def f() -> int:\n    pass\n", "def f():\n    pass\n", ["none-return"])


def test_unparsable_or_unattributed_edits_are_not_proven():
    assert not proven_equivalent("x = 1\n", "x = (\n", ["redundant-else"])
    assert not proven_equivalent("x = 1\n", "x = 2\n", [])
    assert proven_equivalent("x = 1\n", "x = 1  # same code\n", [])
