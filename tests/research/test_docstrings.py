"""Docstring coverage agrees with the interrogate CLI on the same tree."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from evolve.research import scan_repository

TREE = {
    "pkg/__init__.py": "",
    "pkg/core.py": textwrap.dedent('''\
        """Core."""


        class Engine:
            """An engine."""

            def __init__(self):
                pass

            def __repr__(self):
                return "Engine()"

            @property
            def speed(self):
                return 1

            def _tune(self):
                """Tune."""

            def __secret(self):
                pass

            def start(self):
                def helper():
                    pass
                return helper


        async def run():
            """Run."""


        def _private():
            pass
        '''),
    "pkg/sub/more.py": "def f():\n    '''F.'''\n\n\nclass K:\n    class Inner:\n        def g(self):\n            pass\n",
}


def interrogate_cli(root: Path) -> tuple[float, dict[str, tuple[int, int]]]:
    """Run the interrogate CLI and parse its total percentage and per-file (total, missed) counts."""
    done = subprocess.run(
        [sys.executable, "-m", "interrogate", "-v", "--fail-under", "0", "--no-color", "."],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    actual = float(re.search(r"actual: ([\d.]+)%", done.stdout).group(1))
    rows = {}
    for line in done.stdout.splitlines():
        match = re.match(r"\|\s*(\S+\.py)\s*\|\s*(\d+)\s*\|\s*(\d+)\s*\|", line)
        if match:
            rows[match.group(1)] = (int(match.group(2)), int(match.group(3)))
    return actual, rows


@pytest.mark.parametrize(
    "pyproject",
    [
        None,
        "[tool.interrogate]\nignore-init-method = true\nignore-magic = true\nignore-nested-functions = true\n"
        "ignore-private = true\nignore-semiprivate = true\nignore-module = true\nignore-property-decorators = true\n",
        '[tool.interrogate]\nignore-nested-classes = true\nignore-init-module = true\nignore-regex = ["^start$"]\n',
    ],
)
def test_docstring_coverage_matches_interrogate_cli(make_repo, pyproject):
    files = dict(TREE)
    if pyproject:
        files["pyproject.toml"] = pyproject
    repo = make_repo(files)
    result = scan_repository(repo, with_semgrep=False, cache_dir=repo.parent / f"cache-{repo.name}")
    actual, rows = interrogate_cli(repo)
    assert round(result.totals.docstring_coverage, 1) == pytest.approx(actual, abs=0.05)
    for metrics in result.files:
        if metrics.docstrings_total:
            # interrogate names files relative to their common base directory
            (key,) = [name for name in rows if metrics.path == name or metrics.path.endswith("/" + name)]
            total, missed = rows[key]
            assert (metrics.docstrings_total, metrics.docstrings_total - metrics.docstrings_covered) == (total, missed)
