"""Gating: find the configured gate plugins, give each a context, and collect their results for an attempt."""
