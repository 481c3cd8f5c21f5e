// The array summaries a paused Python frame shows (src/python/evalpred/_summary.py) are the Variables view's
// own (src/core/tensor/stats.ts tensorStats + src/core/expr/values.ts statisticsText, src/debug/variables.ts
// decodeRow): the same arrays through both sides must give the same text.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { statisticsText } from '../../src/core/expr';
import { readNpyFile, writeNpyFile } from '../../src/core/tensor/npy';
import { tensorStats } from '../../src/core/tensor/stats';
import { Tensor } from '../../src/core/tensor/tensor';
import { loadTokenizerSync } from '../../src/core/text/tokenizer';
import { wordPieceTokenizerJson } from '../../src/demo/tokenizerJson';
import { GEN_VOCAB } from '../fixtures/generative';
import { writeTokenizerDir } from '../fixtures/tokenizers';
import { pythonWith } from '../helpers/python';
import { tempDir } from '../helpers/tempDir';

const srcPython = path.join(__dirname, '../../../src/python');
const tmp = tempDir();
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function py(code: string): string {
  return execFileSync(pythonWith(['numpy']), ['-c', code], { encoding: 'utf8', env: { ...process.env, PYTHONPATH: srcPython }, maxBuffer: 64 << 20 });
}

test('statistics line and type text: Python summaries equal the TS ones on the same arrays', () => {
  // NumPy makes the arrays (random, with NaN, ±inf, -100, zeros, ties at the sixth digit); TS reads the same files.
  py(`import numpy as np, os
rng = np.random.default_rng(11)
d = ${JSON.stringify(tmp)}
def spike(x):
    v = x.reshape(-1); idx = rng.permutation(v.size)
    v[idx[:9]] = np.nan; v[idx[9:13]] = np.inf; v[idx[13:15]] = -np.inf; v[idx[15:40]] = -100; v[idx[40:50]] = 0
    return x
arrays = {
  'f32': spike(rng.normal(3, 10, size=(40, 50)).astype(np.float32)),
  'f64': spike(rng.standard_cauchy(3000) * 1e6),
  'f16': spike(rng.normal(0, 2, size=(30, 50)).astype(np.float16)),
  'ids': np.where(rng.random((8, 12)) < 0.2, -100, rng.integers(0, 32000, (8, 12))).astype(np.int64),
  'i32': rng.integers(-3, 4, 100).astype(np.int32),
  'bool': rng.random(77) < 0.3,
  'ties': np.array([1234565, 1234575, 0.5e-7, 2.5e21, 123456.75, -0.0000123455], dtype=np.float64),
  'tiny': np.array([1e-7, 3e-7], dtype=np.float64),
  'big': np.array([1e21, 3e22], dtype=np.float64),
  'empty': np.zeros((0, 3), dtype=np.float32),
  'allnan': np.full(4, np.nan, dtype=np.float32),
}
for k, a in arrays.items():
    np.save(os.path.join(d, k + '.npy'), a)
`);
  const names = ['f32', 'f64', 'f16', 'ids', 'i32', 'bool', 'ties', 'tiny', 'big', 'empty', 'allnan'];
  const out = JSON.parse(
    py(`import json, os, numpy as np
from evalpred import _summary
d = ${JSON.stringify(tmp)}
print(json.dumps({k: [_summary.stats_text(_summary.stats(np.load(os.path.join(d, k + '.npy')))), _summary.type_text(np.load(os.path.join(d, k + '.npy')))] for k in ${JSON.stringify(names)}}))`),
  ) as Record<string, [string, string]>;
  for (const name of names) {
    const t = readNpyFile(path.join(tmp, `${name}.npy`));
    assert.equal(out[name][0], statisticsText(tensorStats(t)), `statistics of ${name}`);
    assert.equal(out[name][1], t.toString(), `type text of ${name}`);
  }
  // The line says what it is about (not only equal: both could be empty).
  assert.match(out.ids[0], /^min -100, max \d+, mean [\d.]+, std [\d.]+, -100 ×\d+$/);
  assert.match(out.f32[0], /NaN ×9, inf ×6, -100 ×25$/);
  assert.equal(out.empty[0], 'min n/a, max n/a, mean n/a, std n/a');
});

test('numbers are written as JavaScript writes them (String(x)) for every exponent range', () => {
  const xs = [0, -0, 1, -1, 0.1 + 0.2, 1e21, 1.5e21, 123456789012345680000, 1e-7, 1.5e-7, 0.000001, 0.0000015, 5e-324, 1.7976931348623157e308, -2.5e-10, 100, 1234.5, 2 ** 53 + 2];
  const out = JSON.parse(py(`import json
from evalpred._summary import js_number
print(json.dumps([js_number(x) for x in ${JSON.stringify(xs)}]))`)) as string[];
  assert.deepEqual(out, xs.map((x) => String(x)));
});

test('token ids of this model are decoded as the extension decodes them; other integer arrays are not', () => {
  const model = path.join(tmp, 'model');
  const wp = wordPieceTokenizerJson(GEN_VOCAB);
  writeTokenizerDir(model, wp.tokenizer, wp.tokenizerConfig);
  const rows = [
    [2, 5, 6, 7, 3, -100, -100],
    [2, 8, 3, 0, 0, 0, -100],
  ];
  writeNpyFile(path.join(tmp, 'gen.npy'), Tensor.from('int64', [2, 7], rows.flat()));
  const out = JSON.parse(
    py(`import json, numpy as np
from evalpred import _summary
gen = np.load(${JSON.stringify(path.join(tmp, 'gen.npy'))})
_summary.configure(${JSON.stringify(model)}, True, None)
kids = dict((n, v) for n, v, _ in _summary.children(gen))
row = dict((n, v) for n, v, _ in _summary.children(gen[0]))
_summary.configure(${JSON.stringify(model)}, False, gen)
view_of_inputs = _summary.token_ids(gen[1:]) is not None
other = _summary.token_ids(np.array([0, 1, 1, 0])) is not None
_summary.configure(${JSON.stringify(model)}, True, None)
out_of_vocab = _summary.token_ids(np.array([5, 10 ** 6])) is not None
print(json.dumps({"decoded": kids["decoded"], "row": row["decoded"], "line": _summary.value_line(gen[0]),
                  "view": view_of_inputs, "other": other, "oov": out_of_vocab, "names": list(kids)[:5]}))`),
  ) as { decoded: string[]; row: string; line: string; view: boolean; other: boolean; oov: boolean; names: string[] };
  const tok = loadTokenizerSync(model);
  const expected = rows.map((r) => tok.decode(r.filter((x) => x >= 0), { skipSpecialTokens: true }));
  assert.ok(expected[0].length > 0, 'the fixture decodes to text');
  assert.deepEqual(out.decoded, expected);
  assert.equal(out.row, expected[0]);
  assert.equal(out.line, `int64[7] '${expected[0]}'`);
  assert.deepEqual(out.names, ['shape', 'dtype', 'statistics', 'decoded', '[0]']);
  assert.equal(out.view, true, 'a view of the EvalPrediction inputs holds token ids');
  assert.equal(out.other, false, 'a classification run: an unrelated int array is not decoded');
  assert.equal(out.oov, false, 'ids beyond the vocabulary are not token ids of this model');
});
