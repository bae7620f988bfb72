"""Where the `uv` binary is: the one the `uv` wheel ships next to this interpreter, else PATH."""

from __future__ import annotations

import os
import shutil
import subprocess
from functools import lru_cache


@lru_cache(maxsize=1)
def uv_binary() -> str | None:
    """The absolute path of `uv`, or None when it is not installed."""
    try:
        from uv import find_uv_bin

        path = find_uv_bin()
        if path and os.path.exists(path):
            return os.path.realpath(path)
    except (ImportError, FileNotFoundError):
        pass
    found = shutil.which("uv")
    return os.path.realpath(found) if found else None


@lru_cache(maxsize=1)
def uv_version() -> str:
    """`uv 0.5.x` (part of an environment's key: another uv may resolve differently)."""
    uv = uv_binary()
    if uv is None:
        return "uv missing"
    try:
        return subprocess.run([uv, "--version"], capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "uv unknown"
