// The peak-memory probe the reliability, scale and bench runs rely on (test/helpers/peakRss.ts) measures the
// child it spawns, not the parent it was forked from: a child of a big parent used to report the parent's size.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { peakRssKb, runMeasured } from '../helpers/peakRss';
import { tempDir } from '../helpers/tempDir';

const root = tempDir();
after(() => fs.rmSync(root, { recursive: true, force: true }));

test('a small child of a big parent is measured small, and a child that grows is measured at its peak', async () => {
  const parentBallast = Buffer.alloc(600 * 2 ** 20, 1); // touched: resident in this process
  assert.ok(peakRssKb() / 1024 >= 600, `this process holds 600 MB, its peak reads ${peakRssKb() / 1024} MB`);
  const small = path.join(root, 'small.js');
  fs.writeFileSync(small, 'console.log("hi");\n');
  const grows = path.join(root, 'grows.js');
  fs.writeFileSync(grows, 'const b = Buffer.alloc(300 * 2 ** 20, 1); console.log(b[7]);\n');
  const a = await runMeasured(small, [], root);
  const b = await runMeasured(grows, [], root);
  assert.equal(parentBallast[12345], 1);
  assert.equal(a.code, 0);
  assert.equal(b.code, 0);
  assert.ok(a.peakMb > 10 && a.peakMb < 200, `a child that prints one line peaked at ${a.peakMb} MB (the parent holds 600 MB)`);
  assert.ok(b.peakMb >= 300 && b.peakMb < 500, `a child that fills 300 MB peaked at ${b.peakMb} MB`);
});

test('the processes a measured child starts are measured too, each at its own peak', async () => {
  const parent = path.join(root, 'parent.js');
  fs.writeFileSync(
    parent,
    `const { execFileSync } = require('node:child_process');\n` +
      `execFileSync(process.execPath, ['-e', 'const b = Buffer.alloc(250 * 2 ** 20, 1); setTimeout(() => console.log(b[3]), 300)']);\n`,
  );
  const r = await runMeasured(parent, [], root);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(r.peakMb < 200, `the parent itself peaked at ${r.peakMb} MB`);
  const node = r.children?.find((c) => c.name === 'node');
  assert.ok(node, `its node child was seen among ${JSON.stringify(r.children)}`);
  assert.ok(node.peakMb >= 250 && node.peakMb < 450, `its child, which fills 250 MB, peaked at ${node.peakMb} MB`);
  assert.ok(node.anonPeakMb >= 250 && node.anonPeakMb <= node.peakMb, `its anonymous memory peaked at ${node.anonPeakMb} MB of ${node.peakMb} MB`);
});
