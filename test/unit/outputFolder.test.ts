// Output folders: evalpred replaces only a folder it wrote, and cleans only temp folders that are its own.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Tensor } from '../../src/core/tensor/tensor';
import { readCache, writeCache } from '../../src/core/cache/store';
import { removeLeftovers, whyNotReplaceable } from '../../src/core/cache/outputFolder';
import { isEvalpredError } from '../../src/core/errors';
import { loopRecordOf } from '../../src/core/evaluate';
import { DEMO_RECORD, demoConflicts, writeDemoFiles } from '../../src/demo/writeFiles';
import { runPython } from '../helpers/python';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'evalpred-out-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const EP = { predictions: Tensor.from('float32', [2], [1, 2]), labelIds: Tensor.from('int64', [2], [0, 1]), inputs: null, losses: null };
const META = { numSamples: 2, key: 'k', producer: { tool: 'test' } };

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(isEvalpredError(e), `expected an EvalpredError, got ${String(e)}`);
    return (e as Error).message;
  }
  return assert.fail('expected a refusal');
}

/** A pid that is certainly not running: a child that has already exited. */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '0']).pid!;
}

test('a folder is replaceable only when absent, empty, or a cache holding nothing but the files its manifest lists', () => {
  const base = path.join(tmp, 'rules');
  fs.mkdirSync(base);
  assert.equal(whyNotReplaceable(path.join(base, 'absent'), 'absent'), null);
  fs.mkdirSync(path.join(base, 'empty'));
  assert.equal(whyNotReplaceable(path.join(base, 'empty'), 'empty'), null);

  const cache = path.join(base, 'cache');
  writeCache(cache, EP, META);
  assert.equal(whyNotReplaceable(cache, 'cache'), null);
  // a user's note in the cache folder makes it the user's: named, and never deleted
  fs.writeFileSync(path.join(cache, 'notes.txt'), 'mine');
  assert.match(refusal(() => writeCache(cache, EP, META)), /cache: it is an evalpred cache but also holds "notes\.txt", which evalpred did not write and will not delete/);
  assert.equal(fs.readFileSync(path.join(cache, 'notes.txt'), 'utf8'), 'mine');
  fs.rmSync(path.join(cache, 'notes.txt'));
  fs.mkdirSync(path.join(cache, 'sub'));
  assert.match(whyNotReplaceable(cache, 'cache')!, /"sub\/"/);
  fs.rmdirSync(path.join(cache, 'sub'));

  // a checkout with a file merely named manifest.json (the reported data loss)
  const repo = path.join(base, 'repo');
  fs.mkdirSync(path.join(repo, 'src'), { recursive: true });
  fs.writeFileSync(path.join(repo, 'manifest.json'), '{"name": "my-app"}');
  fs.writeFileSync(path.join(repo, 'README.md'), 'hi');
  assert.match(refusal(() => writeCache(repo, EP, META)), /repo: its manifest\.json is not an evalpred cache manifest .*no "format" key/);
  assert.deepEqual(fs.readdirSync(repo).sort(), ['README.md', 'manifest.json', 'src']);

  const file = path.join(base, 'file.txt');
  fs.writeFileSync(file, 'x');
  assert.match(refusal(() => writeCache(file, EP, META)), /it exists and is not a folder/);
  assert.match(refusal(() => writeCache(path.join(file, 'sub'), EP, META)), new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is a file, not a folder`));
  fs.symlinkSync(cache, path.join(base, 'link'));
  assert.match(refusal(() => writeCache(path.join(base, 'link'), EP, META)), /symbolic link/);
  // nothing was left beside the refused targets
  assert.deepEqual(fs.readdirSync(base).sort(), ['cache', 'empty', 'file.txt', 'link', 'repo']);
  assert.equal(readCache(cache).manifest.key, 'k');
});

test('temp folders of a dead writer are cleaned on the next write; a live writer\'s and foreign ones are kept', () => {
  const base = path.join(tmp, 'leftovers');
  const target = path.join(base, 'cache');
  writeCache(target, EP, META);
  const dead = deadPid();
  const deadPartial = `cache.partial-${dead}-0123abcd`;
  const deadOld = `cache.old-${dead}-89abcdef`;
  const livePartial = `cache.partial-${process.ppid}-00000000`; // our parent runs: maybe a writer
  const foreign = `cache.partial-${dead}-ffffffff`;
  const otherName = `cachex.partial-${dead}-11111111`;
  for (const d of [deadPartial, deadOld, livePartial, foreign, otherName]) fs.mkdirSync(path.join(base, d));
  fs.copyFileSync(path.join(target, 'predictions.npy'), path.join(base, deadPartial, 'predictions.npy'));
  for (const f of fs.readdirSync(target)) fs.copyFileSync(path.join(target, f), path.join(base, deadOld, f));
  fs.writeFileSync(path.join(base, foreign, 'thesis.tex'), 'not ours');
  writeCache(target, EP, { ...META, key: 'second' });
  assert.deepEqual(fs.readdirSync(base).sort(), ['cache', foreign, livePartial, otherName].sort());
  assert.equal(fs.readFileSync(path.join(base, foreign, 'thesis.tex'), 'utf8'), 'not ours');
  assert.deepEqual(removeLeftovers(target), []);
  assert.equal(readCache(target).manifest.key, 'second');
});

test('evalpred.capture replaces an earlier dump but refuses a folder holding a file it did not write', () => {
  const dump = path.join(tmp, 'capture-dump');
  const srcPython = path.resolve(__dirname, '../../../src/python');
  const out = runPython(`import sys, os, json, warnings, numpy as np
sys.path.insert(0, ${JSON.stringify(srcPython)})
from evalpred.capture import write_dump
write_dump((np.zeros((2, 3), np.float32), np.array([0, 1])), ${JSON.stringify(dump)})
write_dump((np.ones((2, 3), np.float32), np.array([1, 1])), ${JSON.stringify(dump)})   # an earlier dump: replaced
open(os.path.join(${JSON.stringify(dump)}, "notes.txt"), "w").write("mine")
try:
    write_dump((np.ones((2, 3), np.float32), np.array([1, 1])), ${JSON.stringify(dump)})
    print("replaced")
except Exception as e:
    print(str(e))
`);
  assert.match(out, /capture-dump is not empty and is not an evalpred cache \(it holds .*notes\.txt/);
  assert.equal(fs.readFileSync(path.join(dump, 'notes.txt'), 'utf8'), 'mine');
  assert.deepEqual(fs.readdirSync(dump).sort(), ['label_ids.npy', 'manifest.json', 'notes.txt', 'predictions.npy']);
});

test('the demo rewrites its own unchanged files but refuses, before writing anything, to overwrite a changed or foreign one', () => {
  const dir = path.join(tmp, 'demo');
  const files = new Map<string, string>([['metrics.py', 'v1\n'], [path.join('.vscode', 'launch.json'), '{}\n']]);
  writeDemoFiles(dir, files);
  // a later version of the demo writes different bytes: the unchanged earlier files are its own, so replaced
  writeDemoFiles(dir, new Map([['metrics.py', 'v2\n'], [path.join('.vscode', 'launch.json'), '{"v": 2}\n']]));
  assert.equal(fs.readFileSync(path.join(dir, 'metrics.py'), 'utf8'), 'v2\n');
  fs.writeFileSync(path.join(dir, 'metrics.py'), 'my edit\n');
  assert.deepEqual(demoConflicts(dir, files), ['metrics.py']);
  assert.match(refusal(() => writeDemoFiles(dir, files)), /will not overwrite .*metrics\.py\. Nothing was written/);
  assert.equal(fs.readFileSync(path.join(dir, 'metrics.py'), 'utf8'), 'my edit\n');
  assert.equal(fs.readFileSync(path.join(dir, '.vscode', 'launch.json'), 'utf8'), '{"v": 2}\n');
  // a user's own folder: nothing of the demo's recorded there
  const user = path.join(tmp, 'user');
  fs.mkdirSync(user);
  fs.writeFileSync(path.join(user, 'metrics.py'), 'v1\n'); // identical bytes are not a loss
  fs.writeFileSync(path.join(user, DEMO_RECORD), 'my own file');
  assert.deepEqual(demoConflicts(user, files), [DEMO_RECORD]);
});

test("a manifest's loop record is checked field by field, naming manifest.json and the field", () => {
  const manifest = (loop: unknown) => ({ ...readCache(path.join(tmp, 'rules', 'cache')).manifest, loop });
  assert.equal(loopRecordOf(manifest(undefined), '/c'), undefined);
  const good = { task: 'sequence-classification', numSamples: 2, runtimeSeconds: 0.1, numSteps: 1, evalLoss: null, notes: [], info: { columns: {}, id2label: { 0: 'a' } } };
  assert.deepEqual(loopRecordOf(manifest(good), '/c'), good);
  assert.match(refusal(() => loopRecordOf(manifest('garbage'), '/c')), /^\/c\/manifest\.json: "loop" is "garbage", not an object\./);
  assert.match(refusal(() => loopRecordOf(manifest({ ...good, numSamples: '2' }), '/c')), /"loop\.numSamples" is "2", not a number/);
  assert.match(refusal(() => loopRecordOf(manifest({ ...good, info: { columns: {}, id2label: ['a'] } }), '/c')), /"loop\.info\.id2label" is \["a"\], not an object of label names/);
});
