"""Per-file and per-function metrics agree with radon on small known code."""

from __future__ import annotations

import textwrap

from radon.complexity import cc_visit
from radon.metrics import mi_visit
from radon.raw import analyze

from evolve.research import scan_repository
from evolve.research.analysis import analyse_source

SOURCE = textwrap.dedent('''\
    """A module."""
    import os  # a comment


    def simple(a):
        """Return a."""
        return a


    def branches(a, b):
        if a and b:
            return 1
        for i in range(3):
            if i:
                continue
        def inner():
            return 2 if a else 3
        return inner


    class Shape:
        """A shape."""

        def area(self):
            return [x for x in range(3) if x]

        def _hidden(self):
            """Private."""
            try:
                return 1
            except ValueError:
                return 2

        class Nested:
            def run(self):
                pass
    ''')


def _by_name(analysis):
    return {f.qualname: f for f in analysis.metrics.functions}


def test_function_complexity_and_qualnames():
    functions = _by_name(analyse_source("m.py", SOURCE))
    assert set(functions) == {"simple", "branches", "branches.inner", "Shape.area", "Shape._hidden", "Shape.Nested.run"}
    assert functions["simple"].complexity == 1
    # if + `and` + for + inner if = 5, the closure is counted on its own
    assert functions["branches"].complexity == 5
    assert functions["branches.inner"].complexity == 2
    assert functions["Shape.area"].complexity == 3
    assert functions["Shape._hidden"].complexity == 2
    assert (functions["simple"].line, functions["simple"].end_line) == (5, 7)
    radon = {b.fullname: b.complexity for b in cc_visit(SOURCE) if hasattr(b, "is_method")}
    for name, value in radon.items():
        assert functions[name].complexity == value


def test_docstring_and_visibility_flags():
    functions = _by_name(analyse_source("m.py", SOURCE))
    assert functions["simple"].has_docstring and functions["simple"].is_public
    assert not functions["branches"].has_docstring
    assert not functions["branches.inner"].is_public  # closures are never public
    assert not functions["Shape._hidden"].is_public and functions["Shape._hidden"].has_docstring
    assert functions["Shape.Nested.run"].is_public


def test_file_metrics_match_radon_raw_and_mi():
    metrics = analyse_source("m.py", SOURCE).metrics
    raw = analyze(SOURCE)
    assert (metrics.loc, metrics.sloc, metrics.comments) == (raw.loc, raw.sloc, raw.comments)
    assert abs(metrics.maintainability - mi_visit(SOURCE, True)) < 1e-3
    # module, simple, branches, inner, Shape, area, _hidden, Nested, run: 4 documented of 9
    assert (metrics.docstrings_covered, metrics.docstrings_total) == (4, 9)


def test_scan_totals_and_findings(make_repo):
    hot = "def hot(x):\n" + "".join(f"    if x == {i}:\n        return {i}\n" for i in range(12)) + "    return -1\n"
    repo = make_repo({"pkg/shapes.py": SOURCE, "pkg/hot.py": hot, "README.md": "not python"})
    result = scan_repository(repo, cache_dir=repo / ".cache-test")
    assert [f.path for f in result.files] == ["pkg/hot.py", "pkg/shapes.py"]
    assert result.totals.files == 2
    assert result.totals.functions == 7
    assert result.totals.max_complexity == 13
    kinds = {(f.kind, f.symbol) for f in result.findings}
    assert ("complexity", "hot") in kinds
    assert ("docstring", "branches") in kinds and ("docstring", "Shape.area") in kinds
    assert ("docstring", "Shape._hidden") not in kinds and ("docstring", "branches.inner") not in kinds
    priorities = [f.priority for f in result.findings]
    assert priorities == sorted(priorities, reverse=True)
    assert all(0 <= p <= 1 for p in priorities)


def test_raw_metrics_equal_radon_including_long_statements():
    from evolve.research.raw_metrics import analyze_raw

    long_literal = "CODES = {\n" + "".join(f'    "k{i}": "\\u{i:04x}",  # c{i}\n' for i in range(300)) + "}\n"
    tricky = 'x = 1; y = 2\nif x: y = 3\ns = """a\n\nb"""\nz = (1 +\n     2)\nw = 1 + \\\n    2\n# only a comment\n'
    for source in (SOURCE, long_literal, tricky, "", "\n\n", "'''doc'''\n"):
        assert analyze_raw(source) == analyze(source)
