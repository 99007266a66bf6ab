"""Log sources: where agents write their logs and how to turn their bytes into usage events.

Sources know nothing of the ledger: they turn bytes into `UsageEvent`s and `ToolCall`s.
"""
