"""The one configuration model: `[tool.evolve]` in pyproject.toml or `.github/evolve.yml`."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

# Re-exported: `ConfigError` is where configuration errors have always been imported from.
from evolve.configuration.yaml_file import ConfigError as ConfigError

DEFAULT_EXCLUDE = [
    ".git/**",
    ".venv/**",
    "venv/**",
    "env/**",
    ".tox/**",
    ".nox/**",
    "build/**",
    "dist/**",
    "**/node_modules/**",
    "**/__pycache__/**",
    "**/.eggs/**",
    "**/*.egg-info/**",
    "**/site-packages/**",
]
MAX_LISTED_ERRORS = 20  # a reply lists this many invalid fields at most
# Paths no edit may ever touch, whatever the configuration says.
FORBIDDEN_EDIT_PATHS = [".github/workflows/**", ".git/**"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LimitsConfig(_Model):
    """How big one pull request may be, and how often the bot may act."""

    max_files: int = Field(10, ge=1, le=200)
    max_changed_lines: int = Field(300, ge=1, le=10_000)
    max_open_prs: int = Field(2, ge=0, le=50)
    runs_per_hour: int = Field(4, ge=1, le=100)


class CodemodsConfig(_Model):
    """Which codemods may run (`only` empty means all installed ones), and each codemod's settings as
    `codemods.<id>: {...}`, validated against the `Settings` model that codemod declares when the configuration
    loads (see evolve/config_loading/plugin_settings.py)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    only: list[str] = Field(default_factory=list)
    disabled: list[str] = Field(default_factory=list)
    # Codemods re-enabled by a maintainer after being auto-disabled by two closed PRs.
    reenabled: list[str] = Field(default_factory=list)

    @property
    def plugin_settings(self) -> dict[str, Any]:
        """Codemod id -> what is written for it (`codemods.<id>: {...}`), as plain data."""
        return dict(self.model_extra or {})


class TestsGateConfig(_Model):
    """The repository's own test command."""

    command: str | None = None  # detected from pyproject/tox/setup.cfg/noxfile when unset
    timeout: int = Field(900, ge=10, le=7200)
    allow_network: bool = False  # tests run without network (own loopback only) where the platform allows
    # Added to the declared test environment: requirement strings, or commands run in it (with uv on PATH).
    install: list[str] = Field(default_factory=list)
    python: str | None = None  # the interpreter for the tests: a version ("3.12") or a path; default: requires-python


class ComplexityGateConfig(_Model):
    """No function above the threshold gets worse; research also flags functions above it."""

    threshold: int = Field(10, ge=1, le=200)


class MaintainabilityGateConfig(_Model):
    """Maintainability index may not drop; files at or above the floor stay there (research flags those below)."""

    floor: float = Field(65.0, ge=0, le=100)


# The gates a fresh configuration runs, in this order (cheap and decisive first).
DEFAULT_GATES = (
    "syntax",
    "tests",
    "coverage",
    "complexity",
    "maintainability",
    "docstrings",
    "security",
    "lint",
    "types",
    "mutation",  # judges only an attempt the others let through (Gate.after_others)
)
# Gates whose settings the core reads as well; their models live here and the gates declare them as `Settings`.
CORE_GATE_SETTINGS = ("tests", "complexity", "maintainability")


class GatesConfig(_Model):
    """Which gates run, and each gate's settings as `gates.<name>: {...}`.

    `tests`, `complexity` and `maintainability` are settings the core reads too (how to run the test suite,
    research's thresholds), so their models live here; every other gate's settings are validated against the
    model its plugin declares when the configuration loads (see evolve/config_loading/plugin_settings.py).
    """

    model_config = ConfigDict(extra="allow", frozen=True)

    # The gates to run instead of the defaults; `extra` adds gates to them, `disabled` removes some.
    enabled: list[str] = Field(default_factory=lambda: list(DEFAULT_GATES))
    extra: list[str] = Field(default_factory=list)
    disabled: list[str] = Field(default_factory=list)
    tests: TestsGateConfig = TestsGateConfig()
    complexity: ComplexityGateConfig = ComplexityGateConfig()
    maintainability: MaintainabilityGateConfig = MaintainabilityGateConfig()
    # Older spelling of plugin settings, `gates.plugins.<name>: {...}`; `gates.<name>: {...}` is preferred.
    plugins: dict[str, dict[str, Any]] = Field(default_factory=dict)

    @property
    def selected(self) -> tuple[str, ...]:
        """The gates to run, in order: `enabled` then `extra`, each once, minus `disabled`."""
        return tuple(name for name in dict.fromkeys([*self.enabled, *self.extra]) if name not in self.disabled)

    @property
    def plugin_settings(self) -> dict[str, Any]:
        """Gate name -> what is written for a plugin gate (`gates.<name>`, or the older `gates.plugins.<name>`)."""
        return {**self.plugins, **(self.model_extra or {})}

    def settings_of(self, name: str) -> Any:
        """The settings written for gate `name` as plain data (the core-owned ones as their dumped model)."""
        if name in CORE_GATE_SETTINGS:
            return getattr(self, name).model_dump()
        return self.plugin_settings.get(name, {})


LLMTask = Literal["docstrings", "complexity", "tests", "security"]
LLM_TASKS: tuple[LLMTask, ...] = ("docstrings", "complexity", "tests", "security")
EditableKind = Literal["library", "tests", "docs", "examples", "benchmarks", "scripts"]
DEFAULT_KINDS: tuple[EditableKind, ...] = ("library",)


class LLMConfig(_Model):
    """The optional Claude stage. Off unless an API key is in the environment."""

    enabled: bool = True
    model: str = "claude-sonnet-5-5"
    fallback_model: str = "claude-haiku-5-5"
    max_tokens: int = Field(4096, ge=256, le=64_000)
    tokens_per_run: int = Field(200_000, ge=1000)
    tokens_per_day: int = Field(2_000_000, ge=1000)
    cost_per_run_usd: float = Field(2.0, ge=0)
    cost_per_day_usd: float = Field(20.0, ge=0)
    tasks: list[LLMTask] = Field(default_factory=lambda: list(LLM_TASKS))
    timeout_seconds: float = Field(120.0, gt=0)


class ScopeConfig(_Model):
    """Which kinds of code Evolve may change (see evolve/configuration/path_kinds.py); generated and vendored files never."""

    include_kinds: list[EditableKind] = Field(default_factory=lambda: list(DEFAULT_KINDS))


class TestGapsConfig(_Model):
    """Research's mutation sample over the code that matters most: the functions ranked by recent change,
    complexity and public API, their covered lines mutated and run against their covering tests in a budget."""

    __test__ = False

    enabled: bool = True  # when the caller asks for test gaps (`evolve plan --test-gaps`, the App's runs)
    budget_seconds: float = Field(60.0, gt=0, le=3600)  # wall time for running the sample's mutants
    functions: int = Field(20, ge=1, le=500)  # the top-ranked covered functions sampled
    max_mutants: int = Field(40, ge=1, le=2000)  # mutants in the whole sample
    history_commits: int = Field(100, ge=0, le=5000)  # commits of `git log` that count as "recently changed"


class ResearchConfig(_Model):
    """What research measures beyond the per-file scan."""

    test_gaps: TestGapsConfig = TestGapsConfig()


RiskTier = Literal["low", "medium", "high"]
MergeMethod = Literal["merge", "squash", "rebase"]


class AutomergeConfig(_Model):
    """Merging Evolve's own PR once the repository's CI is green (the App only; off by default).

    The App merges only when every check branch protection requires passed, every check on the head is green,
    the PR holds only Evolve's commits, its risk is at most `max_risk`, and (with `require_review`) someone with
    write access approved it. GitHub's branch protection has the last word: a merge it refuses is left as is.
    """

    enabled: bool = False
    max_risk: RiskTier = "low"
    method: MergeMethod = "squash"
    require_review: bool = True


class EvolveConfig(_Model):
    """Everything a repository can configure. Every field has a sensible default."""

    enabled: bool = True
    include: list[str] = Field(default_factory=lambda: ["**/*.py"])
    exclude: list[str] = Field(default_factory=list)
    schedule: str = "0 6 * * 1"  # cron, weekly by default
    attempts: int = Field(3, ge=1, le=3)
    focus: str | None = None
    scope: ScopeConfig = ScopeConfig()
    limits: LimitsConfig = LimitsConfig()
    codemods: CodemodsConfig = CodemodsConfig()
    gates: GatesConfig = GatesConfig()
    llm: LLMConfig = LLMConfig()
    dashboard: bool = True  # the App keeps a dashboard issue; false: it keeps none (and edits nothing)
    automerge: AutomergeConfig = AutomergeConfig()
    research: ResearchConfig = ResearchConfig()

    @field_validator("schedule")
    @classmethod
    def _schedule_is_cron(cls, value: str) -> str:
        if len(value.split()) != 5:
            raise ValueError("must be a five-field cron expression, e.g. '0 6 * * 1'")
        return value

    @property
    def all_excludes(self) -> list[str]:
        """User excludes plus the directories no scan should enter."""
        return [*DEFAULT_EXCLUDE, *self.exclude]
