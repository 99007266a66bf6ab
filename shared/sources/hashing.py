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
# The keyed hasher before any input (copied: ~0.5 µs a hash against ~1.4 µs keying each
# anew), and the hashes already made: an input recurs (the same file read, the same
# command), so an ingest of the bench history keys 26,000 inputs for 89,000 tool calls.
_keyed = hashlib.blake2b(digest_size=8, person=b"tool-input")
_made: dict[str, str] = {}
MADE_AT_MOST = 65_536


def use_key(key: bytes) -> None:
    global _key, _keyed
    if key != _key:
        _key = key
        _keyed = hashlib.blake2b(digest_size=8, key=key[:64], person=b"tool-input")
        _made.clear()


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
    made = _made.get(keyless)
    if made is None:
        hasher = _keyed.copy()
        hasher.update(keyless.encode("ascii"))
        made = hasher.hexdigest()
        if len(_made) >= MADE_AT_MOST:
            _made.clear()
        _made[keyless] = made
    return made
