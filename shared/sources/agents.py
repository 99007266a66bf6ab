"""The agents burnmeter reads, by the names the ledger stores.

A module of its own: code that needs only these names (a warm `burnmeter report`) then
skips building the record classes of `shared.sources.events`.
"""

CLAUDE = "claude-code"
CODEX = "codex"
AGENTS = (CLAUDE, CODEX)
