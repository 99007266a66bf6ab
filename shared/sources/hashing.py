"""Stable short hashes of tool inputs: enough to spot a repeated call, never enough to read it."""

from __future__ import annotations

import hashlib

import orjson


def input_hash(value: object) -> str:
    if isinstance(value, str):
        raw = value.encode("utf-8", "surrogatepass")
    else:
        try:
            raw = orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
        except TypeError:
            raw = repr(value).encode()
    return hashlib.blake2b(raw, digest_size=8).hexdigest()
