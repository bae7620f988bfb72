"""Poetry's dependency tables turned into PEP 508 requirement strings."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any


def poetry_constraint(constraint: str) -> str:
    """A Poetry version constraint (`^1.2`, `~1.2.3`, `1.2.*`, `>=1,<2`, `*`) as a PEP 440 specifier."""
    parts = [part.strip() for part in constraint.split(",") if part.strip()]
    converted = [_one(part) for part in parts]
    return ",".join(c for c in converted if c)


def _one(part: str) -> str:
    if part in ("*", ""):
        return ""
    if part.startswith("^"):
        return _caret(part[1:].strip())
    if part.startswith("~") and not part.startswith("~="):
        return _tilde(part[1:].strip())
    if re.match(r"^[<>=!~]", part):
        return part
    return f"=={part}"


def _numbers(version: str) -> list[int]:
    return [int(n) for n in re.findall(r"\d+", version.split("+", 1)[0])[:3]] or [0]


def _caret(version: str) -> str:
    numbers = _numbers(version)
    for index, number in enumerate(numbers):
        if number != 0 or index == len(numbers) - 1:
            upper = [*numbers[:index], number + 1]
            break
    return f">={version},<{'.'.join(map(str, upper))}"


def _tilde(version: str) -> str:
    numbers = _numbers(version)
    upper = [numbers[0] + 1] if len(numbers) == 1 else [numbers[0], numbers[1] + 1]
    return f">={version},<{'.'.join(map(str, upper))}"


def poetry_requirements(table: Mapping[str, Any]) -> list[str]:
    """`{name: constraint | {version, extras, path, git, markers}}` as requirement strings (`python` excluded)."""
    found: list[str] = []
    for name, spec in table.items():
        if not isinstance(name, str) or name.lower() == "python":
            continue
        items = spec if isinstance(spec, list) else [spec]
        for item in items[:1]:  # multiple-constraint entries: the first one applies to the common case
            requirement = _requirement(name, item)
            if requirement:
                found.append(requirement)
    return found


def _requirement(name: str, spec: Any) -> str | None:
    if isinstance(spec, str):
        return f"{name}{poetry_constraint(spec)}"
    if not isinstance(spec, dict):
        return None
    extras = spec.get("extras") or []
    extra_text = f"[{','.join(e for e in extras if isinstance(e, str))}]" if extras else ""
    if isinstance(spec.get("path"), str):
        path = spec["path"].rstrip("/")
        return f"{path if path.startswith('.') else './' + path}{extra_text}"
    if isinstance(spec.get("git"), str):
        ref = spec.get("rev") or spec.get("tag") or spec.get("branch")
        return f"{name}{extra_text} @ git+{spec['git']}" + (f"@{ref}" if ref else "")
    if isinstance(spec.get("url"), str):
        return f"{name}{extra_text} @ {spec['url']}"
    version = poetry_constraint(str(spec.get("version", "*")))
    markers = spec.get("markers")
    return f"{name}{extra_text}{version}" + (f"; {markers}" if isinstance(markers, str) else "")
