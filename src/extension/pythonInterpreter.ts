// Which Python runs a .py metric in VS Code (README "Which Python runs your metric"): the setting
// evalpred.pythonPath when set (an override), else the interpreter selected in the Python extension (the
// user's venv or conda env, with their scikit-learn and transformers), else the CLI's rule: EVALPRED_PYTHON,
// then the first python3 on PATH that has NumPy (src/core/metrics/pythonInterpreters.ts defaultPython). A launch.json
// "python" attribute wins over all of these (./debugConfig.ts leaves it alone).
// No `vscode` import: the Python extension's API comes in as a parameter, so test/unit/pythonInterpreter.test.ts
// drives this with a stub of it in plain Node.

/** The part of `@vscode/python-extension`'s `PythonExtension['environments']` we use (structurally the same). */
export interface PythonEnvironmentsApi {
  getActiveEnvironmentPath(resource?: never): { readonly id: string; readonly path: string };
  resolveEnvironment(env: { readonly id: string; readonly path: string }): Promise<
    | {
        readonly executable: { readonly uri: { readonly fsPath: string } | undefined };
        readonly environment?: { readonly type: string; readonly name: string | undefined } | undefined;
      }
    | undefined
  >;
}

export type InterpreterSource = 'setting' | 'pythonExtension' | 'path';

export interface ChosenInterpreter {
  /** The interpreter to run; undefined: the runner's own default (EVALPRED_PYTHON, then python3 on PATH with NumPy). */
  python?: string;
  source: InterpreterSource;
  /** One line for the log: what was chosen and why. */
  why: string;
}

export interface ChooseOptions {
  /** evalpred.pythonPath as typed (trimmed here); ignored when empty. */
  setting?: string;
  /** The Python extension's environments API; undefined when that extension is not installed (or not trusted). */
  api?: PythonEnvironmentsApi;
  /** The workspace folder or file the run belongs to (multi-root workspaces select per folder). */
  resource?: unknown;
}

export async function chooseInterpreter(opts: ChooseOptions): Promise<ChosenInterpreter> {
  const setting = opts.setting?.trim();
  if (setting) return { python: setting, source: 'setting', why: `the setting evalpred.pythonPath (${setting})` };
  const fallback = (reason: string): ChosenInterpreter => ({ source: 'path', why: `${reason}: EVALPRED_PYTHON, else the first python3 on PATH with NumPy` });
  if (!opts.api) return fallback('no Python extension');
  let selected: { id: string; path: string };
  try {
    selected = opts.api.getActiveEnvironmentPath(opts.resource as never);
  } catch (e) {
    return fallback(`the Python extension could not say which interpreter is selected (${e instanceof Error ? e.message : String(e)})`);
  }
  try {
    const env = await opts.api.resolveEnvironment(selected);
    const exe = env?.executable.uri?.fsPath;
    if (exe) {
      const kind = env?.environment ? ` (${env.environment.type}${env.environment.name ? ` "${env.environment.name}"` : ''})` : '';
      return { python: exe, source: 'pythonExtension', why: `the interpreter selected in the Python extension: ${exe}${kind}` };
    }
    return fallback(`the interpreter selected in the Python extension (${selected.path}) has no executable`);
  } catch (e) {
    return fallback(`the Python extension could not resolve ${selected.path} (${e instanceof Error ? e.message : String(e)})`);
  }
}
