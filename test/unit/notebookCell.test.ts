// A notebook cell as a metric module (src/extension/notebookCell.ts): the earlier cells' imports, then the
// cell; magics commented out; every line mapped back to its cell and line. The module is run by real Python
// with NumPy, so "it imports what the notebook imported" is checked by the interpreter, not by us.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PyMetricRunner } from '../../src/core/metrics/pyRunner';
import { writeCache } from '../../src/core/cache/store';
import { Tensor } from '../../src/core/tensor/tensor';
import { atCell, cellModule, originOf } from '../../src/extension/notebookCell';
import { tempDir } from '../helpers/tempDir';
import { pythonWith } from '../helpers/python';

const CELL0 = `%matplotlib inline
import numpy as np
import os, json
data = json.loads('[1, 2]')   # not an import: not taken
from collections import (
    Counter,
    OrderedDict,
)`;
const CELL1 = `!pip install scikit-learn
from math import \\
    sqrt
print("training...")`;
const CELL3 = `%time
def compute_metrics(eval_pred):
    preds, labels = eval_pred
    return {"acc": float((np.asarray(preds).argmax(-1) == labels).mean()), "root": sqrt(4), "n": len(Counter(labels))}`;

test('the earlier cells\' imports (parenthesised and continued ones whole), then the cell with magics commented out', () => {
  const m = cellModule([{ index: 0, text: CELL0 }, { index: 1, text: CELL1 }], 3, CELL3);
  assert.equal(
    m.text,
    ['import numpy as np', 'import os, json', 'from collections import (', '    Counter,', '    OrderedDict,', ')', 'from math import \\', '    sqrt', ...CELL3.split('\n').map((l) => (l.startsWith('%') ? `# ${l}` : l))].join('\n') + '\n',
  );
  // line 1 is cell 0 line 2; the def is cell 3 line 2
  assert.deepEqual(originOf(m, 1), { cell: 0, line: 2 });
  assert.deepEqual(originOf(m, 8), { cell: 1, line: 3 });
  const def = m.text.split('\n').indexOf('def compute_metrics(eval_pred):') + 1;
  assert.deepEqual(originOf(m, def), { cell: 3, line: 2 });
  assert.equal(originOf(m, 999), undefined);
  // Real Python runs it: the names from the earlier cells resolve and the function works.
  const out = execFileSync(pythonWith(['numpy']), ['-c', `${m.text}\nprint(compute_metrics(([[0.1, 0.9], [0.8, 0.2]], np.array([1, 1]))))`], { encoding: 'utf8' });
  assert.equal(out.trim(), "{'acc': 0.5, 'root': 2.0, 'n': 1}");
  assert.doesNotMatch(m.text, /training|json\.loads/, 'nothing but imports comes from the earlier cells');
});

test('an error in the cell, from the real Python worker, is reported at the notebook cell and line', async () => {
  const dir = tempDir();
  const runner = new PyMetricRunner();
  try {
    const cache = path.join(dir, 'cache');
    writeCache(cache, { predictions: Tensor.from('float32', [2, 2], [0.9, 0.1, 0.2, 0.8]), labelIds: Tensor.from('int64', [2], [0, 1]), inputs: null, losses: null }, { numSamples: 2, key: 'nb', producer: {} });
    // cell 5 (index 4), line 3 divides by zero
    const m = cellModule([{ index: 1, text: 'import numpy as np\nx = 1' }], 4, 'def compute_metrics(eval_pred):\n    preds, labels = eval_pred\n    return {"bad": 1 / 0}');
    const file = path.join(dir, 'analysis_cell5.py');
    fs.writeFileSync(file, m.text);
    const err = await runner.run(file, cache, { python: pythonWith(['numpy']) }).then(() => undefined, (e: Error & { place?: { file?: string; line?: number } }) => e);
    assert.ok(err?.place?.line, String(err));
    assert.equal(path.resolve(err.place.file!), file);
    const origin = originOf(m, err.place.line)!;
    assert.deepEqual(origin, { cell: 4, line: 3 });
    assert.match(atCell(err.message, file, err.place.line, origin, 'analysis.ipynb'), /^analysis\.ipynb cell 5, line 3: ZeroDivisionError: division by zero/);
    // a message without the module's prefix gets the place in front
    assert.equal(atCell('boom', file, 9, { cell: 0, line: 1 }, 'n.ipynb'), 'n.ipynb cell 1, line 1: boom');
  } finally {
    await runner.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
