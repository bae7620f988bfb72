"""Tokens: the web process mints installation tokens for workers, which ask it for them (the secrets zone's door)."""
