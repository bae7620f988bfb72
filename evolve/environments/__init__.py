"""Each repository's own test environment: discover what it declares, build it with uv in the sandbox, reuse it."""
