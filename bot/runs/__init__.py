"""Runs: queue a run once, claim it in turn, execute the engine for it with the operator's limits, always close it."""
