// Not a module, on purpose. The boundary projects (server/tsconfig.json, extension/tsconfig.json,
// tsconfig.core.json) map the libraries a side must not import (`vscode` in the server and the pure
// modules, the language client in the server, the language server in the extension) to this file, so
// such an import fails to compile: "File '…/tsconfig.forbidden-import.d.ts' is not a module." (TS2306).
