"""The project's rules as one frozen value: each tool's settings and the questions Evolve asks of them. Pure."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Literal

from evolve.project_rules.selectors import glob_covers, per_file_codes, regex_excludes, resolve_code

CodeState = Literal["disabled", "enforced", "free"]
Formatter = Literal["ruff", "black"]
# Codes a codemod declares in the `pylint:` namespace (`pylint:no-else-return`, `pylint:R1705`).
PYLINT_PREFIX = "pylint:"
ANNOTATION_CODES = ("ANN",)


@dataclass(frozen=True)
class LinterRules:
    """One linter's rule selection (ruff or flake8), already merged from its config files and pre-commit args."""

    tool: Literal["ruff", "flake8"]
    source: str  # where the settings came from, for the report: "pyproject.toml", ".flake8", "pre-commit"
    select: tuple[str, ...]
    ignore: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    exclude: tuple[str, ...] = ()  # globs
    exclude_regexes: tuple[str, ...] = ()  # pre-commit hook `exclude:` patterns
    line_length: int | None = None
    hook_args: tuple[str, ...] = ()  # selection arguments the project's pre-commit hook passes
    local_plugins: bool = False  # flake8 `[flake8:local-plugins]`: the linter imports repository code

    def excludes(self, path: str) -> str | None:
        """The exclude pattern that keeps this linter away from `path`, or None."""
        for pattern in self.exclude:
            if glob_covers(path, pattern):
                return pattern
        for pattern in self.exclude_regexes:
            if regex_excludes(path, pattern):
                return pattern
        return None

    def code_state(self, code: str, path: str) -> tuple[CodeState, str]:
        """`disabled` when the project ignores `code` (globally or for `path`), `enforced` when it checks it there."""
        selected, winner = resolve_code(code, self.select, self.ignore)
        if not selected and winner is not None:
            return "disabled", f"{self.tool} ignores {winner} ({self.source})"
        for pattern, selectors in self.per_file_ignores:
            if per_file_codes(path, ((pattern, selectors),)) and resolve_code(code, (), selectors)[1]:
                return "disabled", f"{self.tool} ignores {code} in {pattern} ({self.source})"
        if selected:
            return "enforced", f"{self.tool} checks {code} ({self.source})"
        return "free", ""


@dataclass(frozen=True)
class PylintRules:
    """The messages the project disables in pylint (symbols and ids, lower-cased)."""

    source: str
    disabled: frozenset[str] = frozenset()


@dataclass(frozen=True)
class BlackRules:
    """Black's settings: line length, target versions, and its exclude regexes."""

    source: str
    line_length: int = 88
    target_versions: tuple[str, ...] = ()
    excludes: tuple[str, ...] = ()  # exclude / extend-exclude / force-exclude regexes
    skip_string_normalization: bool = False


@dataclass(frozen=True)
class IsortRules:
    """isort's profile and line length."""

    source: str
    profile: str | None = None
    line_length: int | None = None
    skip: tuple[str, ...] = ()


@dataclass(frozen=True)
class MypyOverride:
    """A per-module mypy section: which modules, and the settings Evolve cares about."""

    modules: tuple[str, ...]
    ignore_errors: bool | None = None
    disallow_untyped_defs: bool | None = None

    def covers(self, module: str) -> bool:
        """Whether the override applies to a dotted module name (`pkg.*` covers `pkg` and below)."""
        for pattern in self.modules:
            if pattern.endswith(".*") and (module == pattern[:-2] or module.startswith(pattern[:-1])):
                return True
            if fnmatch.fnmatchcase(module, pattern):
                return True
        return False


@dataclass(frozen=True)
class MypyRules:
    """mypy's settings: what it checks, how strictly, plugins, and per-module overrides."""

    source: str
    files: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()  # regexes
    strict: bool = False
    disallow_untyped_defs: bool = False
    plugins: tuple[str, ...] = ()
    python_version: str | None = None
    overrides: tuple[MypyOverride, ...] = ()
    python_executable: str | None = None  # mypy runs this program to find packages: repository code

    def exempts_annotations(self, path: str) -> str | None:
        """Why mypy does not want annotations checked at `path` (excluded, errors ignored, untyped defs allowed)."""
        for pattern in self.exclude:
            if regex_excludes(path, pattern):
                return f"mypy excludes {pattern} ({self.source})"
        module = module_name(path)
        for override in self.overrides:
            if not override.covers(module):
                continue
            modules = ", ".join(override.modules)
            if override.ignore_errors:
                return f"mypy ignores errors in {modules} ({self.source})"
            if override.disallow_untyped_defs is False:
                return f"mypy allows untyped defs in {modules} ({self.source})"
        return None


@dataclass(frozen=True)
class PyrightRules:
    """pyright's settings: what it includes, excludes and ignores, and how strictly."""

    source: str
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    type_checking_mode: str | None = None

    def exempts_annotations(self, path: str) -> str | None:
        """Why pyright does not check `path`, if it does not."""
        for pattern in (*self.exclude, *self.ignore):
            if glob_covers(path, pattern):
                return f"pyright excludes {pattern} ({self.source})"
        return None


@dataclass(frozen=True)
class PreCommitHook:
    """One hook of `.pre-commit-config.yaml`: what it runs and with which arguments."""

    repo: str
    id: str
    args: tuple[str, ...] = ()
    files: str | None = None
    exclude: str | None = None
    additional_dependencies: tuple[str, ...] = ()

    @property
    def fixed_codes(self) -> tuple[str, ...]:
        """The lint codes this hook rewrites on every commit, if it is a rewriting tool (pyupgrade, autoflake)."""
        if self.id == "pyupgrade":
            targets = [arg.removeprefix("--py3").removesuffix("-plus") for arg in self.args]
            minor = max((int(target) for target in targets if target.isdigit()), default=0)
            codes = ["UP004", "UP008"]  # `object` bases and `super()` arguments: every Python 3 target
            codes += ["UP006", "UP035"] if minor >= 9 else []
            codes += ["UP007", "UP045"] if minor >= 10 else []
            return tuple(codes)
        if self.id == "autoflake" and "--remove-all-unused-imports" in self.args:
            return ("F401",)
        return ()


@dataclass(frozen=True)
class RuleVerdict:
    """What the project's rules say about one codemod at one path."""

    state: CodeState
    reason: str = ""


@dataclass(frozen=True)
class ProjectRules:
    """Everything the project's linters, formatters and type checkers are configured to do."""

    ruff: LinterRules | None = None
    flake8: LinterRules | None = None
    pylint: PylintRules | None = None
    black: BlackRules | None = None
    isort: IsortRules | None = None
    mypy: MypyRules | None = None
    pyright: PyrightRules | None = None
    pre_commit: tuple[PreCommitHook, ...] = ()
    ruff_formats: bool = False  # the project runs `ruff format` (a [format] table, tox/nox/Makefile/CI workflow)
    problems: tuple[str, ...] = field(default_factory=tuple)  # config files that could not be read, and why
    # What Evolve hands ruff and black (`--config`): the settings it read and vetted itself (vetted_options.py),
    # so neither tool reads the repository's config files on the host. None: the tool runs with its defaults.
    ruff_config: str | None = None
    black_config: str | None = None
    refused: tuple[str, ...] = field(default_factory=tuple)  # settings naming places outside the tree, left out

    @property
    def linters(self) -> tuple[LinterRules, ...]:
        """The linters the project configures, ruff first."""
        return tuple(linter for linter in (self.ruff, self.flake8) if linter is not None)

    @property
    def formatter(self) -> Formatter | None:
        """The formatter the project uses: ruff format or black (pre-commit's choice first), or None."""
        hooks = {hook.id for hook in self.pre_commit}
        if "ruff-format" in hooks:
            return "ruff"
        if "black" in hooks or self.black is not None:
            return "black"
        return "ruff" if self.ruff_formats else None

    def excluded(self, path: str) -> str | None:
        """Why no edit may touch `path` (a linter or the formatter excludes it), or None."""
        for linter in self.linters:
            pattern = linter.excludes(path)
            if pattern:
                return f"{linter.tool} excludes {pattern} ({linter.source})"
        black = self.black
        if black is not None:
            for pattern in black.excludes:
                if regex_excludes(path, pattern):
                    return f"black excludes {pattern.strip()} ({black.source})"
        return None

    def verdict(self, codes: tuple[str, ...], path: str) -> RuleVerdict:
        """What the project says about a codemod with these lint codes at `path`.

        `disabled` if any linter ignores any of the codes there (never propose a rule the project turned off),
        or for annotation codes where the type checker exempts the path; `enforced` if a linter already checks
        every code there (its own CI flags or fixes them); `free` otherwise.
        """
        lint_codes = tuple(code for code in codes if not code.startswith(PYLINT_PREFIX))
        if self.pylint is not None:
            for code in codes:
                if code.startswith(PYLINT_PREFIX) and code[len(PYLINT_PREFIX) :].lower() in self.pylint.disabled:
                    return RuleVerdict(
                        "disabled", f"pylint disables {code[len(PYLINT_PREFIX) :]} ({self.pylint.source})"
                    )
        if any(code.startswith(ANNOTATION_CODES) for code in lint_codes):
            for checker in (self.mypy, self.pyright):
                reason = checker.exempts_annotations(path) if checker is not None else None
                if reason:
                    return RuleVerdict("disabled", reason)
        enforced: list[str] = []
        for linter in self.linters:
            states = [linter.code_state(code, path) for code in lint_codes]
            for state, reason in states:
                if state == "disabled":
                    return RuleVerdict("disabled", reason)
            if lint_codes and all(state == "enforced" for state, _ in states):
                enforced.append(f"{linter.tool} already checks {', '.join(lint_codes)} ({linter.source})")
        if enforced:
            return RuleVerdict("enforced", enforced[0])
        for hook in self.pre_commit:
            fixed = hook.fixed_codes
            if lint_codes and all(code in fixed for code in lint_codes):
                return RuleVerdict("enforced", f"pre-commit hook {hook.id} already rewrites {', '.join(lint_codes)}")
        return RuleVerdict("free")


def module_name(path: str) -> str:
    """The dotted module a repository path defines (`src/pkg/a.py` -> `pkg.a`, `pkg/__init__.py` -> `pkg`)."""
    parts = list(PurePosixPath(path).with_suffix("").parts)
    if parts and parts[0] in ("src", "lib"):
        parts = parts[1:]
    if parts and parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)
