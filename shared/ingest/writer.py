"""The ledger writer: parsed chunks, priced, committed with their files' offsets in few
transactions. A batch is all or nothing, so an offset never runs ahead of its calls."""

from __future__ import annotations

import time

from shared.ingest.chunks import VANISHED, ChunkResult
from shared.ingest.side_copies import SideCopies
from shared.ledger import Ledger, begin_write
from shared.repos import RepoFinder
from shared.schema import TOKEN_COLUMNS
from shared.sources.events import ADVISOR_KEY, advisor_parent

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from shared.pricing import PriceBook

# A transaction is committed once it holds about this much, or after this long: few
# commits on a cold ingest, yet progress is saved (and shown) often.
BATCH_ROWS = 40_000
BATCH_SECONDS = 0.25
BATCH_MAX_SECONDS = 2.0

# A model with no price is cached as None; this marks "not looked up yet".
MISSING: Any = object()

# The same model call read twice in one thread (streamed lines, a re-read file) keeps the
# reading with the most tokens (a main-thread reading beats a subagent's copy of it
# outright: UPSERT_EVENT below). On a tie the reading that says more wins, whichever
# was read first (`shared.sources.events.wins_tie`, the same rule): early streamed lines
# carry no `speed`, so one that says "fast" (or a Codex tier's "flex") wins; a Codex call
# read again by a reader that counts its cache writes takes the reading with them; and a
# Claude call read again by a reader that counts its web searches and where it ran takes
# those (an older reader stored 0 and '', which no reprice could mend).
_WRITTEN = "{t}.cache_write_5m_tokens + {t}.cache_write_1h_tokens"
_BETTER = f"""(excluded.total_tokens > usage_events.total_tokens
        OR (excluded.total_tokens = usage_events.total_tokens
            AND ((excluded.speed = 'fast' AND usage_events.speed != 'fast')
                OR (excluded.speed = 'flex' AND usage_events.speed = 'standard')
                OR (excluded.speed = usage_events.speed
                    AND ({_WRITTEN.format(t="excluded")} > {_WRITTEN.format(t="usage_events")}
                        OR ({_WRITTEN.format(t="excluded")} = {_WRITTEN.format(t="usage_events")}
                            AND (excluded.web_search_requests
                                    > usage_events.web_search_requests
                                OR (excluded.web_search_requests
                                        = usage_events.web_search_requests
                                    AND excluded.inference_geo != ''
                                    AND usage_events.inference_geo = ''))))))))"""
_TAKEN = (
    *TOKEN_COLUMNS,
    "model",
    "speed",
    "cost_usd",
    "priced",
    "web_search_requests",
    "inference_geo",
)
# A call is timed by its earliest reading (a streamed reply's first line), and is a
# main-thread call once a reading of it is, with the main thread's readings alone: a
# subagent's copy read first made it a sidechain call, which the first main-thread reading
# replaces whatever their tokens and times, and a copy read after a main-thread reading
# changes nothing (ccusage keeps the main-thread line too; `shared.ingest.side_copies`
# drops the copies of a message under other keys). So the result is the same whatever
# order files are read in, in one ingest or several.
_MAIN_OVER_SIDE = "excluded.is_sidechain < usage_events.is_sidechain"
_SAME_THREAD = "excluded.is_sidechain = usage_events.is_sidechain"
_KEPT = f"({_MAIN_OVER_SIDE} OR ({_SAME_THREAD} AND {_BETTER}))"
UPSERT_EVENT = f"""INSERT INTO usage_events VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
    ON CONFLICT (event_key) DO UPDATE SET
        {
    ", ".join(
        f"{c} = CASE WHEN {_KEPT} THEN excluded.{c} ELSE usage_events.{c} END" for c in _TAKEN
    )
},
        ts_ms = CASE WHEN {_MAIN_OVER_SIDE} THEN excluded.ts_ms
            WHEN {_SAME_THREAD} THEN min(usage_events.ts_ms, excluded.ts_ms)
            ELSE usage_events.ts_ms END,
        is_sidechain = min(usage_events.is_sidechain, excluded.is_sidechain)
    WHERE {_KEPT} OR ({_SAME_THREAD} AND excluded.ts_ms < usage_events.ts_ms)"""
_PATH_WINS = "excluded.path_rank < coalesce(sessions.path_rank, 9e18)"
_BRANCH_WINS = "excluded.branch_rank < coalesce(sessions.branch_rank, 9e18)"
UPSERT_SESSION = f"""INSERT INTO sessions (session_id, agent, project_path, repo, git_branch,
        first_ts_ms, last_ts_ms, path_rank, branch_rank) VALUES (?,?,?,?,?,?,?,?,?)
    ON CONFLICT (session_id) DO UPDATE SET
        project_path = CASE WHEN {_PATH_WINS}
            THEN excluded.project_path ELSE sessions.project_path END,
        repo = CASE WHEN {_PATH_WINS} THEN excluded.repo ELSE sessions.repo END,
        path_rank = CASE WHEN {_PATH_WINS}
            THEN excluded.path_rank ELSE sessions.path_rank END,
        git_branch = CASE WHEN {_BRANCH_WINS}
            THEN excluded.git_branch ELSE sessions.git_branch END,
        branch_rank = CASE WHEN {_BRANCH_WINS}
            THEN excluded.branch_rank ELSE sessions.branch_rank END,
        first_ts_ms = min(sessions.first_ts_ms, excluded.first_ts_ms),
        last_ts_ms = max(sessions.last_ts_ms, excluded.last_ts_ms)"""
# A tool call belongs to the session of its model call, wherever it was read. A resumed
# session's transcript copies earlier replies of another session: the call is stored once,
# in the session of its first reading, which may be a line without the tool call (a reply
# streams a line per content block), while the tool call's first reading came from the
# other file; that session kept a tool call (its failure, its files) of a call it does not
# have, and `report sessions` showed it nowhere if the session had no call of its own. The
# call is written before its tool calls (in the batch or earlier), so its session is in the
# ledger to look up (`shared.ingest.attribution_repair`); a tool call stored before its call
# (Codex links its tool calls once the call is read) takes the call's session when linked.
# The file tables the triggers fill from a tool call (`call_files`, `file_sessions`) take
# its session. A bulk load knows the session of every call it has written (its ledger was
# empty, no other process writes) and gives it instead of looking it up: on the bench
# history's first import the look-ups cost 4.0 % more instructions, the map 1.3 %.
_CALL_SESSION = "(SELECT session_id FROM usage_events WHERE event_key = {key})"
_TOOL_CALL_LINKED = """ON CONFLICT (tool_id) DO UPDATE
        SET event_key = excluded.event_key, session_id = excluded.session_id
    WHERE tool_calls.event_key IS NULL AND excluded.event_key IS NOT NULL"""
UPSERT_TOOL_CALL = f"""INSERT INTO tool_calls
    VALUES (?1, ?2, coalesce({_CALL_SESSION.format(key="?2")}, ?3), ?4, ?5, ?6)
    {_TOOL_CALL_LINKED}"""
UPSERT_TOOL_CALL_PLACED = (
    f"INSERT INTO tool_calls VALUES (?1, ?2, ?3, ?4, ?5, ?6) {_TOOL_CALL_LINKED}"
)
LINK_TOOL_CALL = f"""UPDATE tool_calls
    SET event_key = ?1, session_id = coalesce({_CALL_SESSION.format(key="?1")}, session_id)
    WHERE tool_id = ?2 AND event_key IS NULL"""
LINK_TOOL_CALL_PLACED = """UPDATE tool_calls
    SET event_key = ?1, session_id = coalesce(?3, session_id)
    WHERE tool_id = ?2 AND event_key IS NULL"""

# An advisor's call belongs where the call it was made in does: its session, its thread,
# its file. Read from the same line they agree; but the call may have been stored before
# (a ledger upgraded to schema 13 reads every log again: the advisor's call is new, and
# the first file to bring it, a resumed session's copy, say, is not always the one that
# brought the call years ago).
FOLLOW_PARENT = """UPDATE usage_events SET (session_id, is_sidechain, source_id) =
        (SELECT session_id, is_sidechain, source_id FROM usage_events WHERE event_key = ?1)
    WHERE event_key = ?2 AND EXISTS (
        SELECT 1 FROM usage_events AS parent WHERE parent.event_key = ?1
            AND (parent.session_id != usage_events.session_id
                OR parent.is_sidechain != usage_events.is_sidechain))"""

ADVANCE_SOURCE = (
    "UPDATE sources SET offset = ?, state = ?, lines = lines + ?, "
    "rejected_lines = rejected_lines + ?, last_error = ?, "
    "tail_hash = coalesce(?, tail_hash), tail_offset = coalesce(?, tail_offset) WHERE id = ?"
)


def _tail_offset(result: ChunkResult) -> int | None:
    """The offset a read's checksum belongs to (an archive, read whole, has none but is
    marked as read the same way); None when the read consumed nothing."""
    if result.tail_hash is None and not (
        result.task.compressed and result.new_offset != result.task.offset
    ):
        return None
    return result.new_offset


class LedgerWriter:
    """Collects parsed chunks and commits them, with their file offsets, in few
    transactions: a batch is all or nothing, so offsets never run ahead of the calls."""

    def __init__(self, ledger: Ledger, prices: Callable[[], PriceBook]) -> None:
        self.ledger = ledger
        self._prices_factory = prices
        self._prices: PriceBook | None = None
        self._unit_prices: dict[tuple[str, str], Any] = {}
        from shared.pricing import cost_of_counts

        self._cost_of_counts = cost_of_counts
        self.repos = RepoFinder()
        self._pending: list[ChunkResult] = []
        self._pending_rows = 0
        self._commits = 0
        self.bulk = False
        self._opened = time.monotonic()
        # Sidechain copies of main-thread Claude Code replies (a `/btw` side question's).
        self._copies = SideCopies()
        # A bulk load's calls written so far: key -> session (that of its first row).
        self._call_sessions: dict[str, str] = {}

    @property
    def prices(self) -> PriceBook:
        if self._prices is None:
            self._prices = self._prices_factory()
            # `price_version` names the prices every stored cost was computed with: only
            # an empty ledger takes new ones here (`reprice` moves it on otherwise), so
            # `doctor` and `ingest` can say when older costs wait for a reprice.
            version = self._prices.version
            if self.ledger.get_meta("price_version") != version and not self.ledger.has_calls():
                self.ledger.set_meta("price_version", version)
        return self._prices

    def worth_committing(self) -> bool:
        """While the parsers are busy: commit if the batch has grown or aged a little (a
        commit per parsed group would cost more in WAL writes than it saves)."""
        return bool(self._pending) and (
            self._pending_rows >= BATCH_ROWS // 4 or self._age() >= self._max_age()
        )

    def _age(self) -> float:
        return time.monotonic() - self._opened

    def _max_age(self) -> float:
        # The first commits come quickly (progress is saved and shown early); later ones
        # wait longer, since each commit rewrites the index pages it touched.
        return float(min(BATCH_SECONDS * 2**self._commits, BATCH_MAX_SECONDS))

    def add(self, result: ChunkResult) -> bool:
        """Queue one chunk; True when the batch is big or old enough to commit."""
        if not self._pending:
            self._opened = time.monotonic()
        self._pending.append(result)
        self._pending_rows += result.rows.row_count() + 1
        return self._pending_rows >= BATCH_ROWS or self._age() >= self._max_age()

    def write(self, result: ChunkResult) -> int:
        """Commit one chunk on its own; returns how many model calls it added or updated."""
        self._pending.append(result)
        return self.flush()

    def flush(self) -> int:
        """Commit everything queued in one transaction; returns how many model calls were
        added or updated. On error nothing of the batch is kept (the offsets included)."""
        batch, self._pending, self._pending_rows = self._pending, [], 0
        if not batch:
            return 0
        self._commits += 1
        conn = self.ledger.conn
        # In a bulk load the whole ingest is one transaction, already open, and a batch is
        # not a savepoint in it: a savepoint copies every page a batch changes into a
        # statement journal first (~200 MB of writes for a 105 MB ledger on the bench
        # history, 0.18 s of a 3.3 s cold ingest). A failed batch ends the load whole.
        if not self.bulk:
            begin_write(self.ledger)
        try:
            batch = self._still_ours(batch)
            events = self._priced_rows(batch)
            events = self._copies.resolve(
                conn, events, [result.rows.events for result in batch], self.bulk
            )
            added = 0
            if self.bulk:
                remember = self._call_sessions.setdefault
                for row in events:
                    remember(row[0], row[2])
            if events:
                added = max(0, conn.executemany(UPSERT_EVENT, events).rowcount)
                advisors = [
                    (parent, row[0])
                    for row in events
                    if ADVISOR_KEY in row[0] and (parent := advisor_parent(row[0]))
                ]
                if advisors:
                    conn.executemany(FOLLOW_PARENT, advisors)
            self._write_tools(batch)
            self._copies.follow_replies(conn, self.bulk)
            self._copies.count_files_again(conn)
            self._write_sessions(batch)
            rate_limits = [row for result in batch for row in result.rows.rate_limits]
            if rate_limits:
                conn.executemany(
                    "INSERT OR IGNORE INTO rate_limits VALUES (?,?,?,?,?,?,?,?,?,?)", rate_limits
                )
            conn.executemany(
                ADVANCE_SOURCE,
                [
                    (
                        result.new_offset,
                        result.new_state,
                        result.rows.lines,
                        result.rows.rejected_lines,
                        None if result.error == VANISHED else result.error,
                        result.tail_hash,
                        _tail_offset(result),
                        result.task.source_id,
                    )
                    for result in batch
                ],
            )
            if not self.bulk:
                conn.execute("COMMIT")
        except BaseException:
            # After some errors (a full disk, an I/O error) SQLite has already rolled the
            # whole transaction back: then there is nothing left to undo here, and the
            # original error is what the caller must see. A bulk load's caller rolls back.
            if conn.in_transaction and not self.bulk:
                conn.execute("ROLLBACK")
            raise
        return added

    def _still_ours(self, batch: list[ChunkResult]) -> list[ChunkResult]:
        """The chunks whose bytes no other burnmeter process has committed meanwhile (a
        report run while the tray ingests): a chunk counts only if its file's stored offset
        is still where the chunk was read from. Runs inside the write transaction."""
        stored: dict[int, int] = {}
        ids = sorted({result.task.source_id for result in batch})
        for start in range(0, len(ids), 500):
            part = ids[start : start + 500]
            marks = ",".join("?" * len(part))
            stored.update(
                self.ledger.conn.execute(
                    f"SELECT id, offset FROM sources WHERE id IN ({marks})", part
                ).fetchall()
            )
        kept = []
        for result in batch:
            source_id = result.task.source_id
            if stored.get(source_id) != result.task.offset:
                continue  # another process holds these bytes (and so the later chunks)
            stored[source_id] = result.new_offset
            kept.append(result)
        return kept

    def _priced_rows(self, batch: list[ChunkResult]) -> list[tuple[Any, ...]]:
        """The batch's event rows as ledger rows: with their file's id, their cost (None
        when the model has no price) and the priced flag."""
        cost_of_counts = self._cost_of_counts
        unit_prices = self._unit_prices
        rows = []
        for result in batch:
            source_id = result.task.source_id
            for row in result.rows.events:
                (
                    key,
                    agent,
                    session_id,
                    ts_ms,
                    model,
                    speed,
                    input_tokens,
                    output_tokens,
                    write_5m,
                    write_1h,
                    cache_read,
                    reasoning,
                    total,
                    free,
                    is_sidechain,
                    web_searches,
                    geo,
                ) = row
                if free:
                    cost: float | None = 0.0
                else:
                    unit = unit_prices.get((model, speed), MISSING)
                    if unit is MISSING:
                        unit = unit_prices[(model, speed)] = self.prices.prices_for(model, speed)
                    cost = (
                        None
                        if unit is None
                        else cost_of_counts(
                            unit,
                            input_tokens,
                            output_tokens,
                            write_5m,
                            write_1h,
                            cache_read,
                            ts_ms,
                            web_searches,
                            # US-only inference: a premium on the tokens of newer models.
                            self.prices.us_factor(model) if geo == "us" else 1.0,
                        )
                    )
                rows.append(
                    (
                        key,
                        agent,
                        session_id,
                        source_id,
                        ts_ms,
                        model,
                        speed,
                        input_tokens,
                        output_tokens,
                        write_5m,
                        write_1h,
                        cache_read,
                        reasoning,
                        total,
                        cost,
                        0 if cost is None else 1,
                        free,
                        is_sidechain,
                        web_searches,
                        geo,
                    )
                )
        return rows

    def _write_tools(self, batch: list[ChunkResult]) -> None:
        conn = self.ledger.conn
        tool_calls = [row for result in batch for row in result.rows.tool_calls]
        moved = self._copies.moved
        if moved:  # a copy's tool calls are its reply's
            tool_calls = [
                row if row[1] not in moved else (row[0], moved[row[1]], *row[2:])
                for row in tool_calls
            ]
        sessions = self._call_sessions if self.bulk else None
        if sessions is not None:
            session_of = sessions.get
            for index, row in enumerate(tool_calls):
                session = session_of(row[1])
                if session is not None and session != row[2]:
                    tool_calls[index] = (row[0], row[1], session, *row[3:])
            if tool_calls:
                conn.executemany(UPSERT_TOOL_CALL_PLACED, tool_calls)
        elif tool_calls:
            conn.executemany(UPSERT_TOOL_CALL, tool_calls)
        tool_files = [row for result in batch for row in result.rows.tool_files]
        if tool_files:
            conn.executemany("INSERT OR IGNORE INTO tool_files VALUES (?, ?)", tool_files)
        links = [
            (moved.get(key, key), tool_id)
            for result in batch
            for tool_id, key in result.rows.tool_links
        ]
        if links and sessions is not None:
            conn.executemany(
                LINK_TOOL_CALL_PLACED, [(key, tool_id, sessions.get(key)) for key, tool_id in links]
            )
        elif links:
            conn.executemany(LINK_TOOL_CALL, links)
        errors = [row for result in batch for row in result.rows.tool_errors]
        if errors:
            conn.executemany("INSERT OR IGNORE INTO tool_errors VALUES (?)", errors)

    def _write_sessions(self, batch: list[ChunkResult]) -> None:
        rows = []
        for result in batch:
            for (
                session_id,
                agent,
                cwd,
                branch,
                first,
                last,
                path_rank,
                branch_rank,
            ) in result.rows.sessions:
                repo = self.repos.repo_for(cwd) if cwd else None
                rows.append(
                    (session_id, agent, cwd, repo, branch, first, last, path_rank, branch_rank)
                )
        if rows:
            self.ledger.conn.executemany(UPSERT_SESSION, rows)
