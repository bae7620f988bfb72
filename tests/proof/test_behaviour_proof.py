"""Per-hunk proof of an edit: tested, equivalent, unverified or dropped (pure: a TestRun value in)."""

from evolve.codemods.base import Change
from evolve.edits import FileEdit
from evolve.proof.behaviour import prove_edits
from evolve.suites.runs import TestRun

BEFORE = "import os\nimport sys\n\n\ndef f(x):\n    if x:\n        return 1\n    else:\n        return 2\n"
AFTER = "import sys\n\n\ndef f(x):\n    if x:\n        return 1\n    return 2\n"
CHANGES = (
    Change("unused-imports", 1, "removed unused import `os`"),
    Change("redundant-else", 6, "redundant else/elif after an exiting branch flattened"),
)
EDIT = FileEdit("pkg/mod.py", BEFORE, AFTER, "codemods", CHANGES)
RISKY = frozenset({"unused-imports", "redundant-else"})


def _run(covered, executable=(1, 2, 5, 6, 7, 9), path="pkg/mod.py"):
    return TestRun(
        command=("python", "-m", "pytest"),
        returncode=0,
        timed_out=False,
        duration=1.0,
        passed=3,
        covered_lines={path: list(covered)},
        executable_lines={path: list(executable)},
    )


def test_executed_hunks_are_tested_and_kept():
    proof = prove_edits((EDIT,), _run([1, 2, 5, 6, 7, 9]), RISKY)
    # Executed either way; the flattened else is also proven equivalent, the stronger claim.
    assert [h.verdict for h in proof.hunks] == ["tested", "equivalent"]
    assert [h.execution for h in proof.hunks] == ["executed", "executed"]
    assert proof.kept == (EDIT,) and proof.executed_share() == 1.0


def test_an_unexecuted_risky_hunk_is_dropped_unless_proven_equivalent():
    # Nothing ran: the import removal is unprovable (an import can have side effects) and goes;
    # the flattened else is AST-equivalent and stays, labelled as such.
    proof = prove_edits((EDIT,), _run([]), RISKY)
    assert [(h.codemods, h.verdict) for h in proof.hunks] == [
        (("unused-imports",), "dropped"),
        (("redundant-else",), "equivalent"),
    ]
    (kept,) = proof.kept
    assert kept.after.startswith("import os\nimport sys\n") and "else" not in kept.after
    assert [c.codemod for c in kept.changes] == ["redundant-else"]
    assert proof.hunks[1].symbol == "f" and proof.executed_share() == 0.0


def test_a_file_the_measured_run_never_imported_counts_as_not_executed():
    proof = prove_edits((EDIT,), _run([1], path="pkg/other.py"), RISKY)
    assert [h.verdict for h in proof.hunks] == ["dropped", "equivalent"]
    assert all(h.execution == "not-executed" for h in proof.hunks)


def test_low_risk_unexecuted_hunks_stay_but_are_labelled_unverified():
    proof = prove_edits((EDIT,), _run([]), frozenset())
    assert [h.verdict for h in proof.hunks] == ["unverified", "equivalent"]
    assert proof.kept == (EDIT,) and [h.base_start for h in proof.unverified] == [1]


def test_without_coverage_nothing_is_measured_and_risky_unproven_hunks_go():
    proof = prove_edits((EDIT,), None, RISKY)
    assert not proof.measured and proof.executed_share() is None
    assert [h.execution for h in proof.hunks] == ["not-measured", "not-measured"]
    assert [h.verdict for h in proof.hunks] == ["dropped", "equivalent"]


def test_an_edit_left_with_nothing_is_dropped_whole():
    only_import = FileEdit("pkg/mod.py", "import os\nx = 1\n", "x = 1\n", "codemods", (CHANGES[0],))
    proof = prove_edits((only_import,), _run([], executable=(1, 2)), RISKY)
    assert proof.kept == () and [h.verdict for h in proof.dropped] == ["dropped"]


def test_changed_code_metrics_name_the_touched_functions_and_files():
    from types import SimpleNamespace

    from evolve.findings import FileMetrics, FunctionMetrics
    from evolve.proof.changed_metrics import changed_code_metrics

    def scan(complexity, mi):
        functions = (
            FunctionMetrics("Cache", 1, 30, 1, True, True),
            FunctionMetrics("Cache.get", 5, 20, complexity, True, True),
            FunctionMetrics("other", 40, 45, 2, True, True),
        )
        return SimpleNamespace(files=(FileMetrics("pkg/mod.py", 50, 40, 2, mi, functions, 3, 3),))

    rows = changed_code_metrics(scan(5, 60.0), scan(4, 62.5), {"pkg/mod.py": [(10, 12)]}, {"pkg/mod.py": [(10, 11)]})
    assert [(r.symbol, r.metric, r.before, r.after) for r in rows] == [
        (None, "maintainability index", 60.0, 62.5),
        ("Cache.get", "cyclomatic complexity", 5, 4),
    ]


def test_a_dedented_block_split_by_blank_lines_is_one_change_kept_or_left_whole():
    import libcst as cst

    from evolve.codemods.base import CodemodContext
    from evolve.codemods.redundant_else import RedundantElse

    before = (
        "def get(self, index):\n    if isinstance(index, slice):\n        return list(index)\n    else:\n"
        "        if index == 0:\n            return 0\n        elif index == -1:\n            return -1\n\n"
        "        size = len(self)\n\n        return size\n"
    )
    module, changes = RedundantElse().transform(cst.parse_module(before), CodemodContext())
    edit = FileEdit("pkg/mod.py", before, module.code, "codemods", tuple(changes))
    proof = prove_edits((edit,), None, RISKY)
    # Several diff hunks (split at the blank lines), two changes (the else and the nested elif): one decision.
    assert len(changes) == 2
    (hunk,) = proof.hunks
    assert hunk.verdict == "equivalent" and proof.kept == (edit,)
    assert (hunk.base_start, hunk.base_end) == (4, 12)
