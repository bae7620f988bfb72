"""Real git repositories for tests: write files, `git init`, commit."""

from __future__ import annotations

import subprocess
import textwrap
from pathlib import Path

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test Author",
    "GIT_AUTHOR_EMAIL": "author@example.com",
    "GIT_COMMITTER_NAME": "Test Author",
    "GIT_COMMITTER_EMAIL": "author@example.com",
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "HOME": "/tmp",
}


def run_git(root: Path, *args: str) -> str:
    """Run git in `root` with a fixed identity; return stdout."""
    return subprocess.run(["git", *args], cwd=root, env=GIT_ENV, check=True, capture_output=True, text=True).stdout


def make_repo(root: Path, files: dict[str, str | bytes], commit: bool = True) -> Path:
    """Create a git repository at `root` holding `files` (dedented text or raw bytes), committed."""
    root.mkdir(parents=True, exist_ok=True)
    run_git(root, "init", "-q", "-b", "main")
    write_files(root, files)
    if commit and files:
        run_git(root, "add", "-A")
        run_git(root, "commit", "-q", "-m", "initial")
    return root


def write_files(root: Path, files: dict[str, str | bytes]) -> None:
    """Write files relative to root."""
    for relative, content in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content).lstrip("\n"), encoding="utf-8")


def commit_all(root: Path, message: str = "change") -> str:
    """Commit everything; return the sha."""
    run_git(root, "add", "-A")
    run_git(root, "commit", "-q", "-m", message)
    return run_git(root, "rev-parse", "HEAD").strip()


# A small package with codemod opportunities and a passing test suite.
SAMPLE_PACKAGE: dict[str, str | bytes] = {
    "pyproject.toml": """
        [project]
        name = "sample"
        version = "0.1"
        requires-python = ">=3.10"

        [tool.pytest.ini_options]
        testpaths = ["tests"]
    """,
    "sample/__init__.py": '"""Sample package."""\n',
    "sample/shapes.py": '''
        """Shapes."""


        class Shape(object):
            """A shape."""

            def __init__(self, name):
                self.name = name
                self.tags = dict()

            def is_unnamed(self):
                """Whether the shape has no name."""
                return self.name == None

            def has_tag(self, tag):
                """Whether the tag is set."""
                return not tag in self.tags


        class Square(Shape):
            """A square."""

            def __init__(self, side):
                super(Square, self).__init__("square")
                self.side = side

            def area(self):
                """The area."""
                return self.side * self.side
    ''',
    "sample/numbers.py": '''
        """Numbers."""


        def clamp(value, low, high):
            """Clamp value into [low, high]."""
            if value == None:
                return low
            return max(low, min(high, value))
    ''',
    "tests/test_shapes.py": """
        from sample.numbers import clamp
        from sample.shapes import Shape, Square


        def test_square():
            square = Square(3)
            assert square.area() == 9
            assert not square.is_unnamed()
            assert square.has_tag("x")


        def test_unnamed():
            assert Shape(None).is_unnamed()


        def test_clamp():
            assert clamp(None, 1, 5) == 1
            assert clamp(9, 1, 5) == 5
    """,
}
