#!/usr/bin/env python3
"""Turn PyPI source distributions into small git repositories, for a local test corpus.

For each ``NAME==VERSION`` (or bare ``NAME``: the newest version the index serves) this script

1. downloads the sdist with ``<this python> -m pip download --no-binary :all: --no-deps``,
2. extracts it safely (``tarfile`` data filter where available, plus our own checks: no absolute
   paths, no ``..``, no links leaving the tree, no device files; the same rules for zip files),
3. moves the project to ``DEST/<name>-<version>`` (name normalised as in PEP 503),
4. runs ``git init``, sets a local user name and e-mail, commits every file as
   ``Import NAME VERSION sdist``, and prints the repository path on stdout.

It is idempotent: a destination that already is a git repository with a commit is skipped (its path
is still printed). A destination that exists but is not such a repository is an error unless
``--force`` is given.

With ``--install-test-deps VENV`` it also installs, into that virtual environment (a venv directory or
a python executable), what each project's test suite needs, best-effort: ``pytest``, the project's
runtime requirements, its ``test``/``tests``/``testing`` extras (PKG-INFO, pyproject.toml,
setup.cfg, setup.py), ``[dependency-groups]`` test groups, ``tox.ini`` ``[testenv] deps`` and
``requirements*test*.txt`` files. Requirements already satisfied are skipped, and requirements that
would change a version already installed are *not* applied unless ``--allow-changes`` is given, so a
shared environment is never downgraded behind its users' backs. A report is printed on stderr.

The project itself is not installed (tests run from the checkout; for a ``src/`` layout run them
with ``PYTHONPATH=src``, the report says so).

Only the package index is contacted (through pip). Exit codes:

  0  every spec imported (or already present) and, if asked, every test requirement installed
  1  at least one spec could not be downloaded, extracted or committed
  2  bad usage (unparsable spec, missing --dest, unusable venv)
  3  every spec imported, but some test requirements could not be installed (requirements left
     alone because they would change an installed version are reported, not counted as failures)
"""

from __future__ import annotations

import argparse
import ast
import configparser
import email.parser
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

try:  # Python 3.11+
    import tomllib
except ImportError:  # pragma: no cover - Python 3.10: tomli if present, else pyproject.toml is not read
    try:
        import tomli as tomllib  # type: ignore[no-redef]
    except ImportError:
        tomllib = None  # type: ignore[assignment]


EXIT_OK = 0
EXIT_IMPORT_FAILED = 1
EXIT_USAGE = 2
EXIT_TEST_DEPS_INCOMPLETE = 3

TEST_EXTRAS = ("test", "tests", "testing")
GIT_USER = ("Evolve corpus", "corpus@evolve.invalid")
SPEC_RE = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:==\s*([A-Za-z0-9.+!_-]+))?\s*$")


class CorpusError(Exception):
    """A failure importing one spec, with a message meant for humans."""


@dataclass
class Imported:
    """The outcome of importing one spec."""

    spec: str
    name: str
    version: str
    path: Path
    skipped: bool  # already there


@dataclass
class DepsReport:
    """What installing one project's test requirements did."""

    project: str
    wanted: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    installed: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    left_alone: list[str] = field(default_factory=list)  # would change an installed version
    failed: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # local paths, editable installs, options
    notes: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """Whether every requirement we meant to install got installed (left-alone ones aside)."""
        return not self.failed


# --------------------------------------------------------------------------- helpers


def canonical_name(name: str) -> str:
    """Normalise a distribution name the PEP 503 way (lower case, runs of -_. become -)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def parse_spec(spec: str) -> tuple[str, str | None]:
    """Split ``NAME==VERSION`` (or ``NAME``) into its parts; raise ValueError when malformed."""
    match = SPEC_RE.match(spec)
    if not match:
        raise ValueError(f"not a NAME==VERSION spec: {spec!r}")
    return match.group(1), match.group(2)


def run(
    argv: list[str], cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 900
) -> subprocess.CompletedProcess[str]:
    """Run a command, capture its output as text, never raise on a non-zero exit."""
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)


def pip_env() -> dict[str, str]:
    """The environment for pip: no prompts, no version-check chatter."""
    env = dict(os.environ)
    env.setdefault("PIP_DISABLE_PIP_VERSION_CHECK", "1")
    env["PIP_NO_INPUT"] = "1"
    return env


def git_env() -> dict[str, str]:
    """The environment for git: ignore global/system config so results are reproducible."""
    env = dict(os.environ)
    env["GIT_CONFIG_NOSYSTEM"] = "1"
    env["GIT_CONFIG_GLOBAL"] = os.devnull
    env["GIT_TERMINAL_PROMPT"] = "0"
    return env


def is_git_repo_with_commit(path: Path) -> bool:
    """Whether `path` is the top of a git repository that has at least one commit."""
    if not (path / ".git").exists():
        return False
    result = run(["git", "rev-parse", "--verify", "-q", "HEAD"], cwd=path, env=git_env())
    return result.returncode == 0


# --------------------------------------------------------------------------- safe extraction


def _check_member_name(name: str) -> PurePosixPath:
    """Reject absolute names and names climbing out with ``..``; return the relative path."""
    if not name or "\x00" in name:
        raise CorpusError(f"archive member with an unusable name: {name!r}")
    posix = PurePosixPath(name.replace("\\", "/"))
    if posix.is_absolute() or re.match(r"^[A-Za-z]:", name) or ".." in posix.parts:
        raise CorpusError(f"archive member escapes the destination: {name!r}")
    return posix


def _within(root: Path, target: Path) -> bool:
    """Whether `target` (resolved) lies inside `root` (resolved)."""
    try:
        target.resolve().relative_to(root.resolve())
    except ValueError:
        return False
    return True


def extract_archive(archive: Path, into: Path) -> None:
    """Extract a .tar.gz/.tar.bz2/.tar/.zip sdist into `into`, refusing anything unsafe."""
    into.mkdir(parents=True, exist_ok=True)
    name = archive.name.lower()
    if name.endswith(".zip"):
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                rel = _check_member_name(info.filename)
                mode = (info.external_attr >> 16) & 0o177777
                if mode and stat.S_ISLNK(mode):
                    raise CorpusError(f"symbolic link in zip sdist refused: {info.filename}")
                if not _within(into, into / rel):
                    raise CorpusError(f"archive member escapes the destination: {info.filename}")
            zf.extractall(into)
        return
    if not (name.endswith((".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".tar"))):
        raise CorpusError(f"unknown archive type: {archive.name}")
    with tarfile.open(archive) as tf:
        members = tf.getmembers()
        for member in members:
            rel = _check_member_name(member.name)
            if member.isdev() or member.isfifo():
                raise CorpusError(f"device or fifo in sdist refused: {member.name}")
            if member.issym() or member.islnk():
                link = PurePosixPath(member.linkname.replace("\\", "/"))
                base = rel.parent if member.issym() else PurePosixPath()
                if link.is_absolute() or not _within(into, into / base / link):
                    raise CorpusError(f"link leaving the tree refused: {member.name} -> {member.linkname}")
        if hasattr(tarfile, "data_filter"):
            tf.extractall(into, members=members, filter="data")
        else:  # pragma: no cover - Python without PEP 706; members were checked above
            tf.extractall(into, members=members)


def project_root(extracted: Path) -> Path:
    """The sdist's single top-level directory (or the extraction dir if files sit at the top)."""
    entries = [p for p in extracted.iterdir()]
    if len(entries) == 1 and entries[0].is_dir():
        return entries[0]
    return extracted


def read_pkg_info(root: Path) -> email.message.Message | None:
    """Parse the sdist's PKG-INFO (core metadata), if present."""
    pkg_info = root / "PKG-INFO"
    if not pkg_info.is_file():
        return None
    return email.parser.Parser().parsestr(pkg_info.read_text(encoding="utf-8", errors="replace"))


# --------------------------------------------------------------------------- import one spec


def download_sdist(name: str, version: str | None, workdir: Path) -> Path:
    """Download the sdist of NAME[==VERSION] into `workdir` with pip; return the archive."""
    requirement = f"{name}=={version}" if version else name
    argv = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-binary",
        ":all:",
        "--no-deps",
        requirement,
        "-d",
        str(workdir),
    ]
    result = run(argv, env=pip_env())
    if result.returncode != 0:
        tail = "\n".join((result.stderr or result.stdout).strip().splitlines()[-6:])
        raise CorpusError(f"pip download {requirement} failed (exit {result.returncode}):\n{tail}")
    archives = [
        p for p in workdir.iterdir() if p.is_file() and re.search(r"\.(tar\.gz|tgz|tar\.bz2|tar\.xz|tar|zip)$", p.name)
    ]
    if len(archives) != 1:
        raise CorpusError(f"expected one sdist for {requirement}, pip left {[p.name for p in workdir.iterdir()]}")
    return archives[0]


def version_from_archive(archive: Path, name: str) -> str:
    """Guess the version from an sdist file name like ``python_slugify-9.2.0.tar.gz``."""
    stem = re.sub(r"\.(tar\.gz|tgz|tar\.bz2|tar\.xz|tar|zip)$", "", archive.name)
    prefix = re.compile(
        re.sub(r"[-_.]+", "[-_.]+", re.escape(canonical_name(name)).replace(r"\-", "-")) + "-", re.IGNORECASE
    )
    match = prefix.match(stem)
    if not match:
        raise CorpusError(f"cannot tell the version from {archive.name}")
    return stem[match.end() :]


def git_commit_all(path: Path, name: str, version: str) -> None:
    """Initialise a repository at `path` and commit every file in it."""
    env = git_env()
    steps = [
        ["git", "-c", "init.defaultBranch=main", "init", "-q"],
        ["git", "config", "user.name", GIT_USER[0]],
        ["git", "config", "user.email", GIT_USER[1]],
        ["git", "config", "commit.gpgsign", "false"],
        ["git", "add", "-A", "--force", "."],
        ["git", "commit", "-q", "--no-verify", "-m", f"Import {name} {version} sdist"],
    ]
    for argv in steps:
        result = run(argv, cwd=path, env=env)
        if result.returncode != 0:
            raise CorpusError(f"{' '.join(argv[:3])} failed in {path}: {(result.stderr or result.stdout).strip()}")


def import_spec(spec: str, dest: Path, force: bool = False) -> Imported:
    """Download, extract and commit one spec under `dest`; skip it if it is already there."""
    name, version = parse_spec(spec)
    canon = canonical_name(name)
    if version:
        target = dest / f"{canon}-{version}"
        if is_git_repo_with_commit(target) and not force:
            return Imported(spec, canon, version, target, skipped=True)
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".sdist-", dir=dest) as tmp:
        tmpdir = Path(tmp)
        download_dir = tmpdir / "download"
        download_dir.mkdir()
        archive = download_sdist(name, version, download_dir)
        if version is None:
            version = version_from_archive(archive, name)
            target = dest / f"{canon}-{version}"
            if is_git_repo_with_commit(target) and not force:
                return Imported(spec, canon, version, target, skipped=True)
        extracted = tmpdir / "extract"
        extract_archive(archive, extracted)
        root = project_root(extracted)
        info = read_pkg_info(root)
        if info is not None and info.get("Version") and info.get("Version") != version:
            print(f"note: {spec}: PKG-INFO says version {info.get('Version')}", file=sys.stderr)
        if target.exists():
            if not force:
                raise CorpusError(
                    f"{target} exists but is not a git repository with a commit; use --force to replace it"
                )
            shutil.rmtree(target)
        git_commit_all(root, name, version)
        os.replace(root, target)
    return Imported(spec, canon, version, target, skipped=False)


# --------------------------------------------------------------------------- test requirements


def _strip_comment(line: str) -> str:
    """Drop a ``#`` comment (pip's rule: only when preceded by whitespace or at line start)."""
    return re.split(r"(^|\s)#", line, maxsplit=1)[0].strip()


def requirements_from_file(path: Path, seen: set[Path] | None = None) -> tuple[list[str], list[str]]:
    """Read a requirements file, following ``-r`` includes; return (requirements, ignored lines)."""
    seen = set() if seen is None else seen
    reqs: list[str] = []
    ignored: list[str] = []
    try:
        path = path.resolve()
    except OSError:
        return reqs, ignored
    if path in seen or not path.is_file():
        return reqs, ignored
    seen.add(path)
    for raw in path.read_text(encoding="utf-8", errors="replace").splitlines():
        line = _strip_comment(raw)
        if not line:
            continue
        include = re.match(r"^(?:-r|--requirement)\s*=?\s*(\S+)", line)
        if include:
            more, more_ignored = requirements_from_file(path.parent / include.group(1), seen)
            reqs += more
            ignored += more_ignored
            continue
        if line.startswith(("-", ".")) or ("/" in line.split(";")[0] and "://" not in line):
            ignored.append(line)
            continue
        reqs.append(line)
    return reqs, ignored


def _extras_requirements(extras: dict[str, object]) -> list[str]:
    """Collect the requirements of the test-like extras from a mapping extra -> list."""
    found: list[str] = []
    for key, value in extras.items():
        if canonical_name(str(key)) in TEST_EXTRAS:
            if isinstance(value, str):
                value = [v for v in value.splitlines()]
            found += [str(v).strip() for v in value if str(v).strip()]  # type: ignore[union-attr]
    return found


def requirements_from_setup_py(path: Path) -> tuple[list[str], list[str]]:
    """Literal ``install_requires``/``tests_require``/``extras_require`` from setup.py (via ast)."""
    runtime: list[str] = []
    tests: list[str] = []
    try:
        tree = ast.parse(path.read_text(encoding="utf-8", errors="replace"))
    except (SyntaxError, ValueError):
        return runtime, tests
    for node in ast.walk(tree):
        if not isinstance(node, ast.keyword):
            continue
        try:
            value = ast.literal_eval(node.value)
        except (ValueError, SyntaxError, TypeError):
            continue
        if node.arg == "install_requires" and isinstance(value, (list, tuple)):
            runtime += [str(v) for v in value]
        elif node.arg == "tests_require" and isinstance(value, (list, tuple)):
            tests += [str(v) for v in value]
        elif node.arg == "extras_require" and isinstance(value, dict):
            tests += _extras_requirements(value)
    return runtime, tests


def collect_test_requirements(root: Path) -> DepsReport:
    """Everything the project at `root` declares for running its tests, with where it came from."""
    report = DepsReport(project=root.name)
    wanted: list[str] = ["pytest"]

    def add(source: str, reqs: list[str]) -> None:
        if reqs:
            report.sources.append(f"{source}: {', '.join(reqs)}")
            wanted.extend(reqs)

    # Core metadata: runtime requirements and test extras, already evaluated by the build backend.
    info = read_pkg_info(root)
    have_runtime = False
    if info is not None and info.get_all("Requires-Dist"):
        runtime, tests = [], []
        for req in info.get_all("Requires-Dist") or []:
            if "extra" in req.split(";", 1)[-1] and ";" in req:
                marker_extra = re.search(r"extra\s*==\s*['\"]([^'\"]+)['\"]", req)
                if marker_extra and canonical_name(marker_extra.group(1)) in TEST_EXTRAS:
                    tests.append(_drop_extra_marker(req))
            else:
                runtime.append(req)
        add("PKG-INFO Requires-Dist", runtime)
        add("PKG-INFO test extras", tests)
        have_runtime = bool(runtime) or bool(tests)

    pyproject = root / "pyproject.toml"
    if pyproject.is_file() and tomllib is not None:
        try:
            data = tomllib.loads(pyproject.read_text(encoding="utf-8", errors="replace"))
        except tomllib.TOMLDecodeError:
            data = {}
        project = data.get("project", {})
        if not have_runtime:
            add("pyproject [project] dependencies", [str(r) for r in project.get("dependencies", []) or []])
            add("pyproject test extras", _extras_requirements(project.get("optional-dependencies", {}) or {}))
        groups = data.get("dependency-groups", {}) or {}
        group_reqs = []
        for key, value in groups.items():
            if canonical_name(key) in TEST_EXTRAS:
                group_reqs += [r for r in value if isinstance(r, str)]  # include-group tables are skipped
        add("pyproject [dependency-groups]", group_reqs)

    setup_cfg = root / "setup.cfg"
    if setup_cfg.is_file() and not have_runtime:
        parser = configparser.ConfigParser(interpolation=None)
        try:
            parser.read(setup_cfg, encoding="utf-8")
            if parser.has_option("options", "install_requires"):
                add(
                    "setup.cfg install_requires",
                    [req.strip() for req in parser.get("options", "install_requires").splitlines() if req.strip()],
                )
            if parser.has_section("options.extras_require"):
                add("setup.cfg test extras", _extras_requirements(dict(parser.items("options.extras_require"))))
        except configparser.Error as exc:
            report.notes.append(f"setup.cfg unreadable: {exc}")

    setup_py = root / "setup.py"
    if setup_py.is_file():
        runtime, tests = requirements_from_setup_py(setup_py)
        if not have_runtime:
            add("setup.py install_requires", runtime)
        add("setup.py tests_require/test extras", tests)

    tox_ini = root / "tox.ini"
    if tox_ini.is_file():
        parser = configparser.ConfigParser(interpolation=None, strict=False)
        try:
            parser.read(tox_ini, encoding="utf-8")
            if parser.has_option("testenv", "deps"):
                reqs = []
                for line in parser.get("testenv", "deps").splitlines():
                    line = _strip_comment(line)
                    if not line:
                        continue
                    line = (
                        re.sub(r"^[\w,-]+:\s*", "", line) if re.match(r"^[\w,.-]+:\s", line) else line
                    )  # factor conditions
                    line = line.replace("{toxinidir}", str(root)).replace("{toxinidir}/", str(root) + "/")
                    include = re.match(r"^-r\s*(\S+)", line)
                    if include:
                        more, ignored = requirements_from_file(root / include.group(1))
                        reqs += more
                        report.ignored += ignored
                    elif line.startswith(("-", ".")) or "{" in line:
                        report.ignored.append(line)
                    else:
                        reqs.append(line)
                add("tox.ini [testenv] deps", reqs)
        except configparser.Error as exc:
            report.notes.append(f"tox.ini unreadable: {exc}")

    add("pytest addopts plugins", plugins_from_addopts(root))

    req_files = sorted(
        p
        for pattern in (
            "requirements*test*.txt",
            "test*requirements*.txt",
            "requirements/test*.txt",
            "requirements/*test*.txt",
            "requirements-dev.txt",
        )
        for p in root.glob(pattern)
    )
    for req_file in dict.fromkeys(req_files):
        reqs, ignored = requirements_from_file(req_file)
        report.ignored += ignored
        add(str(req_file.relative_to(root)), reqs)

    if (root / "src").is_dir() and not any((root / d).is_dir() for d in ("src/tests",)):
        report.notes.append("src/ layout: run the tests with PYTHONPATH=src (the project itself is not installed)")
    own = canonical_name(info.get("Name", "")) if info is not None else ""
    deduped: dict[str, str] = {}
    for req in wanted:
        key = _req_name(req)
        if own and key == own:
            continue  # the project itself (e.g. a self-referencing extra)
        deduped.setdefault(key, req)
    report.wanted = list(deduped.values())
    return report


ADDOPTS_PLUGINS = (
    ("--cov", "pytest-cov"),
    ("-n", "pytest-xdist"),
    ("--numprocesses", "pytest-xdist"),
    ("--timeout", "pytest-timeout"),
    ("--benchmark", "pytest-benchmark"),
    ("--mypy", "pytest-mypy"),
    ("--reruns", "pytest-rerunfailures"),
    ("--randomly", "pytest-randomly"),
    ("--asyncio-mode", "pytest-asyncio"),
)


def plugins_from_addopts(root: Path) -> list[str]:
    """pytest plugins that the project's configured ``addopts`` need (e.g. ``--cov`` → pytest-cov)."""
    texts: list[str] = []
    pyproject = root / "pyproject.toml"
    if pyproject.is_file() and tomllib is not None:
        try:
            data = tomllib.loads(pyproject.read_text(encoding="utf-8", errors="replace"))
            addopts = data.get("tool", {}).get("pytest", {}).get("ini_options", {}).get("addopts", "")
            texts.append(" ".join(addopts) if isinstance(addopts, list) else str(addopts))
        except tomllib.TOMLDecodeError:
            pass
    for name, section in (("pytest.ini", "pytest"), ("tox.ini", "pytest"), ("setup.cfg", "tool:pytest")):
        path = root / name
        if path.is_file():
            parser = configparser.ConfigParser(interpolation=None, strict=False)
            try:
                parser.read(path, encoding="utf-8")
                if parser.has_option(section, "addopts"):
                    texts.append(parser.get(section, "addopts"))
            except configparser.Error:
                pass
    words = " ".join(texts).split()
    found = []
    for option, plugin in ADDOPTS_PLUGINS:
        if any(
            word == option or word.startswith(option + "=") or (option.startswith("--") and word.startswith(option))
            for word in words
        ):
            found.append(plugin)
    return list(dict.fromkeys(found))


def _drop_extra_marker(req: str) -> str:
    """Remove the ``extra == "..."`` clause of a Requires-Dist marker, keeping other conditions."""
    head, _, marker = req.partition(";")
    marker = re.sub(r"\(?\s*extra\s*==\s*['\"][^'\"]+['\"]\s*\)?", "", marker)
    marker = re.sub(r"^\s*(and|or)\s+|\s+(and|or)\s*$", "", marker.strip())
    return f"{head.strip()}; {marker}" if marker.strip() else head.strip()


def _req_name(req: str) -> str:
    """The canonical distribution name a requirement string is about."""
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", req)
    return canonical_name(match.group(1)) if match else req


def venv_python(venv: str) -> Path:
    """The python executable of a venv directory (or `venv` itself if it is an executable)."""
    path = Path(venv)
    if path.is_dir():
        for candidate in (path / "bin" / "python", path / "Scripts" / "python.exe"):
            if candidate.exists():
                return candidate
        raise FileNotFoundError(f"no bin/python in {venv}")
    if path.is_file() and os.access(path, os.X_OK):
        return path
    raise FileNotFoundError(f"not a venv or a python executable: {venv}")


_STATE_SCRIPT = r"""
import json, sys
from importlib import metadata
try:
    from packaging.requirements import Requirement
    from packaging.markers import default_environment
except ImportError:
    from pip._vendor.packaging.requirements import Requirement
    from pip._vendor.packaging.markers import default_environment
out = {}
for raw in json.load(sys.stdin):
    try:
        req = Requirement(raw)
    except Exception as exc:
        out[raw] = ["unparsable", str(exc)]
        continue
    if req.marker is not None and not req.marker.evaluate({"extra": ""}):
        out[raw] = ["not-applicable", ""]
        continue
    try:
        have = metadata.version(req.name)
    except metadata.PackageNotFoundError:
        out[raw] = ["missing", ""]
        continue
    ok = req.specifier.contains(have, prereleases=True) if req.specifier else True
    out[raw] = ["satisfied" if ok else "conflict", have]
print(json.dumps(out))
"""


def requirement_states(python: Path, reqs: list[str]) -> dict[str, tuple[str, str]]:
    """Ask the target interpreter which requirements are satisfied, missing or conflicting."""
    result = subprocess.run(
        [str(python), "-c", _STATE_SCRIPT], input=json.dumps(reqs), capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        return {r: ("missing", "") for r in reqs}
    return {k: (v[0], v[1]) for k, v in json.loads(result.stdout).items()}


def install_test_requirements(root: Path, python: Path, allow_changes: bool) -> DepsReport:
    """Install the test requirements of the project at `root` into the interpreter `python`."""
    report = collect_test_requirements(root)
    states = requirement_states(python, report.wanted)
    to_install: list[str] = []
    for req in report.wanted:
        state, have = states.get(req, ("missing", ""))
        if state in ("satisfied", "not-applicable"):
            report.already.append(req if state == "satisfied" else f"{req} (marker false)")
        elif state == "conflict" and not allow_changes:
            report.left_alone.append(f"{req} (installed: {have})")
        elif state == "unparsable":
            report.ignored.append(f"{req} ({have})")
        else:
            to_install.append(req)
    if not to_install:
        return report
    base = [str(python), "-m", "pip", "install", "-q"]
    result = run(base + to_install, env=pip_env())
    if result.returncode == 0:
        report.installed += to_install
        return report
    for req in to_install:  # one by one, to tell which ones fail
        single = run([*base, req], env=pip_env())
        if single.returncode == 0:
            report.installed.append(req)
        else:
            last = (single.stderr or single.stdout).strip().splitlines()[-1:] or [""]
            report.failed.append(f"{req} ({last[0][:160]})")
    return report


def print_deps_report(report: DepsReport) -> None:
    """Write one project's test-requirement report to stderr."""
    err = sys.stderr
    print(f"== test requirements of {report.project}", file=err)
    for source in report.sources:
        print(f"   from {source}", file=err)
    for label, items in (
        ("installed", report.installed),
        ("already satisfied", report.already),
        ("LEFT ALONE (would change an installed version; --allow-changes)", report.left_alone),
        ("FAILED", report.failed),
        ("ignored", report.ignored),
    ):
        if items:
            print(f"   {label}: {', '.join(items)}", file=err)
    for note in report.notes:
        print(f"   note: {note}", file=err)


# --------------------------------------------------------------------------- CLI


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    parser = argparse.ArgumentParser(
        prog="sdist_to_git.py",
        description=__doc__.split("\n\n")[0],
        epilog=__doc__[__doc__.index("For each") :],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "specs",
        nargs="+",
        metavar="NAME[==VERSION]",
        help="distributions to import; without a version, the newest the index serves",
    )
    parser.add_argument(
        "--dest", required=True, type=Path, help="directory that receives one <name>-<version> repository per spec"
    )
    parser.add_argument(
        "--force", action="store_true", help="replace a destination that exists (even a finished import)"
    )
    parser.add_argument(
        "--install-test-deps",
        metavar="VENV",
        help="install each project's test requirements into this venv (dir or python executable)",
    )
    parser.add_argument(
        "--allow-changes",
        action="store_true",
        help="with --install-test-deps: also apply requirements that change an installed version",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code documented in the module docstring."""
    args = build_parser().parse_args(argv)
    for spec in args.specs:
        try:
            parse_spec(spec)
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_USAGE
    python: Path | None = None
    if args.install_test_deps:
        try:
            python = venv_python(args.install_test_deps)
        except FileNotFoundError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_USAGE
    if shutil.which("git") is None:
        print("error: git is not on PATH", file=sys.stderr)
        return EXIT_USAGE

    failed = False
    deps_incomplete = False
    for spec in args.specs:
        try:
            imported = import_spec(spec, args.dest, force=args.force)
        except (CorpusError, OSError, subprocess.SubprocessError, tarfile.TarError, zipfile.BadZipFile) as exc:
            print(f"error: {spec}: {exc}", file=sys.stderr)
            failed = True
            continue
        state = "already there" if imported.skipped else "imported"
        print(f"{spec}: {state}", file=sys.stderr)
        print(imported.path)
        sys.stdout.flush()
        if python is not None:
            report = install_test_requirements(imported.path, python, args.allow_changes)
            print_deps_report(report)
            deps_incomplete |= not report.complete
    if failed:
        return EXIT_IMPORT_FAILED
    return EXIT_TEST_DEPS_INCOMPLETE if deps_incomplete else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
