"""The trusted git layer on real repositories: trust check, tree export, commits from edits, branches."""

import os

import pytest

from evolve.git.branches import branch_sha, choose_branch, set_branch
from evolve.git.command import GitError, git_environment, hardened_argv
from evolve.git.command import run_git as git_layer
from evolve.git.commits import CommitMismatch, commit_edits, verify_commit
from evolve.git.diffs import summarize
from evolve.git.trees import export_tree
from evolve.git.trust import UntrustedRepository, check_config, open_repository
from tests.repo_factory import make_repo, run_git


def test_not_a_repository_is_a_clear_error(tmp_path):
    with pytest.raises(GitError, match="not inside a git repository"):
        open_repository(tmp_path)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("core.fsmonitor", "/tmp/evil"),
        ("filter.x.clean", "sh -c id"),
        ("url.http://127.0.0.1:9/.insteadOf", "https://github.com/"),
        ("include.path", "/tmp/other"),
        ("includeIf.gitdir:/.path", "/tmp/other"),
        ("core.sshCommand", "sh -c id"),
        ("diff.py.textconv", "cat"),
        ("http.extraHeader", "X: y"),
        ("credential.helper", "store"),
        ("remote.origin.uploadpack", "sh -c id"),
    ],
)
def test_repository_config_that_can_run_code_is_refused_by_name(tmp_path, key, value):
    repo = make_repo(tmp_path / "r", {"a.py": "x = 1\n"})
    run_git(repo, "config", key, value)
    with pytest.raises(UntrustedRepository) as caught:
        open_repository(repo)
    section, _, rest = key.partition(".")
    subsection, _, variable = rest.rpartition(".")
    expected = ".".join(p for p in (section.lower(), subsection, variable.lower()) if p)
    assert caught.value.key == expected and expected in str(caught.value)
    assert "not trusted" in str(caught.value) and "--unset-all" in str(caught.value)


def test_a_husky_hooks_path_is_tolerated_in_a_checkout_and_its_hooks_never_run(tmp_path):
    repo = make_repo(tmp_path / "r", {"a.py": "x = 1\n"})
    hooks = repo / ".husky"
    hooks.mkdir()
    marker = tmp_path / "hook-ran"
    for name in ("pre-commit", "commit-msg", "post-commit", "post-checkout", "reference-transaction"):
        (hooks / name).write_text(f"#!/bin/sh\ntouch {marker}\n")
        (hooks / name).chmod(0o755)
    run_git(repo, "config", "core.hooksPath", ".husky")
    found = open_repository(repo)  # the user's checkout: accepted
    assert found.work_tree == repo.resolve()
    git_layer(["commit", "--allow-empty", "-m", "through Evolve's git layer"], repo)
    git_layer(["checkout", "-q", "-b", "other"], repo)
    assert not marker.exists()  # Evolve's own git calls run with core.hooksPath=/dev/null
    # the App's mirror (a bare repository Evolve owns) stays strict
    with pytest.raises(UntrustedRepository, match=r"core\.hookspath"):
        check_config(repo, repo / ".git", repo / ".git")


def test_a_harmless_config_is_accepted_and_fsmonitor_off_is_fine(tmp_path):
    repo = make_repo(tmp_path / "r", {"a.py": "x = 1\n"})
    run_git(repo, "config", "core.fsmonitor", "false")
    run_git(repo, "config", "remote.origin.url", "https://github.com/o/r.git")
    found = open_repository(repo)
    assert found.work_tree == repo.resolve() and not found.bare


def test_environment_is_built_from_scratch(monkeypatch):
    monkeypatch.setenv("GIT_DIR", "/tmp/elsewhere")
    monkeypatch.setenv("EVOLVE_WEBHOOK_SECRET", "s3cret-value-123")
    env = git_environment()
    assert "GIT_DIR" not in env and "EVOLVE_WEBHOOK_SECRET" not in env
    assert env["GIT_CONFIG_NOSYSTEM"] == "1" and env["GIT_CONFIG_GLOBAL"] == os.devnull
    argv = " ".join(hardened_argv(["status"]))
    assert "core.hooksPath=/dev/null" in argv and "protocol.allow=never" in argv and "core.fsmonitor=false" in argv


def test_export_is_exact_bytes_without_git_dir_filters_or_escaping_links(tmp_path):
    files = {"a.py": b"x = 1\n", "tool.sh": "echo hi\n", ".gitattributes": "*.py text eol=crlf filter=x\n"}
    repo = make_repo(tmp_path / "r", files)
    os.symlink("a.py", repo / "inside")
    os.symlink("/etc/passwd", repo / "outside")
    (repo / "tool.sh").chmod(0o755)
    run_git(repo, "add", "-A")
    run_git(repo, "commit", "-q", "-m", "links")
    tree = export_tree(repo / ".git", run_git(repo, "rev-parse", "HEAD").strip(), tmp_path / "out")
    assert (tree.path / "a.py").read_bytes() == b"x = 1\n"  # the stored blob, no eol conversion
    assert os.access(tree.path / "tool.sh", os.X_OK)
    assert os.readlink(tree.path / "inside") == "a.py"
    assert not (tree.path / "outside").exists() and "outside" in tree.skipped
    assert not (tree.path / ".git").exists()


def test_commit_holds_only_the_edits_with_modes_kept(tmp_path):
    repo = make_repo(tmp_path / "r", {"a.py": "x = 1\n", "run.sh": "echo\n"})
    (repo / "run.sh").chmod(0o755)
    run_git(repo, "commit", "-q", "-am", "exec")
    (repo / "junk.txt").write_text("not committed\n")  # anything else in the directory stays out
    base = run_git(repo, "rev-parse", "HEAD").strip()
    contents = {"a.py": "x = 2\n", "run.sh": "echo hi\n", "pkg/new.py": "y = 1\n"}
    sha = commit_edits(repo / ".git", base, contents, "evolve: test\n")
    assert set(run_git(repo, "diff", "--name-only", base, sha).split()) == set(contents)
    assert run_git(repo, "ls-tree", sha, "run.sh").split()[0] == "100755"
    assert run_git(repo, "log", "-1", "--format=%an <%ae>|%cn", sha).strip() == (
        "evolve-bot[bot] <evolve-bot[bot]@users.noreply.github.com>|evolve-bot[bot]"
    )
    report = summarize(
        (p, run_git(repo, "show", f"{base}:{p}") if p != "pkg/new.py" else "", t) for p, t in contents.items()
    )
    verify_commit(repo / ".git", base, sha, contents, report.text)
    assert report.changed_lines["a.py"] == (1,)
    assert run_git(repo, "status", "--porcelain").strip() == "?? junk.txt"


def test_a_commit_that_differs_from_the_report_is_refused(tmp_path):
    repo = make_repo(tmp_path / "r", {"a.py": "x = 1\n"})
    base = run_git(repo, "rev-parse", "HEAD").strip()
    sha = commit_edits(repo / ".git", base, {"a.py": "x = 2\n", "leak.txt": "secret\n"}, "m\n")
    reported = summarize([("a.py", "x = 1\n", "x = 2\n")])
    with pytest.raises(CommitMismatch, match="not reported: leak.txt"):
        verify_commit(repo / ".git", base, sha, {"a.py": "x = 2\n"}, reported.text)
    good = commit_edits(repo / ".git", base, {"a.py": "x = 2\n"}, "m\n")
    with pytest.raises(CommitMismatch, match="differs from the diff"):
        verify_commit(repo / ".git", base, good, {"a.py": "x = 2\n"}, reported.text.replace("x = 2", "x = 3"))


def test_hooks_of_the_repository_do_not_run(tmp_path):
    repo = make_repo(tmp_path / "r", {"a.py": "x = 1\n"})
    for name in ("pre-commit", "post-commit", "reference-transaction", "post-checkout"):
        hook = repo / ".git" / "hooks" / name
        hook.write_text(f"#!/bin/sh\ntouch {tmp_path}/hook-ran\n", encoding="utf-8")
        hook.chmod(0o755)
    base = run_git(repo, "rev-parse", "HEAD").strip()
    sha = commit_edits(repo / ".git", base, {"a.py": "x = 2\n"}, "msg\n")
    set_branch(repo / ".git", "evolve/x", sha, None)
    assert not (tmp_path / "hook-ran").exists()


def test_checked_out_branch_is_not_moved(tmp_path):
    repo = make_repo(tmp_path / "r", {"a.py": "x = 1\n"})
    with pytest.raises(GitError, match="checked out"):
        set_branch(repo / ".git", "main", run_git(repo, "rev-parse", "HEAD").strip(), None)


def test_a_branch_with_a_persons_commit_is_left_alone(tmp_path):
    repo = make_repo(tmp_path / "r", {"a.py": "x = 1\n"})
    gd = repo / ".git"
    base = run_git(repo, "rev-parse", "HEAD").strip()
    ours = commit_edits(gd, base, {"a.py": "x = 2\n"}, "evolve\n")
    set_branch(gd, "evolve/t-1", ours, None)
    assert choose_branch(gd, "evolve/t-1", base, {ours}).name == "evolve/t-1"  # only our commit: may move
    run_git(repo, "checkout", "-q", "evolve/t-1")
    (repo / "a.py").write_text("x = 'mine'\n")
    run_git(repo, "commit", "-q", "-am", "a person's work")
    run_git(repo, "checkout", "-q", "main")
    choice = choose_branch(gd, "evolve/t-1", base, {ours})
    assert choice.name == "evolve/t-1-2" and "did not make" in choice.note and "Test" in choice.note
    forged = commit_edits(gd, base, {"a.py": "x = 3\n"}, "looks like ours\n")  # bot identity, not in the ledger
    set_branch(gd, "evolve/u-1", forged, None)
    assert choose_branch(gd, "evolve/u-1", base, {ours}).name == "evolve/u-1-2"
    assert branch_sha(gd, "evolve/t-1") != ours


def test_a_commit_that_does_not_match_the_report_is_not_published(tmp_path, monkeypatch):
    from evolve import engine
    from evolve.git import publish
    from evolve.runs import RunOptions
    from tests.repo_factory import SAMPLE_PACKAGE

    repo = make_repo(tmp_path / "r", SAMPLE_PACKAGE)
    real = publish.commit_edits

    def smuggling(git_dir, base, contents, message, identity=publish.commit_edits.__defaults__[0]):  # type: ignore[no-untyped-def]
        return real(git_dir, base, {**contents, "smuggled.txt": "x\n"}, message)

    monkeypatch.setattr(publish, "commit_edits", smuggling)
    report = engine.run_engine(repo, RunOptions(focus="correctness"))
    assert report.status == "error" and "not reported: smuggled.txt" in report.message
    assert run_git(repo, "branch", "--list", "evolve/*").strip() == ""


def test_old_worktrees_and_crashed_run_trees_are_swept(tmp_path):
    from evolve.engine import run_engine
    from evolve.runs import RunOptions
    from evolve.sandbox.scratch import OWNER_FILE

    repo = make_repo(tmp_path / "r", {"pkg.py": '"""Doc."""\n'})
    run_git(repo, "worktree", "add", "-q", "--detach", str(repo / ".git" / "evolve" / "work" / "old" / "head"))
    work = tmp_path / "work"
    crashed = work / "crashed-run"
    (crashed / "base").mkdir(parents=True)
    (crashed / OWNER_FILE).write_text(f"{__import__('socket').gethostname()} 999999999\n")
    report = run_engine(repo, RunOptions(work_dir=work, run_id="fresh"))
    assert report.status == "nothing-to-do"
    assert not (repo / ".git" / "evolve" / "work").exists()
    assert run_git(repo, "worktree", "list").count("\n") == 1 and not list((repo / ".git" / "worktrees").glob("*"))
    assert not crashed.exists() and not (work / "fresh").exists()


def test_a_work_directory_others_can_write_is_refused(tmp_path):
    from evolve.engine import run_engine
    from evolve.runs import RunOptions

    repo = make_repo(tmp_path / "r", {"pkg.py": '"""Doc."""\n'})
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o777)
    shared.chmod(0o777)
    report = run_engine(repo, RunOptions(work_dir=shared))
    assert report.status == "error" and "others can write" in report.message
    (tmp_path / "link").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    (tmp_path / "elsewhere").mkdir()
    report = run_engine(repo, RunOptions(work_dir=tmp_path / "link"))
    assert report.status == "error" and "not a directory" in report.message
