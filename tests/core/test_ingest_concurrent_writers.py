"""Two burnmeter processes reading the same file: a chunk read from an offset that another
process has since committed past is dropped when written, so its lines and calls are
not counted a second time."""

from __future__ import annotations

from pathlib import Path

from shared.ingest import ingest
from shared.ingest.parsing import parse_chunk
from shared.ingest.planning import plan_tasks
from shared.ingest.writer import LedgerWriter
from shared.ledger import open_ledger
from shared.pricing import PriceBook
from shared.sources.roots import LogFile
from tests.core.helpers import roots_for, totals
from tests.core.logwriters import ClaudeSession, claude_project_dir, claude_usage, text_block

CWD = "/home/dev/app"


def test_a_chunk_another_process_committed_meanwhile_is_dropped(
    isolated_home: Path, tmp_path: Path
) -> None:
    session = ClaudeSession("s-race", cwd=CWD)
    for index, output in enumerate([10, 20, 30]):
        session.reply(index + 1, [text_block("x")], claude_usage(10, output))
    path = session.write(claude_project_dir(isolated_home / ".claude", CWD) / "s-race.jsonl")
    ledger_path = tmp_path / "ledger.sqlite"
    slow = open_ledger(ledger_path)
    # The slow process plans and reads the file from its start...
    (task,) = plan_tasks(slow, [LogFile.from_stat("claude-code", str(path), path.stat())])
    assert task.offset == 0
    result = parse_chunk(task)
    # ...while another process reads and commits the whole file.
    fast = open_ledger(ledger_path)
    ingest(fast, roots_for({"HOME": str(isolated_home)}))
    lines = len(path.read_bytes().splitlines())
    # The slow process's chunk now starts behind the stored offset: nothing of it counts.
    assert LedgerWriter(slow, PriceBook).write(result) == 0
    (stored_lines,) = slow.conn.execute(
        "SELECT lines FROM sources WHERE path = ?", (str(path),)
    ).fetchone()
    assert stored_lines == lines
    assert totals(slow)["output_tokens"] == 60
