"""The environment store: keys, least-recently-used eviction, one builder per key."""

from __future__ import annotations

import multiprocessing
import os
import time
from pathlib import Path

from evolve.environments.declarations import discover
from evolve.environments.install_plan import make_plan
from evolve.environments.interpreters import Interpreter
from evolve.environments.store import IN_USE_SECONDS, EnvironmentStore

PY312 = Interpreter("/py/3.12/bin/python3.12", (3, 12, 1), "/py/3.12")
PY311 = Interpreter("/py/3.11/bin/python3.11", (3, 11, 7), "/py/3.11")
FILES = {"pyproject.toml": '[project]\nname = "x"\n[dependency-groups]\ntest = ["pretend"]\n', "README.md": "hi"}


def _key(files=FILES, interpreter=PY312, **kwargs) -> str:
    return make_plan(discover(files), files, interpreter, runner="pytest", **kwargs).key


def test_key_changes_with_what_decides_the_environment_only():
    key = _key()
    assert key == _key()
    assert key == _key({**FILES, "README.md": "changed"})  # not a dependency file
    assert key != _key({**FILES, "pyproject.toml": FILES["pyproject.toml"] + "# edited\n"})
    assert key != _key({**FILES, "uv.lock": "lock"})
    assert key != _key(interpreter=PY311)
    assert key != _key(configured=["PyYAML"])
    assert key != _key(index=("https://mirror.example/simple",))


def test_plan_adds_runner_and_coverage_only_when_undeclared():
    plan = make_plan(discover(FILES), FILES, PY312, runner="pytest")
    assert plan.requirements == ("pretend", "pytest", "coverage") and plan.added == ("pytest", "coverage")
    declared = {"pyproject.toml": '[dependency-groups]\ntest = ["pytest>=8", "coverage[toml]"]\n'}
    assert make_plan(discover(declared), declared, PY312, runner="pytest").added == ()
    assert make_plan(discover(FILES), FILES, PY312, runner="unittest").added == ("pytest", "coverage")
    nose = {"tox.ini": "[testenv]\ndeps = nose\ncommands = nosetests\n"}  # sortedcontainers 1.5.10
    assert make_plan(discover(nose), nose, PY312, runner="pytest").added == ("pytest", "coverage")
    assert make_plan(discover(nose), nose, PY312, runner="other").added == ("coverage",)
    plan = make_plan(discover(FILES), FILES, PY312, runner="pytest", configured=["PyYAML>=6", "make build", "???"])
    assert "PyYAML>=6" in plan.requirements and plan.commands == ("make build",)
    assert any("???" in note for note in plan.notes)


def _fake_environment(store: EnvironmentStore, key: str, size: int, last_used: float) -> None:
    staged = store.staging(key)
    staged.mkdir()
    (staged / "blob").write_bytes(b"x" * size)
    store.publish(key, staged, {"key": key, "interpreter": "Python 3.12.1", "sources": ["tox.ini [testenv]"]})
    os.utime(store.record_path(key), (last_used, last_used))


def test_least_recently_used_are_evicted_first_and_recent_ones_never(tmp_path):
    store = EnvironmentStore(tmp_path / "envs", max_bytes=250_000)
    now = time.time() + 10 * IN_USE_SECONDS
    _fake_environment(store, "old", 100_000, now - 9 * IN_USE_SECONDS)
    _fake_environment(store, "middle", 100_000, now - 5 * IN_USE_SECONDS)
    _fake_environment(store, "recent", 100_000, now - 3 * IN_USE_SECONDS)
    _fake_environment(store, "in-use", 100_000, now - 60)
    assert [e.key for e in store.entries()] == ["in-use", "recent", "middle", "old"]
    assert store.entries()[0].built_from == "tox.ini [testenv]"
    removed = store.evict(now=now)
    assert removed == ["old", "middle"]
    assert store.evict(max_bytes=0, now=now) == ["recent"]  # "in-use" was used a minute ago
    assert [e.key for e in store.entries()] == ["in-use"]
    assert not any(p.name.startswith(".removing-") for p in store.root.iterdir())


def _build_once(root: str, key: str, log: str) -> None:
    store = EnvironmentStore(Path(root))
    with store.locked(key):
        if store.ready(key) is None:
            with open(log, "a") as handle:
                handle.write("built\n")
            time.sleep(0.3)
            staged = store.staging(key)
            staged.mkdir()
            store.publish(key, staged, {"key": key})


def test_concurrent_builders_of_one_key_build_it_once(tmp_path):
    log = tmp_path / "log"
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_build_once, args=(str(tmp_path / "envs"), "k", str(log))) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
    assert log.read_text() == "built\n"
    store = EnvironmentStore(tmp_path / "envs")
    assert [e.key for e in store.entries()] == ["k"]
    assert not any(p.name.startswith(".building-") for p in store.root.iterdir())


def test_remove_skips_an_environment_being_built(tmp_path):
    store = EnvironmentStore(tmp_path / "envs")
    _fake_environment(store, "k", 10, time.time())
    with store.locked("k"):
        assert store.remove("k") is False
    assert store.remove("k") is True and store.entries() == []


def test_only_changes_to_dependency_files_give_head_its_own_environment(tmp_path):
    from evolve.engine.attempts import BaseMeasurements, _head_environment
    from evolve.environments.model import Environment
    from evolve.environments.project_files import touches_environment

    assert not touches_environment(("pkg/core.py", "tests/test_core.py", "README.md"))
    assert touches_environment(("setup.py",)) and touches_environment(("requirements/test.txt",))
    assert touches_environment(("noxfile.py",)) and touches_environment(("pyproject.toml",))
    base = Environment(python="/envs/base/bin/python", kind="built", description="base", key="base")
    head = Environment(python="/envs/head/bin/python", kind="built", description="head", key="head")
    asked = []
    measured = BaseMeasurements(environment=base, head_environment=lambda tree: asked.append(tree) or head)
    assert _head_environment(tmp_path, ("pkg/core.py",), measured) is base and asked == []
    assert _head_environment(tmp_path, ("pkg/core.py", "setup.py"), measured) is head and asked == [tmp_path]


def test_the_record_lives_outside_the_environment_and_nothing_inside_it_is_read_or_written(tmp_path):
    store = EnvironmentStore(tmp_path / "envs")
    host_file = tmp_path / "host-file"
    host_file.write_text("untouched")
    staged = store.staging("k")
    staged.mkdir()
    # What a hostile build could plant: links where Evolve used to write its metadata and last use.
    (staged / "evolve-environment.json").symlink_to(host_file)
    (staged / "evolve-last-used").symlink_to(host_file)
    store.publish("k", staged, {"key": "k", "mounts": ["/srv/env"]})
    store.touch("k")
    assert host_file.read_text() == "untouched"
    assert store.record_path("k").parent == store.root / ".records"
    assert store.ready("k") == {"key": "k", "mounts": ["/srv/env"], "size_bytes": store.ready("k")["size_bytes"]}
    # A directory under a key without Evolve's record is not an environment, and is swept once stale.
    (store.root / "orphan").mkdir()
    assert store.ready("orphan") is None
    os.utime(store.root / "orphan", (0, 0))
    store.sweep_staging()
    assert not (store.root / "orphan").exists() and store.ready("k") is not None
