"""Writing config.toml so that what the user wrote stays as they wrote it.

`edited_toml` applies new values to the file's own text through tomlkit: comments, blank
lines, key order, quoting and the spelling of every value that did not change are kept
byte for byte; a changed value is replaced where it stands, a new key is added to its
table, a key no longer wanted is removed. `shared.atomic_file.write_atomically` puts the
result in place in one rename, so a crash mid-save leaves the old file or the new one,
never half of either.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable
from typing import Any

import tomlkit
from tomlkit.container import OutOfOrderTableProxy
from tomlkit.items import AoT, Array, Comment, InlineTable, Item, Table, Whitespace

Where = tuple[str, ...]
# Whether the file's own value at a place (None: the key left out) means what is wanted
# there; such a value is kept in the file's spelling (`'utc'` for "UTC", `5` for 5.0).
Same = Callable[[Where, Any], bool]


def edited_toml(text: str, wanted: dict[str, Any], same: Same) -> str:
    """`text` (a TOML document) changed to hold `wanted` and nothing else. Raises
    tomlkit's ParseError for text that is not TOML."""
    document = tomlkit.parse(text)
    _apply(lambda: document, wanted, (), same)
    edited = document.as_string()
    if "\r\n" in text and not re.search(r"(?<!\r)\n", text):
        # tomlkit writes "\n" after what it adds; the file's own line ends are CRLF.
        edited = re.sub(r"(?<!\r)\n", "\r\n", edited)
    return edited


def new_toml(wanted: dict[str, Any]) -> str:
    """`wanted` as a new TOML document: keys first, then tables."""
    document = tomlkit.document()
    for key, value in sorted(wanted.items(), key=lambda pair: isinstance(pair[1], dict)):
        document.add(key, _new_item(value))
    return document.as_string()


def _apply(here: Callable[[], Any], wanted: dict[str, Any], where: Where, same: Same) -> None:
    """Edit the table `here()` gives to hold `wanted`. The table is looked up again
    after each change: tomlkit's view of a table split by another (`[a.x]`, `[b]`,
    `[a.y]`) is stale once one of its parts changed."""
    for key in list(here().keys()):
        if key in wanted:
            continue
        item = here()[key]
        if isinstance(item, Table | OutOfOrderTableProxy):
            # Its keys one by one: one that still means something stays, and so does the
            # table while a key or a comment of the user's is left in it.
            _apply(_lookup(here, key), {}, (*where, key), same)
            if not _holds_anything(here()[key]):
                del here()[key]
        elif not same((*where, key), _plain(item)):
            del here()[key]
    for key, value in wanted.items():
        if key not in here():
            here()[key] = _new_item(value)
            continue
        item = here()[key]
        raw = _plain(item)
        is_table = isinstance(item, Table | InlineTable | OutOfOrderTableProxy)
        if _identical(raw, value):
            continue
        if isinstance(value, dict) and is_table:
            _apply(_lookup(here, key), value, (*where, key), same)
        elif same((*where, key), raw):
            continue
        elif isinstance(value, list) and (
            isinstance(item, Array)
            or (isinstance(item, AoT) and all(isinstance(one, dict) for one in value))
        ):
            _edit_list(item, value)
        elif isinstance(value, dict) or is_table:
            # A table for a value or the other way round: added anew, where tomlkit puts
            # its kind (a key before the first table, a table at the end).
            del here()[key]
            here()[key] = _new_item(value)
        else:
            here()[key] = _new_item(value)


def _lookup(here: Callable[[], Any], key: str) -> Callable[[], Any]:
    return lambda: here()[key]


def _edit_list(items: Array | AoT, wanted: list[Any]) -> None:
    """Only the elements that changed: the others keep their comments and layout."""
    if isinstance(items, AoT):
        _edit_tables(items, wanted)
        return
    for tag, start, end, new_start, new_end in reversed(_steps(items, wanted)):
        if tag == "equal":
            continue
        for index in reversed(range(start, end)):
            del items[index]
        for offset, value in enumerate(wanted[new_start:new_end]):
            items.insert(start + offset, _new_item(value, inline=True))


def _steps(items: Array | AoT, wanted: list[Any]) -> list[tuple[str, int, int, int, int]]:
    have = [_key(_plain(element)) for element in items]
    steps = difflib.SequenceMatcher(None, have, [_key(value) for value in wanted], autojunk=False)
    return list(steps.get_opcodes())


def _edit_tables(tables: AoT, wanted: list[Any]) -> None:
    """`[[table]]` entries. The comment lines right above an entry's header, after a
    blank line (`# then haiku` over `[[rules]]`), are its own and go where it goes, or
    with it; tomlkit keeps them at the end of the entry before, where they stayed above
    whatever came next. An entry moved is the same entry, its comments with it. Those
    after the last entry belong to the table after the list, and stay there with the
    blank lines before them. (Those above the first entry are in the table holding the
    list, and may be about the whole list: they stay.)"""
    steps = _steps(tables, wanted)
    if not tables.body:
        for value in wanted:
            tables.append(_new_table(value))
        return
    last = tables.body[-1]
    after_list = _take_notes(last)
    end_space = _end_space(last)
    for before, table in zip(tables.body, tables.body[1:], strict=False):
        notes = "".join(note.as_string() for note in _take_notes(before))
        table.trivia.indent = notes + table.trivia.indent
    going: dict[str, list[Table]] = {}
    for tag, start, end, _new_start, _new_end in steps:
        if tag in ("delete", "replace"):
            for table in tables.body[start:end]:
                going.setdefault(_key(_plain(table)), []).append(table)
    added: list[Table] = []
    for tag, start, end, new_start, new_end in reversed(steps):
        if tag == "equal":
            continue
        for index in reversed(range(start, end)):
            del tables[index]
        for offset, value in enumerate(wanted[new_start:new_end]):
            moved = going.get(_key(value))
            tables.insert(start + offset, moved.pop(0) if moved else _new_table(value))
            added.append(tables.body[start + offset])
    if not tables.body:
        return
    _space_like_the_others(tables, added)
    last = tables.body[-1]
    _set_end_space(last, end_space)
    for note in after_list:
        last.value.append(None, note)


def _take_notes(table: Table) -> list[Item]:
    """The comment lines a table's body ends with after a blank line, taken out of it
    (the lines above the next header). Without the blank line they may be the table's
    own (a note under its last key), and stay."""
    body = table.value.body
    start = len(body)
    while start and isinstance(body[start - 1][1], Comment):
        start -= 1
    if start == len(body) or not start or not isinstance(body[start - 1][1], Whitespace):
        return []
    notes = [item for _key, item in body[start:]]
    # Keyless items at the end of the body: no key's place in it moves.
    del body[start:]
    return notes


def _end_space(table: Table) -> str:
    """The blank lines a table ends with."""
    space = []
    for _key, item in reversed(table.value.body):
        if not isinstance(item, Whitespace):
            break
        space.append(item.as_string())
    return "".join(reversed(space))


def _set_end_space(table: Table, space: str) -> None:
    if _end_space(table) == space:
        return
    body = table.value.body
    while body and isinstance(body[-1][1], Whitespace):
        body.pop()
    if space:
        table.add(tomlkit.ws(space))


def _space_like_the_others(tables: AoT, added: list[Table]) -> None:
    """A `[[table]]` entry added ends with the blank lines its neighbour ends with (the
    one before it, or after it when it is the first), not glued to the next header."""
    old = [table for table in tables.body if not any(table is new for new in added)]
    for table in added:
        if _end_space(table):
            continue  # an entry moved, with its own
        index = next(at for at, one in enumerate(tables.body) if one is table)
        before = [one for one in tables.body[:index] if any(one is kept for kept in old)]
        model = before[-1] if before else next(iter(old), None)
        if model is None:
            return
        space = _end_space(model)
        if space:
            table.add(tomlkit.ws(space))


def _new_table(value: dict[str, Any]) -> Table:
    table = tomlkit.table()
    for key, inner in value.items():
        table.add(key, _new_item(inner))
    return table


def _new_item(value: Any, *, inline: bool = False) -> Item:
    if isinstance(value, dict):
        table: Table | InlineTable = tomlkit.inline_table() if inline else tomlkit.table()
        for key, inner in value.items():
            table.add(key, _new_item(inner, inline=inline))
        return table
    if isinstance(value, list):
        array = tomlkit.array()
        for element in value:
            array.append(_new_item(element, inline=True))
        return array
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        # Whole dollars as the user writes them (`daily_usd = 9`, not `9.0`): every
        # float setting takes an integer.
        value = int(value)
    plain: Item = tomlkit.item(value)
    return plain


def _holds_anything(table: Table | OutOfOrderTableProxy) -> bool:
    if len(table):
        return True
    body = table.value.body if isinstance(table, Table) else []
    return any(isinstance(item, Comment) for _key, item in body)


def _plain(item: Any) -> Any:
    return item.unwrap() if hasattr(item, "unwrap") else item


def _identical(have: Any, wanted: Any) -> bool:
    """Equal and of the same types all the way down (`1` is not `true`, `5` not `5.0`)."""
    if type(have) is not type(wanted):
        return False
    if isinstance(have, dict):
        return have.keys() == wanted.keys() and all(
            _identical(have[key], wanted[key]) for key in have
        )
    if isinstance(have, list):
        return len(have) == len(wanted) and all(map(_identical, have, wanted))
    return bool(have == wanted)


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)
