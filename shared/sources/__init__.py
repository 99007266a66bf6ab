"""Log sources: where agents write their logs and how to turn their bytes into usage events.

Sources turn bytes into model calls, already merged per dedupe key as row tuples
(`events.CallRows`), and tool calls; which file the bytes came from, prices and SQL stay
with the ingest.
"""
