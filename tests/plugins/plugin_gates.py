"""Gate classes used by the plugin-loader tests as stand-ins for third-party plugins."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from evolve.gate_api import Gate, GateContext
from evolve.results import GateResult, Passed


class EchoSettings(BaseModel):
    """The echo gate's typed settings."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    level: int = Field(1, ge=0)


class EchoGate(Gate[EchoSettings]):
    """Passes, and echoes its settings in the summary."""

    name = "echo"
    description = "Test plugin that passes."
    Settings = EchoSettings

    def evaluate(self, context: GateContext) -> GateResult:
        """Pass, naming the settings received."""
        return Passed(gate=self.name, summary=f"settings={self.settings!r}")


class ExplodingGate(Gate):
    """Raises from evaluate, as a buggy plugin would."""

    name = "exploding"
    description = "Test plugin that raises."

    def evaluate(self, context: GateContext) -> GateResult:
        """Raise instead of returning a result."""
        raise RuntimeError("plugin bug")


class MisnamedGate(Gate):
    """Declares a name different from its entry point."""

    name = "something-else"
    description = "Test plugin with the wrong name."

    def evaluate(self, context: GateContext) -> GateResult:
        """Pass."""
        return Passed(gate=self.name, summary="ok")


class NotAGate:
    """Not a subclass of Gate."""

    name = "not-a-gate"


class ReturnsNoneGate(Gate):
    """Returns something that is not a GateResult."""

    name = "returns-none"
    description = "Test plugin returning None."

    def evaluate(self, context: GateContext) -> GateResult:
        """Return None, wrongly."""
        return None  # type: ignore[return-value]
