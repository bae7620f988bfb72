"""What the operator decides and a repository may only lower: LLM access, models, spending, run time, PR size,
network for tests.

The person who runs Evolve pays for the model and the machine, so the API key, the base URL, the
models, the token and dollar budgets, the test time-out and the pull-request limits come from the
operator's environment (`EVOLVE_*`; the key and URL also from `ANTHROPIC_API_KEY` and
`ANTHROPIC_BASE_URL`). A repository's `.github/evolve.yml` is untrusted: :func:`apply_operator_limits`
keeps each of its values only where it is at or below the operator's (effective = min), and a model
outside the operator's list is replaced by the operator's, with a note saying so.

`evolve serve` reads them into its `Settings` at start (before secrets leave its environment) and
passes them to every run (`RunOptions.operator`); the CLI reads its own environment.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from evolve.configuration.model import EvolveConfig

DEFAULT_BASE_URL = "https://api.anthropic.com"
DEFAULT_MODEL = "claude-sonnet-5-5"  # the same as evolve.llm.pricing's defaults (kept in step by a test)
DEFAULT_FALLBACK_MODEL = "claude-haiku-5-5"

# The LLM settings a repository may lower, and the operator fields that bound them.
_LLM_CAPS = {
    "max_tokens": "llm_max_tokens",
    "tokens_per_run": "llm_tokens_per_run",
    "tokens_per_day": "llm_tokens_per_day",
    "cost_per_run_usd": "llm_cost_per_run_usd",
    "cost_per_day_usd": "llm_cost_per_day_usd",
    "timeout_seconds": "llm_timeout_seconds",
}
_PR_CAPS = ("max_files", "max_changed_lines", "max_open_prs", "runs_per_hour")


class OperatorLimits(BaseModel):
    """The operator's LLM access and upper limits (see the module docstring); secrets never print."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    anthropic_api_key: SecretStr | None = None
    anthropic_base_url: str = DEFAULT_BASE_URL
    llm_model: str = DEFAULT_MODEL
    llm_fallback_model: str = DEFAULT_FALLBACK_MODEL
    llm_allowed_models: tuple[str, ...] = ()  # further models a repository may choose
    llm_max_tokens: int = Field(4096, ge=256)
    llm_tokens_per_run: int = Field(200_000, ge=0)
    llm_tokens_per_day: int = Field(2_000_000, ge=0)
    llm_cost_per_run_usd: float = Field(2.0, ge=0)
    llm_cost_per_day_usd: float = Field(20.0, ge=0)
    llm_timeout_seconds: float = Field(120.0, gt=0)
    tests_timeout_seconds: int = Field(3600, ge=10)  # one run of the repository's tests
    max_files: int = Field(50, ge=1)
    max_changed_lines: int = Field(2000, ge=1)
    max_open_prs: int = Field(5, ge=0)
    runs_per_hour: int = Field(10, ge=1)
    # Whether a repository's tests may have network at all (`gates.tests.allow_network` can then turn it on).
    # Granted, it is the installs' egress: the package indexes through Evolve's proxy, never the host's network.
    tests_network: bool = False

    @field_validator("llm_allowed_models", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @property
    def has_llm_key(self) -> bool:
        """Whether the operator gave an API key (the LLM stage can run at all)."""
        return bool(self.anthropic_api_key and self.anthropic_api_key.get_secret_value().strip())

    @property
    def allowed_models(self) -> tuple[str, ...]:
        """Every model a repository may choose."""
        return tuple(dict.fromkeys((self.llm_model, self.llm_fallback_model, *self.llm_allowed_models)))

    @classmethod
    def from_environment(cls, env: Mapping[str, str] | None = None) -> OperatorLimits:
        """Read `EVOLVE_<FIELD>` (and ANTHROPIC_API_KEY / ANTHROPIC_BASE_URL) from `env`; by default from
        os.environ and the secrets `evolve serve` took out of it at start-up (`evolve.configuration.process_secrets`)."""
        lookup: Callable[[str], str | None]
        if env is None:
            from evolve.configuration.process_secrets import environment_secret

            lookup = environment_secret
        else:
            lookup = env.get
        values: dict[str, Any] = {}
        for name in cls.model_fields:
            candidates = [f"EVOLVE_{name.upper()}"]
            if name.startswith("anthropic_"):
                candidates.append(name.upper())
            for variable in candidates:
                value = (lookup(variable) or "").strip()
                if value:
                    values[name] = value
                    break
        return cls.model_validate(values)


def apply_operator_limits(
    config: EvolveConfig, limits: OperatorLimits | None = None
) -> tuple[EvolveConfig, tuple[str, ...]]:
    """`config` with every operator-owned value at or below the operator's, and notes on what changed."""
    limits = limits or OperatorLimits.from_environment()
    notes: list[str] = []
    llm = config.llm
    llm_update: dict[str, Any] = {}
    for field, cap_name in _LLM_CAPS.items():
        cap = getattr(limits, cap_name)
        chosen = getattr(llm, field) if field in llm.model_fields_set else cap
        if chosen > cap:
            notes.append(f"llm.{field} {chosen} is above the operator's limit; using {cap}")
        llm_update[field] = min(chosen, cap)
    for field, operator_choice in (("model", limits.llm_model), ("fallback_model", limits.llm_fallback_model)):
        asked = getattr(llm, field)
        if field not in llm.model_fields_set:
            llm_update[field] = operator_choice
        elif asked not in limits.allowed_models:
            notes.append(
                f"llm.{field} {asked} is not one the operator allows ({', '.join(limits.allowed_models)}); "
                f"using {operator_choice}"
            )
            llm_update[field] = operator_choice
    pr_update: dict[str, Any] = {}
    for field in _PR_CAPS:
        chosen, cap = getattr(config.limits, field), getattr(limits, field)
        if chosen > cap:
            notes.append(f"limits.{field} {chosen} is above the operator's limit; using {cap}")
        pr_update[field] = min(chosen, cap)
    tests = config.gates.tests
    timeout = min(tests.timeout, limits.tests_timeout_seconds)
    if tests.timeout > limits.tests_timeout_seconds:
        notes.append(f"gates.tests.timeout {tests.timeout} is above the operator's limit; using {timeout}")
    network = tests.allow_network and limits.tests_network
    if tests.allow_network and not network:
        notes.append(
            "gates.tests.allow_network is not granted by the operator (EVOLVE_TESTS_NETWORK); tests run offline"
        )
    tests_update = {"timeout": timeout, "allow_network": network}
    limited = config.model_copy(
        update={
            "llm": llm.model_copy(update=llm_update),
            "limits": config.limits.model_copy(update=pr_update),
            "gates": config.gates.model_copy(update={"tests": tests.model_copy(update=tests_update)}),
        }
    )
    return limited, tuple(notes)
