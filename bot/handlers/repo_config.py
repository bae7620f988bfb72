"""A repository's `.github/evolve.yml`, read through the GitHub gateway and held within the operator's limits."""

from __future__ import annotations

import asyncio
import hashlib
import threading
from collections import OrderedDict
from typing import TYPE_CHECKING

from bot.github.run_target import RunTarget
from evolve.config_loading.loading import parse_yaml_config
from evolve.configuration.model import ConfigError, EvolveConfig
from evolve.configuration.operator_limits import apply_operator_limits

if TYPE_CHECKING:  # pragma: no cover
    from bot.context import BotContext

CONFIG_PATHS = (".github/evolve.yml", ".github/evolve.yaml")
CACHED_CONFIGS = 256
# Valid config files already parsed in this process, by path and SHA-256 of the text: a repository's file rarely
# changes, and parsing checks it against every installed plugin. The config model is frozen, so one is shared.
_PARSED: OrderedDict[tuple[str, str], EvolveConfig] = OrderedDict()
_PARSED_LOCK = threading.Lock()


class ConfigProblem(Exception):
    """`.github/evolve.yml` is invalid; the message names the field."""


async def load_repo_config(ctx: BotContext, target: RunTarget, ref: str | None = None) -> tuple[EvolveConfig, str]:
    """The repository's effective config (within the operator's limits) and where it came from;
    raises ConfigProblem."""
    config, source, _notes = await load_repo_config_with_notes(ctx, target, ref)
    return config, source


async def load_repo_config_with_notes(
    ctx: BotContext, target: RunTarget, ref: str | None = None
) -> tuple[EvolveConfig, str, tuple[str, ...]]:
    """Like :func:`load_repo_config`, with notes on the values the operator's limits lowered."""
    for path in CONFIG_PATHS:
        text = await ctx.github.get_file(target.installation_id, target.owner, target.name, path, ref)
        if text is not None:
            key = (path, hashlib.sha256(text.encode()).hexdigest())
            with _PARSED_LOCK:
                config = _PARSED.get(key)
            if config is None:
                try:
                    # In a thread: even a bounded hostile file can take a second to parse.
                    config = await asyncio.to_thread(parse_yaml_config, text, path)
                except ConfigError as error:
                    raise ConfigProblem(str(error)) from None
                with _PARSED_LOCK:
                    _PARSED[key] = config
                    while len(_PARSED) > CACHED_CONFIGS:
                        _PARSED.popitem(last=False)
            limited, notes = apply_operator_limits(config, ctx.settings.operator)
            return limited, path, notes
    config, notes = apply_operator_limits(EvolveConfig(), ctx.settings.operator)
    return config, "defaults (no .github/evolve.yml)", notes
