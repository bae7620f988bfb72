"""The JSON Schema of `evolve scan --json` (`ScanResult.to_dict()`), shipped with the package."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

SCHEMA_FILE = Path(__file__).parent / "schema" / "scan.schema.json"


@functools.lru_cache(maxsize=1)
def scan_schema() -> dict[str, Any]:
    """The schema document (draft 2020-12)."""
    return json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))


def validate_scan_json(document: Any) -> None:
    """Raise `jsonschema.ValidationError` when `document` is not a valid scan document.

    The document is checked as JSON sees it (tuples are arrays), e.g. `ScanResult.to_dict()` or parsed output.
    """
    import jsonschema

    as_json = json.loads(json.dumps(document))
    jsonschema.validate(as_json, scan_schema(), cls=jsonschema.Draft202012Validator)
