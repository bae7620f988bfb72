"""The tree copy and the output directory live on the host's disk: a suite writing many files is stopped."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from evolve.sandbox import ResourceLimits, SandboxSpec, interpreter_mounts, record_interpreter, run_sandboxed
from evolve.sandbox.disk import DiskWatch, disk_usage

FILL = """
import os, sys, time
for number in range(200):
    with open(f"/work/repo/fill-{number}", "wb") as handle:
        handle.write(b"x" * 4 * 1024 * 1024)
    print(number, flush=True)
    time.sleep(0.02)
print("finished", flush=True)
"""


def test_many_files_in_the_tree_copy_stop_the_run(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "module.py").write_text("x = 1\n", encoding="utf-8")
    result = run_sandboxed(
        SandboxSpec(
            argv=(sys.executable, "-c", FILL),
            timeout=120,
            tree=tree,
            mounts=interpreter_mounts(sys.executable),
            limits=ResourceLimits(disk_bytes=64 * 1024**2),
        )
    )
    written = [line for line in result.stdout.splitlines() if line.isdigit()]
    assert result.disk_exceeded and not result.timed_out and not result.ok
    assert "finished" not in result.stdout
    assert len(written) < 60  # 800 MiB were asked for; the run stopped within a few seconds of 64 MiB
    assert "disk" in result.stderr
    assert sorted(p.name for p in tree.iterdir()) == ["module.py"]  # the original tree never saw a byte


def test_a_run_within_the_limit_is_untouched(tmp_path: Path) -> None:
    result = run_sandboxed(
        SandboxSpec(
            argv=(sys.executable, "-c", "open('/work/repo/small', 'wb').write(b'x' * 1024)"),
            timeout=60,
            tree=tmp_path,
            mounts=interpreter_mounts(sys.executable),
            limits=ResourceLimits(disk_bytes=64 * 1024**2),
        )
    )
    assert result.ok and not result.disk_exceeded


def test_the_watch_sums_allocated_blocks_and_throttles(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "one").write_bytes(b"x" * 200_000)
    (tmp_path / "two").write_bytes(b"y" * 200_000)
    assert disk_usage(tmp_path) >= 400_000
    watch = DiskWatch((tmp_path, None), limit=1_000_000, interval=3600)
    assert not watch.over_limit()
    (tmp_path / "three").write_bytes(b"z" * 2_000_000)
    assert not watch.over_limit()  # measured at most once per interval
    assert DiskWatch((tmp_path,), limit=1_000_000).over_limit()


def test_another_venv_on_the_same_base_python_is_mounted_as_itself(tmp_path: Path) -> None:
    other = tmp_path / "other-venv"
    # Made by the base interpreter, as uv makes a repository's venv. (Python 3.10's venv module run from inside
    # Evolve's venv would link the new one to Evolve's venv, which then must be mounted for it to start.)
    base_python = os.path.realpath(sys.executable)
    subprocess.run([base_python, "-m", "venv", "--symlinks", "--without-pip", str(other)], check=True)
    with pytest.raises(ValueError, match="not an interpreter Evolve built or probed"):
        interpreter_mounts(str(other / "bin" / "python"))  # no record: its pyvenv.cfg decides nothing
    record_interpreter(str(other / "bin" / "python"), [str(other), sys.base_prefix])
    mounted = {mount.target for mount in interpreter_mounts(str(other / "bin" / "python"))}
    assert str(other) in mounted
    assert sys.prefix not in mounted or sys.prefix == str(other)
