// The one cache reader (src/core/cache/reader.ts) and the Python worker's loading path: hostile caches are
// refused quickly as cache damage naming the array and the folder; FIFOs never block; both readers apply the
// same dtype allow-list; paths a manifest names for the view are checked before they are read.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runPython, pythonWith } from '../helpers/python';
import { WorkerClient } from '../helpers/pyWorker';
import { checkCache, isCacheFor, readCache, readCacheManifest } from '../../src/core/cache/reader';
import { checkedDataset, checkedModelDir } from '../../src/core/cache/producerPaths';
import { MAX_NODE_DEPTH } from '../../src/core/cache/manifest';
import { checkedArraysForWorker } from '../../src/core/metrics/pyRunner';
import { NPY_DESCRS } from '../../src/core/tensor/dtype';
import { Tensor } from '../../src/core/tensor/tensor';
import { sampleViews } from '../../src/core/inspect/describe';
import { isEvalpredError } from '../../src/core/errors';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'evalpred-reader-'));
const worker = new WorkerClient();
after(() => {
  worker.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

let n = 0;
/** A cache folder: arrays written by NumPy (Python expressions), manifest from `eval_prediction`. */
function cache(arrays: Record<string, string>, eval_prediction: Record<string, unknown>, extra: Record<string, unknown> = {}): string {
  const d = path.join(tmp, `c${n++}`);
  fs.mkdirSync(d);
  const code = ['import numpy as np', ...Object.entries(arrays).map(([f, expr]) => `np.save(${JSON.stringify(f)}, ${expr})`)].join('\n');
  if (Object.keys(arrays).length) runPython(code, ['numpy'], d);
  writeManifest(d, { predictions: null, label_ids: null, inputs: null, losses: null, ...eval_prediction }, extra);
  return d;
}

function writeManifest(d: string, eval_prediction: unknown, extra: Record<string, unknown> = {}): void {
  fs.writeFileSync(
    path.join(d, 'manifest.json'),
    JSON.stringify({ format: 'evalpred-cache/1', num_samples: 3, key: 'k', producer: {}, eval_prediction, ...extra }),
  );
}

function errorOf(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    assert.ok(isEvalpredError(e), `expected an EvalpredError, got ${e instanceof Error ? e.stack : String(e)}`);
    return e as Error;
  }
  assert.fail('expected an error');
}

const P = { predictions: { npy: 'p.npy' } };

test('a FIFO in place of an array or of manifest.json is refused at once, by the TS reader and by the worker', async () => {
  const d = cache({}, P);
  execFileSync('mkfifo', [path.join(d, 'p.npy')]);
  const t0 = Date.now();
  const e = errorOf(() => readCache(d));
  assert.match(e.message, new RegExp(`the prediction cache ${d} is damaged: eval_prediction\\.predictions \\("p\\.npy"\\) is a FIFO \\(named pipe\\), not a regular file`));
  assert.equal(isCacheFor(d, 'k'), false);
  // The worker, handed that path anyway (as if it had been swapped after Node's check), refuses without blocking.
  const r = await worker.load(d, { predictions: { array: { file: path.join(d, 'p.npy'), where: 'eval_prediction.predictions', descr: '<f4', shape: [3] } } });
  assert.equal(r.ok, false);
  assert.equal(r.error?.type, 'CacheDamage');
  assert.match(r.error!.message, new RegExp(`prediction cache ${d} is damaged: eval_prediction\\.predictions \\(p\\.npy\\) is not a regular file`));
  assert.doesNotMatch(r.error!.message, /allow_pickle/);

  const m = cache({}, P);
  fs.rmSync(path.join(m, 'manifest.json'));
  execFileSync('mkfifo', [path.join(m, 'manifest.json')]);
  assert.match(errorOf(() => readCacheManifest(m)).message, /manifest\.json is a FIFO \(named pipe\), not a regular file/);
  assert.ok(Date.now() - t0 < 10_000, 'FIFOs must not block');
});

test('declared shape x itemsize must be the bytes on disk: a 4 KB file claiming 2 GB and a sparse 2 GB file are refused from their headers and sizes', () => {
  const small = cache({}, P);
  // A valid header for float32 (536870912,) followed by 4 KB of data.
  runPython(
    `import numpy as np
h = np.lib.format
with open('p.npy', 'wb') as f:
    h.write_array_header_1_0(f, {'descr': '<f4', 'fortran_order': False, 'shape': (536870912,)})
    f.write(b'\\0' * 4096)`,
    ['numpy'],
    small,
  );
  assert.match(errorOf(() => readCache(small)).message, /damaged: eval_prediction\.predictions \("p\.npy"\) declares a float32 array of shape \(536870912\): 2147483648 bytes of data.*but the file has 4\d{3} bytes \(truncated\?\)/);

  const sparse = cache({}, P, { num_samples: 536870912 });
  runPython(
    `import numpy as np
with open('p.npy', 'wb') as f:
    np.lib.format.write_array_header_1_0(f, {'descr': '<f4', 'fortran_order': False, 'shape': (536870912,)})
    f.truncate(f.tell() + 536870912 * 4)`,
    ['numpy'],
    sparse,
  );
  writeManifest(sparse, { predictions: { tuple: [{ npy: 'p.npy' }] }, label_ids: null, inputs: null, losses: null }, { num_samples: 536870912 });
  assert.match(errorOf(() => readCache(sparse)).message, /damaged: eval_prediction\.predictions\.tuple\[0\] \("p\.npy"\) is a sparse file: 2147483\d+ bytes long but only \d+ bytes are stored/);
});

test('one file listed three times in a tuple is refused (each array of a cache is its own file)', () => {
  const d = cache({ 'p.npy': 'np.zeros((3, 2), np.float32)' }, { predictions: { tuple: [{ npy: 'p.npy' }, { npy: 'p.npy' }, { npy: './p.npy' }] } });
  assert.match(errorOf(() => readCache(d)).message, /eval_prediction\.predictions\.tuple\[1\] \("p\.npy"\) is the same file as eval_prediction\.predictions\.tuple\[0\]/);
});

test('rows: more than num_samples is damage, fewer is Trainer (drop_last, partial labels), losses may hold whole batches', () => {
  const wrong = cache({ 'p.npy': 'np.zeros((4, 2), np.float32)' }, P);
  assert.match(errorOf(() => readCache(wrong)).message, /eval_prediction\.predictions has 4 rows \(shape \(4, 2\)\), more than the 3 samples the cache holds/);
  const batches = cache(
    { 'p.npy': 'np.zeros((3, 2), np.float32)', 'a.npy': 'np.zeros(2, np.int64)', 'b.npy': 'np.zeros(1, np.int64)', 'l.npy': 'np.float32(0.5)' },
    { predictions: { npy: 'p.npy' }, label_ids: { list: [{ npy: 'a.npy' }, { npy: 'b.npy' }] }, losses: { npy: 'l.npy' } },
  );
  const ep = readCache(batches).evalPred;
  assert.equal((ep.labelIds as { list: Tensor[] }).list.length, 2);
  const long = cache(
    { 'p.npy': 'np.zeros((3, 2), np.float32)', 'a.npy': 'np.zeros(2, np.int64)', 'b.npy': 'np.zeros(2, np.int64)' },
    { predictions: { npy: 'p.npy' }, label_ids: { list: [{ npy: 'a.npy' }, { npy: 'b.npy' }] } },
  );
  assert.match(errorOf(() => readCache(long)).message, /the 2 batch entries of a list add up to 4 rows, more than the 3 samples the cache holds/);
  // dataloader_drop_last: 2 of 3 rows; Seq2SeqTrainer's loss vector: 2 batches of 2 -> 4 copies for 3 samples.
  const dropped = cache(
    { 'p.npy': 'np.zeros((2, 2), np.float32)', 'a.npy': 'np.zeros(2, np.int64)', 'l.npy': 'np.ones(4, np.float32)' },
    { predictions: { npy: 'p.npy' }, label_ids: { npy: 'a.npy' }, losses: { npy: 'l.npy' } },
  );
  const d2 = readCache(dropped).evalPred;
  assert.deepEqual((d2.predictions as Tensor).shape, [2, 2]);
  assert.deepEqual((d2.losses as Tensor).shape, [4]);
});

test('nesting beyond the limit (5,000 tuples deep) and "loop": "garbage" are clean manifest errors, not stack overflows', () => {
  const d = cache({}, P);
  // Built as text: JSON.stringify itself cannot nest 5,000 levels.
  const node = '{"tuple": ['.repeat(5000) + '{"npy": "p.npy"}' + ']}'.repeat(5000);
  fs.writeFileSync(
    path.join(d, 'manifest.json'),
    `{"format": "evalpred-cache/1", "num_samples": 3, "key": "k", "producer": {}, "eval_prediction": {"predictions": ${node}, "label_ids": null, "inputs": null, "losses": null}}`,
  );
  assert.match(errorOf(() => readCache(d)).message, new RegExp(`manifest\\.json is not a valid evalpred cache manifest: .*nests tuples/lists more than ${MAX_NODE_DEPTH} levels deep`));

  const g = cache({ 'p.npy': 'np.zeros((3, 2), np.float32)' }, P, { loop: 'garbage' });
  assert.match(errorOf(() => readCache(g)).message, /manifest\.json is not a valid evalpred cache manifest: "loop" is string "garbage", not the loop record object evalpred writes/);
  const labels = cache({ 'p.npy': 'np.zeros((3, 2), np.float32)' }, P, { loop: { task: 'sequence-classification', info: { id2label: { 0: 5 } } } });
  assert.match(errorOf(() => readCache(labels)).message, /"loop\.info\.id2label" is not an object of label names/);
});

test('big-endian int64 reads with the right values; a (10^15, 0) array reads and gives samples without an internal error', () => {
  const be = cache({ 'p.npy': "np.array([[1, -2], [2**40, 3], [5, 6]], dtype='>i8')" }, P);
  const t = readCache(be).evalPred.predictions as Tensor;
  assert.equal(t.dtype, 'int64');
  assert.deepEqual([...(t.data as BigInt64Array)], [1n, -2n, 2n ** 40n, 3n, 5n, 6n]);

  const huge = cache({ 'p.npy': 'np.zeros((10**15, 0), np.float32)' }, P, { num_samples: 10 ** 15 });
  const ep = readCache(huge).evalPred;
  assert.deepEqual((ep.predictions as Tensor).shape, [10 ** 15, 0]);
  const views = sampleViews(ep, 3, {});
  assert.equal(views.length, 3);
  assert.equal(views[0].prediction, '');
});

test('dtypes outside the allow-list are refused by both readers with a clear message; the allow-lists are identical', async () => {
  const cases: Array<[string, RegExp]> = [
    ['np.asfortranarray(np.zeros((3, 2), np.float32))', /Fortran \(column-major\) order/],
    ['np.zeros(3, np.complex64)', /complex numbers \(dtype '<c8'\)/],
    ["np.zeros(3, 'datetime64[s]')", /datetime64 values/],
    ['np.zeros(3, np.uint64)', /uint64 values \(dtype '<u8'\).*astype\(np\.int64\)/],
    ['np.zeros(3, np.longdouble)', /float128 values \(dtype '<f16'\)|dtype '<f\d+'/],
  ];
  for (const [expr, why] of cases) {
    const d = cache({ 'p.npy': expr }, P);
    const e = errorOf(() => readCache(d));
    assert.match(e.message, new RegExp(`prediction cache ${d} is damaged: eval_prediction\\.predictions \\("p\\.npy"\\) is not a readable \\.npy file`));
    assert.match(e.message, why, expr);
    // The worker's own check, without Node's verdict, refuses the same file.
    const r = await worker.load(d, { predictions: { array: { file: path.join(d, 'p.npy'), where: 'eval_prediction.predictions', descr: null, shape: null } } });
    assert.equal(r.ok, false, expr);
    assert.equal(r.error?.type, 'CacheDamage');
  }
  const py = JSON.parse(
    execFileSync(pythonWith(), ['-c', `import ast,json,sys\nsrc=open(sys.argv[1]).read()\nt=ast.parse(src)\nfor n in ast.walk(t):\n  if isinstance(n, ast.Assign) and getattr(n.targets[0],'id','')=='_CACHE_DTYPES':\n    print(json.dumps(sorted(ast.literal_eval(n.value.args[0]))))`, path.join(__dirname, '..', '..', '..', 'src', 'python', 'evalpred_worker.py')], { encoding: 'utf8' }),
  );
  assert.deepEqual(py, [...NPY_DESCRS.keys()].sort());
});

test('the worker maps exactly what Node checked: same dtypes and shapes; a file changed after the check is cache damage', async () => {
  const d = cache(
    { 'p.npy': 'np.arange(6, dtype=np.float16).reshape(3, 2)', 'l.npy': "np.array([1, 0, 1], dtype='>i4')", 'i.npy': 'np.zeros((3, 0), np.bool_)' },
    { predictions: { tuple: [{ npy: 'p.npy' }, { npy: 'i.npy' }] }, label_ids: { npy: 'l.npy' } },
  );
  const checked = checkCache(d);
  const r = await worker.load(d, checkedArraysForWorker(checked));
  assert.equal(r.ok, true, JSON.stringify(r.error));
  assert.deepEqual(r.arrays, [
    { where: 'predictions[0]', descr: '<f2', shape: [3, 2] },
    { where: 'predictions[1]', descr: '|b1', shape: [3, 0] },
    { where: 'label_ids', descr: '>i4', shape: [3] },
  ]);
  runPython(`import numpy as np\nnp.save('l.npy', np.array([1, 0, 1, 1], dtype='>i4'))`, ['numpy'], d);
  const changed = await worker.load(d, checkedArraysForWorker(checked));
  assert.equal(changed.ok, false);
  assert.match(changed.error!.message, /eval_prediction\.label_ids \(l\.npy\) changed after it was checked/);
});

test('model and dataset paths a manifest names are used only when they are regular files under the caps', () => {
  const model = path.join(tmp, 'model');
  fs.mkdirSync(model);
  fs.writeFileSync(path.join(model, 'tokenizer.json'), '{}');
  const data = path.join(tmp, 'data.jsonl');
  fs.writeFileSync(data, '{"text": "a"}\n');
  const manifest = (m: string, ds: string) => ({ producer: { model: { path: m }, dataset: { path: ds } } }) as never;
  assert.deepEqual(checkedModelDir(manifest(model, data)), { path: model });
  assert.deepEqual(checkedDataset(manifest(model, data)), { path: data });

  const fifoModel = path.join(tmp, 'fifo-model');
  fs.mkdirSync(fifoModel);
  execFileSync('mkfifo', [path.join(fifoModel, 'tokenizer.json')]);
  assert.match(checkedModelDir(manifest(fifoModel, data)).note ?? '', /tokenizer .*fifo-model\/tokenizer\.json is a FIFO \(named pipe\), not a regular file; it was not read/);
  const fifoData = path.join(tmp, 'data.fifo');
  execFileSync('mkfifo', [fifoData]);
  assert.match(checkedDataset(manifest(model, fifoData)).note ?? '', /dataset .*data\.fifo is a FIFO \(named pipe\), not a file or folder/);
  const big = path.join(tmp, 'big.jsonl');
  fs.writeFileSync(big, '');
  fs.truncateSync(big, 2 * 1024 ** 3);
  assert.match(checkedDataset(manifest(model, big)).note ?? '', /big\.jsonl is 2147483648 bytes, more than the 1073741824 evalpred reads for a view/);
  const folder = path.join(tmp, 'dsfolder');
  fs.mkdirSync(path.join(folder, 'validation'), { recursive: true });
  execFileSync('mkfifo', [path.join(folder, 'validation', 'data-00000-of-00001.arrow')]);
  assert.match(checkedDataset(manifest(model, folder)).note ?? '', /data-00000-of-00001\.arrow in the dataset folder is a FIFO/);
  assert.match(checkedModelDir(manifest(path.join(tmp, 'gone'), data)).note ?? '', /model folder .*gone named in the cache is not there/);
});

test('import: a FIFO named .npz or in a .npy folder is refused at once; a member inflating past its declared size and 3,000-level names are refused', async () => {
  const { importDump } = await import('../../src/core/cache/import');
  const d = path.join(tmp, 'imports');
  fs.mkdirSync(d);
  const t0 = Date.now();
  execFileSync('mkfifo', [path.join(d, 'dump.npz')]);
  await assert.rejects(importDump(path.join(d, 'dump.npz'), path.join(d, 'out1')), /dump\.npz is a FIFO \(named pipe\), not a regular file; give a \.npz file/);
  fs.mkdirSync(path.join(d, 'folder'));
  runPython(`import numpy as np\nnp.save('predictions.npy', np.zeros((3, 2), np.float32))`, ['numpy'], path.join(d, 'folder'));
  execFileSync('mkfifo', [path.join(d, 'folder', 'label_ids.npy')]);
  await assert.rejects(importDump(path.join(d, 'folder'), path.join(d, 'out2')), /label_ids\.npy is a FIFO \(named pipe\), not a regular file; evalpred imports arrays only from regular files/);
  assert.ok(Date.now() - t0 < 10_000);

  // np.savez_compressed of 8 MB of zeros, then the central directory's size of the member lowered to 1,000 bytes.
  runPython(
    `import numpy as np, struct
np.savez_compressed('bomb.npz', predictions=np.zeros((1024, 2048), np.float32))
b = bytearray(open('bomb.npz', 'rb').read())
p = b.rfind(b'PK\\x01\\x02')
struct.pack_into('<I', b, p + 24, 1000)
open('bomb.npz', 'wb').write(bytes(b))`,
    ['numpy'],
    d,
  );
  await assert.rejects(importDump(path.join(d, 'bomb.npz'), path.join(d, 'out3')), /bomb\.npz.*member predictions\.npy is corrupt: it decompresses to more than the 1000 bytes the directory declares/);

  const deep = 'predictions' + '_0'.repeat(3000);
  runPython(`import numpy as np\nnp.savez('deep.npz', **{${JSON.stringify(deep)}: np.zeros(3, np.float32)})`, ['numpy'], d);
  await assert.rejects(importDump(path.join(d, 'deep.npz'), path.join(d, 'out4')), /deep\.npz: array 'predictions_0_0.*' nests tuple members 3000 levels deep, more than the 32 a cache holds/);
  for (const o of ['out1', 'out2', 'out3', 'out4']) assert.equal(fs.existsSync(path.join(d, o)), false, `${o} was written`);
});

test('batch_inputs (batch_eval_metrics\' batch mappings): read in key order beside inputs; a malformed entry, a missing file or a batch of other rows is named', () => {
  const arrays = {
    'p0.npy': 'np.zeros((2, 3), np.float32)', 'p1.npy': 'np.zeros((1, 3), np.float32)',
    'i0.npy': 'np.array([[5, 6], [7, 0]])', 'i1.npy': 'np.array([[8, 9]])',
    'm0.npy': 'np.array([[1, 1], [1, 0]])', 'm1.npy': 'np.array([[1, 1]])',
    'l0.npy': 'np.array([0, 2])', 'l1.npy': 'np.array([1])',
  };
  const ep = { predictions: { list: [{ npy: 'p0.npy' }, { npy: 'p1.npy' }] }, inputs: { list: [{ npy: 'i0.npy' }, { npy: 'i1.npy' }] } };
  const good = { keys: ['input_ids', 'attention_mask', 'labels'], main: 'input_ids', lists: { labels: { list: [{ npy: 'l0.npy' }, { npy: 'l1.npy' }] }, attention_mask: { list: [{ npy: 'm0.npy' }, { npy: 'm1.npy' }] } } };
  const d = cache(arrays, ep, { batch_inputs: good });
  const { evalPred } = readCache(d);
  const b = evalPred.batchInputs!;
  assert.deepEqual([b.keys, b.main], [['input_ids', 'attention_mask', 'labels'], 'input_ids']);
  const mask = b.lists.attention_mask as { list: Tensor[] };
  assert.deepEqual([...(mask.list[0].data as BigInt64Array)].map(Number), [1, 1, 1, 0]);
  assert.equal(checkCache(d).batchInputs?.lists.labels && 'list' in checkCache(d).batchInputs!.lists.labels, true);

  const bad = (batch_inputs: unknown, epOver: Record<string, unknown> = {}) => errorOf(() => readCache(cache(arrays, { ...ep, ...epOver }, { batch_inputs }))).message;
  assert.match(bad({ ...good, main: 'token_type_ids' }), /"batch_inputs.main" is "token_type_ids", not one of "batch_inputs.keys"/);
  assert.match(bad({ ...good, keys: ['input_ids', 'attention_mask', 'labels', 'labels'] }), /names "labels" twice/);
  assert.match(bad({ ...good, keys: ['input_ids', '../x'] }), /"batch_inputs.keys" .* not a list of 1 to 64 identifiers/);
  assert.match(bad({ ...good, lists: { labels: good.lists.labels } }), /"batch_inputs.lists" lacks "attention_mask"/);
  assert.match(bad({ ...good, lists: { ...good.lists, input_ids: good.lists.labels } }), /holds "input_ids", which is not one of "batch_inputs.keys" besides "batch_inputs.main"/);
  assert.match(bad({ ...good, lists: { ...good.lists, labels: { npy: 'l0.npy' } } }), /batch_inputs.lists.labels is not a \{"list": \[...\]\} node/);
  assert.match(bad({ ...good, lists: { ...good.lists, labels: { list: [{ npy: 'l0.npy' }] } } }), /batch_inputs.lists.labels has 1 batch entries, "eval_prediction.inputs" 2/);
  assert.match(bad(good, { inputs: null }), /needs "eval_prediction.inputs" as a per-batch list/);
  assert.match(bad({ ...good, lists: { ...good.lists, labels: { list: [{ npy: 'l0.npy' }, { npy: 'gone.npy' }] } } }), /batch_inputs.lists.labels.list\[1\] \("gone.npy"\) is missing/);
  // one file for two places, and a batch whose labels have other rows than its input ids: damage, named
  assert.match(bad({ ...good, lists: { ...good.lists, labels: { list: [{ npy: 'l0.npy' }, { npy: 'm1.npy' }] } } }), /batch_inputs.lists.(labels|attention_mask).list\[1\] \(\"m1.npy\"\) is the same file as batch_inputs.lists.(labels|attention_mask).list\[1\]/);
  assert.match(bad({ ...good, lists: { ...good.lists, labels: { list: [{ npy: 'l1.npy' }, { npy: 'l0.npy' }] } } }), /batch_inputs.lists.labels.list\[0\] has 1 rows, but batch 1's eval_prediction.inputs.list\[0\] has 2/);
});
