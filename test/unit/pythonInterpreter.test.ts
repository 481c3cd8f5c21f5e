// Which Python runs a .py metric in VS Code (src/extension/pythonInterpreter.ts), with a stub of the Python
// extension's environments API (@vscode/python-extension): the setting overrides, then the selected
// interpreter, then PATH; a broken or absent API falls back to PATH and says why.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PythonEnvironmentsApi, chooseInterpreter } from '../../src/extension/pythonInterpreter';

type Env = Awaited<ReturnType<PythonEnvironmentsApi['resolveEnvironment']>>;

/** The API as the Python extension answers: per-folder selections, resolved to executables. */
function stubApi(selected: Record<string, string>, resolved: Record<string, Env>, calls: unknown[] = []): PythonEnvironmentsApi {
  return {
    getActiveEnvironmentPath(resource?: never) {
      calls.push(resource);
      const key = (resource as { uri?: { fsPath: string } } | undefined)?.uri?.fsPath ?? '';
      const p = selected[key] ?? selected[''];
      return { id: p, path: p };
    },
    async resolveEnvironment(env) {
      return resolved[env.path];
    },
  };
}

const venv: Env = { executable: { uri: { fsPath: '/home/user/proj/.venv/bin/python' } }, environment: { type: 'VirtualEnvironment', name: '.venv' } };
const conda: Env = { executable: { uri: { fsPath: '/opt/conda/envs/nlp/bin/python' } }, environment: { type: 'Conda', name: 'nlp' } };

test('the interpreter selected in the Python extension runs the metric, per workspace folder', async () => {
  const calls: unknown[] = [];
  const api = stubApi({ '': '/home/user/proj/.venv', '/home/user/other': '/opt/conda/envs/nlp' }, { '/home/user/proj/.venv': venv, '/opt/conda/envs/nlp': conda }, calls);
  const a = await chooseInterpreter({ api, resource: { uri: { fsPath: '/home/user/proj' } } });
  assert.equal(a.python, '/home/user/proj/.venv/bin/python');
  assert.equal(a.source, 'pythonExtension');
  assert.match(a.why, /selected in the Python extension: \/home\/user\/proj\/\.venv\/bin\/python \(VirtualEnvironment "\.venv"\)/);
  const b = await chooseInterpreter({ api, resource: { uri: { fsPath: '/home/user/other' } } });
  assert.equal(b.python, '/opt/conda/envs/nlp/bin/python');
  assert.match(b.why, /Conda "nlp"/);
  // the folder was passed through to the API (multi-root workspaces select per folder)
  assert.deepEqual(calls, [{ uri: { fsPath: '/home/user/proj' } }, { uri: { fsPath: '/home/user/other' } }]);
});

test('evalpred.pythonPath overrides the selection; blank settings do not', async () => {
  const api = stubApi({ '': '/home/user/proj/.venv' }, { '/home/user/proj/.venv': venv });
  const s = await chooseInterpreter({ api, setting: '  /usr/bin/python3 ' });
  assert.deepEqual([s.python, s.source], ['/usr/bin/python3', 'setting']);
  const blank = await chooseInterpreter({ api, setting: '   ' });
  assert.deepEqual([blank.python, blank.source], ['/home/user/proj/.venv/bin/python', 'pythonExtension']);
});

test('without the Python extension, or when it cannot answer, PATH decides (python undefined) and the reason is given', async () => {
  const none = await chooseInterpreter({});
  assert.deepEqual([none.python, none.source], [undefined, 'path']);
  assert.match(none.why, /no Python extension: EVALPRED_PYTHON, else the first python3 on PATH with NumPy/);
  const unresolved = await chooseInterpreter({ api: stubApi({ '': '/gone/env' }, {}) });
  assert.deepEqual([unresolved.python, unresolved.source], [undefined, 'path']);
  assert.match(unresolved.why, /\/gone\/env\) has no executable/);
  const throwing: PythonEnvironmentsApi = {
    getActiveEnvironmentPath: () => ({ id: 'x', path: '/x' }),
    resolveEnvironment: async () => {
      throw new Error('discovery failed');
    },
  };
  const t = await chooseInterpreter({ api: throwing });
  assert.equal(t.source, 'path');
  assert.match(t.why, /could not resolve \/x \(discovery failed\)/);
  const noSelection: PythonEnvironmentsApi = {
    getActiveEnvironmentPath: () => {
      throw new Error('not ready');
    },
    resolveEnvironment: async () => venv,
  };
  assert.match((await chooseInterpreter({ api: noSelection })).why, /could not say which interpreter is selected \(not ready\)/);
});

// Compile-time (npm test runs tsc over test/): the official API type must satisfy our structural interface.
export const officialApiFits = (e: import('@vscode/python-extension').PythonExtension['environments']): PythonEnvironmentsApi => e;
