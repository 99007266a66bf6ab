import { strict as assert } from "node:assert";
import { test } from "node:test";

import { costText, money, parseStatus, serverCommand, shortModel, statusBarText } from "../src/status";

const session = {
  session_id: "9f1c2b3a-aaaa",
  agent: "claude-code",
  model: "claude-opus-4-7",
  cost_usd: 3.214,
  total_tokens: 1830211,
  started_at: "2026-11-23T09:12:00Z",
  last_activity: "2026-11-23T11:40:12Z",
  running: true,
};

test("a documented status shows the running session's cost", () => {
  const status = parseStatus({ today_cost_usd: 4.12, workspace_cost_usd: 57.3, sessions: [session] });
  assert.ok(status);
  const { text, tooltip } = statusBarText(status);
  assert.equal(text, "$(flame) $3.21 opus-4-7");
  assert.match(tooltip, /Today \(all projects\): \$4\.12/);
  assert.match(tooltip, /9f1c2b3a opus-4-7 \$3\.21 \(running\)/);
});

test("with no running session the bar shows today's cost", () => {
  const idle = { ...session, running: false };
  const status = parseStatus({ today_cost_usd: 0.004, workspace_cost_usd: 1, sessions: [idle] });
  assert.ok(status);
  assert.equal(statusBarText(status).text, "$(pulse) <$0.01 today");
});

test("calls with no price are counted, never shown as $0.00", () => {
  const odd = { ...session, model: "odd-model-x", cost_usd: 0, unpriced_calls: 2 };
  const status = parseStatus({
    today_cost_usd: 1.5,
    workspace_cost_usd: 57.3,
    sessions: [odd],
    today_unpriced_calls: 2,
    workspace_unpriced_calls: 3,
  });
  assert.ok(status);
  const { text, tooltip } = statusBarText(status);
  assert.equal(text, "$(flame) unpriced (2 calls) odd-model-x");
  assert.match(tooltip, /Today \(all projects\): \$1\.50 \(\+2 unpriced\)/);
  assert.match(tooltip, /This workspace \(all time\): \$57\.30 \(\+3 unpriced\)/);
  assert.match(tooltip, /9f1c2b3a odd-model-x unpriced \(2 calls\) \(running\)/);
  assert.equal(costText(0, 1), "unpriced (1 call)");
  assert.equal(costText(3.214), "$3.21");
  const idle = parseStatus({ today_cost_usd: 0, workspace_cost_usd: 0, sessions: [], today_unpriced_calls: 1 });
  assert.ok(idle);
  assert.equal(statusBarText(idle).text, "$(pulse) unpriced (1 call) today");
});

test("malformed parameters are rejected, never thrown on", () => {
  for (const bad of [
    null,
    42,
    "x",
    {},
    { today_cost_usd: "1", workspace_cost_usd: 1, sessions: [] },
    { today_cost_usd: 1, workspace_cost_usd: 1, sessions: [{ ...session, running: "yes" }] },
    { today_cost_usd: Number.NaN, workspace_cost_usd: 1, sessions: [] },
    { today_cost_usd: 1, workspace_cost_usd: 1, sessions: [], today_unpriced_calls: "2" },
    { today_cost_usd: 1, workspace_cost_usd: 1, sessions: [{ ...session, unpriced_calls: -1 }] },
  ]) {
    assert.equal(parseStatus(bad), null);
  }
});

test("money and model names are short", () => {
  assert.equal(money(0), "$0.00");
  assert.equal(money(1234.4), "$1,234");
});

test("money rounds an exact tie to the even digit, as the CLI and the server do", () => {
  // Python: f"{0.125:,.2f}" is 0.12 and f"{100.5:,.0f}" is 100; toFixed and Math.round
  // said $0.13 and $101.
  assert.equal(money(0.125), "$0.12");
  assert.equal(money(0.375), "$0.38");
  assert.equal(money(100.5), "$100");
  assert.equal(money(101.5), "$102");
  assert.equal(money(0.135), "$0.14");
  assert.equal(money(2.675), "$2.67"); // 2.67499999... as a double, as in Python
  assert.equal(money(99.994), "$99.99");
  assert.equal(shortModel("claude-sonnet-4-5-20250929"), "sonnet-4-5");
  assert.equal(shortModel("gpt-5-codex"), "gpt-5-codex");
});

test("the server command defaults to burnmeter lsp", () => {
  assert.deepEqual(serverCommand(undefined), { command: "burnmeter", args: ["lsp"] });
  assert.deepEqual(serverCommand("  /opt/bm/burnmeter "), { command: "/opt/bm/burnmeter", args: ["lsp"] });
});
