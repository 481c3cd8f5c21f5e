// One build script for every bundle (docs/architecture.md#processes): node bundles for the CLI, the loop and
// metric workers, the debug adapter and the extension host; test and bench bundles on request.
// onnxruntime-node has a native binding and esbuild itself must stay a real package (the TS metric
// runner calls it), so both stay external and ship in node_modules beside the bundle.
import * as esbuild from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';

const args = new Set(process.argv.slice(2));
const production = args.has('--production');
// playwright-core (browser tests only) loads its own files at run time and cannot be bundled.
// bufferutil and utf-8-validate are ws's optional native speed-ups: it works without them (and we never need them on loopback).
const external = ['vscode', 'onnxruntime-node', 'esbuild', 'playwright-core', 'bufferutil', 'utf-8-validate'];

/** name in dist/ -> source entry. Entries whose source does not exist yet are skipped. */
const nodeEntries = {
  cli: 'src/cli/main.ts',
  loopWorker: 'src/core/loopWorker/worker.ts',
  feederWorker: 'src/core/textFeatures/feederWorker.ts',
  laneWorker: 'src/core/model/lanes/worker.ts',
  metricWorker: 'src/core/metrics/jsWorker.ts',
  debugAdapter: 'src/debug/adapterMain.ts',
  extension: 'src/extension/extension.ts',
  // What the extension uses of src/core, loaded on first use (src/extension/core.ts; docs/packaging.md).
  extensionCore: 'src/extension/coreApi.ts',
  // `import ... from "evalpred/metrics"` in a user's metric file resolves here in the packaged build.
  metricsLibrary: 'src/core/metrics/library/index.ts',
  // The Arrow and Parquet dataset readers, loaded with the first such dataset (src/core/data/formats.ts).
  datasetFormats: 'src/core/data/formats.ts',
};

function walk(dir, suffix) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? walk(p, suffix) : p.endsWith(suffix) ? [p] : [];
  });
}

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  minify: production,
  external,
  logLevel: 'warning',
};

/** In dist/, src/extension/core.ts's require('./coreApi') loads the separate dist/extensionCore.js, so the
 * extension host parses only the thin dist/extension.js on activation. Test bundles inline it instead. */
const lazyExtensionCore = {
  name: 'lazy-extension-core',
  setup(build) {
    build.onResolve({ filter: /^\.\/coreApi$/ }, (a) => (a.importer.endsWith(path.join('src', 'extension', 'core.ts')) ? { path: './extensionCore.js', external: true } : undefined));
  },
};

/** Likewise src/core/data/load.ts's require('./formats') loads dist/datasetFormats.js: apache-arrow and hyparquet
 * are parsed only by a process that reads such a dataset (docs/architecture.md#bundles). */
const lazyDatasetFormats = {
  name: 'lazy-dataset-formats',
  setup(build) {
    build.onResolve({ filter: /^\.\/formats$/ }, (a) => (a.importer.endsWith(path.join('src', 'core', 'data', 'load.ts')) ? { path: './datasetFormats.js', external: true } : undefined));
  },
};

const builds = [];
// `--test=test/unit/x.test.ts` builds that one test only (fast, and not blocked by work in progress elsewhere).
const one = [...args].find((a) => a.startsWith('--test='));
if (one) {
  await esbuild.build({ ...common, entryPoints: [one.slice('--test='.length)], outdir: 'out/test', outbase: 'test' });
  process.exit(0);
}
const entries = Object.fromEntries(Object.entries(nodeEntries).filter(([, src]) => fs.existsSync(src)));
builds.push(esbuild.build({ ...common, entryPoints: entries, outdir: 'dist', plugins: [lazyExtensionCore, lazyDatasetFormats] }));
for (const [name, src] of [
  ['media/predictionView', 'media/predictionView.ts'],
  ['media/compareView', 'media/compareView.ts'],
  ['media/seriesView', 'media/seriesView/main.ts'],
]) {
  if (fs.existsSync(src)) {
    builds.push(esbuild.build({ ...common, platform: 'browser', format: 'iife', external: [], entryPoints: { [name]: src }, outdir: 'dist' }));
  }
}
// Slow suites have their own folder and npm script (test/reliability: `npm run test:reliability`; test/webview, the
// views in a real Chromium: `npm run test:webview`), so `npm test` skips them.
const SLOW_SUITES = [path.join('test', 'reliability'), path.join('test', 'webview')];
if (args.has('--tests')) {
  const fast = walk('test', '.test.ts').filter((f) => !SLOW_SUITES.some((s) => f.startsWith(s + path.sep)));
  builds.push(esbuild.build({ ...common, entryPoints: fast, outdir: 'out/test', outbase: 'test' }));
}
if (args.has('--webview')) {
  builds.push(esbuild.build({ ...common, entryPoints: walk(path.join('test', 'webview'), '.test.ts'), outdir: 'out/webview', outbase: 'test/webview' }));
}
if (args.has('--reliability')) {
  builds.push(esbuild.build({ ...common, entryPoints: walk(path.join('test', 'reliability'), '.test.ts'), outdir: 'out/reliability', outbase: 'test/reliability' }));
}
// The real-Trainer cross-check (test/trainer, `npm run test:trainer`): its own folder, like the reliability suite.
if (args.has('--trainer')) {
  builds.push(esbuild.build({ ...common, entryPoints: walk(path.join('test', 'trainer'), '.crosscheck.ts'), outdir: 'out/trainer', outbase: 'test/trainer' }));
}
if (args.has('--bench')) {
  builds.push(esbuild.build({ ...common, entryPoints: walk('bench', '.ts'), outdir: 'out/bench', outbase: 'bench' }));
}
await Promise.all(builds);
// Each webview's stylesheet ships beside its script (the views only load resources from dist/media).
for (const [from, to] of [
  ['media/predictionView.css', 'predictionView.css'],
  ['media/compareView.css', 'compareView.css'],
  ['media/seriesView/seriesView.css', 'seriesView.css'],
]) {
  if (!fs.existsSync(from)) continue;
  fs.mkdirSync('dist/media', { recursive: true });
  fs.copyFileSync(from, path.join('dist/media', to));
}
if (entries.cli) {
  const cli = 'dist/cli.js';
  const body = fs.readFileSync(cli, 'utf8');
  if (!body.startsWith('#!')) fs.writeFileSync(cli, '#!/usr/bin/env node\n' + body);
  fs.chmodSync(cli, 0o755);
}
