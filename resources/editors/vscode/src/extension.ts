// The VS Code client for `burnmeter lsp`: starts the server, feeds a status-bar item from
// `burnmeter/status`, and opens the weekly summary the server renders as Markdown.
import * as vscode from "vscode";
import {
  ExecuteCommandRequest,
  LanguageClient,
  type LanguageClientOptions,
  type ServerOptions,
} from "vscode-languageclient/node";

import { parseStatus, serverCommand, statusBarText } from "./status";

let client: LanguageClient | undefined;

function settings(): Record<string, unknown> {
  const config = vscode.workspace.getConfiguration("burnmeter");
  return {
    codeLens: config.get("codeLens"),
    hover: config.get("hover"),
    tierHints: config.get("tierHints"),
    progress: config.get("progress"),
    statusSessions: config.get("statusSessions"),
    runningMinutes: config.get("runningMinutes"),
  };
}

function createClient(item: vscode.StatusBarItem): LanguageClient {
  const { command, args } = serverCommand(
    vscode.workspace.getConfiguration("burnmeter").get<string>("path"),
  );
  const serverOptions: ServerOptions = { command, args };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [{ scheme: "file" }],
    initializationOptions: settings(),
    synchronize: { configurationSection: "burnmeter" },
    // The hover links to the weekly summary command.
    markdown: { isTrusted: { enabledCommands: ["burnmeter.showWeeklySummary"] } },
  };
  const lsp = new LanguageClient("burnmeter", "burnmeter", serverOptions, clientOptions);
  lsp.onNotification("burnmeter/status", (params: unknown) => {
    const status = parseStatus(params);
    if (status === null) return;
    const { text, tooltip } = statusBarText(status);
    item.text = text;
    item.tooltip = tooltip;
    item.show();
  });
  return lsp;
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const item = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Right, 100);
  item.command = "burnmeter.showWeeklySummary";
  item.text = "$(pulse) burnmeter";
  context.subscriptions.push(item);

  context.subscriptions.push(
    vscode.commands.registerCommand("burnmeter.showWeeklySummary", async () => {
      if (!client) return;
      const markdown = await client.sendRequest(ExecuteCommandRequest.type, {
        command: "burnmeter.weeklySummary",
        arguments: [],
      });
      const doc = await vscode.workspace.openTextDocument({
        language: "markdown",
        content: typeof markdown === "string" ? markdown : "No summary.",
      });
      await vscode.commands.executeCommand("markdown.showPreview", doc.uri);
    }),
    vscode.commands.registerCommand("burnmeter.restartServer", async () => {
      await client?.restart();
    }),
  );

  client = createClient(item);
  try {
    await client.start();
  } catch (error) {
    void vscode.window.showErrorMessage(
      `burnmeter: could not start \`burnmeter lsp\` (${String(error)}). ` +
        "Install burnmeter or set burnmeter.path.",
    );
  }
}

export async function deactivate(): Promise<void> {
  await client?.stop();
  client = undefined;
}
