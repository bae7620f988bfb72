"""The learning store: a real SQLite file of outcomes per repository and codemod."""

import pytest

from evolve.plan.learning import LearningStore, acceptance_rate, is_blocked


def test_acceptance_rate_is_smoothed_and_bounded():
    assert acceptance_rate(0, 0) == 0.5
    assert acceptance_rate(3, 0) > acceptance_rate(1, 0) > 0.5
    assert acceptance_rate(0, 3) < acceptance_rate(0, 1) < 0.5
    assert 0 < acceptance_rate(0, 100) < acceptance_rate(100, 0) < 1
    with pytest.raises(ValueError):
        acceptance_rate(-1, 0)


def test_two_closed_unmerged_block_unless_reenabled():
    assert not is_blocked(1)
    assert is_blocked(2)
    assert not is_blocked(2, reenabled=True)


def test_store_counts_per_repository(tmp_path):
    store = LearningStore(tmp_path / "learn.sqlite")
    store.record("repo-a", ["none-comparison", "not-in"], "proposed")
    store.record("repo-a", ["none-comparison"], "merged")
    store.record("repo-a", ["not-in"], "closed")
    store.record("repo-a", ["not-in"], "closed")
    store.record("repo-b", ["not-in"], "merged")
    reopened = LearningStore(tmp_path / "learn.sqlite")  # persisted in the file
    stats = {s.codemod: s for s in reopened.stats("repo-a")}
    assert (stats["none-comparison"].proposed, stats["none-comparison"].merged) == (1, 1)
    assert stats["not-in"].closed == 2
    assert reopened.acceptance("repo-a")["none-comparison"] > 0.5 > reopened.acceptance("repo-a")["not-in"]
    assert reopened.blocked("repo-a") == {"not-in"}
    assert reopened.blocked("repo-a", reenabled=["not-in"]) == frozenset()
    assert reopened.blocked("repo-b") == frozenset()
    with pytest.raises(ValueError):
        reopened.record("repo-a", ["x"], "rejected")  # type: ignore[arg-type]
