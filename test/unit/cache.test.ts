// The prediction cache: round trip of every node kind, NumPy reading the folder with plain np.load,
// atomic replacement, path-escape refusal, manifest validation and the cache key.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runPython } from '../helpers/python';
import { EvalPredictionData, Tensor, TensorNode } from '../../src/core/tensor/tensor';
import { isCacheFor, readCache, writeCache } from '../../src/core/cache/store';
import { validateManifest } from '../../src/core/cache/manifest';
import { cacheKey, contentHashes, sha256Bytes, sha256File } from '../../src/core/cache/hash';
import { userErrorOf } from '../helpers/errors';
import { tempDir } from '../helpers/tempDir';

const tmp = tempDir();
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function sampleEvalPred(): EvalPredictionData {
  return {
    // a model with two outputs, the second itself a pair: predictions = (logits, (ids, scores))
    predictions: {
      tuple: [
        Tensor.from('float32', [3, 4], [0.5, -1, 2, NaN, 3, 4, -Infinity, 0, 1, 1, 1, -100]),
        { tuple: [Tensor.from('int64', [3], [7n, -100n, 2n ** 40n]), Tensor.from('float16', [3, 2], [0.25, -2, 65504, 0, 1, -0.5])] },
      ],
    },
    // per-batch labels (eval_do_concat_batches=False): batches of 2 and 1
    labelIds: { list: [Tensor.from('int64', [2], [1, 0]), Tensor.from('int64', [1], [1])] },
    inputs: Tensor.from('int32', [3, 2], [101, 7, 101, 8, 101, 9]),
    losses: null,
  };
}

function assertSameNode(a: TensorNode | null, b: TensorNode | null, where: string): void {
  if (a === null || b === null) return assert.equal(a, b, where);
  if (a instanceof Tensor) {
    assert.ok(b instanceof Tensor, `${where} is not a tensor`);
    assert.equal(a.dtype, b.dtype, where);
    assert.deepEqual(a.shape, b.shape, where);
    assert.deepEqual(a.data, b.data, where);
    return;
  }
  const kind = 'tuple' in a ? 'tuple' : 'list';
  assert.ok(kind in b, `${where} should be a ${kind}`);
  const ai = (a as { tuple?: TensorNode[]; list?: TensorNode[] })[kind]!;
  const bi = (b as { tuple?: TensorNode[]; list?: TensorNode[] })[kind]!;
  assert.equal(ai.length, bi.length, where);
  ai.forEach((n, i) => assertSameNode(n, bi[i], `${where}[${i}]`));
}


const META = { numSamples: 3, key: 'k-1', producer: { model: { files: [{ file: 'model.onnx', sha256: 'ab' }] }, settings: { batchSize: 2 } } };

test('write/read round trip of tensor, tuple, nested tuple, list and null, with the documented file names', () => {
  const dir = path.join(tmp, 'rt', 'cache');
  const ep = sampleEvalPred();
  const m = writeCache(dir, ep, { ...META, extra: { loop: { task: 'demo' } } });
  assert.deepEqual(fs.readdirSync(dir).sort(), [
    'inputs.npy', 'label_ids_b0.npy', 'label_ids_b1.npy', 'manifest.json', 'predictions_0.npy', 'predictions_1_0.npy', 'predictions_1_1.npy',
  ]);
  const onDisk = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
  assert.deepEqual(onDisk, JSON.parse(JSON.stringify(m)));
  assert.equal(onDisk.format, 'evalpred-cache/1');
  assert.equal(onDisk.num_samples, 3);
  assert.equal(onDisk.key, 'k-1');
  assert.equal(onDisk.tool.name, 'evalpred');
  assert.equal(typeof onDisk.tool.version, 'string');
  assert.ok(Math.abs(Date.parse(onDisk.created) - Date.now()) < 60_000, 'created is an ISO time of now');
  assert.deepEqual(onDisk.producer, META.producer);
  assert.deepEqual(onDisk.loop, { task: 'demo' });
  assert.deepEqual(onDisk.eval_prediction, {
    predictions: { tuple: [{ npy: 'predictions_0.npy' }, { tuple: [{ npy: 'predictions_1_0.npy' }, { npy: 'predictions_1_1.npy' }] }] },
    label_ids: { list: [{ npy: 'label_ids_b0.npy' }, { npy: 'label_ids_b1.npy' }] },
    inputs: { npy: 'inputs.npy' },
    losses: null,
  });
  const back = readCache(dir);
  assert.deepEqual(back.manifest, onDisk);
  for (const k of ['predictions', 'labelIds', 'inputs', 'losses'] as const) assertSameNode(back.evalPred[k], ep[k], k);
  assert.equal(isCacheFor(dir, 'k-1'), true);
  assert.equal(isCacheFor(dir, 'k-2'), false);
  assert.equal(isCacheFor(path.join(tmp, 'rt', 'nothing-here'), 'k-1'), false);
});

test('NumPy reads every file the manifest names with plain np.load, with the same values', () => {
  const dir = path.join(tmp, 'np', 'cache');
  const ep = sampleEvalPred();
  writeCache(dir, ep, META);
  const out = runPython(
    `import json, os, numpy as np
d = ${JSON.stringify(dir)}
m = json.load(open(os.path.join(d, 'manifest.json')))
def load(n):
    if n is None: return None
    if 'npy' in n:
        a = np.load(os.path.join(d, n['npy']), allow_pickle=False)
        return {'dtype': str(a.dtype), 'shape': list(a.shape), 'values': [None if isinstance(v, float) and v != v else v for v in a.ravel().tolist()]}
    if 'tuple' in n: return {'tuple': [load(c) for c in n['tuple']]}
    return {'list': [load(c) for c in n['list']]}
print(json.dumps({k: load(v) for k, v in m['eval_prediction'].items()}, allow_nan=True))`,
  );
  const np = JSON.parse(out.replace(/-?Infinity/g, (s) => `"${s}"`));
  const NP_DTYPE: Record<string, string> = { bool: 'bool' };
  const expectJson = (n: TensorNode | null): unknown => {
    if (n === null) return null;
    if (n instanceof Tensor) {
      const values = Array.from({ length: n.size }, (_, i) => {
        const v = typeof n.data[i] === 'bigint' ? Number(n.data[i]) : n.at(i);
        return Number.isNaN(v) ? null : v === Infinity ? 'Infinity' : v === -Infinity ? '-Infinity' : v;
      });
      return { dtype: NP_DTYPE[n.dtype] ?? n.dtype, shape: [...n.shape], values };
    }
    return 'tuple' in n ? { tuple: n.tuple.map(expectJson) } : { list: n.list.map(expectJson) };
  };
  assert.deepEqual(np, {
    predictions: expectJson(ep.predictions),
    label_ids: expectJson(ep.labelIds),
    inputs: expectJson(ep.inputs),
    losses: null,
  });
});

test('a failure mid-write leaves the previous cache intact and no complete-looking folder', () => {
  const parent = path.join(tmp, 'atomic');
  const dir = path.join(parent, 'cache');
  writeCache(dir, { predictions: Tensor.from('float32', [2], [1, 2]), labelIds: null, inputs: null, losses: null }, { ...META, numSamples: 2, key: 'old' });

  // A tensor whose encoding throws; it is the second file written, so the first is already on disk then.
  let seenMidWrite: { entries: string[]; partialHasManifest: boolean; oldKey: string } | undefined;
  const bad = Tensor.from('float32', [2], [0, 0]);
  Object.defineProperty(bad, 'data', {
    get() {
      const entries = fs.readdirSync(parent).sort();
      const partial = entries.find((e) => e.startsWith('cache.partial-'));
      seenMidWrite = {
        entries,
        partialHasManifest: !!partial && fs.existsSync(path.join(parent, partial, 'manifest.json')),
        oldKey: JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')).key,
      };
      throw new Error('disk full (simulated)');
    },
  });
  const ep: EvalPredictionData = { predictions: { tuple: [Tensor.from('float32', [2], [5, 6]), bad] }, labelIds: null, inputs: null, losses: null };
  assert.throws(() => writeCache(dir, ep, { ...META, key: 'new' }), /could not write the prediction cache .*disk full \(simulated\)/);

  // At the moment of the crash: the old cache in place, the new data in a temp-named folder without a manifest.
  assert.ok(seenMidWrite);
  assert.equal(seenMidWrite.entries.length, 2);
  assert.equal(seenMidWrite.entries[0], 'cache');
  assert.match(seenMidWrite.entries[1], new RegExp(`^cache\\.partial-${process.pid}-[0-9a-f]+$`));
  assert.equal(seenMidWrite.partialHasManifest, false);
  assert.equal(seenMidWrite.oldKey, 'old');
  // After: the temp folder is gone and the old cache still reads back whole.
  assert.deepEqual(fs.readdirSync(parent), ['cache']);
  const { manifest, evalPred } = readCache(dir);
  assert.equal(manifest.key, 'old');
  assert.deepEqual([...(evalPred.predictions as Tensor).data], [1, 2]);

  // A failed first write leaves nothing at all.
  const fresh = path.join(parent, 'fresh');
  assert.throws(() => writeCache(fresh, ep, META));
  assert.deepEqual(fs.readdirSync(parent), ['cache']);

  // A successful rewrite replaces the old cache and leaves no .old- folder behind.
  writeCache(dir, { predictions: Tensor.from('int8', [1], [9]), labelIds: null, inputs: null, losses: null }, { ...META, numSamples: 1, key: 'new' });
  assert.deepEqual(fs.readdirSync(parent), ['cache']);
  assert.equal(readCache(dir).manifest.key, 'new');
  assert.deepEqual(fs.readdirSync(dir).sort(), ['manifest.json', 'predictions.npy']);

  // A folder that is not a cache (files, no manifest.json) is never replaced.
  const precious = path.join(parent, 'precious');
  fs.mkdirSync(precious);
  fs.writeFileSync(path.join(precious, 'notes.txt'), 'keep me');
  assert.match(userErrorOf(() => writeCache(precious, ep, META)).message, /precious.*no manifest\.json.*will not replace it/);
  assert.equal(fs.readFileSync(path.join(precious, 'notes.txt'), 'utf8'), 'keep me');
});

test('paths that escape the cache folder are refused, naming manifest.json and the path; missing and truncated files named', () => {
  const base = path.join(tmp, 'escape');
  fs.mkdirSync(base, { recursive: true });
  const outside = path.join(base, 'outside.npy');
  fs.writeFileSync(outside, fs.readFileSync(path.join(writeCacheAt(path.join(base, 'src')), 'predictions.npy')));
  const cases: Array<[string, RegExp, ((dir: string) => void)?]> = [
    ['../outside.npy', /climbs out with '\.\.'/],
    ['sub/../../outside.npy', /climbs out with '\.\.'/],
    [outside, /is an absolute path/],
    ['link.npy', /is a symlink to .*outside\.npy, outside the cache folder/, (dir) => fs.symlinkSync(outside, path.join(dir, 'link.npy'))],
  ];
  cases.forEach(([rel, why, prepare], i) => {
    const dir = writeCacheAt(path.join(base, `c${i}`));
    prepare?.(dir);
    setNpy(dir, rel);
    const e = userErrorOf(() => readCache(dir));
    assert.match(e.message, new RegExp(`${escapeRe(path.join(dir, 'manifest.json'))}: eval_prediction\\.predictions names ${escapeRe(JSON.stringify(rel))}`));
    assert.match(e.message, why);
    assert.equal(isCacheFor(dir, 'k'), false);
  });
  // A symlink to a file inside the folder is fine.
  const inside = writeCacheAt(path.join(base, 'inside'));
  fs.symlinkSync(path.join(inside, 'predictions.npy'), path.join(inside, 'alias.npy'));
  setNpy(inside, 'alias.npy');
  assert.deepEqual([...(readCache(inside).evalPred.predictions as Tensor).data], [1, 2, 3]);

  const missing = writeCacheAt(path.join(base, 'missing'));
  fs.rmSync(path.join(missing, 'predictions.npy'));
  assert.match(userErrorOf(() => readCache(missing)).message, /cache .*missing is damaged: eval_prediction\.predictions \("predictions\.npy"\) is missing \(.*predictions\.npy\)/);
  assert.equal(isCacheFor(missing, 'k'), false);

  const cut = writeCacheAt(path.join(base, 'cut'));
  const f = path.join(cut, 'predictions.npy');
  fs.truncateSync(f, fs.statSync(f).size - 4);
  assert.match(userErrorOf(() => readCache(cut)).message, /cache .*cut is damaged: eval_prediction\.predictions \("predictions\.npy"\) declares a float32 array of shape \(3\): 12 bytes of data.*but the file has \d+ bytes \(truncated\?\)/);

  assert.match(userErrorOf(() => readCache(path.join(base, 'nowhere'))).message, /nowhere is not an evalpred prediction cache: it has no manifest\.json/);
  const badJson = writeCacheAt(path.join(base, 'badjson'));
  fs.writeFileSync(path.join(badJson, 'manifest.json'), '{"format": ');
  assert.match(userErrorOf(() => readCache(badJson)).message, /badjson.*manifest\.json is not valid JSON/);
});

function writeCacheAt(dir: string): string {
  writeCache(dir, { predictions: Tensor.from('float32', [3], [1, 2, 3]), labelIds: null, inputs: null, losses: null }, { ...META, key: 'k' });
  return dir;
}
function setNpy(dir: string, rel: string): void {
  const mf = path.join(dir, 'manifest.json');
  const m = JSON.parse(fs.readFileSync(mf, 'utf8'));
  m.eval_prediction.predictions = { npy: rel };
  fs.writeFileSync(mf, JSON.stringify(m));
}
function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

test('validateManifest names what is wrong: format, missing keys, malformed nodes; accepts capture manifests', () => {
  const good = () => ({
    format: 'evalpred-cache/1', num_samples: 2, key: 'k', created: '2024-01-01T00:00:00.000Z', tool: { name: 'evalpred', version: '0.1.0' },
    producer: {}, eval_prediction: { predictions: { npy: 'p.npy' }, label_ids: null, inputs: null, losses: null },
  });
  assert.equal(validateManifest(good(), 'm.json').key, 'k');
  const bad = (mutate: (m: Record<string, any>) => void, re: RegExp) => {
    const m: Record<string, any> = good();
    mutate(m);
    const e = userErrorOf(() => validateManifest(m, '/c/manifest.json'));
    assert.match(e.message, /^\/c\/manifest\.json is not a valid evalpred cache manifest: /);
    assert.match(e.message, re);
  };
  bad((m) => (m.format = 'evalpred-cache/2'), /"format" is "evalpred-cache\/2", expected "evalpred-cache\/1"/);
  bad((m) => delete m.format, /no "format" key/);
  bad((m) => (delete m.key, delete m.eval_prediction), /missing keys "key", "eval_prediction"/);
  bad((m) => (m.num_samples = -1), /"num_samples" is -1/);
  bad((m) => delete m.eval_prediction.losses, /"eval_prediction" lacks "losses"/);
  bad((m) => (m.eval_prediction.label_ids = { npz: 'x' }), /eval_prediction\.label_ids is \{"npz":"x"\}, not one of/);
  bad((m) => (m.eval_prediction.inputs = { tuple: [{ npy: 'a.npy' }, { list: 'nope' }] }), /eval_prediction\.inputs\.tuple\[1\]\.list is string "nope", not an array/);
  bad((m) => (m.eval_prediction.predictions = { npy: 5 }), /eval_prediction\.predictions\.npy is 5, not a file name/);
  bad((m) => (m.eval_prediction.predictions = [{ npy: 'p.npy' }]), /eval_prediction\.predictions is an array/);
  bad((m) => (m.tool = { name: 'other' }), /"tool" is/);
  // evalpred.capture (in the user's training job) writes neither created nor tool.
  const cap: Record<string, any> = good();
  delete cap.created;
  delete cap.tool;
  cap.producer = { tool: 'evalpred.capture', time: '2024-05-01T10:00:00+00:00' };
  const v = validateManifest(cap, 'capture/manifest.json');
  assert.equal(v.created, '2024-05-01T10:00:00+00:00');
  assert.deepEqual(v.tool, { name: 'evalpred', version: 'unknown' });
});

test('cacheKey: same object in another key order gives the same key; any changed part changes it', async () => {
  const parts = {
    format: 'evalpred-cache/1',
    model: [{ file: 'model.onnx', sha256: 'aa', bytes: 10 }, { file: 'tokenizer.json', sha256: 'bb', bytes: 5 }],
    dataset: [{ file: 'dev.jsonl', sha256: 'cc', bytes: 7 }],
    settings: { batchSize: 8, maxLength: 128, textColumn: 'sentence', labelColumn: undefined, nested: { a: 1, b: [1, 2] } },
    tool: { name: 'evalpred', version: '0.1.0' },
  };
  const reordered = {
    tool: { version: '0.1.0', name: 'evalpred' },
    settings: { nested: { b: [1, 2], a: 1 }, textColumn: 'sentence', maxLength: 128, batchSize: 8 },
    dataset: [{ bytes: 7, sha256: 'cc', file: 'dev.jsonl' }],
    model: [{ sha256: 'aa', bytes: 10, file: 'model.onnx' }, { bytes: 5, file: 'tokenizer.json', sha256: 'bb' }],
    format: 'evalpred-cache/1',
  };
  const k = cacheKey(parts);
  assert.match(k, /^[0-9a-f]{64}$/);
  assert.equal(cacheKey(reordered), k, 'key order and undefined members do not matter');
  const variants: Array<(p: any) => void> = [
    (p) => (p.model[0].sha256 = 'ab'), // model file changed
    (p) => (p.dataset[0].sha256 = 'cd'), // dataset changed
    (p) => (p.settings.batchSize = 16), // a loop setting
    (p) => (p.settings.labelColumn = 'label'), // a setting given where it was absent
    (p) => (p.settings.nested.b = [2, 1]), // array order is meaningful
    (p) => (p.tool.version = '0.1.1'),
    (p) => p.model.reverse(),
  ];
  const seen = new Set([k]);
  for (const change of variants) {
    const p = structuredClone(parts);
    change(p);
    const k2 = cacheKey(p);
    assert.ok(!seen.has(k2), `variant ${change} should give a new key`);
    seen.add(k2);
  }
  // Known SHA-256 test vectors (FIPS 180-2): "abc" and the empty string.
  assert.equal(sha256Bytes('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  assert.equal(sha256Bytes(new Uint8Array(0)), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  const big = path.join(tmp, 'big.bin');
  const content = Buffer.alloc(3 * 1024 * 1024 + 17, 'evalpred'); // several stream chunks
  fs.writeFileSync(big, content);
  const small = path.join(tmp, 'abc.txt');
  fs.writeFileSync(small, 'abc');
  assert.equal(await sha256File(big), runPython(`import hashlib; print(hashlib.sha256(open(${JSON.stringify(big)}, 'rb').read()).hexdigest())`, []).trim());
  assert.deepEqual(await contentHashes([small, big]), [
    { path: small, sha256: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad', bytes: 3 },
    { path: big, sha256: await sha256File(big), bytes: content.length },
  ]);
  await assert.rejects(contentHashes([path.join(tmp, 'no-such-file')]), /no-such-file/);
});
