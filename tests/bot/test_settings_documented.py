"""Every operator setting is in the settings table of docs/github-app.md, so the table stays complete."""

from __future__ import annotations

from pathlib import Path

from bot.settings import Settings
from evolve.configuration.operator_limits import OperatorLimits

DOC = Path(__file__).resolve().parents[2] / "docs" / "github-app.md"


def test_every_setting_has_a_row_in_the_table():
    table = DOC.read_text(encoding="utf-8")
    names = [name for name in Settings.model_fields if name != "operator"] + list(OperatorLimits.model_fields)
    missing = [name for name in names if f"`EVOLVE_{name.upper()}`" not in table]
    assert missing == [], f"add these settings to the table in docs/github-app.md: {missing}"
