// src/extension/python.ts inside a stand-in VS Code whose Python extension (ms-python.python) exports the
// environments API as @vscode/python-extension describes it: the selected interpreter is used, the setting
// overrides it, nothing asks the Python extension until a metric needs an interpreter, and a change of the
// selection reaches the listeners (extension.ts restarts the warm workers on it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Module from 'node:module';

type Listener = (e: { id: string; path: string; resource: undefined }) => void;

function fakeVscode(state: { setting: string; selected: string; activations: number; listeners: Listener[] }) {
  class Disposable {
    constructor(private readonly fn: () => void) {}
    dispose() {
      this.fn();
    }
  }
  class Uri {
    constructor(readonly fsPath: string) {}
  }
  const environments = {
    getActiveEnvironmentPath: () => ({ id: state.selected, path: state.selected }),
    resolveEnvironment: async (env: { path: string }) => ({ executable: { uri: { fsPath: `${env.path}/bin/python` } }, environment: { type: 'VirtualEnvironment', name: 'venv' } }),
    onDidChangeActiveEnvironmentPath: (l: Listener) => {
      state.listeners.push(l);
      return new Disposable(() => state.listeners.splice(state.listeners.indexOf(l), 1));
    },
  };
  const ext = {
    isActive: false,
    exports: { environments },
    activate: async () => {
      state.activations++;
      ext.isActive = true;
      return ext.exports;
    },
  };
  const channel = { info: () => undefined, warn: () => undefined, error: () => undefined, show: () => undefined };
  return {
    Disposable,
    Uri,
    extensions: { getExtension: (id: string) => (id === 'ms-python.python' ? ext : undefined) },
    workspace: { isTrusted: true, getConfiguration: () => ({ get: (k: string, d: unknown) => (k === 'pythonPath' ? state.setting : d) }) },
    window: { createOutputChannel: () => channel },
  };
}

test('the Python extension\'s selected interpreter, asked on first need; the setting overrides; a selection change reaches the listeners', async () => {
  const state = { setting: '', selected: '/proj/.venv', activations: 0, listeners: [] as Listener[] };
  const M = Module as unknown as { _load: (req: string, ...rest: unknown[]) => unknown };
  const load = M._load;
  const stub = fakeVscode(state);
  M._load = function (req: string, ...rest: unknown[]) {
    return req === 'vscode' ? stub : load.call(this, req, ...rest);
  };
  try {
    const py = await import('../../src/extension/python');
    const changes: unknown[] = [];
    const sub = py.onDidChangeSelectedPython((r) => changes.push(r ?? 'all'));
    assert.equal(state.activations, 0, 'registering a listener does not activate the Python extension');
    const first = await py.metricPython();
    assert.deepEqual([first.python, first.source], ['/proj/.venv/bin/python', 'pythonExtension']);
    assert.equal(state.activations, 1, 'asked when a metric needed an interpreter');
    assert.equal(state.listeners.length, 1, 'subscribed to onDidChangeActiveEnvironmentPath once');
    // The user selects another environment: the listeners hear it, and the next run uses it.
    state.selected = '/opt/conda/envs/nlp';
    state.listeners[0]({ id: state.selected, path: state.selected, resource: undefined });
    assert.deepEqual(changes, ['all']);
    assert.equal((await py.metricPython()).python, '/opt/conda/envs/nlp/bin/python');
    assert.equal(state.listeners.length, 1, 'still one subscription');
    // evalpred.pythonPath overrides the selection.
    state.setting = '/usr/bin/python3';
    assert.deepEqual(Object.values(await py.metricPython()).slice(0, 2), ['/usr/bin/python3', 'setting']);
    sub.dispose();
    assert.equal(state.listeners.length, 0, 'the last listener gone: unsubscribed');
  } finally {
    M._load = load;
  }
});
