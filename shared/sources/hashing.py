"""Stable short hashes of tool inputs: enough to spot a repeated call, never enough to read it.

`input_hash` is what the parsers compute (a keyless hash, also part of the key of a Claude
line without a message id, which must stay the same in every ledger). What the ledger
stores of a tool's input is `stored_input_hash` of it, keyed with this machine's secret
(`shared.machine_key`): a keyless 64-bit hash of `git status` or `export KEY=sk-…1234` is
found again from a word list in seconds (found by the privacy audit)."""

from __future__ import annotations

import hashlib

import orjson

# Set by the ingest (and in each parser worker) before any row is made; empty only where
# no ledger is written.
_key = b""


def use_key(key: bytes) -> None:
    global _key
    _key = key


def current_key() -> bytes:
    return _key


def input_hash(value: object) -> str:
    if isinstance(value, str):
        raw = value.encode("utf-8", "surrogatepass")
    else:
        try:
            raw = orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
        except TypeError:
            raw = repr(value).encode()
    return hashlib.blake2b(raw, digest_size=8).hexdigest()


def stored_input_hash(keyless: str) -> str:
    """The ledger's hash of a tool input whose keyless hash is `keyless` ("" stays "": a
    call without an input)."""
    if not keyless:
        return keyless
    return hashlib.blake2b(
        keyless.encode("ascii"), digest_size=8, key=_key[:64], person=b"tool-input"
    ).hexdigest()
