"""`burnmeter reprice`: recompute every stored cost with the current prices."""

from __future__ import annotations

import argparse
from typing import NamedTuple

from shared.commands.context import add_demo_flag, make_context, stdout_is_terminal
from shared.commands.render import plural
from shared.ledger import Ledger, rollback_if_open
from shared.pricing import PriceBook
from shared.schema import DERIVED_TRIGGERS, rebuild_costs
from shared.sources.events import UsageEvent

COLUMNS = (
    "event_key, agent, session_id, ts_ms, model, speed, input_tokens, output_tokens, "
    "cache_write_5m_tokens, cache_write_1h_tokens, cache_read_tokens, reasoning_tokens, free, "
    "web_search_requests, inference_geo"
)


# From this many changed calls on, the per-call triggers are dropped for the update and the
# tables holding cost sums are filled again from the calls once: each changed call fired
# the bucket, session and file triggers (1M calls: 27 s in all, the write lock held 22).
REBUILD_FROM = 20_000


class Repriced(NamedTuple):
    calls: int  # every stored call, priced again
    changed: int  # calls whose cost (or priced state) is not what was stored
    unpriced: int  # calls of a model with no price


def reprice(ledger: Ledger, prices: PriceBook) -> Repriced:
    conn = ledger.conn
    changed = []
    unpriced = 0
    count = 0
    for row in conn.execute(f"SELECT {COLUMNS}, cost_usd, priced, total_tokens FROM usage_events"):
        count += 1
        event = UsageEvent(
            event_key=row[0],
            agent=row[1],
            session_id=row[2],
            ts_ms=row[3],
            model=row[4],
            speed=row[5],
            input_tokens=row[6],
            output_tokens=row[7],
            cache_write_5m_tokens=row[8],
            cache_write_1h_tokens=row[9],
            cache_read_tokens=row[10],
            reasoning_tokens=row[11],
            free=bool(row[12]),
            web_search_requests=row[13],
            inference_geo=row[14],
        )
        cost = prices.cost(event)
        unpriced += cost is None
        priced = 0 if cost is None else 1
        if cost != row[15] or priced != row[16]:
            # With the reading it was priced from: a call an ingest enlarged meanwhile
            # keeps the cost that ingest gave it.
            changed.append((cost, priced, event.event_key, row[17], event.speed))
    update = (
        "UPDATE usage_events SET cost_usd = ?, priced = ? "
        "WHERE event_key = ? AND total_tokens = ? AND speed = ?"
    )
    conn.execute("BEGIN IMMEDIATE")
    try:
        triggers = conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"
        ).fetchall()
        if len(changed) >= REBUILD_FROM and {name for name, _ in triggers} <= DERIVED_TRIGGERS:
            for name, _ in triggers:
                conn.execute(f'DROP TRIGGER "{name}"')
            conn.executemany(update, changed)
            rebuild_costs(conn)
            for _, sql in triggers:
                conn.execute(sql)
        elif changed:
            conn.executemany(update, changed)
        ledger.set_meta("price_version", prices.version)
        conn.execute("COMMIT")
    except BaseException:
        rollback_if_open(conn)
        raise
    return Repriced(count, len(changed), unpriced)


def stale_prices(ledger: Ledger, prices: PriceBook) -> str | None:
    """What to tell the user when stored costs were computed with other prices than
    `prices` (a genai-prices or burnmeter upgrade, a changed override); None if current."""
    stored = ledger.get_meta("price_version")
    if stored == prices.version:
        return None
    if not ledger.has_calls():
        return None
    return (
        f"stored costs were computed with other prices ({stored or 'unknown'}) than the "
        f"current ones ({prices.version}); run `burnmeter reprice` to recompute them"
    )


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "reprice",
        help="recompute stored costs after a price update",
        description="Recompute the cost of every stored model call with the current prices "
        "(genai-prices' snapshot, the bundled overrides and [prices] in config.toml), e.g. "
        "after changing an override or upgrading burnmeter.",
    )
    add_demo_flag(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    context = make_context(args)
    context.ingest(show_progress=False)
    prices = context.price_book()
    if stdout_is_terminal():
        from shared.commands.render import make_console

        with make_console().status("Repricing the stored model calls…"):
            done = reprice(context.ledger, prices)
    else:
        done = reprice(context.ledger, prices)
    # How many costs moved: "Repriced 751 model calls" said the same after a change of
    # prices and after none.
    moved = (
        f"{plural(done.changed, 'cost')} changed"
        if done.changed
        else "no cost changed: they were already at these prices"
    )
    print(
        f"Repriced {plural(done.calls, 'model call')} with {prices.version}: {moved}"
        + (
            f"; {plural(done.unpriced, 'call')} {'has' if done.unpriced == 1 else 'have'} "
            "no price (see `burnmeter doctor`)"
            if done.unpriced
            else ""
        )
    )
    return 0
