"""`burnmeter` (run as `python slow_first_ingest.py lsp ...`) whose live engine starts its
first ingest $BURNMETER_TEST_INGEST_DELAY seconds late: on a fresh ledger, the client's
first requests then certainly come before the first ingest is done, as they often do with
a real history. $BURNMETER_TEST_FIRST_INGEST_WAIT, if set, replaces how long the language
server's lens and hover wait for that ingest."""

from __future__ import annotations

import os
import sys
import time
from typing import Any

import lsp_server.hub
import shared.live.engine
from shared.cli import main

real_ingest = shared.live.engine.ingest
delayed: list[bool] = []


def late_first_ingest(*args: Any, **kwargs: Any) -> Any:
    if not delayed:
        delayed.append(True)
        time.sleep(float(os.environ.get("BURNMETER_TEST_INGEST_DELAY", "2")))
    return real_ingest(*args, **kwargs)


shared.live.engine.ingest = late_first_ingest  # type: ignore[assignment]
if wait := os.environ.get("BURNMETER_TEST_FIRST_INGEST_WAIT"):
    lsp_server.hub.FIRST_INGEST_WAIT_S = float(wait)
sys.exit(main())
