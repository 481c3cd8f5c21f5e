// The rules live in the repository (docs/): nothing may point at the folder outside it that a clone does not
// have, or cite its section numbers; every docs/ path and anchor a file cites must exist.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../../src/core/paths';

const root = packageRoot();
const SKIP = new Set(['.git', 'node_modules', 'out', 'dist', 'dist-vsix', 'test-artifacts', '.evalpred', 'results']);
const TEXT = /\.(ts|mjs|js|json|md|py|txt|toml|css|html|yml|yaml|sh)$|^run$|^\.[\w]+ignore$|^\.npmrc$/;

function files(dir = ''): string[] {
  return fs.readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = path.join(dir, e.name);
    if (e.isDirectory()) return SKIP.has(e.name) ? [] : files(rel);
    return TEXT.test(e.name) ? [rel] : [];
  });
}

// Built from pieces so this file does not match itself.
const SECTION_SIGN = 'spec ' + '\u00a7';
const OUTSIDE_DOCS = new RegExp(['design', 'style', 'e2e-code-server'].map((n) => `\\b${n}\\.md\\b`).join('|'));
/** A relative path climbing into a folder named shared names the folder outside the repository, unless it continues into a module of src/shared. */
const SHARED_MODULES = new Set(fs.readdirSync(path.join(root, 'src', 'shared')).map((f) => f.replace(/\.ts$/, '')));
const outsideShared = (text: string) =>
  [...text.matchAll(/(?:\.\.\/)+shared\b(?:\/([\w.-]+))?/g)].filter((m) => !(m[1] && SHARED_MODULES.has(m[1].replace(/\.ts$/, '')))).map((m) => m[0]);

test('no file cites the outside spec, design or style notes; comments and messages cite docs/ by path', () => {
  const offenders: string[] = [];
  for (const f of files()) {
    const text = fs.readFileSync(path.join(root, f), 'utf8');
    text.split('\n').forEach((line, i) => {
      const hits = [...(line.includes(SECTION_SIGN) ? [SECTION_SIGN] : []), ...(line.match(OUTSIDE_DOCS) ?? []), ...outsideShared(line)];
      if (hits.length) offenders.push(`${f}:${i + 1}: ${hits.join(', ')}`);
    });
  }
  assert.deepEqual(offenders, []);
});

test('the guard above sees what it must and passes what it must', () => {
  const outside = ['..', 'shared', 'design'].join('/') + '.md';
  assert.deepEqual(outsideShared(`see ${outside}`), [outside]);
  assert.deepEqual(outsideShared(`(${['..', '..', 'shared'].join('/')})`), [['..', '..', 'shared'].join('/')]);
  assert.deepEqual(outsideShared(`import type { X } from '../../shared/protocol';`), []);
  assert.ok(OUTSIDE_DOCS.test(['design', 'md'].join('.')));
});

/** GitHub's heading anchor: lower case, punctuation other than `-` and `_` dropped, spaces to dashes. */
function anchorOf(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-');
}

function anchors(doc: string): Set<string> {
  const text = fs.readFileSync(path.join(root, 'docs', doc), 'utf8').replace(/```[\s\S]*?```/g, '');
  return new Set([...text.matchAll(/^#{1,6} (.+)$/gm)].map((m) => anchorOf(m[1])));
}

test('every docs/ page and anchor that code, tests, README and the docs themselves cite exists', () => {
  const docs = new Set(fs.readdirSync(path.join(root, 'docs')));
  const cache = new Map<string, Set<string>>();
  const has = (doc: string, anchor: string) => {
    if (!cache.has(doc)) cache.set(doc, anchors(doc));
    return cache.get(doc)!.has(anchor);
  };
  const broken: string[] = [];
  for (const f of files()) {
    const text = fs.readFileSync(path.join(root, f), 'utf8');
    const inDocs = f.startsWith(`docs${path.sep}`);
    const refs = [...text.matchAll(/\bdocs\/([\w-]+\.md)(?:#([\w-]+))?/g)].map((m) => [m[1], m[2]]);
    if (inDocs) {
      // relative links between the pages: (cache-format.md#nodes), (#the-key)
      for (const m of text.matchAll(/\]\(([\w-]+\.md)?(?:#([\w-]+))?\)/g)) refs.push([m[1] ?? path.basename(f), m[2]]);
    }
    for (const [doc, anchor] of refs) {
      if (!docs.has(doc!)) broken.push(`${f}: docs/${doc} does not exist`);
      else if (anchor && !has(doc!, anchor)) broken.push(`${f}: docs/${doc}#${anchor} has no such heading`);
    }
  }
  assert.deepEqual(broken, []);
  assert.equal(anchorOf('When compute_metrics is not called'), 'when-compute_metrics-is-not-called');
  assert.equal(anchorOf('The end-to-end test in a real VS Code'), 'the-end-to-end-test-in-a-real-vs-code');
});
