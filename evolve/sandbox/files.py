"""Reading back a file the sandboxed command was asked to write: regular files only, no symlinks, size-capped."""

from __future__ import annotations

import os
import stat
from pathlib import Path


def read_output_file(outputs: Path, name: str, limit: int) -> bytes | None:
    """The bytes of `outputs/name`, or None when it is missing, not a regular file, a symlink, or over `limit`."""
    if "/" in name or name in ("", ".", ".."):
        raise ValueError(f"not a plain file name: {name!r}")
    try:
        directory = os.open(outputs, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError:
        return None
    try:
        descriptor = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=directory)
    except OSError:
        return None
    finally:
        os.close(directory)
    with os.fdopen(descriptor, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
            return None
        data = handle.read(limit + 1)
    return data if len(data) <= limit else None
