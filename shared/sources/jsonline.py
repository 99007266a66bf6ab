"""Parsing one log line: orjson, with a fallback for the unpaired surrogate escapes that
JavaScript writes when it cuts a string through an emoji (Claude Code truncates long tool
output by UTF-16 units). orjson refuses those lines; the stdlib reads them, and the stray
halves are replaced so that every string can be stored in SQLite."""

from __future__ import annotations

import json
from typing import Any

import orjson


def load_line(line: bytes) -> Any:
    """The JSON value of one line; ValueError if it is not JSON."""
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError:
        if b"\\u" not in line:
            raise
    return _without_surrogates(json.loads(line))


def _without_surrogates(value: Any) -> Any:
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, dict):
        return {_without_surrogates(k): _without_surrogates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_surrogates(item) for item in value]
    return value
