"""`burnmeter reprice`: recompute every stored cost with the current prices."""

from __future__ import annotations

import argparse

from shared.commands.context import add_demo_flag, make_context
from shared.ledger import Ledger, rollback_if_open
from shared.pricing import PriceBook
from shared.sources.events import UsageEvent

COLUMNS = (
    "event_key, agent, session_id, ts_ms, model, speed, input_tokens, output_tokens, "
    "cache_write_5m_tokens, cache_write_1h_tokens, cache_read_tokens, reasoning_tokens, free, "
    "web_search_requests, inference_geo"
)


def reprice(ledger: Ledger, prices: PriceBook) -> tuple[int, int]:
    """Returns (calls repriced, calls still unpriced)."""
    conn = ledger.conn
    updates = []
    unpriced = 0
    for row in conn.execute(f"SELECT {COLUMNS} FROM usage_events"):
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
        updates.append((cost, 0 if cost is None else 1, event.event_key))
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.executemany(
            "UPDATE usage_events SET cost_usd = ?, priced = ? WHERE event_key = ? "
            "AND (cost_usd IS NOT ?1 OR priced != ?2)",
            updates,
        )
        ledger.set_meta("price_version", prices.version)
        conn.execute("COMMIT")
    except BaseException:
        rollback_if_open(conn)
        raise
    return len(updates), unpriced


def stale_prices(ledger: Ledger, prices: PriceBook) -> str | None:
    """What to tell the user when stored costs were computed with other prices than
    `prices` (a genai-prices or burnmeter upgrade, a changed override); None if current."""
    stored = ledger.get_meta("price_version")
    if stored == prices.version:
        return None
    if ledger.conn.execute("SELECT 1 FROM usage_events LIMIT 1").fetchone() is None:
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
    count, unpriced = reprice(context.ledger, prices)
    print(
        f"Repriced {count:,} model calls with {prices.version}"
        + (f"; {unpriced:,} calls have no price (see `burnmeter doctor`)" if unpriced else "")
    )
    return 0
