"""Insights over the ledger: what the tray, the language server, the weekly summary and the
reports show beyond raw totals.

- `tiers`: model tiers (`TierPolicy`) and the kind of work of a call (`work_kind`).
- `sessions`: per-session tier, tier hint with counterfactual repricing, outcome from git
  and runaway flags (`session_insights`).
- `outcomes`, `flags`: the git outcome and the loop / cache-churn / context-bloat rules.
- `blocks`: ccusage-compatible 5-hour blocks (`compute_blocks`, `current_block`).
- `budgets`: budget states, threshold crossings and subscription leverage.
- `limits`: the latest plan-limit readings (Codex logs, Claude Code statusline).

Import the submodule you need; this package imports nothing itself, so the statusline's
`blocks`/`limits` path stays light.
"""
