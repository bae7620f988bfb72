"""The scan-based gates (complexity, maintainability, docstrings, security) on real trees scanned by research."""

from __future__ import annotations

import pytest

from evolve.config_loading.loading import parse_config
from evolve.configuration.model import EvolveConfig
from evolve.gating.running import build_context, build_gates, evaluate_gates

research = pytest.importorskip("evolve.research")

BASE = {
    "pkg/__init__.py": '"""Package."""\n',
    "pkg/core.py": '''
        """Core helpers."""


        def parse(text):
            """Split a line into words."""
            return text.split()


        def label(value):
            """Name a number."""
            if value > 0:
                return "positive"
            return "other"
    ''',
    "pkg/untouched.py": '"""Never changed."""\n\n\ndef run(code):\n    """Run code."""\n    return eval(code)\n',
}

WORSE = '''
"""Core helpers."""
import os


def parse(text, mode=None):
    """Split a line into words."""
    if mode == "csv":
        return text.split(",")
    if mode == "tab":
        return text.split("\\t")
    if mode == "pipe":
        return text.split("|")
    return text.split()


def label(value):
    if value > 0:
        return "positive"
    return "other"


def clean(path):
    os.system("rm -rf " + path)
'''

BETTER = '''
"""Core helpers."""


def parse(text):
    """Split a line into words."""
    return text.split()


def label(value):
    """Name a number."""
    return "positive" if value > 0 else "other"
'''

SCAN_GATES = ["complexity", "maintainability", "docstrings", "security"]


def results_for(trees, config: EvolveConfig):
    """Run the scan gates over the trees, with scans computed by research."""
    context = build_context(trees.base, trees.head, trees.changed_files, config)
    return {r.gate: r for r in evaluate_gates(build_gates(config), context)}


def test_a_worse_change_fails_the_scan_gates(make_trees):
    trees = make_trees(BASE, {"pkg/core.py": WORSE})
    config = parse_config(
        {"gates": {"enabled": SCAN_GATES, "complexity": {"threshold": 3}, "maintainability": {"floor": 95}}}
    )
    results = results_for(trees, config)
    assert results["complexity"].status == "failed", results["complexity"].summary
    assert results["complexity"].blame == ("pkg/core.py",)
    assert "parse" in results["complexity"].details
    assert results["docstrings"].status == "failed", results["docstrings"].summary
    assert results["docstrings"].blame == ("pkg/core.py",)
    assert results["maintainability"].status == "failed", results["maintainability"].summary
    assert results["security"].status == "failed", results["security"].summary
    assert results["security"].blame == ("pkg/core.py",)
    assert "os-system" in results["security"].summary


def test_a_neutral_or_better_change_passes_them(make_trees):
    trees = make_trees(BASE, {"pkg/core.py": BETTER})
    config = parse_config({"gates": {"enabled": SCAN_GATES}})
    results = results_for(trees, config)
    assert {name: r.status for name, r in results.items()} == dict.fromkeys(SCAN_GATES, "passed"), {
        name: r.summary for name, r in results.items()
    }
    # Only changed files are judged: the eval in pkg/untouched.py is not counted.
    assert results["security"].metrics[0].head == 0
