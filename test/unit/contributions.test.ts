// package.json's `contributes` against the code (style item 9): every command declared is registered by
// activate() and every registered command is declared; settings match their typed defaults; menus name only
// real commands; trust and engine fields are what code-server 4.100.3 and the trust model need.
// activate() runs against a stub `vscode` module that records registrations (no VS Code needed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { CATEGORY, Commands, SettingDefaults } from '../../src/extension/contributions';
import { fakeContext, vscodeStub, withVscodeStub } from '../helpers/vscodeStub';

function repoRoot(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json')) || JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).name !== 'evalpred') {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('package.json not found');
    dir = up;
  }
  return dir;
}

const root = repoRoot();
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const declared: string[] = pkg.contributes.commands.map((c: { command: string }) => c.command);

test('every Commands member is declared in package.json and vice versa', () => {
  assert.deepEqual([...declared].sort(), Object.values(Commands).sort());
  assert.equal(new Set(declared).size, declared.length, 'a command is declared twice');
});

test('commands carry the EvalPred category and the titles people look for in the palette', () => {
  for (const c of pkg.contributes.commands) assert.equal(c.category, CATEGORY, c.command);
  const titles = pkg.contributes.commands.map((c: { title: string }) => c.title);
  for (const t of ['Run Evaluation', 'Rerun Metrics on Cached Predictions', 'Open Prediction View', 'Import EvalPrediction Dump…', 'Clear Prediction Cache']) {
    assert.ok(titles.includes(t), `missing command title "${t}"`);
  }
});

test('menus reference declared commands only, and the variables context menu opens the prediction view', () => {
  for (const [menu, items] of Object.entries(pkg.contributes.menus as Record<string, { command: string; when?: string }[]>)) {
    for (const it of items) assert.ok(declared.includes(it.command), `${menu} names undeclared ${it.command}`);
  }
  const ctx = pkg.contributes.menus['debug/variables/context'];
  assert.ok(ctx.some((i: { command: string; when?: string }) => i.command === Commands.OpenVariableInPredictionView && /debugType == 'evalpred'/.test(i.when ?? '')));
});

test('activate() registers exactly the commands package.json declares', () => {
  const registered: string[] = [];
  withVscodeStub(vscodeStub(root, registered), () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const ext = require('../../src/extension/extension') as typeof import('../../src/extension/extension');
    const context = fakeContext(root, pkg);
    ext.activate(context as never);
    assert.deepEqual([...registered].sort(), [...declared].sort());
    assert.ok(context.subscriptions.length >= registered.length + 5, 'providers and registrations are disposed with the extension');
  });
});

test('settings in package.json match the typed defaults and each has a description', () => {
  const props = pkg.contributes.configuration.properties as Record<string, { default: unknown; description?: string; markdownDescription?: string; type: string }>;
  assert.deepEqual(Object.keys(props).sort(), Object.keys(SettingDefaults).map((k) => `evalpred.${k}`).sort());
  for (const [k, v] of Object.entries(SettingDefaults)) {
    const p = props[`evalpred.${k}`];
    assert.deepEqual(p.default, v, `default of evalpred.${k}`);
    assert.equal(p.type, typeof v, `type of evalpred.${k}`);
    assert.ok((p.description ?? p.markdownDescription ?? '').length > 20, `evalpred.${k} needs a description`);
  }
  assert.equal(props['evalpred.rerunOnSave'].default, true);
});

test('Workspace Trust is limited: pythonPath is restricted, and the reason is stated', () => {
  const t = pkg.capabilities.untrustedWorkspaces;
  assert.equal(t.supported, 'limited');
  assert.ok(t.restrictedConfigurations.includes('evalpred.pythonPath'));
  assert.match(t.description, /metric/);
});

test('engine and API types stay on VS Code 1.100 (code-server 4.100.3)', () => {
  assert.equal(pkg.engines.vscode, '^1.100.0');
  const types = JSON.parse(fs.readFileSync(path.join(root, 'node_modules/@types/vscode/package.json'), 'utf8')).version;
  assert.match(types, /^1\.100\./);
  assert.ok(pkg.activationEvents.includes('onDebugResolve:evalpred'));
  assert.match(pkg.scripts.package, /packageVsix\.mjs/); // vsce package --target per platform (docs/packaging.md)
  assert.ok(pkg.scripts['test:e2e']);
});

test('activation is narrow: no onLanguage (every Python file), remote-ready extensionKind', () => {
  // Commands and views activate by themselves (VS Code >= 1.74 generates onCommand events for contributed commands).
  assert.deepEqual(pkg.activationEvents.filter((e: string) => e.startsWith('onLanguage') || e === '*' || e === 'onStartupFinished'), []);
  assert.deepEqual(pkg.extensionKind, ['workspace']);
});

test('.vscodeignore keeps dist/ (with the staged natives in dist/node_modules) and the Python worker, no sources', () => {
  const lines = fs.readFileSync(path.join(root, '.vscodeignore'), 'utf8').split('\n').map((l) => l.trim());
  assert.ok(lines.includes('src/**') && lines.includes('!src/python/evalpred_worker.py') && lines.includes('!src/python/evalpred/**/*.py'));
  assert.ok(!lines.some((l) => /^dist(\/|$)/.test(l)), 'dist/ must ship');
  // A checkout's node_modules never ships: scripts/packageVsix.mjs stages one platform's natives under dist/.
  assert.ok(lines.includes('node_modules/**'));
  for (const l of ['test/**', 'bench/**', 'scripts/**', '**/*.ts', '**/*.map']) assert.ok(lines.includes(l), l);
});

test('package size: what esbuild bundles is a devDependency (vsce ships only dependencies), what stays external is a dependency', () => {
  // The packages src/ imports, from the sources themselves.
  const files: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.ts$/.test(e.name)) files.push(p);
    }
  };
  walk(path.join(root, 'src'));
  const imported = new Set<string>();
  for (const f of files) {
    for (const m of fs.readFileSync(f, 'utf8').matchAll(/(?:from |import\(|require\()'([^']+)'/g)) {
      const spec = m[1];
      if (spec.startsWith('node:') || spec.startsWith('.')) continue;
      imported.add(spec.split('/').slice(0, spec.startsWith('@') ? 2 : 1).join('/'));
    }
  }
  // esbuild.mjs's `external` list: the packages left as run-time require()s.
  const build = fs.readFileSync(path.join(root, 'esbuild.mjs'), 'utf8');
  const external = JSON.parse((/const external = (\[[^\]]*\])/.exec(build)?.[1] ?? '[]').replace(/'/g, '"')) as string[];
  const deps = Object.keys(pkg.dependencies ?? {});
  const dev = Object.keys(pkg.devDependencies ?? {});
  for (const name of imported) {
    if (name === 'vscode') continue; // provided by VS Code itself
    if (external.includes(name)) assert.ok(deps.includes(name), `${name} stays external (esbuild.mjs), so it must be a dependency that vsce ships`);
    else assert.ok(dev.includes(name) && !deps.includes(name), `${name} is bundled into dist/, so it belongs in devDependencies (not shipped twice)`);
  }
  assert.ok(imported.has('onnxruntime-node') && imported.has('apache-arrow'), 'the scan found the imports');
  for (const d of deps) assert.ok(external.includes(d), `dependency ${d} is not external in esbuild.mjs: it is bundled, so the .vsix would carry it twice`);
});

test('the Get Started walkthrough: each step runs a declared command, completes on it, and its page and images exist and are packed', () => {
  const walkthroughs = pkg.contributes.walkthroughs as { id: string; steps: { id: string; description: string; media: { markdown?: string }; completionEvents: string[] }[] }[];
  assert.equal(walkthroughs.length, 1);
  const steps = walkthroughs[0].steps;
  const run = steps.map((s) => [...s.description.matchAll(/\(command:([\w.]+)\)/g)].map((m) => m[1]));
  // the demo first, then the view, your own metric, and the capture snippet
  assert.deepEqual(run, [['evalpred.runDemo'], ['evalpred.openPredictionView'], ['evalpred.runEvaluation'], ['evalpred.copyCaptureSnippet']]);
  const ignore = fs.readFileSync(path.join(root, '.vscodeignore'), 'utf8');
  for (const [k, s] of steps.entries()) {
    assert.ok(declared.includes(run[k][0]), run[k][0]);
    assert.deepEqual(s.completionEvents, [`onCommand:${run[k][0]}`]);
    const page = s.media.markdown!;
    assert.match(page, /^media\/walkthrough\/\w+\.md$/);
    const text = fs.readFileSync(path.join(root, page), 'utf8');
    assert.ok(ignore.includes('!media/walkthrough/*.md'), 'the pages are packed');
    for (const [, img] of text.matchAll(/!\[[^\]]*\]\(([^)\s]+)\)/g)) {
      const rel = path.posix.join('media/walkthrough', img);
      assert.ok(fs.existsSync(path.join(root, rel)), `${page} shows ${rel}, which is missing`);
      assert.ok(ignore.includes(`!${rel}`), `${rel} is not packed (.vscodeignore)`);
    }
  }
});
