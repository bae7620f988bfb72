"""Evolve: research, plan, refactor with LibCST, prove through gates, open pull requests."""

__version__ = "0.1.0"
