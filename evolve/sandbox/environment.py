"""The environment a sandboxed command gets: an allow-list of harmless variables, never a secret."""

from __future__ import annotations

import os
from collections.abc import Mapping

from evolve.untrusted_text import SECRET_NAME

# Only these variables are passed through from the parent; everything else is dropped.
PASSTHROUGH = ("LANG", "LC_ALL", "LC_CTYPE", "TZ", "PYTHONHASHSEED")
SANDBOX_PATH = "/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin"


def scrubbed_environment(
    extra: Mapping[str, str] | None = None, parent: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Build the environment for untrusted code: an allow-list of harmless variables, no secrets.

    Raises ValueError when `extra` names a secret-looking variable: that is a caller's bug, never data.
    """
    parent = os.environ if parent is None else parent
    env = {name: parent[name] for name in PASSTHROUGH if name in parent and not SECRET_NAME.search(name)}
    env["PATH"] = SANDBOX_PATH
    env.setdefault("LANG", "C.UTF-8")
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["PYTHONIOENCODING"] = "utf-8"
    env["PIP_NO_INPUT"] = "1"
    env["GIT_TERMINAL_PROMPT"] = "0"
    env["CI"] = "true"
    for name, value in (extra or {}).items():
        if SECRET_NAME.search(name):
            raise ValueError(f"refusing to pass a secret-looking variable {name!r} to untrusted code")
        env[name] = value
    return env
