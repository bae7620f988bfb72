"""The hooks of `.pre-commit-config.yaml`: which linters and formatters the project really runs, and their args. Pure."""

from __future__ import annotations

from typing import Any

import yaml

from evolve.project_rules.model import LinterRules, PreCommitHook
from evolve.project_rules.selectors import split_codes

RUFF_HOOKS = ("ruff", "ruff-check")
FLAKE8_HOOKS = ("flake8",)
# Hook arguments that change which codes a linter checks, by the LinterRules field they feed.
_SELECTION_FLAGS = {
    "--select": "select",
    "--extend-select": "extend_select",
    "--ignore": "ignore",
    "--extend-ignore": "ignore",
}


class PreCommitError(ValueError):
    """A `.pre-commit-config.yaml` that is not valid YAML or not shaped like one."""


def parse_pre_commit(text: str, source: str = ".pre-commit-config.yaml") -> tuple[PreCommitHook, ...]:
    """Every hook of the config, in order; raises PreCommitError for text that is not a pre-commit config."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise PreCommitError(f"{source}: not valid YAML: {str(error).splitlines()[0]}") from None
    if not isinstance(data, dict) or not isinstance(data.get("repos", []), list):
        raise PreCommitError(f"{source}: expected a mapping with a `repos` list")
    hooks: list[PreCommitHook] = []
    for repo in data.get("repos") or []:
        if not isinstance(repo, dict):
            continue
        for hook in repo.get("hooks") or []:
            if isinstance(hook, dict) and isinstance(hook.get("id"), str):
                hooks.append(
                    PreCommitHook(
                        repo=str(repo.get("repo", "")),
                        id=hook["id"],
                        args=_strings(hook.get("args")),
                        files=_optional(hook.get("files")),
                        exclude=_optional(hook.get("exclude")),
                        additional_dependencies=_strings(hook.get("additional_dependencies")),
                    )
                )
    return tuple(hooks)


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(str(item) for item in value) if isinstance(value, list) else ()


def _optional(value: Any) -> str | None:
    return str(value) if isinstance(value, str) else None


def selection_args(args: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    """The codes a hook's arguments select and ignore (`--ignore=E501`, `--extend-select RET`), by field."""
    found: dict[str, list[str]] = {}
    words = list(args)
    index = 0
    while index < len(words):
        word = words[index]
        flag, _, value = word.partition("=")
        if flag in _SELECTION_FLAGS:
            if not value and index + 1 < len(words):
                index += 1
                value = words[index]
            found.setdefault(_SELECTION_FLAGS[flag], []).extend(split_codes(value))
        index += 1
    return {field: tuple(codes) for field, codes in found.items()}


def apply_hook(rules: LinterRules, hook: PreCommitHook) -> LinterRules:
    """The linter's rules as the pre-commit hook runs it: its selection args win, its `exclude:` adds."""
    chosen = selection_args(hook.args)
    select = chosen.get("select", rules.select) + chosen.get("extend_select", ())
    kept = tuple(arg for arg in hook.args if arg.split("=", 1)[0] in _SELECTION_FLAGS or _follows_flag(hook.args, arg))
    return LinterRules(
        tool=rules.tool,
        source=rules.source if not chosen else f"{rules.source} + pre-commit args",
        select=select,
        ignore=rules.ignore + chosen.get("ignore", ()),
        per_file_ignores=rules.per_file_ignores,
        exclude=rules.exclude,
        exclude_regexes=(*rules.exclude_regexes, *((hook.exclude,) if hook.exclude else ())),
        line_length=rules.line_length,
        hook_args=kept,
        local_plugins=rules.local_plugins,
    )


def _follows_flag(args: tuple[str, ...], arg: str) -> bool:
    index = args.index(arg)
    return index > 0 and args[index - 1] in _SELECTION_FLAGS
