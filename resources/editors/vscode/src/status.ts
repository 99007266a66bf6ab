// Pure logic of the extension (no `vscode` import), tested with node's test runner:
// validating `burnmeter/status` parameters and turning them into status-bar text.

export interface SessionStatus {
  session_id: string;
  agent: string;
  model: string;
  cost_usd: number;
  total_tokens: number;
  started_at: string;
  last_activity: string;
  running: boolean;
  /** Calls with no known price (absent when none): their cost is not in cost_usd. */
  unpriced_calls?: number;
}

export interface Status {
  today_cost_usd: number;
  workspace_cost_usd: number;
  sessions: SessionStatus[];
  today_unpriced_calls?: number;
  workspace_unpriced_calls?: number;
}

export interface StatusBarText {
  text: string;
  tooltip: string;
}

function isNumber(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value);
}

/** An optional count: absent, or a whole number of calls. */
function isCount(value: unknown): value is number | undefined {
  return value === undefined || (isNumber(value) && Number.isInteger(value) && value >= 0);
}

function isSession(value: unknown): value is SessionStatus {
  if (typeof value !== "object" || value === null) return false;
  const s = value as Record<string, unknown>;
  return (
    typeof s.session_id === "string" &&
    typeof s.agent === "string" &&
    typeof s.model === "string" &&
    isNumber(s.cost_usd) &&
    isNumber(s.total_tokens) &&
    typeof s.started_at === "string" &&
    typeof s.last_activity === "string" &&
    typeof s.running === "boolean" &&
    isCount(s.unpriced_calls)
  );
}

/** The parameters if they have the documented shape, else null (never throws). */
export function parseStatus(params: unknown): Status | null {
  if (typeof params !== "object" || params === null) return null;
  const p = params as Record<string, unknown>;
  if (!isNumber(p.today_cost_usd) || !isNumber(p.workspace_cost_usd)) return null;
  if (!Array.isArray(p.sessions) || !p.sessions.every(isSession)) return null;
  if (!isCount(p.today_unpriced_calls) || !isCount(p.workspace_unpriced_calls)) return null;
  return {
    today_cost_usd: p.today_cost_usd,
    workspace_cost_usd: p.workspace_cost_usd,
    sessions: p.sessions,
    today_unpriced_calls: p.today_unpriced_calls,
    workspace_unpriced_calls: p.workspace_unpriced_calls,
  };
}

/** Money as the server and the CLI write it (lsp_server/format.py). Python rounds an exact
 * tie to the even digit where JavaScript's `toFixed` and `Math.round` go up: 0.125 read
 * $0.13 here and $0.12 in the CLI, 100.5 $101 against $100. Both round every other value
 * from its exact binary value alike. */
export function money(usd: number): string {
  if (usd >= 100) return `$${halfEven(usd).toLocaleString("en-US")}`;
  if (usd >= 0.01 || usd === 0) return `$${cents(usd)}`;
  return "<$0.01";
}

/** `value` rounded to a whole number, an exact .5 to the even one. */
function halfEven(value: number): number {
  const down = Math.floor(value);
  if (value - down !== 0.5) return Math.round(value);
  return down % 2 === 0 ? down : down + 1;
}

/** Two decimals. The only doubles exactly on a half cent are odd multiples of 1/8 (0.125,
 * 0.375, ...): those go to the even cent; `usd * 100` is exact for them. */
function cents(usd: number): string {
  const eighths = usd * 8;
  if (!Number.isInteger(eighths) || eighths % 2 === 0) return usd.toFixed(2);
  return (halfEven(usd * 100) / 100).toFixed(2);
}

function calls(n: number): string {
  return `${n.toLocaleString("en-US")} call${n === 1 ? "" : "s"}`;
}

/** A cost with its calls of no known price, as the server writes it: `$3.21`,
 * `$3.21 (+2 unpriced)`, or `unpriced (2 calls)` for a zero cost (never a bare $0.00). */
export function costText(usd: number, unpriced?: number): string {
  if (!unpriced) return money(usd);
  if (usd === 0) return `unpriced (${calls(unpriced)})`;
  return `${money(usd)} (+${unpriced.toLocaleString("en-US")} unpriced)`;
}

/** `claude-opus-4-7-20260101` → `opus-4-7`. */
export function shortModel(model: string): string {
  return model.replace(/-\d{8}$/, "").replace(/^claude-/, "");
}

/** The status-bar text: the running session's cost if one runs, else today's. */
export function statusBarText(status: Status): StatusBarText {
  const running = status.sessions.find((s) => s.running);
  const text = running
    ? `$(flame) ${costText(running.cost_usd, running.unpriced_calls)} ${shortModel(running.model)}`
    : `$(pulse) ${costText(status.today_cost_usd, status.today_unpriced_calls)} today`;
  const lines = [
    `Today (all projects): ${costText(status.today_cost_usd, status.today_unpriced_calls)}`,
    `This workspace (all time): ${costText(status.workspace_cost_usd, status.workspace_unpriced_calls)}`,
  ];
  for (const s of status.sessions.slice(0, 5)) {
    const state = s.running ? "running" : `last ${s.last_activity}`;
    const cost = costText(s.cost_usd, s.unpriced_calls);
    lines.push(`${s.session_id.slice(0, 8)} ${shortModel(s.model)} ${cost} (${state})`);
  }
  return { text, tooltip: lines.join("\n") };
}

/** How to start the server: `<path> lsp`. */
export function serverCommand(path: string | undefined): { command: string; args: string[] } {
  const command = path && path.trim() ? path.trim() : "burnmeter";
  return { command, args: ["lsp"] };
}
