"""Codemod opportunities: the codemod catalog's cheap `ast` detectors, one finding per occurrence.

Detection lives with the codemods (`evolve.codemods.runner.detect_occurrences`); research only turns
occurrences into findings. Results are cached per file with the catalog's ids in the fingerprint.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evolve.configuration.model import EvolveConfig
from evolve.findings import Finding
from evolve.research.priorities import disambiguate, make_finding

# What a reviewer gains sets the severity (security findings and bug patterns first, cosmetic rewrites
# last); how risky the rewrite is sets the confidence. Priority = weight(severity) x 0.75 x confidence.
_BENEFIT_SEVERITY = {
    "security": "high",
    "defect": "high",
    "deprecation": "medium",
    "cleanup": "low",
    "cosmetic": "info",
}
_RISK_CONFIDENCE = {"low": 0.9, "medium": 0.7, "high": 0.5}


@dataclass(frozen=True)
class Catalog:
    """The enabled codemods, their metadata by id, and the callable that detects occurrences."""

    codemods: tuple[Any, ...]
    metadata: dict[str, Any]
    detect: Any
    note: str | None = None

    @property
    def ids(self) -> tuple[str, ...]:
        """Sorted codemod ids (part of the cache fingerprint)."""
        return tuple(sorted(self.metadata))

    @property
    def source_digest(self) -> str:
        """A digest of the detectors' own source files and the shared signal rules (part of the cache fingerprint).

        Detection changes with the code, not only with the version number: an editable install or a
        plugin upgraded in place must not keep serving occurrences an older detector found.
        """
        modules = {type(c).__module__ for c in self.codemods} | {"evolve.codemods.signals", "evolve.codemods.base"}
        digest = hashlib.sha256()
        for name in sorted(modules):
            module = sys.modules.get(name)
            path = getattr(module, "__file__", None)
            try:
                digest.update(Path(path).read_bytes() if path else name.encode())
            except OSError:
                digest.update(name.encode())
        return digest.hexdigest()


def min_python(root: Path) -> tuple[int, int]:
    """The lowest Python the repository supports, read the same way the codemods read it."""
    from evolve.codemods.python_versions import repository_min_python

    return repository_min_python(Path(root))


def _codemod_id(codemod: Any) -> str:
    return str(codemod.metadata.id)


def load_catalog(config: EvolveConfig) -> Catalog:
    """The codemods the configuration enables; an empty catalog with a note when the catalog is unavailable."""
    try:
        from evolve.codemods.registry import available_codemods, configured
        from evolve.codemods.runner import detect_occurrences
    except ImportError as error:
        return Catalog((), {}, None, f"codemod detectors unavailable: {error}")
    try:
        found = available_codemods()
    except Exception as error:
        return Catalog((), {}, None, f"codemod catalog failed to load: {error}")
    codemods = list(found.values()) if isinstance(found, Mapping) else list(found)
    settings = config.codemods
    enabled = [
        c
        for c in codemods
        if (not settings.only or _codemod_id(c) in settings.only) and _codemod_id(c) not in settings.disabled
    ]
    enabled.sort(key=_codemod_id)
    # The registry hands out classes; the runner works with instances, configured as `codemods.<id>` says.
    written = settings.plugin_settings
    instances = [configured(c, written.get(_codemod_id(c))) if isinstance(c, type) else c for c in enabled]
    return Catalog(tuple(instances), {_codemod_id(c): c.metadata for c in instances}, detect_occurrences)


def _normalise(raw: Any) -> dict[str, list[tuple[str, Any]]]:
    """Accept {path: [(codemod_id, Occurrence)]} or {path: {codemod_id: [Occurrence]}} or a flat list."""
    out: dict[str, list[tuple[str, Any]]] = {}
    if isinstance(raw, Mapping):
        for path, items in raw.items():
            pairs = out.setdefault(Path(path).as_posix(), [])
            if isinstance(items, Mapping):
                pairs.extend((str(cid), occ) for cid, occs in items.items() for occ in occs)
            else:
                for item in items:
                    cid, occ = (
                        item if isinstance(item, tuple) else (_item_codemod(item), getattr(item, "occurrence", item))
                    )
                    pairs.append((str(cid), occ))
        return out
    for item in raw or ():
        path = Path(item.path).as_posix()
        out.setdefault(path, []).append((_item_codemod(item), getattr(item, "occurrence", item)))
    return out


def _item_codemod(item: Any) -> str:
    for name in ("codemod_id", "codemod", "id"):
        value = getattr(item, name, None)
        if isinstance(value, str):
            return value
    return str(getattr(getattr(item, "codemod", None), "metadata", None) and item.codemod.metadata.id)


def detect(root: Path, paths: Sequence[str], catalog: Catalog) -> tuple[dict[str, list[dict[str, Any]]], str | None]:
    """Occurrences per path as cacheable dicts, and a note when detection failed."""
    if not catalog.codemods or not paths or catalog.detect is None:
        return {path: [] for path in paths}, catalog.note
    try:
        raw = catalog.detect(Path(root), list(paths), list(catalog.codemods), min_python(root))
    except Exception as error:
        return {}, f"codemod detection failed: {error}"
    found: dict[str, list[dict[str, Any]]] = {path: [] for path in paths}
    for path, pairs in _normalise(raw).items():
        found.setdefault(path, []).extend(
            {
                "codemod": cid,
                "line": occ.line,
                "end_line": occ.end_line,
                "symbol": occ.symbol,
                "description": occ.description,
            }
            for cid, occ in pairs
        )
    return found, None


def codemod_findings(path: str, occurrences: Iterable[dict[str, Any]], metadata: Mapping[str, Any]) -> list[Finding]:
    """One `codemod` finding per occurrence; the id uses the occurrence's index within its symbol, not its line."""
    ordered = sorted(occurrences, key=lambda o: (o["codemod"], o["line"], o["end_line"], o["description"]))
    discriminators = disambiguate((o["codemod"], o["symbol"] or "") for o in ordered)
    findings = []
    for occurrence, disc in zip(ordered, discriminators):
        meta = metadata.get(occurrence["codemod"])
        risk = getattr(meta, "risk", "medium")
        benefit = getattr(meta, "benefit", "cosmetic")
        theme = getattr(meta, "theme", occurrence["codemod"])
        findings.append(
            make_finding(
                "codemod",
                occurrence["codemod"],
                path,
                occurrence["line"],
                occurrence["end_line"],
                occurrence["symbol"],
                _BENEFIT_SEVERITY.get(benefit, "info"),
                0.5,
                _RISK_CONFIDENCE.get(risk, 0.7),
                occurrence["description"] or getattr(meta, "title", occurrence["codemod"]),
                disc or "0",
                theme=theme,
                risk=risk,
                benefit=benefit,
            )
        )
    return findings
