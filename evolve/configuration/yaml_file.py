"""Reading a repository's YAML configuration, which is untrusted: bounded size, bounded depth, no aliases.

YAML aliases (`*name`) let a few hundred bytes expand into gigabytes ("billion laughs"), and deep
nesting drives the recursive composer into `RecursionError`. A configuration file needs neither, so
aliases are refused outright and size and depth are capped before anything is built. Every failure
is a :class:`ConfigError` whose message says what to change.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.nodes import Node

MAX_CONFIG_BYTES = 64 * 1024  # the full configuration with every option spelled out is under 4 KiB
MAX_CONFIG_DEPTH = 20  # the deepest setting is four levels down (gates.plugins.<name>.<option>)


class ConfigError(Exception):
    """A configuration file is unreadable or invalid; the message names the file and the field."""


class _BoundedLoader(yaml.SafeLoader):
    """SafeLoader that refuses aliases and nesting deeper than MAX_CONFIG_DEPTH while composing."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark
            raise _Refused(f"YAML aliases (*name) are not allowed (line {mark.line + 1}); write the value out in full")
        self._depth += 1
        try:
            if self._depth > MAX_CONFIG_DEPTH:
                mark = self.peek_event().start_mark
                raise _Refused(f"nested more than {MAX_CONFIG_DEPTH} levels deep (line {mark.line + 1})")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


class _Refused(Exception):
    """Raised inside the loader; turned into ConfigError with the file's name."""


def load_untrusted_yaml(text: str, source: str) -> Any:
    """The data of a YAML document from an untrusted file; ConfigError when too big, too deep or aliased."""
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_CONFIG_BYTES:
        raise ConfigError(f"{source}: the file is {size:,} bytes; at most {MAX_CONFIG_BYTES:,} are read")
    loader = _BoundedLoader(text)
    try:
        return loader.get_single_data()
    except _Refused as refused:
        raise ConfigError(f"{source}: {refused}") from None
    except yaml.YAMLError as error:
        raise ConfigError(f"{source}: not valid YAML: {error}") from None
    except RecursionError:
        raise ConfigError(f"{source}: nested too deeply to read") from None
    finally:
        loader.dispose()


def check_depth(value: Any, source: str, limit: int = MAX_CONFIG_DEPTH) -> None:
    """Raise ConfigError when `value` (parsed TOML or JSON) nests deeper than `limit`, without recursion."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            raise ConfigError(f"{source}: nested more than {limit} levels deep")
        if isinstance(item, dict):
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
