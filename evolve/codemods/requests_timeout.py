"""Add `timeout=30` (or `codemods.requests-timeout.timeout_seconds`) to `requests` calls that have none (Bandit B113)."""

from __future__ import annotations

import ast

import libcst as cst
from pydantic import BaseModel, ConfigDict, Field

from evolve.codemods.ast_scan import binds_only_module, walk_with_symbol
from evolve.codemods.base import Change, Codemod, CodemodContext, CodemodMetadata, Example, Occurrence
from evolve.codemods.cst_edits import (
    RecordingTransformer,
    append_keyword_arg,
    run_transformer,
)
from evolve.codemods.cst_edits import (
    binds_only_module as cst_binds_only_module,
)

ID = "requests-timeout"
METHODS = frozenset({"get", "post", "put", "patch", "delete", "head", "options", "request"})
TIMEOUT_SECONDS = "30"


class RequestsTimeoutSettings(BaseModel):
    """Settings of requests-timeout, written as `codemods.requests-timeout: {...}` in .github/evolve.yml."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    timeout_seconds: int = Field(int(TIMEOUT_SECONDS), ge=1, le=3600, description="the timeout given to each call")


class RequestsTimeout(Codemod[RequestsTimeoutSettings]):
    """Give module-level `requests` calls a timeout so a silent server cannot hang the program forever."""

    Settings = RequestsTimeoutSettings

    metadata = CodemodMetadata(
        id=ID,
        title="Add a timeout to `requests` calls",
        theme="security",
        rationale="`requests` waits forever by default; a stalled server then hangs the caller (CWE-400).",
        risk="medium",
        benefit="defect",
        min_target_python=(2, 7),
        review_guidance="Each call now fails after the timeout (30 s unless `codemods.requests-timeout."
        "timeout_seconds` says otherwise) without a response. Check long downloads and slow endpoints and raise "
        "the value where needed. Calls passing `**kwargs` are left alone.",
        references=(
            "https://requests.readthedocs.io/en/latest/user/advanced/#timeouts",
            "https://bandit.readthedocs.io/en/latest/plugins/b113_request_without_timeout.html",
        ),
        lint_codes=("S113",),
    )
    examples = (
        Example(
            "import requests\nr = requests.get(url)\n",
            f"import requests\nr = requests.get(url, timeout={TIMEOUT_SECONDS})\n",
        ),
        Example(
            "import requests\nrequests.post(url, json=data, headers=h)\n",
            f"import requests\nrequests.post(url, json=data, headers=h, timeout={TIMEOUT_SECONDS})\n",
        ),
        Example(
            "import requests\n\nresp = requests.request(\n    'PUT',\n    url,\n    data=body,\n)\n",
            f"import requests\n\nresp = requests.request(\n    'PUT',\n    url,\n    data=body,\n    timeout={TIMEOUT_SECONDS},\n)\n",
        ),
        Example(
            "import requests.adapters\nrequests.head(u)\n",
            f"import requests.adapters\nrequests.head(u, timeout={TIMEOUT_SECONDS})\n",
        ),
        Example(
            "import requests\nr = requests.get(url)\n",
            "import requests\nr = requests.get(url, timeout=5)\n",
            settings=(("timeout_seconds", 5),),
        ),
    )
    valid = (
        "import requests\nrequests.get(url)  # nosec B113\n",
        "import requests\nrequests.get(url, timeout=5)\n",
        "import requests\nrequests.get(url, **options)\n",
        "import requests\ns = requests.Session()\ns.get(url)\n",
        "import httpx as requests\nrequests.get(url)\n",
        "from requests import get\nget(url)\n",
        "import requests\ndef f(requests):\n    return requests.get(url)\n",
        "requests.get(url)\n",  # not imported: unknown object
    )

    def detect(self, tree: ast.Module, source: str, context: CodemodContext) -> list[Occurrence]:
        """Find `requests.<method>(...)` calls without `timeout=`."""
        if "requests" not in source or not binds_only_module(tree, "requests"):
            return []
        found = []
        for node, symbol in walk_with_symbol(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "requests"
                and node.func.attr in METHODS
                and not any(kw.arg is None or kw.arg == "timeout" for kw in node.keywords)
                and not any(isinstance(arg, ast.Starred) for arg in node.args)
            ):
                found.append(
                    Occurrence(
                        node.lineno,
                        node.end_lineno or node.lineno,
                        symbol,
                        f"`requests.{node.func.attr}` without timeout",
                    )
                )
        return found

    def transform(self, module: cst.Module, context: CodemodContext) -> tuple[cst.Module, list[Change]]:
        """Append `timeout=<timeout_seconds>` to the calls."""
        if not cst_binds_only_module(module, "requests"):
            return module, []
        return run_transformer(module, _Transformer(ID, context, str(self.settings.timeout_seconds)))


class _Transformer(RecordingTransformer):
    def __init__(self, codemod_id: str, context: CodemodContext, seconds: str) -> None:
        super().__init__(codemod_id, context)
        self.seconds = seconds

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.Call:
        func = updated_node.func
        if not (
            isinstance(func, cst.Attribute)
            and isinstance(func.value, cst.Name)
            and func.value.value == "requests"
            and func.attr.value in METHODS
        ):
            return updated_node
        if any(arg.star or (arg.keyword is not None and arg.keyword.value == "timeout") for arg in updated_node.args):
            return updated_node
        self.record(original_node, f"`requests.{func.attr.value}` given timeout={self.seconds}")
        return append_keyword_arg(updated_node, "timeout", cst.Integer(self.seconds))
