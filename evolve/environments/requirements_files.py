"""Reading pip requirement files and requirement strings as data: includes stay inside the tree."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from packaging.requirements import InvalidRequirement, Requirement

# Conventional places where a project lists what its tests (or its development) need.
TEST_REQUIREMENT_FILES = (
    "requirements-test.txt",
    "requirements-tests.txt",
    "requirements-testing.txt",
    "requirements_test.txt",
    "requirements_tests.txt",
    "test-requirements.txt",
    "tests-requirements.txt",
    "test_requirements.txt",
    "requirements/test.txt",
    "requirements/tests.txt",
    "requirements/testing.txt",
    "tests/requirements.txt",
    "test/requirements.txt",
)
DEV_REQUIREMENT_FILES = (
    "requirements-dev.txt",
    "requirements_dev.txt",
    "dev-requirements.txt",
    "requirements/dev.txt",
    "requirements/development.txt",
)
_OPTION_WITH_VALUE = re.compile(r"^(-r|--requirement|-c|--constraint)(?:\s*=?\s*)(?P<path>\S+)$")
_INLINE_OPTION = re.compile(r"\s--?[a-z][\w-]*(=\S+|\s+\S+)?")
_SELF = re.compile(r"^(?:-e\s+|--editable\s+)?\.(?:/)?(?:\[(?P<extras>[^\]]*)\])?$")


@dataclass(frozen=True)
class RequirementSet:
    """Requirements read from one declaration, with what they ask of the project itself."""

    requirements: tuple[str, ...] = ()
    constraints: tuple[str, ...] = ()
    self_extras: tuple[str, ...] = ()  # `.[test]` / `-e .[test]` lines: the project with these extras
    installs_self: bool = False
    files: tuple[str, ...] = ()  # every requirement file read, includes too
    dropped: tuple[str, ...] = ()  # lines we will not pass on, with why

    def merged(self, other: RequirementSet) -> RequirementSet:
        """Both sets, in order, without duplicates."""
        return RequirementSet(
            requirements=_unique((*self.requirements, *other.requirements)),
            constraints=_unique((*self.constraints, *other.constraints)),
            self_extras=_unique((*self.self_extras, *other.self_extras)),
            installs_self=self.installs_self or other.installs_self,
            files=_unique((*self.files, *other.files)),
            dropped=_unique((*self.dropped, *other.dropped)),
        )


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def inside_tree(path: str, relative_to: str = "") -> str | None:
    """`path` (relative to the directory `relative_to`) normalised inside the tree, or None if it leaves it."""
    if path.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", path) or "://" in path:
        return None
    joined = posixpath.normpath(posixpath.join(relative_to, path))
    if joined == ".." or joined.startswith("../") or joined.startswith("/"):
        return None
    return joined


# pytest plugins that only shape the output for one CI service. Old releases break today's pytest at startup
# (sqlparse 0.2.4's tox deps name pytest-travis-fold, which imports `py.builtin`, gone from pytest's `py` shim).
CI_OUTPUT_PLUGINS = frozenset(
    {"pytest-travis-fold", "pytest-azurepipelines", "pytest-teamcity", "pytest-github-actions-annotate-failures"}
)


def classify_requirement(text: str, base_dir: str = "") -> RequirementSet:
    """One requirement as a project wrote it: a PEP 508 string, the project itself, or a local path."""
    line = text.strip()
    if not line:
        return RequirementSet()
    self_match = _SELF.match(line)
    if self_match:
        extras = tuple(e.strip() for e in (self_match.group("extras") or "").split(",") if e.strip())
        return RequirementSet(self_extras=extras, installs_self=True)
    editable = re.match(r"^(-e|--editable)\s+(?P<path>\S+)$", line)
    candidate = editable.group("path") if editable else line
    if candidate.startswith((".", "/")) or (editable and "://" not in candidate):
        local = inside_tree(candidate.split("[", 1)[0], base_dir)
        if local is None:
            return RequirementSet(dropped=(f"{line} (a path outside the repository)",))
        if local == ".":
            return classify_requirement("." + candidate[len(candidate.split("[", 1)[0]) :])
        suffix = candidate[len(candidate.split("[", 1)[0]) :]
        return RequirementSet(requirements=(f"./{local}{suffix}",))
    if line.startswith("-"):
        return RequirementSet(dropped=(f"{line} (a pip option)",))
    try:
        name = Requirement(line).name
    except InvalidRequirement:
        return RequirementSet(dropped=(f"{line} (not a valid requirement)",))
    if re.sub(r"[-_.]+", "-", name).lower() in CI_OUTPUT_PLUGINS:
        return RequirementSet(
            dropped=(f"{line} (a plugin that formats a CI service's output: not needed to run the tests)",)
        )
    return RequirementSet(requirements=(line,))


def read_requirement_file(files: Mapping[str, str], path: str) -> RequirementSet:
    """Flatten a requirements file and its `-r`/`-c` includes (only those inside the tree)."""
    return _read(files, path, set())


def _logical_lines(text: str) -> list[str]:
    lines: list[str] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].rstrip() if not raw.lstrip().startswith("#") else ""
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        lines.append((pending + line).strip())
        pending = ""
    if pending.strip():
        lines.append(pending.strip())
    return [line for line in lines if line]


def _read(files: Mapping[str, str], path: str, seen: set[str]) -> RequirementSet:
    if path in seen or path not in files:
        return RequirementSet(dropped=(f"-r {path} (not in the repository)",) if path not in files else ())
    seen.add(path)
    result = RequirementSet(files=(path,))
    base_dir = posixpath.dirname(path)
    for line in _logical_lines(files[path]):
        include = _OPTION_WITH_VALUE.match(line)
        if include:
            target = inside_tree(include.group("path"), base_dir)
            if target is None:
                result = result.merged(RequirementSet(dropped=(f"{line} (a file outside the repository)",)))
                continue
            nested = _read(files, target, seen)
            if include.group(1) in ("-c", "--constraint"):
                nested = RequirementSet(
                    constraints=(*nested.constraints, *nested.requirements), files=nested.files, dropped=nested.dropped
                )
            result = result.merged(nested)
            continue
        # `pkg==1.0 --hash=sha256:...` and other per-line options: the requirement is what decides.
        stripped = _INLINE_OPTION.sub("", " " + line).strip() if not line.startswith("-") else line
        result = result.merged(classify_requirement(stripped, base_dir))
    return result


def requirement_set(items: Iterable[str], base_dir: str = "") -> RequirementSet:
    """Classify several requirement strings (from a TOML list, tox deps, nox install calls)."""
    result = RequirementSet()
    for item in items:
        result = result.merged(classify_requirement(item, base_dir))
    return result


def requirement_name(requirement: str) -> str | None:
    """The normalised distribution name of a PEP 508 string, or None for paths and invalid text."""
    try:
        return re.sub(r"[-_.]+", "-", Requirement(requirement).name).lower()
    except InvalidRequirement:
        return None
