// Starts `cnnc lsp` (the setting cnn.server.command) for .cnn files; everything else is the server's.
const vscode = require("vscode");
const { LanguageClient } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const [command, ...args] = vscode.workspace.getConfiguration("cnn").get("server.command", ["cnnc", "lsp"]);
  client = new LanguageClient(
    "cnn", "cnn language server",
    { command, args },
    { documentSelector: [{ scheme: "file", language: "cnn" }, { scheme: "untitled", language: "cnn" }] },
  );
  context.subscriptions.push(client);
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
