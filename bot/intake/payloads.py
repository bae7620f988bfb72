"""Reading a verified webhook body: all of it (for a process that handles the delivery), or only what
intake records (for the web process, which hands every delivery to the workers).

Both refuse the same bodies with `ValueError`: not JSON, not UTF-8, or nested too deeply (orjson
stops at 1,024 levels; msgspec at the interpreter's recursion limit, and what it refuses for any
reason is judged again by the full reader). The summary also refuses valid JSON that is not an
object (`NotAnObject`). Intake answers each with a 400.

Two differences are left, both about bodies GitHub never sends. msgspec's depth limit is the
interpreter's (997 levels on Python 3.11, 1,497 on 3.12, about 10,000 on 3.13), so on 3.12 and later
the summary accepts a body nested 1,025 levels or more that the full reader refuses; and a number of
more than 4,300 digits in a field the summary skips is not converted, so the summary accepts it where
Python's integer limit makes the full reader refuse. A worker reads every stored payload with
`parse_payload`, so it marks such a delivery `ignored` ("payload is not valid JSON: ...") without
retrying it, and no handler ever sees it.

`summarize_payload` checks the whole body's syntax but builds Python objects only for the three
top-level fields intake reads (`action`, `installation`, `zen`); everything else is skipped while
it is validated. On a 12.6 KB `issue_comment` payload that is a third of the CPU time of a full
parse, and the web process has no use for the rest (a worker parses the stored text again, and
marks a delivery it cannot read `ignored` with the reason).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import msgspec
import orjson


class NotAnObject(ValueError):
    """The body is valid JSON, but not an object."""


def parse_payload(body: bytes | str) -> Any:
    """The JSON body, or a stored payload's text (orjson; the standard library only for what orjson
    refuses, such as integers beyond 64 bits). Raises ValueError when it is not JSON, not UTF-8 or
    nested deeper than 1,024 levels."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as error:
        message = str(error).lower()
        # orjson stops at 1024 levels ("depth limit exceeded"; older releases said "recursion"); so do we. The
        # standard library's limit is the interpreter's recursion limit, far deeper on Python 3.12+.
        if "depth" in message or "recursion" in message:
            raise ValueError("payload nested too deeply") from None
    try:
        return json.loads(body.decode("utf-8") if isinstance(body, bytes) else body)
    except RecursionError:
        raise ValueError("payload nested too deeply") from None


class _Fields(msgspec.Struct):
    """The top-level fields intake reads; any JSON value is accepted for each (checked by the caller)."""

    action: Any = None
    installation: Any = None
    zen: Any = None


_DECODER = msgspec.json.Decoder(_Fields)


@dataclass(frozen=True)
class PayloadSummary:
    """What intake records of a payload besides its text."""

    action: str | None
    installation_id: int | None
    zen: Any = None


def _int_or_none(value: Any) -> int | None:
    """An id that fits the BIGINT column, else None (a stranger's 2**70 must not fail the whole batch)."""
    if isinstance(value, int) and not isinstance(value, bool) and -(2**63) <= value < 2**63:
        return value
    return None


def summary_of(payload: dict[str, Any]) -> PayloadSummary:
    """The summary of an already parsed payload (the same values `summarize_payload` reads)."""
    return _summary(payload.get("action"), payload.get("installation"), payload.get("zen"))


def _summary(action: Any, installation: Any, zen: Any) -> PayloadSummary:
    return PayloadSummary(
        action=action[:64] if isinstance(action, str) else None,
        installation_id=_int_or_none(installation.get("id")) if isinstance(installation, dict) else None,
        zen=zen,
    )


def summarize_payload(body: bytes) -> PayloadSummary:
    """The summary of a JSON object body, validating all of it; raises ValueError for a body
    `parse_payload` would refuse, and for one that is valid JSON but not an object."""
    try:
        fields = _DECODER.decode(body)
    except (msgspec.MsgspecError, RecursionError):
        # What msgspec refuses, the full reader decides (it also takes NaN and lone surrogates, as the
        # worker will, and tells "not JSON" from "not an object" the same way), so both readers refuse
        # the same bodies (but for the two cases in the module doc). Only a refused body pays twice.
        payload = parse_payload(body)
        if not isinstance(payload, dict):
            raise NotAnObject("payload is not a JSON object") from None
        return summary_of(payload)
    return _summary(fields.action, fields.installation, fields.zen)
