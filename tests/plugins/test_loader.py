"""The one plugin loader, for gates and codemods alike: discovery without import, loading, checks, selection."""

from __future__ import annotations

from importlib.metadata import EntryPoint

import pytest

from evolve.codemods.base import Codemod
from evolve.codemods.registry import CODEMODS, available_codemods, get_codemod, select_codemods
from evolve.configuration.model import DEFAULT_GATES, EvolveConfig, GatesConfig
from evolve.gate_api import GateContext
from evolve.gating.running import GATES, available_gates, build_gates, evaluate_gates
from evolve.plugins import BUILT_IN_DISTRIBUTION, PluginEntry, PluginError, PluginKind, UnknownPluginError
from gates.complexity_gate import ComplexityGate

PLUGINS = "tests.plugins.plugin_gates"
KINDS = [
    pytest.param(GATES, f"{PLUGINS}:EchoGate", f"{PLUGINS}:ExplodingGate", id="gates"),
    pytest.param(CODEMODS, "evolve.codemods.not_in:NotIn", "other.pkg:NotIn", id="codemods"),
]


def point(kind: PluginKind, name: str, target: str) -> EntryPoint:
    """An entry point of the kind's group, as an installed plugin would declare it."""
    return EntryPoint(name, target, kind.group)


def test_built_ins_are_registered_by_evolves_own_distribution():
    assert {"syntax", "tests", "coverage", "complexity", "maintainability", "docstrings", "security"} <= set(
        GATES.built_in_names()
    )
    # Every installed codemod is a Codemod whose metadata id is its entry-point name; ids come sorted.
    codemods = available_codemods()
    assert list(codemods) == sorted(codemods) and len(codemods) >= 12
    assert set(CODEMODS.built_in_names()) == set(codemods)
    assert all(issubclass(cls, Codemod) and cls.metadata.id == cid for cid, cls in codemods.items())
    assert all(entry.distribution == BUILT_IN_DISTRIBUTION for entry in GATES.discover() if entry.name == "syntax")


@pytest.mark.parametrize(("kind", "target", "_other"), KINDS)
def test_discovery_is_sorted_and_imports_nothing(kind, target, _other):
    entries = kind.discover([point(kind, "zeta", "no.such.module:Thing"), point(kind, "alpha", "another.missing:X")])
    assert [e.name for e in entries] == ["alpha", "zeta"]  # the missing modules were never imported


@pytest.mark.parametrize(("kind", "target", "other"), KINDS)
def test_a_name_registered_twice_with_different_targets_fails_loudly(kind, target, other):
    with pytest.raises(PluginError, match=f"two {kind.noun}s are registered as 'x'.*uninstall or rename"):
        kind.discover([point(kind, "x", target), point(kind, "x", other)])


@pytest.mark.parametrize(("kind", "target", "_other"), KINDS)
def test_the_same_target_twice_is_one_plugin(kind, target, _other):
    assert kind.discover([point(kind, "x", target), point(kind, "x", target)]) == (PluginEntry("x", target),)


def test_a_declared_name_that_disagrees_with_the_entry_point_fails_on_load():
    with pytest.raises(PluginError, match="declares the name 'something-else'"):
        GATES.load(PluginEntry("misnamed", f"{PLUGINS}:MisnamedGate"))
    with pytest.raises(PluginError, match="declares the name 'not-in'"):
        CODEMODS.load(PluginEntry("renamed", "evolve.codemods.not_in:NotIn"))


def test_wrong_classes_and_import_errors_are_reported_with_the_target():
    with pytest.raises(PluginError, match=r"not a subclass of evolve\.gate_api\.Gate"):
        GATES.load(PluginEntry("not-a-gate", f"{PLUGINS}:NotAGate"))
    with pytest.raises(PluginError, match=r"not a subclass of evolve\.codemods\.base\.Codemod"):
        CODEMODS.load(PluginEntry("edits", "evolve.edits:FileEdit"))
    with pytest.raises(PluginError, match="'ghost' .*cannot be imported: ModuleNotFoundError"):
        GATES.load(PluginEntry("ghost", "tests.plugins.no_such_module:Ghost"))


def test_unknown_names_list_the_valid_ones():
    with pytest.raises(UnknownPluginError) as error:
        GATES.load_named(["syntax", "typo"])
    assert error.value.unknown == ("typo",)
    assert set(available_gates()) <= set(error.value.known)
    assert "unknown gate 'typo'" in str(error.value) and "known gates: complexity, coverage" in str(error.value)
    with pytest.raises(
        UnknownPluginError,
        match="unknown codemod 'nope'; known codemods: asyncio-coroutine, bare-except, collections-abc, datetime-utcnow",
    ):
        get_codemod("nope")


def test_select_codemods_only_and_disabled():
    everything = list(available_codemods())
    assert [c.metadata.id for c in select_codemods()] == everything
    assert [c.metadata.id for c in select_codemods(only=["super-call", "not-in"])] == ["not-in", "super-call"]
    assert "not-in" not in [c.metadata.id for c in select_codemods(disabled=["not-in"])]
    assert select_codemods(only=["not-in"], disabled=["not-in"]) == []
    assert get_codemod("not-in") is not get_codemod("not-in")
    with pytest.raises(UnknownPluginError, match="unknown codemods 'typo', 'also-typo'"):
        select_codemods(only=["typo"], disabled=["also-typo"])


def test_build_gates_keeps_the_configured_order_and_passes_typed_settings():
    config = EvolveConfig.model_validate(
        {"gates": {"enabled": ["tests", "complexity", "syntax"], "complexity": {"threshold": 7}}}
    )
    gates = build_gates(config)
    assert [g.name for g in gates] == ["tests", "complexity", "syntax"]
    assert isinstance(gates[1], ComplexityGate) and gates[1].settings.threshold == 7


def test_extra_adds_to_the_defaults_and_disabled_removes():
    gates = GatesConfig.model_validate({"extra": ["echo"], "disabled": ["security", "docstrings"]})
    assert gates.selected == (*[g for g in DEFAULT_GATES if g not in ("security", "docstrings")], "echo")
    assert GatesConfig.model_validate({"enabled": ["syntax", "syntax"], "extra": ["syntax"]}).selected == ("syntax",)


def test_a_gate_that_raises_or_returns_garbage_becomes_errored(tmp_path):
    config = EvolveConfig.model_validate({"gates": {"enabled": ["exploding", "echo", "returns-none"]}})
    found = [
        point(GATES, n, f"{PLUGINS}:{c}")
        for n, c in [("exploding", "ExplodingGate"), ("echo", "EchoGate"), ("returns-none", "ReturnsNoneGate")]
    ]
    context = GateContext(tmp_path, tmp_path, (), config)
    results = evaluate_gates(build_gates(config, found), context)
    assert [r.status for r in results] == ["errored", "passed", "errored"]
    assert "RuntimeError: plugin bug" in results[0].summary
    assert "Traceback" in results[0].details and "plugin_gates.py" in results[0].details
