"""Test helpers for plugin authors: example-driven codemod tests, a gate harness, and installed-plugin fixtures.

from evolve.testing import codemod_example_tests, run_gate, plugins_installed
"""

from evolve.testing.installed import plugins_installed, write_distribution

__all__ = ["plugins_installed", "write_distribution"]
