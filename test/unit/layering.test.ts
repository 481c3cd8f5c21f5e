// The layering rules of design.md, enforced: core, cli and debug run headless (no `vscode`); the webview
// never reaches into the extension host; only core/model/session.ts loads onnxruntime-node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../../src/core/paths';

function sources(dir: string): string[] {
  const abs = path.join(packageRoot(), dir);
  return fs.readdirSync(abs, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sources(p) : /\.ts$/.test(e.name) ? [p] : [];
  });
}

function imports(file: string): string[] {
  const text = fs.readFileSync(path.join(packageRoot(), file), 'utf8');
  return [...text.matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]|require\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1] ?? m[2]);
}

test('src/core, src/cli and src/debug never import vscode', () => {
  const offenders = ['src/core', 'src/cli', 'src/debug'].flatMap(sources).filter((f) => imports(f).includes('vscode'));
  assert.deepEqual(offenders, []);
});

test('the webview (media/) imports nothing from src/extension, only the shared protocol and plain modules', () => {
  const offenders = sources('media').filter((f) => imports(f).some((i) => i.includes('extension')));
  assert.deepEqual(offenders, []);
});

test('onnxruntime-node is loaded by one module only', () => {
  const users = sources('src').filter((f) => imports(f).includes('onnxruntime-node'));
  assert.deepEqual(users, [path.join('src', 'core', 'model', 'session.ts')]);
});
