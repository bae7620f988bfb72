"""How gates get their shared measurements, and what they do when those fail."""

from __future__ import annotations

from evolve.configuration.model import EvolveConfig
from evolve.gate_api import GateContext
from evolve.gating.running import build_context
from gates.complexity_gate import ComplexityGate
from gates.coverage_gate import CoverageGate


def test_a_failing_scan_makes_the_gate_errored_with_traceback(tmp_path):
    def broken_scan(which):
        raise OSError("disk on fire")

    context = GateContext(tmp_path, tmp_path, ("a.py",), EvolveConfig(), scan=broken_scan)
    result = ComplexityGate().evaluate(context)
    assert result.status == "errored"
    assert "scanning base failed with OSError: disk on fire" in result.summary
    assert "Traceback" in result.details


def test_missing_scan_is_errored(tmp_path):
    result = ComplexityGate().evaluate(GateContext(tmp_path, tmp_path, ("a.py",), EvolveConfig()))
    assert result.status == "errored" and "no scan" in result.summary


def test_context_computes_each_measurement_once(tmp_path, monkeypatch):
    calls = []

    def fake_run(
        root, config, *, with_coverage, environment=None, progress=None, coverage_paths=None, with_contexts=False
    ):
        calls.append((root, with_coverage))
        return f"run of {root.name}"

    monkeypatch.setattr("evolve.gating.running.run_test_suite", fake_run)
    (tmp_path / "base").mkdir()
    (tmp_path / "head").mkdir()
    context = build_context(tmp_path / "base", tmp_path / "head", ["a.py"], EvolveConfig())
    assert context.run_tests("head") == context.run_tests("head") == "run of head"
    assert context.run_tests("base") == "run of base"
    assert calls == [(tmp_path / "head", True), (tmp_path / "base", True)]  # coverage gate enabled by default


def test_context_without_coverage_gate_does_not_measure(tmp_path, monkeypatch):
    seen = []
    monkeypatch.setattr(
        "evolve.gating.running.run_test_suite",
        lambda root, config, *, with_coverage, environment=None, progress=None, coverage_paths=None, **_: seen.append(
            with_coverage
        ),
    )
    config = EvolveConfig.model_validate({"gates": {"enabled": ["tests"]}})
    build_context(tmp_path, tmp_path, [], config).run_tests("head")
    assert seen == [False]


def test_coverage_gate_reports_errors_of_the_test_runner(tmp_path):
    def broken(which):
        raise RuntimeError("sandbox unavailable")

    result = CoverageGate().evaluate(GateContext(tmp_path, tmp_path, (), EvolveConfig(), run_tests=broken))
    assert result.status == "errored"
    assert "sandbox unavailable" in result.summary
