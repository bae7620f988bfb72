"""Make plugins discoverable in a test as if their distribution were installed: a real `*.dist-info` directory
with an `entry_points.txt`, put on `sys.path`, read by `importlib.metadata` like any installed package."""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from evolve.plugins import refresh_installed_plugins

EntryPoints = Mapping[str, Mapping[str, str]]  # group -> name -> "module:attribute"


def write_distribution(directory: Path, entry_points: EntryPoints, name: str = "evolve-test-plugins") -> Path:
    """Write a minimal installed-distribution record declaring `entry_points` into `directory`; return its path."""
    dist_info = Path(directory) / f"{name.replace('-', '_')}-0.0.0.dist-info"
    dist_info.mkdir(parents=True, exist_ok=True)
    (dist_info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.0.0\n", encoding="utf-8")
    sections = []
    for group, points in entry_points.items():
        lines = "".join(f"{point} = {target}\n" for point, target in points.items())
        sections.append(f"[{group}]\n{lines}")
    (dist_info / "entry_points.txt").write_text("\n".join(sections), encoding="utf-8")
    return dist_info


@contextmanager
def plugins_installed(entry_points: EntryPoints, name: str = "evolve-test-plugins") -> Iterator[Path]:
    """Within the block, Evolve's plugin loader sees `entry_points` as an installed distribution called `name`."""
    from evolve.codemods.registry import available_codemods

    with tempfile.TemporaryDirectory(prefix="evolve-plugins-") as directory:
        write_distribution(Path(directory), entry_points, name)
        sys.path.insert(0, directory)
        refresh_installed_plugins()
        available_codemods.cache_clear()
        try:
            yield Path(directory)
        finally:
            sys.path.remove(directory)
            refresh_installed_plugins()
            available_codemods.cache_clear()
