// Tokenizes .cnn files with the real TextMate engine VS Code uses (vscode-textmate on
// vscode-oniguruma) and this folder's grammar. Prints JSON: {file: [[[start, end, scope...], ...] per line]}.
// Arguments: .cnn files or directories. Used by tests/test_highlight.py.
const fs = require("fs");
const path = require("path");
const vsctm = require("vscode-textmate");
const oniguruma = require("vscode-oniguruma");

const wasm = fs.readFileSync(path.join(path.dirname(require.resolve("vscode-oniguruma")), "onig.wasm"));
const onigLib = oniguruma.loadWASM(wasm.buffer).then(() => ({
  createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns),
  createOnigString: (text) => new oniguruma.OnigString(text),
}));
const registry = new vsctm.Registry({
  onigLib,
  loadGrammar: async (scopeName) => {
    if (scopeName !== "source.cnn") return null;
    const file = path.join(__dirname, "..", "syntaxes", "cnn.tmLanguage.json");
    return vsctm.parseRawGrammar(fs.readFileSync(file, "utf8"), file);
  },
});

function files(args) {
  const out = [];
  for (const arg of args) {
    if (fs.statSync(arg).isDirectory()) {
      for (const name of fs.readdirSync(arg).sort()) if (name.endsWith(".cnn")) out.push(path.join(arg, name));
    } else out.push(arg);
  }
  return out;
}

registry.loadGrammar("source.cnn").then((grammar) => {
  const result = {};
  for (const file of files(process.argv.slice(2))) {
    let stack = vsctm.INITIAL;
    result[file] = fs.readFileSync(file, "utf8").split("\n").map((line) => {
      const tokens = grammar.tokenizeLine(line, stack);
      stack = tokens.ruleStack;
      return tokens.tokens.map((t) => [t.startIndex, Math.min(t.endIndex, line.length), ...t.scopes]);
    });
  }
  process.stdout.write(JSON.stringify(result));
});
