// One bounded cache reader (issue 9, item 2): hostile or damaged caches through `inspect` and `metrics` end in
// exit 2 with one paragraph naming the cache and the array — never a hang on a FIFO, never gigabytes read for a
// sparse or lying file, never a stack overflow, never an error blamed on the user's metric file or NumPy's
// allow_pickle advice — and nothing outside the row's folder changes.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { CliCase, cliTable, copyDir } from './harness';

/** A .npy v1.0 file: the given header, then `dataBytes` bytes of data (zeros). */
function rawNpy(file: string, descr: string, shape: string, dataBytes: number, fortran = 'False'): void {
  let header = `{'descr': '${descr}', 'fortran_order': ${fortran}, 'shape': ${shape}, }`;
  header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1;
  head.writeUInt16LE(header.length, 8);
  fs.writeFileSync(file, Buffer.concat([head, Buffer.from(header, 'latin1'), Buffer.alloc(dataBytes)]));
}

const manifestOf = (d: string) => path.join(d, 'c', 'manifest.json');
const editManifest = (d: string, edit: (m: Record<string, unknown>) => void) => {
  const m = JSON.parse(fs.readFileSync(manifestOf(d), 'utf8'));
  edit(m);
  fs.writeFileSync(manifestOf(d), JSON.stringify(m));
};
const setPredictions = (d: string, node: unknown) =>
  editManifest(d, (m) => ((m.eval_prediction as Record<string, unknown>).predictions = node));

/** The fixture cache copied to `c`, then `edit` applied. */
const cacheWith = (edit: (d: string) => void) => (d: string, fx: { cache: string }) => {
  copyDir(fx.cache, path.join(d, 'c'));
  edit(d);
};

/** A metric file that must never be blamed for cache damage. */
const METRIC = 'def compute_metrics(eval_pred):\n    return {"n": len(eval_pred.label_ids)}\n';
const withMetric = (edit: (d: string) => void) => (d: string, fx: { cache: string }) => {
  cacheWith(edit)(d, fx);
  fs.writeFileSync(path.join(d, 'm.py'), METRIC);
};
const notTheMetric = (_d: string, r: { stderr: string }) => {
  assert.doesNotMatch(r.stderr, /m\.py/);
  assert.doesNotMatch(r.stderr, /allow_pickle/);
};

const damaged = (what: string) => new RegExp(`^evalpred (inspect|metrics): error: the prediction cache c is damaged: ${what}`, 'm');

const rows: CliCase[] = [
  {
    name: 'a FIFO in place of predictions.npy is refused at once (inspect)',
    setup: cacheWith((d) => {
      fs.rmSync(path.join(d, 'c', 'predictions.npy'));
      execFileSync('mkfifo', [path.join(d, 'c', 'predictions.npy')]);
    }),
    args: ['inspect', 'c'],
    code: 2,
    stderr: damaged(String.raw`eval_prediction\.predictions \("predictions\.npy"\) is a FIFO \(named pipe\), not a regular file`),
    timeoutMs: 20_000,
  },
  {
    name: 'a FIFO in place of an array is refused at once (metrics with a .py file), not blamed on the metric',
    setup: withMetric((d) => {
      fs.rmSync(path.join(d, 'c', 'label_ids.npy'));
      execFileSync('mkfifo', [path.join(d, 'c', 'label_ids.npy')]);
    }),
    args: ['metrics', '--cache', 'c', '--metrics', 'm.py'],
    code: 2,
    stderr: damaged(String.raw`eval_prediction\.label_ids \("label_ids\.npy"\) is a FIFO`),
    check: notTheMetric,
    timeoutMs: 30_000,
  },
  {
    name: 'a FIFO in place of manifest.json is refused at once',
    setup: cacheWith((d) => {
      fs.rmSync(manifestOf(d));
      execFileSync('mkfifo', [manifestOf(d)]);
    }),
    args: ['inspect', 'c'],
    code: 2,
    stderr: /manifest\.json is a FIFO \(named pipe\), not a regular file/,
    timeoutMs: 20_000,
  },
  {
    name: 'a 4 KB .npy claiming 2 GB is refused from its size, without reading',
    setup: cacheWith((d) => {
      rawNpy(path.join(d, 'c', 'big.npy'), '<f4', '(536870912,)', 4096);
      setPredictions(d, { tuple: [{ npy: 'big.npy' }] });
    }),
    args: ['inspect', 'c'],
    code: 2,
    stderr: damaged(String.raw`eval_prediction\.predictions\.tuple\[0\] \("big\.npy"\) declares a float32 array of shape \(536870912\): 2147483648 bytes of data`),
    timeoutMs: 20_000,
  },
  {
    // 128 MB rather than 2 GB: the harness hashes the row's folder in memory (test/unit/cacheReader.test.ts has 2 GB).
    name: 'a sparse 128 MB .npy listed in a tuple is refused as sparse, quickly',
    setup: cacheWith((d) => {
      const f = path.join(d, 'c', 'sparse.npy');
      rawNpy(f, '<f4', '(33554432,)', 0);
      fs.truncateSync(f, fs.statSync(f).size + 33554432 * 4);
      editManifest(d, (m) => {
        m.num_samples = 33554432;
        m.eval_prediction = { predictions: { tuple: [{ npy: 'sparse.npy' }] }, label_ids: null, inputs: null, losses: null };
      });
    }),
    args: ['inspect', 'c'],
    code: 2,
    stderr: damaged(String.raw`eval_prediction\.predictions\.tuple\[0\] \("sparse\.npy"\) is a sparse file`),
    timeoutMs: 20_000,
  },
  {
    name: 'one array listed three times in a tuple is refused',
    setup: cacheWith((d) => setPredictions(d, { tuple: [{ npy: 'predictions.npy' }, { npy: 'predictions.npy' }, { npy: 'predictions.npy' }] })),
    args: ['inspect', 'c'],
    code: 2,
    stderr: damaged(String.raw`eval_prediction\.predictions\.tuple\[1\] \("predictions\.npy"\) is the same file as eval_prediction\.predictions\.tuple\[0\]`),
  },
  {
    name: 'arrays with more rows than num_samples are refused',
    setup: cacheWith((d) => editManifest(d, (m) => (m.num_samples = 7))),
    args: ['inspect', 'c'],
    code: 2,
    stderr: damaged(String.raw`eval_prediction\.predictions has 200 rows \(shape \(200, 2\)\), more than the 7 samples the cache holds`),
  },
  {
    name: 'a manifest nested 5,000 tuples deep is a clean error, not a stack overflow',
    setup: cacheWith((d) => {
      const node = '{"tuple": ['.repeat(5000) + '{"npy": "predictions.npy"}' + ']}'.repeat(5000);
      const m = fs.readFileSync(manifestOf(d), 'utf8').replace(/"predictions":\s*\{\s*"npy":\s*"predictions\.npy"\s*\}/, `"predictions": ${node}`);
      fs.writeFileSync(manifestOf(d), m);
    }),
    args: ['inspect', 'c'],
    code: 2,
    stderr: /manifest\.json is not a valid evalpred cache manifest: .*nests tuples\/lists more than 32 levels deep/,
  },
  {
    name: '"loop": "garbage" in a manifest is a clean error',
    setup: cacheWith((d) => editManifest(d, (m) => (m.loop = 'garbage'))),
    args: ['inspect', 'c'],
    code: 2,
    stderr: /manifest\.json is not a valid evalpred cache manifest: "loop" is string "garbage"/,
  },
  {
    name: 'a valid big-endian int64 predictions array is read (exit 0, int64)',
    setup: cacheWith((d) => {
      const f = path.join(d, 'c', 'predictions.npy');
      const data = Buffer.alloc(200 * 8);
      for (let i = 0; i < 200; i++) data.writeBigInt64BE(BigInt(i % 2), i * 8);
      rawNpy(f, '>i8', '(200,)', 0);
      fs.appendFileSync(f, data);
    }),
    args: ['inspect', 'c', '--json'],
    code: 0,
    stdout: /"path": "predictions",\s*"dtype": "int64",\s*"shape": \[\s*200\s*\]/,
  },
  {
    name: 'a Fortran-order array is refused with the fix',
    setup: cacheWith((d) => rawNpy(path.join(d, 'c', 'predictions.npy'), '<f4', '(200, 2)', 1600, 'True')),
    args: ['inspect', 'c'],
    code: 2,
    stderr: damaged(String.raw`eval_prediction\.predictions \("predictions\.npy"\) is not a readable \.npy file: the array is stored in Fortran \(column-major\) order.*np\.ascontiguousarray`),
  },
  {
    name: 'complex predictions are refused naming the dtype',
    setup: cacheWith((d) => rawNpy(path.join(d, 'c', 'predictions.npy'), '<c8', '(200, 2)', 3200)),
    args: ['inspect', 'c'],
    code: 2,
    stderr: damaged(String.raw`.*complex numbers \(dtype '<c8'\)`),
  },
  {
    name: 'datetime64 labels are refused naming the dtype (metrics: not blamed on the metric file)',
    setup: withMetric((d) => rawNpy(path.join(d, 'c', 'label_ids.npy'), '<M8[s]', '(200,)', 1600)),
    args: ['metrics', '--cache', 'c', '--metrics', 'm.py'],
    code: 2,
    stderr: damaged(String.raw`eval_prediction\.label_ids .*datetime64 values \(dtype '<M8\[s\]'\)`),
    check: notTheMetric,
    timeoutMs: 30_000,
  },
  {
    name: 'uint64 labels are refused with the conversion to use',
    setup: cacheWith((d) => rawNpy(path.join(d, 'c', 'label_ids.npy'), '<u8', '(200,)', 1600)),
    args: ['inspect', 'c'],
    code: 2,
    stderr: damaged(String.raw`eval_prediction\.label_ids .*uint64 values \(dtype '<u8'\).*arr\.astype\(np\.int64\)`),
  },
  {
    name: 'float128 predictions are refused with the conversion to use',
    setup: cacheWith((d) => rawNpy(path.join(d, 'c', 'predictions.npy'), '<f16', '(200, 2)', 6400)),
    args: ['inspect', 'c'],
    code: 2,
    stderr: damaged(String.raw`eval_prediction\.predictions .*float128 values \(dtype '<f16'\).*astype\(np\.float64\)`),
  },
  {
    name: 'a symlink out of the cache never reaches the Python worker (metrics names manifest.json, not the metric)',
    setup: withMetric((d) => {
      fs.copyFileSync(path.join(d, 'c', 'predictions.npy'), path.join(d, 'outside.npy'));
      fs.symlinkSync(path.join(d, 'outside.npy'), path.join(d, 'c', 'link.npy'));
      setPredictions(d, { npy: 'link.npy' });
    }),
    args: ['metrics', '--cache', 'c', '--metrics', 'm.py'],
    code: 2,
    stderr: /manifest\.json: eval_prediction\.predictions names "link\.npy", which is a symlink to .*outside\.npy, outside the cache folder/,
    check: notTheMetric,
    timeoutMs: 30_000,
  },
  {
    name: 'an absolute array path in the manifest is refused before Python starts',
    setup: withMetric((d) => setPredictions(d, { npy: path.join(d, 'c', 'predictions.npy') })),
    args: ['metrics', '--cache', 'c', '--metrics', 'm.py'],
    code: 2,
    stderr: /manifest\.json: eval_prediction\.predictions names ".*predictions\.npy", which is an absolute path/,
    check: notTheMetric,
    timeoutMs: 30_000,
  },
  {
    name: 'a truncated array is cache damage for a .py metric, not an error in the metric file',
    setup: withMetric((d) => {
      const f = path.join(d, 'c', 'label_ids.npy');
      fs.truncateSync(f, fs.statSync(f).size - 8);
    }),
    args: ['metrics', '--cache', 'c', '--metrics', 'm.py'],
    code: 2,
    stderr: damaged(String.raw`eval_prediction\.label_ids \("label_ids\.npy"\) declares an? int64 array of shape \(200\).*\(truncated\?\)`),
    check: notTheMetric,
    timeoutMs: 30_000,
  },
  {
    name: 'a model folder whose tokenizer.json is a FIFO is not read by inspect (exit 0, no hang)',
    setup: cacheWith((d) => {
      fs.mkdirSync(path.join(d, 'model'));
      execFileSync('mkfifo', [path.join(d, 'model', 'tokenizer.json')]);
      editManifest(d, (m) => ((m.producer as Record<string, unknown>).model = { path: path.join(d, 'model') }));
    }),
    args: ['inspect', 'c'],
    code: 0,
    stdout: /first samples \(model folder not found: inputs not decoded\)/,
    timeoutMs: 20_000,
  },
];

cliTable('cache reader: damaged and hostile caches (issue 9, item 2)', rows);
