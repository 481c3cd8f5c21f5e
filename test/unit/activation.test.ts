// Activation stays cheap (docs/packaging.md): loading and activating the built dist/extension.js registers every
// command without loading onnxruntime-node, esbuild or any other native (.node) module — they load on the first
// run or TS metric (src/core/native.ts) — and without dist/extensionCore.js (src/core's readers, tokenizer,
// cache and runners: src/extension/core.ts). Activation time is measured by `npm run bench -- activation`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import Module from 'node:module';
import path from 'node:path';
import { packageRoot } from '../../src/core/paths';
import { fakeContext, vscodeStub, withVscodeStub } from '../helpers/vscodeStub';

test('activating dist/extension.js loads no native module (onnxruntime-node, esbuild, *.node) and not src/core', () => {
  const root = packageRoot();
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  const registered: string[] = [];
  const before = new Set(Object.keys(require.cache));
  const requests = withVscodeStub(vscodeStub(root, registered), (reqs) => {
    const ext = Module.createRequire(path.join(root, 'package.json'))('./dist/extension.js');
    ext.activate(fakeContext(root, pkg));
    return reqs;
  });
  // The check can fail: the bundle was loaded and activated, and registered every declared command.
  assert.deepEqual(registered.sort(), pkg.contributes.commands.map((c: { command: string }) => c.command).sort());
  assert.deepEqual(requests.filter((r) => /onnxruntime|esbuild|\.node$|extensionCore/.test(r)), []);
  const loaded = Object.keys(require.cache).filter((k) => !before.has(k));
  assert.ok(loaded.some((k) => k.endsWith(path.join('dist', 'extension.js'))));
  assert.deepEqual(loaded.filter((k) => /node_modules|\.node$|extensionCore/.test(k)), [], 'modules outside the thin bundle loaded on activation');
  // The door to src/core is a separate bundle that exists and loads on its own.
  assert.ok(fs.existsSync(path.join(root, 'dist', 'extensionCore.js')));
});
