// Seeded fuzz of .npy files and manifests through the three cache readers: the TS reader (readCache), the
// Python worker's loading path (op "load", its own verdict without Node's) and `evalpred inspect` (in
// process for every case, as a real CLI process for a sample). They must agree on accept/refuse and on
// every accepted array's dtype and shape, refuse only with our one-paragraph errors (never an internal
// error or a stack), and never hang. Slow: run by `npm run test:fuzz` (and .ci/run), not `npm test`.
// EVALPRED_FUZZ_SEED and EVALPRED_FUZZ_CASES change the seed and the number of mutations.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { WorkerClient } from '../helpers/pyWorker';
import { checkCache, readCache } from '../../src/core/cache/reader';
import { checkedArraysForWorker } from '../../src/core/metrics/pyRunner';
import { inspectCommand } from '../../src/cli/commands/inspect';
import { isEvalpredError } from '../../src/core/errors';
import { mulberry32, pick, Rng } from '../../src/demo/prng';
import { npyDescrOf, npyHeaderBytes } from '../../src/core/tensor/npy';
import { DTYPES, DType } from '../../src/core/tensor/dtype';

const SEED = Number(process.env.EVALPRED_FUZZ_SEED ?? 20261202);
const CASES = Number(process.env.EVALPRED_FUZZ_CASES ?? 1200);
const ROOT = path.join(__dirname, '..', '..', '..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'evalpred-fuzz-'));
const worker = new WorkerClient();
after(() => {
  worker.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

type Verdict = { ok: true; arrays: string[] } | { ok: false; message: string };

const DESCRS = ['<f2', '<f4', '<f8', '|i1', '|u1', '<i2', '<i4', '<i8', '|b1', '>f4', '>i8', '>f2', '>i2',
  '<c8', '<c16', '<M8[s]', '<m8[D]', '<u8', '<u4', '<u2', '<f16', 'f4', '=f4', '|f4', '<i8 ', 'O', '|O', '<U3', '|S4', '|V8',
  "[('a', '<f4')]", '', '<f3', '<b1', '>u1', 'float32'];
const SHAPES = ['()', '(3,)', '(3, 2)', '(3, 0)', '(0,)', '(3, 2, 2)', '(10**15, 0)', '(1000000000000000, 0)', '(-1,)', '(2**60,)',
  '[3]', '(3)', "(3, 'a')", '(True,)', '(3, 2.0)', '(3, None)', '(3,2,)', '()', '(4,)', '(2,)', '(3, 18446744073709551616)'];
const FORTRAN = ['False', 'True', '0', '1', "'False'", 'None'];

/** A header dict text with the given parts, padded as numpy pads it. */
function header(descr: string, fortran: string, shape: string, extra = ''): Buffer {
  const dict = `{'descr': ${descr.startsWith('[') ? descr : `'${descr}'`}, 'fortran_order': ${fortran}, 'shape': ${shape}, ${extra}}`;
  const total = 10 + dict.length + 1;
  const pad = (64 - (total % 64)) % 64;
  const text = dict + ' '.repeat(pad) + '\n';
  const out = Buffer.alloc(10 + text.length);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]).copy(out);
  out.writeUInt16LE(text.length, 8);
  out.write(text, 10, 'latin1');
  return out;
}

function elements(shape: string): number {
  try {
    // eslint-disable-next-line no-new-func
    const v = Function(`"use strict"; return ${shape.replace(/\*\*/g, '**').replace(/\(/g, '[').replace(/\)/g, ']')}`)();
    if (!Array.isArray(v)) return 1;
    return v.reduce((a: number, b: unknown) => a * (typeof b === 'number' ? b : 1), 1);
  } catch {
    return 1;
  }
}

function validNpy(rng: Rng): { bytes: Buffer; rows: number } {
  const dtype = pick(rng, Object.keys(DTYPES) as DType[]);
  const shapes = [[3], [3, 2], [3, 0], [3, 2, 2], [3, 1]];
  const shape = pick(rng, shapes);
  const count = shape.reduce((a, b) => a * b, 1);
  const data = Buffer.alloc(count * DTYPES[dtype].itemSize);
  for (let i = 0; i < data.length; i++) data[i] = Math.floor(rng() * 256);
  if (dtype === 'bool') for (let i = 0; i < data.length; i++) data[i] &= 1;
  return { bytes: Buffer.concat([npyHeaderBytes(dtype, shape), data]), rows: 3 };
}

/** One mutated .npy file (most cases) or a valid file with a mutated manifest. */
function mutate(rng: Rng, dir: string): { manifest: Record<string, unknown>; label: string } {
  const base = validNpy(rng);
  const kind = Math.floor(rng() * 10);
  let bytes = base.bytes;
  let label: string;
  let predictions: unknown = { npy: 'p.npy' };
  let inputs: unknown = null;
  const extra: Record<string, unknown> = {};
  let numSamples = 3;
  if (kind <= 3) {
    // Half the cases near the valid space (allowed dtype, plausible shape), half anywhere.
    const near = rng() < 0.5;
    const descr = near ? pick(rng, DESCRS.slice(0, 13)) : pick(rng, DESCRS);
    const shape = near ? pick(rng, ['()', '(3,)', '(3, 2)', '(3, 0)', '(3, 2, 2)', '(3,2,)']) : pick(rng, SHAPES);
    const fortran = rng() < 0.85 ? 'False' : pick(rng, FORTRAN);
    const extraKey = rng() < 0.05 ? "'extra': 1, " : '';
    const m = /^[<>|]([a-zA-Z])(\d+)$/.exec(descr);
    const item = m ? Number(m[2]) : 4;
    const n = elements(shape);
    const h = header(descr, fortran, shape, extraKey);
    const dataLen = Number.isSafeInteger(n * item) && n * item < 1e6 ? n * item : 64;
    const fudge = rng() < 0.2 ? Math.floor(rng() * 9) - 4 : 0;
    bytes = Buffer.concat([h, Buffer.alloc(Math.max(0, dataLen + fudge), 1)]);
    if (/^\((\d+)/.test(shape)) numSamples = Number(/^\((\d+)/.exec(shape)![1]);
    label = `header descr=${descr} fortran=${fortran} shape=${shape}${extraKey ? ' +key' : ''}${fudge ? ` data${fudge > 0 ? '+' : ''}${fudge}` : ''}`;
  } else if (kind <= 6) {
    bytes = Buffer.from(bytes);
    const flips = 1 + Math.floor(rng() * 3);
    const at: number[] = [];
    for (let i = 0; i < flips; i++) {
      const p = Math.floor(rng() * Math.min(bytes.length, 128));
      bytes[p] = Math.floor(rng() * 256);
      at.push(p);
    }
    label = `byte flips at ${at.join(',')}`;
  } else if (kind === 7) {
    const cut = Math.floor(rng() * bytes.length);
    bytes = rng() < 0.5 ? bytes.subarray(0, cut) : Buffer.concat([bytes, Buffer.alloc(1 + Math.floor(rng() * 16))]);
    label = `length ${bytes.length} of ${base.bytes.length}`;
  } else {
    // manifest mutations around a valid array
    const m = Math.floor(rng() * 10);
    const deep = (d: number): unknown => (d === 0 ? { npy: 'p.npy' } : { tuple: [deep(d - 1)] });
    if (m === 0) (numSamples = Math.floor(rng() * 6)), (label = `num_samples ${numSamples}`);
    else if (m === 1) (predictions = deep(20 + Math.floor(rng() * 30))), (label = 'deep tuple');
    else if (m === 2) (predictions = { tuple: [{ npy: 'p.npy' }, { npy: 'p.npy' }] }), (label = 'same file twice');
    else if (m === 3) (extra.loop = pick(rng, ['garbage', 3, [], { task: 7 }, { info: 'x' }, { info: { id2label: [1] } }])), (label = `loop ${JSON.stringify(extra.loop)}`);
    else if (m === 4) (predictions = { npy: pick(rng, ['../p.npy', '/etc/passwd', 'sub/../../x.npy', 'nope.npy', '', 'p.npy\0']) }), (label = `path ${JSON.stringify(predictions)}`);
    else if (m === 5) (predictions = { list: [{ npy: 'p.npy' }] }), (label = 'list of one batch');
    else if (m === 6) (predictions = pick(rng, [null, 3, 'p.npy', { npy: 3 }, { tuple: {} }, { tuple: [], list: [] }])), (label = `node ${JSON.stringify(predictions)}`);
    else if (m === 7) {
      fs.symlinkSync(path.join(tmp, 'outside.npy'), path.join(dir, 'link.npy'));
      predictions = { npy: 'link.npy' };
      label = 'symlink outside';
    } else if (m === 8) {
      // batch_eval_metrics' batch mappings (docs/cache-format.md#batch-inputs): valid, or broken one way
      fs.writeFileSync(path.join(dir, 'i.npy'), base.bytes);
      fs.writeFileSync(path.join(dir, 'a.npy'), base.bytes);
      predictions = { list: [{ npy: 'p.npy' }] };
      inputs = { list: [{ npy: 'i.npy' }] };
      const lists = { attention_mask: { list: [{ npy: 'a.npy' }] } };
      extra.batch_inputs = pick(rng, [
        { keys: ['input_ids', 'attention_mask'], main: 'input_ids', lists },
        { keys: ['input_ids', 'attention_mask'], main: 'labels', lists },
        { keys: ['input_ids', 'input_ids'], main: 'input_ids', lists: {} },
        { keys: ['input_ids', 'attention_mask'], main: 'input_ids', lists: { attention_mask: { npy: 'a.npy' } } },
        { keys: ['input_ids', 'attention_mask'], main: 'input_ids', lists: { attention_mask: { list: [{ npy: 'i.npy' }] } } },
        { keys: ['input_ids', 'a/../b'], main: 'input_ids', lists },
        { keys: 'input_ids', main: 'input_ids', lists },
        { keys: ['input_ids', 'attention_mask'], main: 'input_ids', lists: { attention_mask: { list: [{ npy: 'a.npy' }, { npy: 'a.npy' }] } } },
        [],
        null,
      ]);
      label = `batch_inputs ${JSON.stringify(extra.batch_inputs)}`;
    } else {
      execFileSync('mkfifo', [path.join(dir, 'fifo.npy')]);
      predictions = { npy: 'fifo.npy' };
      label = 'FIFO';
    }
  }
  fs.writeFileSync(path.join(dir, 'p.npy'), bytes);
  const manifest = { format: 'evalpred-cache/1', num_samples: numSamples, key: 'k', producer: {}, eval_prediction: { predictions, label_ids: null, inputs, losses: null }, ...extra };
  return { manifest, label };
}

function tsVerdict(dir: string): Verdict {
  try {
    const c = checkCache(dir);
    readCache(dir);
    const arrays: string[] = [];
    const walk = (n: ReturnType<typeof checkCache>['nodes']['predictions'], where: string): void => {
      if (!n) return;
      if ('array' in n) arrays.push(`${where} ${npyDescrOf(n.array.header)} (${n.array.header.shape.join(',')})`);
      else ('tuple' in n ? n.tuple : n.list).forEach((c2, i) => walk(c2, `${where}[${i}]`));
    };
    for (const [k, n] of Object.entries(c.nodes)) walk(n, k);
    return { ok: true, arrays };
  } catch (e) {
    if (!isEvalpredError(e)) throw new Error(`TS reader crashed: ${e instanceof Error ? e.stack : String(e)}`);
    return { ok: false, message: e.message };
  }
}

async function inspectVerdict(dir: string): Promise<Verdict> {
  const chunks: string[] = [];
  const write = process.stdout.write;
  process.stdout.write = ((s: string) => (chunks.push(String(s)), true)) as typeof process.stdout.write;
  try {
    await inspectCommand(['--cache', dir, '--json']);
  } catch (e) {
    if (!isEvalpredError(e)) throw new Error(`inspect crashed: ${e instanceof Error ? e.stack : String(e)}`);
    return { ok: false, message: e.message };
  } finally {
    process.stdout.write = write;
  }
  const out = JSON.parse(chunks.join('')) as { arrays: Array<{ path: string; dtype: string; shape: number[] }> };
  return { ok: true, arrays: out.arrays.map((a) => `${a.dtype} (${a.shape.join(',')})`) };
}

const oneParagraph = (m: string) => !/\n\s+at /.test(m) && !/allow_pickle/.test(m) && m.length < 2000;

test(`${CASES} seeded .npy/manifest mutations: TS reader, Python worker and inspect agree, never hang or crash`, { timeout: 20 * 60_000 }, async () => {
  const rng = mulberry32(SEED);
  fs.writeFileSync(path.join(tmp, 'outside.npy'), validNpy(rng).bytes);
  const tally = { accepted: 0, refused: 0, cli: 0 };
  for (let i = 0; i < CASES; i++) {
    const dir = path.join(tmp, `m${i}`);
    fs.mkdirSync(dir);
    const { manifest, label } = mutate(rng, dir);
    fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(manifest));
    const what = `case ${i} (seed ${SEED}): ${label}`;
    const t0 = Date.now();
    const ts = tsVerdict(dir);
    assert.ok(Date.now() - t0 < 5_000, `${what}: the TS reader took ${Date.now() - t0} ms`);
    if (!ts.ok) assert.ok(oneParagraph(ts.message), `${what}: ${ts.message}`);
    ts.ok ? tally.accepted++ : tally.refused++;

    // Python, on its own: the array file as it is (only when the manifest names p.npy plainly, which is
    // the case for every .npy mutation), then, when Node accepted the cache, the arrays Node checked.
    const plain = (manifest.eval_prediction as { predictions: unknown }).predictions;
    if (plain && typeof plain === 'object' && (plain as { npy?: string }).npy === 'p.npy' && !('loop' in manifest) && manifest.num_samples === 3) {
      const py = await worker.load(dir, { predictions: { array: { file: path.join(dir, 'p.npy'), where: 'eval_prediction.predictions', descr: null, shape: null } } });
      // A row-count refusal is the manifest's business (num_samples), not the file's: Python's file-level verdict accepts.
      const rowsOnly = !ts.ok && /has \d+ rows/.test(ts.message);
      assert.equal(py.ok, ts.ok || rowsOnly, `${what}: TS ${ts.ok ? 'accepted' : `refused (${ts.message})`}, Python ${py.ok ? `accepted ${JSON.stringify(py.arrays)}` : `refused (${py.error?.message})`}`);
      if (py.ok && ts.ok) assert.deepEqual(py.arrays!.map((a) => `predictions ${a.descr} (${a.shape.join(',')})`), ts.arrays, what);
      if (!py.ok) assert.equal(py.error?.type, 'CacheDamage', what);
    }
    if (ts.ok) {
      const py = await worker.load(dir, checkedArraysForWorker(checkCache(dir)));
      assert.equal(py.ok, true, `${what}: Python refused what Node checked: ${py.error?.message}`);
      assert.deepEqual(py.arrays!.map((a) => `${a.where} ${a.descr} (${a.shape.join(',')})`), ts.arrays, what);
    }

    const ins = await inspectVerdict(dir);
    assert.equal(ins.ok, ts.ok, `${what}: inspect ${ins.ok ? 'accepted' : `refused (${(ins as { message: string }).message})`} but the reader ${ts.ok ? 'accepted' : 'refused'}`);
    if (ins.ok && ts.ok) assert.deepEqual(ins.arrays, ts.arrays.map((a) => a.replace(/^\S+ (\S+)/, (_, d) => DTYPE_NAME[d] ?? d)), what);

    // Every 40th case as a real CLI process: exit 0 or 2, never 70, one paragraph, within the time limit.
    if (i % 40 === 0) {
      const r = spawnSync(process.execPath, [path.join(ROOT, 'dist', 'cli.js'), 'inspect', '--cache', dir], { encoding: 'utf8', timeout: 60_000 });
      assert.equal(r.signal, null, `${what}: evalpred inspect did not finish (hang?)`);
      assert.equal(r.status, ts.ok ? 0 : 2, `${what}: exit ${r.status}: ${r.stderr}`);
      if (!ts.ok) assert.ok(oneParagraph(r.stderr.trim()) && r.stderr.trim().split('\n').length === 1, `${what}: ${r.stderr}`);
      tally.cli++;
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
  // The fuzz must exercise both sides.
  assert.ok(tally.accepted > CASES / 20 && tally.refused > CASES / 4, JSON.stringify(tally));
  process.stderr.write(`fuzz: ${CASES} cases (seed ${SEED}): ${tally.accepted} accepted, ${tally.refused} refused, ${tally.cli} through the CLI\n`);
});

const DTYPE_NAME: Record<string, string> = Object.fromEntries(
  Object.values(DTYPES).flatMap((d) => [[d.npyDescr, d.name], [`>${d.npyDescr.slice(1)}`, d.name]]),
);
