"""Gate discovery through entry points, building from configuration, and the never-raising runner."""

from __future__ import annotations

from importlib.metadata import EntryPoint

import pytest

from evolve.config import EvolveConfig, parse_config
from evolve.gate_api import GateContext
from evolve.gate_running import (
    GROUP,
    GateEntry,
    GateRegistryError,
    available_gates,
    build_gates,
    discover_gates,
    evaluate_gates,
    gate_settings,
)
from gates.complexity_gate import ComplexityGate

BUILT_INS = ("complexity", "coverage", "docstrings", "maintainability", "security", "syntax", "tests")
PLUGINS = "tests.gates.plugin_gates"


def point(name: str, target: str) -> EntryPoint:
    """An entry point of the gates group, as an installed plugin would declare it."""
    return EntryPoint(name, target, GROUP)


def test_built_ins_are_registered_through_the_entry_point_group():
    assert set(BUILT_INS) <= set(available_gates())


def test_discovery_is_sorted_and_does_not_import(monkeypatch):
    entries = discover_gates([point("zeta", "no.such.module:Gate"), point("alpha", "another.missing:Gate")])
    assert [e.name for e in entries] == ["alpha", "zeta"]  # listing never imported the missing modules


def test_conflicting_duplicate_names_fail_loudly():
    with pytest.raises(GateRegistryError, match="two gates are registered as 'echo'"):
        discover_gates([point("echo", f"{PLUGINS}:EchoGate"), point("echo", f"{PLUGINS}:ExplodingGate")])


def test_identical_duplicates_are_one_gate():
    found = [point("echo", f"{PLUGINS}:EchoGate"), point("echo", f"{PLUGINS}:EchoGate")]
    assert discover_gates(found) == (GateEntry("echo", f"{PLUGINS}:EchoGate"),)


def test_name_mismatch_fails_on_load():
    with pytest.raises(GateRegistryError, match="declares name 'something-else'"):
        GateEntry("misnamed", f"{PLUGINS}:MisnamedGate").load()


def test_non_gate_class_fails_on_load():
    with pytest.raises(GateRegistryError, match="not a subclass"):
        GateEntry("not-a-gate", f"{PLUGINS}:NotAGate").load()


def test_unimportable_gate_fails_on_load():
    with pytest.raises(GateRegistryError, match="cannot be imported"):
        GateEntry("ghost", "tests.gates.no_such_module:Ghost").load()


def test_unknown_enabled_gate_lists_the_known_ones():
    config = parse_config({"gates": {"enabled": ["syntax", "typo"]}})
    with pytest.raises(GateRegistryError) as error:
        build_gates(config)
    assert "'typo'" in str(error.value)
    for name in BUILT_INS:
        assert name in str(error.value)


def test_build_gates_keeps_configured_order_and_passes_settings():
    config = parse_config({"gates": {"enabled": ["tests", "complexity", "syntax"], "complexity": {"threshold": 7}}})
    gates = build_gates(config)
    assert [g.name for g in gates] == ["tests", "complexity", "syntax"]
    assert isinstance(gates[1], ComplexityGate)
    assert gates[1].settings.threshold == 7


def test_plugins_receive_their_settings_from_the_plugins_table():
    config = parse_config({"gates": {"enabled": ["echo"], "plugins": {"echo": {"level": 3}}}})
    [gate] = build_gates(config, [point("echo", f"{PLUGINS}:EchoGate")])
    assert gate.settings == {"level": 3}
    assert gate_settings(EvolveConfig(), "echo") == {}


def test_a_gate_that_raises_becomes_errored_with_traceback(tmp_path):
    config = parse_config({"gates": {"enabled": ["exploding", "echo", "returns-none"]}})
    found = [
        point(n, f"{PLUGINS}:{c}")
        for n, c in [("exploding", "ExplodingGate"), ("echo", "EchoGate"), ("returns-none", "ReturnsNoneGate")]
    ]
    context = GateContext(tmp_path, tmp_path, (), config)
    results = evaluate_gates(build_gates(config, found), context)
    assert [r.status for r in results] == ["errored", "passed", "errored"]
    assert "RuntimeError: plugin bug" in results[0].summary
    assert "Traceback" in results[0].details and "plugin_gates.py" in results[0].details
    assert results[0].gate == "exploding"
