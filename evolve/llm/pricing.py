"""Model defaults and a small price table. Prices are ESTIMATES for budgeting and reports, not invoices."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

# Current models when chosen (anthropic 2.12.0 listed them in `ModelParam` and did not mark them deprecated). Which
# models are deprecated is the installed SDK's word at run time (`installed_deprecations`), never a test's.
DEFAULT_MODEL = "claude-sonnet-5-5"
DEFAULT_FALLBACK_MODEL = "claude-haiku-5-5"


@dataclass(frozen=True)
class Price:
    """US dollars per million input and output tokens."""

    input_per_mtok: float
    output_per_mtok: float


# Longest matching prefix wins. Published list prices where known; newer generations are assumed
# to keep their family's price. Unknown models are priced like the most expensive family so that
# budgets err on the safe side.
PRICES: dict[str, Price] = {
    "claude-haiku": Price(1.0, 5.0),
    "claude-3-5-haiku": Price(0.8, 4.0),
    "claude-3-haiku": Price(0.25, 1.25),
    "claude-sonnet": Price(3.0, 15.0),
    "claude-3-7-sonnet": Price(3.0, 15.0),
    "claude-opus-4-5": Price(5.0, 25.0),
    "claude-opus-4-6": Price(5.0, 25.0),
    "claude-opus-4-7": Price(5.0, 25.0),
    "claude-opus-4-8": Price(5.0, 25.0),
    "claude-opus-5": Price(5.0, 25.0),
    "claude-opus": Price(15.0, 75.0),
}
UNKNOWN_MODEL_PRICE = Price(15.0, 75.0)


def price_of(model: str) -> Price:
    """The estimated price of `model`, by longest matching prefix of the table."""
    best = ""
    for prefix in PRICES:
        if model.startswith(prefix) and len(prefix) > len(best):
            best = prefix
    return PRICES[best] if best else UNKNOWN_MODEL_PRICE


def estimate_cost(model: str, input_tokens: int, output_tokens: int) -> float:
    """Estimated cost in US dollars of one request's token use."""
    price = price_of(model)
    return (input_tokens * price.input_per_mtok + output_tokens * price.output_per_mtok) / 1_000_000


def installed_deprecations() -> Mapping[str, str]:
    """Model -> end-of-life date, as the installed SDK lists them (its private `_data` table; empty without one)."""
    try:
        from anthropic._data import DEPRECATED_MODELS  # private module; absent from older SDKs
    except ImportError:  # pragma: no cover - depends on the SDK version
        return {}
    if not isinstance(DEPRECATED_MODELS, Mapping):  # pragma: no cover - a later SDK may change its shape
        return {}
    return {str(model): str(date) for model, date in DEPRECATED_MODELS.items()}


def deprecation_of(model: str, deprecations: Mapping[str, str] | None = None) -> str | None:
    """The end-of-life date of `model` in `deprecations` (default: the installed SDK's table), None if not listed."""
    table = installed_deprecations() if deprecations is None else deprecations
    return table.get(model)
