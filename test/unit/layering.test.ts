// The layering of docs/architecture.md, enforced: folders are ranked and an import never climbs; no import
// cycles anywhere in src/ or media/; core, cli and debug run headless (no `vscode`); the webview never reaches
// into the extension host; only core/native.ts loads onnxruntime-node and esbuild (on first use, so activation
// stays free of native code: docs/packaging.md). The graph is computed from the
// sources here (type-only imports count: a cycle of types is still a cycle a reader must hold in mind).
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

/** Every module specifier of a file: import/export ... from, side-effect imports, import() and require(). */
function imports(file: string): string[] {
  const text = fs.readFileSync(path.join(packageRoot(), file), 'utf8');
  const re = /(?:^|\n)\s*(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]|(?:^|\n)\s*import\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|require\(\s*['"]([^'"]+)['"]\s*\)/g;
  return [...text.matchAll(re)].map((m) => m[1] ?? m[2] ?? m[3] ?? m[4]);
}

/** The ranks of docs/architecture.md, bottom first; an import may point to its own rank or below. loopWorker
 *  hosts the loop in a thread with the metric file's preprocess, so it sits above metrics and below evaluate. */
const RANKS: string[][] = [
  ['core/errors', 'core/paths', 'core/tasks', 'core/native'],
  ['core/tensor'],
  ['core/data', 'core/text', 'core/expr'],
  ['core/textFeatures', 'core/model'],
  ['core/generate'],
  ['core/loop'],
  ['core/cache'],
  ['core/metrics'],
  ['core/lint', 'core/inspect', 'core/series'],
  ['core/loopWorker'],
  ['core/evaluate'],
  ['core/runtime'],
  ['shared'],
  ['core/view'],
  ['core/compare'],
  ['cli', 'debug', 'extension', 'demo', 'media'],
];
const rankOf = new Map(RANKS.flatMap((units, rank) => units.map((u): [string, number] => [u, rank])));

/** The ranked unit a file belongs to: src/core/<folder or file>, src/<folder>, or media. */
function unitOf(file: string): string {
  const parts = file.split(path.sep);
  if (parts[0] === 'media') return 'media';
  if (parts[1] === 'core') return `core/${parts[2].replace(/\.ts$/, '')}`;
  return parts[1];
}

/** The import graph of src/ and media/ (relative imports resolved to files), file -> imported files. */
function importGraph(): Map<string, string[]> {
  const files = ['src', 'media'].flatMap(sources);
  const known = new Set(files);
  const graph = new Map<string, string[]>();
  for (const f of files) {
    const targets = imports(f)
      .filter((spec) => spec.startsWith('.'))
      .map((spec) => {
        const base = path.join(path.dirname(f), spec);
        const hit = [base, `${base}.ts`, path.join(base, 'index.ts')].find((c) => known.has(c));
        if (!hit) throw new Error(`${f}: cannot resolve the import "${spec}"`);
        return hit;
      });
    graph.set(f, [...new Set(targets)]);
  }
  return graph;
}

/** Strongly connected components with more than one file, or a file importing itself (Tarjan). */
function cycles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(scc.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

test('every source file belongs to a ranked folder', () => {
  const unranked = [...importGraph().keys()].filter((f) => !rankOf.has(unitOf(f)));
  assert.deepEqual(unranked, []);
});

test('no import climbs: each points to its own folder\'s rank or below (docs/architecture.md)', () => {
  const climbing: string[] = [];
  for (const [from, targets] of importGraph()) {
    for (const to of targets) {
      const a = rankOf.get(unitOf(from)), b = rankOf.get(unitOf(to));
      if (a !== undefined && b !== undefined && b > a) climbing.push(`${from} (${unitOf(from)}) -> ${to} (${unitOf(to)})`);
    }
  }
  assert.deepEqual(climbing, []);
});

test('no import cycles in src/ or media/', () => {
  assert.deepEqual(cycles(importGraph()), []);
});

test('the cycle finder finds a made-up cycle and a self-import; the ranks and units read as documented', () => {
  const g = new Map([
    ['a', ['b']],
    ['b', ['c']],
    ['c', ['a']],
    ['d', ['d']],
    ['e', ['a']],
  ]);
  assert.deepEqual(cycles(g), [['a', 'b', 'c'], ['d']]);
  assert.ok(rankOf.get('core/loop')! > rankOf.get('core/generate')!);
  assert.ok(rankOf.get('core/view')! > rankOf.get('shared')!);
  assert.equal(unitOf(path.join('src', 'core', 'model', 'heads', 'index.ts')), 'core/model');
  assert.equal(unitOf(path.join('src', 'core', 'evaluate.ts')), 'core/evaluate');
});

test('src/core, src/cli and src/debug never import vscode', () => {
  const offenders = ['src/core', 'src/cli', 'src/debug'].flatMap(sources).filter((f) => imports(f).includes('vscode'));
  assert.deepEqual(offenders, []);
});

test('the webview (media/) imports nothing from src/extension, only the shared protocol and plain modules', () => {
  const offenders = sources('media').filter((f) => imports(f).some((i) => i.includes('extension')));
  assert.deepEqual(offenders, []);
});

/** Modules a file loads at run time: `import type` (erased by esbuild) does not count. */
function runtimeImports(file: string): string[] {
  const text = fs.readFileSync(path.join(packageRoot(), file), 'utf8');
  const re = /(?:^|\n)\s*(?:import(?!\s+type\b)|export(?!\s+type\b))[^'"]*?from\s+['"]([^'"]+)['"]|(?:require|import)\(\s*['"]([^'"]+)['"]\s*\)/g;
  return [...text.matchAll(re)].map((m) => m[1] ?? m[2]);
}

test('src/extension reaches src/core and src/debug only through core.ts (dist/extensionCore.js, loaded on first use)', () => {
  // Leaf modules (no imports of their own but node: built-ins, e.g. core/errors) may be imported directly:
  // they add a few KB and no state to the thin bundle.
  const isLeaf = (from: string, spec: string) => {
    const file = path.join(path.dirname(from), spec) + '.ts';
    return fs.existsSync(path.join(packageRoot(), file)) && runtimeImports(file).every((i) => i.startsWith('node:'));
  };
  const ext = sources('src/extension').filter((f) => !/(^|[\\/])coreApi\.ts$/.test(f));
  const offenders = ext.flatMap((f) => runtimeImports(f).filter((i) => /^\.\.\/(core|debug)\//.test(i) && !isLeaf(f, i)).map((i) => `${f}: ${i}`));
  assert.deepEqual(offenders, []);
  assert.ok(runtimeImports(path.join('src', 'extension', 'coreApi.ts')).includes('../core/cache/reader'), 'the scan reads coreApi.ts');
  assert.ok(!isLeaf(path.join('src', 'extension', 'coreApi.ts'), '../core/cache/reader'), 'a module with imports is not a leaf');
});

test('onnxruntime-node and esbuild (native) are loaded by src/core/native.ts only', () => {
  for (const native of ['onnxruntime-node', 'esbuild']) {
    const users = sources('src').filter((f) => runtimeImports(f).includes(native));
    assert.deepEqual(users, [path.join('src', 'core', 'native.ts')], native);
  }
});
