"""The JSON Schema of `.github/evolve.yml`: the core model plus the settings model each gate and codemod declares.

`evolve config schema` prints it; the built-ins' version is shipped as evolve/schema/evolve-config.schema.json so
editors (yaml-language-server) validate the file as it is typed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from evolve.configuration.model import CORE_GATE_SETTINGS, EvolveConfig
from evolve.plugins import NoSettings, settings_model

SCHEMA_ID = "https://github.com/evolve-bot/evolve/raw/main/evolve/schema/evolve-config.schema.json"
SHIPPED_SCHEMA = Path(__file__).parent.parent / "schema" / "evolve-config.schema.json"


def config_json_schema(built_ins_only: bool = False) -> dict[str, Any]:
    """The schema of the configuration, with the settings of every installed gate and codemod (or only Evolve's
    own)."""
    from evolve.codemods.registry import CODEMODS
    from evolve.gating.running import GATES

    schema = EvolveConfig.model_json_schema()
    definitions: dict[str, Any] = schema.setdefault("$defs", {})
    gates_schema = definitions["GatesConfig"]
    gate_names = GATES.built_in_names() if built_ins_only else GATES.names()
    for name in gate_names:
        if name not in CORE_GATE_SETTINGS:
            _add_settings(definitions, gates_schema, name, settings_model(GATES.load_named([name])[name]))
    codemod_names = CODEMODS.built_in_names() if built_ins_only else CODEMODS.names()
    for name in codemod_names:
        _add_settings(
            definitions, definitions["CodemodsConfig"], name, settings_model(CODEMODS.load_named([name])[name])
        )
    _describe_names(gates_schema, ("enabled", "extra", "disabled"), "gate", gate_names)
    _describe_names(definitions["CodemodsConfig"], ("only", "disabled", "reenabled"), "codemod", codemod_names)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "Evolve configuration (.github/evolve.yml or [tool.evolve] in pyproject.toml)",
        **{key: value for key, value in schema.items() if key != "title"},
    }


def _add_settings(definitions: dict[str, Any], owner: dict[str, Any], name: str, model: type[BaseModel]) -> None:
    # A plugin's settings model becomes a definition, and `<owner>.<name>` refers to it (nothing for NoSettings).
    if model is NoSettings:
        return
    model_schema = model.model_json_schema(ref_template="#/$defs/{model}")
    definitions.update(model_schema.pop("$defs", {}))
    definitions[model.__name__] = model_schema
    owner["properties"][name] = {"$ref": f"#/$defs/{model.__name__}"}


def _describe_names(model_schema: dict[str, Any], fields: tuple[str, ...], noun: str, names: tuple[str, ...]) -> None:
    # Names stay free strings (an installed plugin adds more); the description lists what ships with Evolve.
    for field in fields:
        model_schema["properties"][field]["description"] = f"{noun} names; installed with Evolve: {', '.join(names)}"


def render_schema(schema: dict[str, Any]) -> str:
    """The schema as the stable, sorted JSON text that is shipped."""
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"
