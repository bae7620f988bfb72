"""Proof of behaviour: hunks, executed-or-equivalent per hunk, characterization tests and the changed code's metrics."""
