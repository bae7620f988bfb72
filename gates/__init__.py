"""Pluggable quality gates: each compares a base tree with a head tree and returns a result value."""

from gates.base import Errored, Failed, Gate, GateContext, GateResult, Metric, Passed, Skipped

__all__ = ["Errored", "Failed", "Gate", "GateContext", "GateResult", "Metric", "Passed", "Skipped"]
