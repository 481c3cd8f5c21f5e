// A `vscode` stand-in for loading the extension in plain Node (no VS Code): every property is a callable,
// constructible stub; registerCommand is recorded. Used by the contributions and activation tests and by the
// packaging test, which activates the dist/extension.js of every built .vsix with it.
import fs from 'node:fs';
import Module from 'node:module';
import path from 'node:path';

/** Top-level names of the VS Code API (namespaces, classes, enums), from @types/vscode. */
function apiNames(root: string): string[] {
  const dts = fs.readFileSync(path.join(root, 'node_modules/@types/vscode/index.d.ts'), 'utf8');
  return [...new Set([...dts.matchAll(/^\texport (?:namespace|class|enum) (\w+)/gm)].map((m) => m[1]))];
}

export function vscodeStub(root: string, registered: string[]): unknown {
  const stub = (name: string): unknown =>
    new Proxy(function () {}, {
      get(_t, prop) {
        if (prop === 'then') return undefined; // not a thenable
        if (prop === Symbol.toPrimitive) return () => name;
        if (name === 'vscode.commands' && prop === 'registerCommand') {
          return (id: string) => {
            registered.push(id);
            return stub(`disposable(${id})`);
          };
        }
        if (name === 'vscode.workspace' && prop === 'isTrusted') return true;
        return stub(`${name}.${String(prop)}`);
      },
      set: () => true, // item.text = …: accepted and forgotten
      apply: () => stub(`${name}()`),
      construct: () => stub(`new ${name}`) as object,
    });
  // The root is a plain object, as VS Code's is: esbuild's `import * as vscode` copies its own keys.
  return Object.fromEntries(apiNames(root).map((n) => [n, stub(`vscode.${n}`)]));
}

/** An ExtensionContext with what activate() reads. */
export function fakeContext(extensionPath: string, packageJSON: unknown) {
  const memento = { get: (_k: string, d: unknown) => d, update: async () => {}, keys: () => [] };
  return { subscriptions: [] as unknown[], workspaceState: memento, globalState: memento, extensionPath, extension: { packageJSON } };
}

/**
 * Runs `fn` with `require('vscode')` answered by the stub, recording every module request (`Module._load`)
 * made meanwhile, so a test can tell what loading and activating the extension pulled in.
 */
export function withVscodeStub<T>(stub: unknown, fn: (requests: string[]) => T): T {
  const M = Module as unknown as { _load: (req: string, ...rest: unknown[]) => unknown };
  const load = M._load;
  const requests: string[] = [];
  M._load = function (req: string, ...rest: unknown[]) {
    requests.push(req);
    return req === 'vscode' ? stub : load.call(this, req, ...rest);
  };
  try {
    return fn(requests);
  } finally {
    M._load = load;
  }
}
