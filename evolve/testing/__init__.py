"""Test helpers for plugin authors, shipped with Evolve (its own tests use them too).

- `codemod_test_class(*codemods)`: a pytest class generated from the codemods' examples and valid sources;
  `assert_codemod`, `assert_unchanged`, `assert_detects`, `assert_metadata` for hand-written cases;
  `example_codemod` builds the codemod with an example's settings.
- `build_trees`, `run_gate`, `assert_gate`: a base commit and head worktree made with real git, and a gate
  evaluated over them with the measurements of a real attempt.
- `plugins_installed`: the plugin loader sees entry points as an installed distribution (enable-by-name tests).
"""

from evolve.testing.codemods import (
    apply_codemod,
    assert_codemod,
    assert_detects,
    assert_metadata,
    assert_unchanged,
    codemod_test_class,
    example_codemod,
    example_context,
)
from evolve.testing.gates import GateTrees, assert_gate, build_trees, run_gate
from evolve.testing.installed import plugins_installed, write_distribution

__all__ = [
    "GateTrees",
    "apply_codemod",
    "assert_codemod",
    "assert_detects",
    "assert_gate",
    "assert_metadata",
    "assert_unchanged",
    "build_trees",
    "codemod_test_class",
    "example_codemod",
    "example_context",
    "plugins_installed",
    "run_gate",
    "write_distribution",
]
