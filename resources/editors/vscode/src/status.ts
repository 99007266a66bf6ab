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
}

export interface Status {
  today_cost_usd: number;
  workspace_cost_usd: number;
  sessions: SessionStatus[];
}

export interface StatusBarText {
  text: string;
  tooltip: string;
}

function isNumber(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value);
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
    typeof s.running === "boolean"
  );
}

/** The parameters if they have the documented shape, else null (never throws). */
export function parseStatus(params: unknown): Status | null {
  if (typeof params !== "object" || params === null) return null;
  const p = params as Record<string, unknown>;
  if (!isNumber(p.today_cost_usd) || !isNumber(p.workspace_cost_usd)) return null;
  if (!Array.isArray(p.sessions) || !p.sessions.every(isSession)) return null;
  return {
    today_cost_usd: p.today_cost_usd,
    workspace_cost_usd: p.workspace_cost_usd,
    sessions: p.sessions,
  };
}

export function money(usd: number): string {
  if (usd >= 100) return `$${Math.round(usd).toLocaleString("en-US")}`;
  if (usd >= 0.01 || usd === 0) return `$${usd.toFixed(2)}`;
  return "<$0.01";
}

/** `claude-opus-4-7-20260101` → `opus-4-7`. */
export function shortModel(model: string): string {
  return model.replace(/-\d{8}$/, "").replace(/^claude-/, "");
}

/** The status-bar text: the running session's cost if one runs, else today's. */
export function statusBarText(status: Status): StatusBarText {
  const running = status.sessions.find((s) => s.running);
  const text = running
    ? `$(flame) ${money(running.cost_usd)} ${shortModel(running.model)}`
    : `$(pulse) ${money(status.today_cost_usd)} today`;
  const lines = [
    `Today (all projects): ${money(status.today_cost_usd)}`,
    `This workspace (all time): ${money(status.workspace_cost_usd)}`,
  ];
  for (const s of status.sessions.slice(0, 5)) {
    const state = s.running ? "running" : `last ${s.last_activity}`;
    lines.push(`${s.session_id.slice(0, 8)} ${shortModel(s.model)} ${money(s.cost_usd)} (${state})`);
  }
  return { text, tooltip: lines.join("\n") };
}

/** How to start the server: `<path> lsp`. */
export function serverCommand(path: string | undefined): { command: string; args: string[] } {
  const command = path && path.trim() ? path.trim() : "burnmeter";
  return { command, args: ["lsp"] };
}
