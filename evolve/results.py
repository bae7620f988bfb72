"""Result values shared by the core and every gate: `Metric` and `GateResult` (`Passed | Failed | Skipped | Errored`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, ClassVar, Literal

Direction = Literal["higher", "lower", "neutral"]


@dataclass(frozen=True)
class Metric:
    """One number compared between base and head. `better` says which way is an improvement."""

    name: str
    base: float | None
    head: float | None
    better: Direction = "neutral"
    unit: str = ""

    @property
    def delta(self) -> float | None:
        """head - base, when both are known."""
        if self.base is None or self.head is None:
            return None
        return self.head - self.base

    @property
    def improved(self) -> bool:
        """Whether head is strictly better than base."""
        delta = self.delta
        if delta is None or self.better == "neutral":
            return False
        return delta > 1e-9 if self.better == "higher" else delta < -1e-9

    @property
    def regressed(self) -> bool:
        """Whether head is strictly worse than base."""
        delta = self.delta
        if delta is None or self.better == "neutral":
            return False
        return delta < -1e-9 if self.better == "higher" else delta > 1e-9

    def to_dict(self) -> dict[str, Any]:
        """Serialise to a JSON-ready dict."""
        return asdict(self)


@dataclass(frozen=True)
class GateResult:
    """What a gate concluded. Use one of the four subclasses; never raise from a gate."""

    gate: str
    summary: str  # one human sentence
    metrics: tuple[Metric, ...] = ()
    # Files (relative paths) the failure points at, so the loop can narrow the change.
    blame: tuple[str, ...] = ()
    # Evidence for humans and the LLM: failing test ids, tracebacks, regressions.
    details: str = ""
    status: ClassVar[str] = "unknown"

    @property
    def ok(self) -> bool:
        """Whether this result lets the change through (passed or skipped)."""
        return self.status in ("passed", "skipped")

    def to_dict(self) -> dict[str, Any]:
        """Serialise to a JSON-ready dict, including `status`."""
        return {
            "gate": self.gate,
            "status": self.status,
            "summary": self.summary,
            "metrics": [m.to_dict() for m in self.metrics],
            "blame": list(self.blame),
            "details": self.details,
        }

    @staticmethod
    def from_dict(raw: dict[str, Any]) -> GateResult:
        """Rebuild the right subclass from :meth:`to_dict` output."""
        kind = {"passed": Passed, "failed": Failed, "skipped": Skipped, "errored": Errored}[raw["status"]]
        fields: dict[str, Any] = {
            "gate": raw["gate"],
            "summary": raw["summary"],
            "metrics": tuple(Metric(**m) for m in raw.get("metrics", ())),
            "blame": tuple(raw.get("blame", ())),
            "details": raw.get("details", ""),
        }
        if kind is Errored and raw.get("cannot_check"):
            fields["cannot_check"] = True
        return kind(**fields)


@dataclass(frozen=True)
class Passed(GateResult):
    """The gate is satisfied."""

    status: ClassVar[str] = "passed"


@dataclass(frozen=True)
class Failed(GateResult):
    """The change makes things worse by this gate's measure."""

    status: ClassVar[str] = "failed"


@dataclass(frozen=True)
class Skipped(GateResult):
    """The gate does not apply (e.g. no tests found, disabled)."""

    status: ClassVar[str] = "skipped"


@dataclass(frozen=True)
class Errored(GateResult):
    """The gate could not reach a verdict (tool crashed, timed out). Treated as not passing.

    `cannot_check` says the cause is not the change: the gate's tool is missing, the environment is broken, or
    the tool fails on base too. That is no evidence against any edit, so the run stops ("cannot check: ...")
    instead of narrowing the change.
    """

    status: ClassVar[str] = "errored"
    cannot_check: bool = False

    def to_dict(self) -> dict[str, Any]:
        """Serialise to a JSON-ready dict; `cannot_check` appears when set."""
        document = super().to_dict()
        if self.cannot_check:
            document["cannot_check"] = True
        return document
