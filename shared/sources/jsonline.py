"""Parsing one log line: orjson, with fallbacks for two kinds of damage that leave a line's
JSON intact, read as Node (which wrote the line, and with which ccusage reads it) reads them:

- unpaired surrogate escapes, which JavaScript writes when it cuts a string through an emoji
  (Claude Code truncates long tool output by UTF-16 units): orjson refuses those lines; the
  stdlib reads them, and the stray halves are replaced so that every string can be stored
  in SQLite;
- bytes that are not UTF-8 (raw output of some tool): they become U+FFFD.
"""

from __future__ import annotations

import json
from typing import Any

import orjson


def load_line(line: bytes) -> Any:
    """The JSON value of one line; ValueError if it is not JSON, or if it nests deeper than
    the parsers go (orjson stops at 1,024 levels, the stdlib at Python's recursion limit)."""
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError:
        if b"\\u" not in line and _is_utf8(line):
            raise
    text = line.decode("utf-8", "replace")
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        if "\\u" not in text:
            raise
    try:
        return _without_surrogates(json.loads(text))
    except RecursionError as exc:
        raise ValueError("the line nests JSON deeper than it can be read") from exc


def _is_utf8(line: bytes) -> bool:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _without_surrogates(value: Any) -> Any:
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, dict):
        return {_without_surrogates(k): _without_surrogates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_surrogates(item) for item in value]
    return value
