"""Fixtures for every test: no test reads or writes the user's caches."""

import pytest


@pytest.fixture(autouse=True)
def _private_cache_dir(tmp_path_factory, monkeypatch):
    """Base test results are cached on disk; each test gets its own, empty cache directory."""
    monkeypatch.setenv("EVOLVE_CACHE_DIR", str(tmp_path_factory.mktemp("evolve-cache")))
