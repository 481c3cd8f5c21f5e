// tensorStats and histogram cross-checked with NumPy on random data (NaN, ±inf, -100 and zeros mixed in),
// plus small hand-computed cases.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { runPython } from '../helpers/python';
import { Tensor } from '../../src/core/tensor/tensor';
import { readNpyFile } from '../../src/core/tensor/npy';
import { histogram, tensorStats } from '../../src/core/tensor/stats';
import { tempDir } from '../helpers/tempDir';

const tmp = tempDir();
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function close(actual: number | null, expected: number | null, what: string, rel = 1e-9): void {
  if (expected === null) return assert.equal(actual, null, what);
  assert.ok(actual !== null, `${what}: got null, expected ${expected}`);
  assert.ok(Math.abs(actual - expected) <= rel * Math.max(1, Math.abs(expected)), `${what}: ${actual} vs NumPy ${expected}`);
}

test('tensorStats and histogram match NumPy on random float32/float64/float16/int64/bool data with NaN and inf', () => {
  const out = runPython(
    `import numpy as np, json
rng = np.random.default_rng(7)
def spike(x):
    v = x.reshape(-1)
    idx = rng.permutation(v.size)
    v[idx[:20]] = np.nan; v[idx[20:27]] = np.inf; v[idx[27:31]] = -np.inf
    v[idx[31:60]] = -100; v[idx[60:75]] = 0
    return x
arrays = {
  'f32': spike(rng.normal(3, 10, size=(40, 50)).astype(np.float32)),
  'f64': spike(rng.standard_cauchy(3000)),
  'f16': spike(rng.normal(0, 2, size=1500).astype(np.float16)),
  'i64': np.where(rng.random(2000) < 0.1, -100, rng.integers(-5, 40, 2000)).astype(np.int64),
  'bool': rng.random(777) < 0.3,
  'edges': np.linspace(0, 1, 101, dtype=np.float32),
  'allnan': np.full(5, np.nan, dtype=np.float32),
}
res = {}
for name, x in arrays.items():
    np.save(name + '.npy', x)
    f = x.astype(np.float64).ravel()
    fin = f[np.isfinite(f)]
    st = dict(count=int(f.size), nanCount=int(np.isnan(f).sum()), posInfCount=int(np.isposinf(f).sum()),
              negInfCount=int(np.isneginf(f).sum()), minus100Count=int((f == -100).sum()), zeroCount=int((f == 0).sum()),
              min=float(fin.min()) if fin.size else None, max=float(fin.max()) if fin.size else None,
              mean=float(fin.mean()) if fin.size else None, std=float(fin.std()) if fin.size else None)
    xf = x.ravel()[np.isfinite(x.ravel())] if x.dtype != np.bool_ else x.ravel().astype(np.uint8)  # np.histogram refuses bool
    hists = {}
    for bins, rng_ in [(10, None), (7, None), (4, (-20.0, 20.0)), (3, (0.25, 0.75))]:
        c, e = np.histogram(xf, bins=bins, range=rng_)
        # values within float16/float32 resolution of an edge: NumPy 1.x and 2.x may bin them differently
        ef = np.asarray(e, dtype=np.float64); span = max(1.0, float(np.abs(ef).max()))
        near = int(sum(int((np.abs(xf.astype(np.float64) - v) <= 2e-3 * span).sum()) for v in ef)) if xf.dtype in (np.float16, np.float32) else 0
        hists['%d %s' % (bins, rng_)] = dict(counts=c.tolist(), edges=[float(v) for v in e], near=near)
    res[name] = dict(stats=st, hists=hists)
res['__numpy_major'] = int(np.__version__.split('.')[0])
print(json.dumps(res))`,
    ['numpy'],
    tmp,
  );
  const parsed = JSON.parse(out);
  const numpyMajor = parsed.__numpy_major as number;
  delete parsed.__numpy_major;
  const expected = parsed as Record<string, { stats: Record<string, number | null>; hists: Record<string, { counts: number[]; edges: number[]; near: number }> }>;
  for (const [name, exp] of Object.entries(expected)) {
    const t = readNpyFile(path.join(tmp, `${name}.npy`));
    const st = tensorStats(t);
    for (const k of ['count', 'nanCount', 'posInfCount', 'negInfCount', 'minus100Count', 'zeroCount'] as const) {
      assert.equal(st[k], exp.stats[k], `${name} ${k}`);
    }
    for (const k of ['min', 'max', 'mean', 'std'] as const) close(st[k], exp.stats[k], `${name} ${k}`);
    for (const [key, h] of Object.entries(exp.hists)) {
      const [bins, ...r] = key.split(' ');
      const range = r.join(' ') === 'None' ? undefined : (JSON.parse(r.join(' ').replace(/\(/, '[').replace(/\)/, ']')) as [number, number]);
      const ours = histogram(t, Number(bins), range);
      if (numpyMajor >= 2 || h.near === 0) assert.deepEqual(ours.counts, h.counts, `${name} histogram ${key} counts`);
      else {
        // NumPy 1.x bins float16/float32 data in float64 (we follow NumPy 2): only values at an edge may move.
        assert.equal(ours.counts.reduce((a, b) => a + b, 0), h.counts.reduce((a, b) => a + b, 0), `${name} ${key} total`);
        ours.counts.forEach((c, i) => assert.ok(Math.abs(c - h.counts[i]) <= h.near, `${name} histogram ${key} bin ${i}: ${c} vs ${h.counts[i]}`));
      }
      assert.equal(ours.edges.length, h.edges.length);
      // NumPy 2 computes float32/float16 edges in the data's dtype, NumPy 1.24 (Debian 12) in float64: accept either,
      // so edges agree to the data type's precision; counts (checked above) agree exactly with both.
      // The float32 rounding error of an edge scales with the whole range, not with the edge itself.
      const span = Math.max(1, ...h.edges.map(Math.abs));
      const tol = t.dtype === 'float16' ? 2e-3 * span : t.dtype === 'float32' ? 1e-6 * span : 1e-12;
      ours.edges.forEach((e, i) => close(e, h.edges[i], `${name} histogram ${key} edge ${i}`, tol));
    }
  }
});

test('hand-computed cases: last bin closed, constant data widened by 0.5, empty and non-finite-only tensors', () => {
  // [1, 2, 2, 3] (NaN, inf ignored) in 2 bins over [1, 3]: [1, 2) holds 1; the last bin [2, 3] is closed and holds 2, 2, 3.
  const t = Tensor.from('float64', [6], [1, 2, 2, 3, NaN, Infinity]);
  assert.deepEqual(histogram(t, 2), { edges: [1, 2, 3], counts: [1, 3] });
  // With range [0, 2]: 3 lies outside and is dropped; 2 is the closed right edge.
  assert.deepEqual(histogram(t, 2, [0, 2]), { edges: [0, 1, 2], counts: [0, 3] });
  // Constant data: range becomes [4.5, 5.5].
  assert.deepEqual(histogram(Tensor.from('int32', [3], [5, 5, 5]), 2), { edges: [4.5, 5, 5.5], counts: [0, 3] });
  // No values: NumPy uses [0, 1].
  assert.deepEqual(histogram(Tensor.full('float32', [0]), 2), { edges: [0, 0.5, 1], counts: [0, 0] });

  // Stats of [-100, 0, 2, 4, NaN, -inf]: finite = -100, 0, 2, 4; mean -23.5; population variance
  // = ((-76.5)^2 + 23.5^2 + 25.5^2 + 27.5^2) / 4 = (5852.25 + 552.25 + 650.25 + 756.25) / 4 = 1952.75.
  const s = tensorStats(Tensor.from('float32', [2, 3], [-100, 0, 2, 4, NaN, -Infinity]));
  assert.deepEqual({ ...s, std: null }, {
    count: 6, min: -100, max: 4, mean: -23.5, std: null, nanCount: 1, posInfCount: 0, negInfCount: 1, minus100Count: 1, zeroCount: 1,
  });
  assert.ok(Math.abs(s.std! - Math.sqrt(1952.75)) < 1e-9);
  const none = tensorStats(Tensor.from('float32', [2], [NaN, Infinity]));
  assert.deepEqual([none.min, none.max, none.mean, none.std, none.count], [null, null, null, null, 2]);
  // float16 values are widened from their bits, not read as integers.
  assert.equal(tensorStats(Tensor.from('float16', [2], [0.5, 1.5])).mean, 1);
  assert.throws(() => histogram(t, 0), /positive integer number of bins/);
});
