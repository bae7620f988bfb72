"""The tiny Python repository the end-to-end tests push to the fake GitHub.

A package with a few codemod opportunities (`class Registry(object)`, `dict()`, `== None`) and one
passing pytest test. Kept as data (not files under tests/) so the project's own pytest never collects it.
Its `.github/evolve.yml` keeps the gates to syntax and tests so a run takes seconds.
"""

from __future__ import annotations

EVOLVE_YML = """\
gates:
  enabled: [syntax, tests]
llm:
  enabled: false
"""

PYPROJECT = """\
[project]
name = "sample"
version = "0.1.0"
requires-python = ">=3.8"

[tool.pytest.ini_options]
testpaths = ["tests"]
"""

PACKAGE = '''\
"""A tiny package with a few things Evolve's codemods improve."""


class Registry(object):
    """Keeps named values."""

    def __init__(self):
        self.items = dict()

    def add(self, name, value):
        """Store a value; None is refused."""
        if value == None:
            raise ValueError("value is required")
        self.items[name] = value

    def get(self, name):
        """The value stored under a name, or None."""
        found = self.items.get(name)
        if found == None:
            return None
        return found
'''

TEST = """\
from sample import Registry


def test_add_and_get():
    registry = Registry()
    registry.add("a", 1)
    assert registry.get("a") == 1
    assert registry.get("b") is None
"""

SAMPLE_FILES: dict[str, str] = {
    ".github/evolve.yml": EVOLVE_YML,
    "pyproject.toml": PYPROJECT,
    "sample/__init__.py": PACKAGE,
    "tests/test_sample.py": TEST,
}
