// The user's Python in VS Code: the Python extension's selected interpreter through its official API
// (@vscode/python-extension), our setting as an override, then PATH (the rule is ./pythonInterpreter.ts).
// The Python extension is asked only when a metric needs an interpreter, never on activation: its API
// activates that extension. A change of the selected interpreter is reported to the listeners registered
// here (extension.ts restarts the warm Python workers).
import * as vscode from 'vscode';
import { PVSC_EXTENSION_ID, PythonExtension } from '@vscode/python-extension';
import { log } from './log';
import { ChosenInterpreter, PythonEnvironmentsApi, chooseInterpreter } from './pythonInterpreter';
import { pythonPath } from './settings';

/** Launch-config key (the adapter ignores "__" keys) saying where "python" came from: an InterpreterSource. */
export const PYTHON_SOURCE_KEY = '__evalpredPythonSource';

/** How long a metric run waits for the Python extension to activate before using PATH. */
const API_TIMEOUT_MS = 15_000;

let api: Promise<PythonEnvironmentsApi | undefined> | undefined;
const listeners = new Set<(resource: vscode.Uri | vscode.WorkspaceFolder | undefined) => void>();
let subscription: vscode.Disposable | undefined;

function environmentsApi(): Promise<PythonEnvironmentsApi | undefined> {
  if (!vscode.extensions.getExtension(PVSC_EXTENSION_ID)) return Promise.resolve(undefined);
  api ??= (async () => {
    try {
      const ext = await Promise.race([
        PythonExtension.api(),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`it did not activate within ${API_TIMEOUT_MS / 1000} s`)), API_TIMEOUT_MS)),
      ]);
      subscription ??= ext.environments.onDidChangeActiveEnvironmentPath((e) => {
        log().info(`the Python extension selected ${e.path}${e.resource ? ` for ${e.resource instanceof vscode.Uri ? e.resource.fsPath : e.resource.uri.fsPath}` : ''}`);
        for (const l of listeners) l(e.resource);
      });
      const environments: PythonEnvironmentsApi = ext.environments; // the official type fits ours (tsc)
      return environments;
    } catch (e) {
      log().warn(`the Python extension's API is unavailable (${e instanceof Error ? e.message : String(e)}); using evalpred.pythonPath or PATH`);
      api = undefined; // ask again next time (the extension may be enabled later)
      return undefined;
    }
  })();
  return api;
}

/**
 * The interpreter for a .py metric run in `scope` (a workspace folder or file). The setting is restricted
 * by Workspace Trust (package.json), so an untrusted folder never chooses it.
 */
export async function metricPython(scope?: vscode.WorkspaceFolder | vscode.Uri): Promise<ChosenInterpreter> {
  const chosen = await chooseInterpreter({
    setting: vscode.workspace.isTrusted ? pythonPath(scope) : undefined,
    api: await environmentsApi(),
    resource: scope,
  });
  log().info(`Python for metrics: ${chosen.why}`);
  return chosen;
}

/** Calls `listener` when the Python extension's selected interpreter changes (once its API has been asked). */
export function onDidChangeSelectedPython(listener: (resource: vscode.Uri | vscode.WorkspaceFolder | undefined) => void): vscode.Disposable {
  listeners.add(listener);
  return new vscode.Disposable(() => {
    listeners.delete(listener);
    if (!listeners.size) {
      subscription?.dispose();
      subscription = undefined;
      api = undefined;
    }
  });
}
