"""Mutation evidence: mutants of a change's covered, non-arid lines, run against the tests that cover them."""
