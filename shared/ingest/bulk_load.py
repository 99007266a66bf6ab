"""A first import of a big history into an empty ledger: one transaction, the plain indexes
and the row-by-row triggers dropped while it loads, then built once from what it loaded."""

from __future__ import annotations

from shared.ledger import Ledger, begin_write, rollback_if_open
from shared.schema import DERIVED_TRIGGERS, rebuild_derived


def possible(ledger: Ledger) -> bool:
    """A first ingest of a big history into an empty ledger, whose every trigger keeps a
    table that `rebuild_derived` knows how to fill."""
    if ledger.has_calls():
        return False
    conn = ledger.conn
    names = {
        row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
    }
    return names <= DERIVED_TRIGGERS


def begin(ledger: Ledger) -> tuple[list[str], list[str]]:
    """Open the one transaction of a bulk load and drop in it the row-by-row triggers and
    the plain (non-unique) indexes: building an index once from the loaded rows costs a
    fraction of inserting every row into it at a random place. A kill or an error rolls
    the drops back with everything else. Returns the SQL of the indexes and triggers."""
    conn = ledger.conn
    begin_write(ledger)
    try:
        found = conn.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE type IN ('index', 'trigger') "
            "AND sql IS NOT NULL ORDER BY type, name"
        ).fetchall()
        indexes: list[str] = []
        triggers: list[str] = []
        for kind, name, sql in found:
            if kind == "index" and sql.upper().startswith("CREATE UNIQUE"):
                continue  # a unique index is a constraint the upserts rely on
            conn.execute(f'DROP {kind.upper()} "{name}"')
            (indexes if kind == "index" else triggers).append(sql)
    except BaseException:
        rollback_if_open(conn)
        raise
    return indexes, triggers


def finish(ledger: Ledger, dropped: tuple[list[str], list[str]]) -> None:
    """Build the indexes again, fill the derived tables from what was loaded (with the
    indexes in place, as the row-by-row path has them), restore the triggers, commit."""
    conn = ledger.conn
    indexes, triggers = dropped
    for sql in indexes:
        conn.execute(sql)
    rebuild_derived(conn)
    for sql in triggers:
        conn.execute(sql)
    conn.execute("COMMIT")
