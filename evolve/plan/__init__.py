"""Plan: findings turned into one PR-sized, single-theme task set, ranked, learned from, and rendered for people."""
