// `evalpred import X.npz` streams each member to its cache file (issue 9, item 2: "streaming decompression
// with a total-size check against the declared shapes and free disk"): a member inflating past what it
// declares is stopped and named, a member whose .npy header disagrees with the archive is named, FIFOs never
// block, and a 1 MB archive inflating to gigabytes is imported at a peak RSS far below its size.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { CLI, CliCase, cliTable, tempDir } from './harness';
import { writeZerosNpz } from '../fixtures/zerosNpz';
import { runMeasured } from '../helpers/peakRss';

const GiB = 1024 ** 3;
/** float32 elements in 1 GiB of data. */
const GIB_OF_FLOATS = GiB / 4;
/** Peak RSS allowed while importing gigabytes: the CLI itself is ~60-100 MB; the arrays must not count. */
const RSS_BOUND_MB = 400;

const nothingWritten = (d: string) => {
  const left = fs.readdirSync(d).filter((f) => f.startsWith('out'));
  assert.deepEqual(left, [], `the import left ${left.join(', ')}`);
};

const rows: CliCase[] = [
  {
    name: 'a member inflating past the size the archive declares is stopped there and named; nothing is written',
    setup: (d) => writeZerosNpz(path.join(d, 'x.npz'), [{ name: 'predictions', elements: 1 << 21, declare: 1000 }]),
    args: ['import', 'x.npz', '--out', 'out'],
    code: 2,
    stderr: /x\.npz: member predictions\.npy is corrupt: it decompresses to more than the 1000 bytes the directory declares/,
    check: (d) => nothingWritten(d),
  },
  {
    name: 'a member whose .npy header promises other than the archive declares is refused, naming both sizes',
    setup: (d) => writeZerosNpz(path.join(d, 'x.npz'), [{ name: 'predictions', elements: 1000, declare: 1 << 20 }]),
    args: ['import', 'x.npz', '--out', 'out'],
    code: 2,
    stderr: /x\.npz: member predictions\.npy is corrupt: its \.npy header declares a float32 array of shape \(1000\), 4000 bytes of data after a 128-byte header \(4128 bytes in all\), but the archive directory says the member is 1048576 bytes/,
    check: (d) => nothingWritten(d),
  },
  {
    name: 'three lying members: the first is named, no partial file of any of them is left',
    setup: (d) =>
      writeZerosNpz(
        path.join(d, 'x.npz'),
        [0, 1, 2].map((i) => ({ name: `predictions_${i}`, elements: 1 << 21, declare: 5000 })),
      ),
    args: ['import', 'x.npz', '--out', 'out'],
    code: 2,
    stderr: /x\.npz: member predictions_0\.npy is corrupt: it decompresses to more than the 5000 bytes/,
    check: (d) => nothingWritten(d),
  },
  {
    name: 'members declaring more bytes than the disk has free are refused before anything is written',
    setup: (d) => writeZerosNpz(path.join(d, 'x.npz'), [{ name: 'predictions', elements: 1000, declare: 10 ** 15 }]),
    args: ['import', 'x.npz', '--out', 'out'],
    code: 2,
    stderr: /x\.npz: its arrays declare 1000000000000000 bytes uncompressed, more than the \d+ bytes free on the disk of out/,
    check: (d) => nothingWritten(d),
  },
  {
    name: 'a FIFO member in a folder of .npy files is refused at once, named',
    setup: (d) => {
      fs.mkdirSync(path.join(d, 'dump'));
      execFileSync('mkfifo', [path.join(d, 'dump', 'label_ids.npy')]);
      fs.writeFileSync(path.join(d, 'dump', 'predictions.npy'), Buffer.alloc(0));
    },
    args: ['import', 'dump', '--out', 'out'],
    code: 2,
    stderr: /dump\/label_ids\.npy is a FIFO \(named pipe\), not a regular file; evalpred imports arrays only from regular files/,
    timeoutMs: 20_000,
    check: (d) => nothingWritten(d),
  },
  {
    name: 'a FIFO named x.npz is refused at once',
    setup: (d) => execFileSync('mkfifo', [path.join(d, 'x.npz')]),
    args: ['import', 'x.npz', '--out', 'out'],
    code: 2,
    stderr: /x\.npz is a FIFO \(named pipe\), not a regular file; give a \.npz file/,
    timeoutMs: 20_000,
    check: (d) => nothingWritten(d),
  },
  {
    name: 'an honest archive streams in: values, dtype and tuple members as saved',
    setup: (d) => writeZerosNpz(path.join(d, 'x.npz'), [{ name: 'predictions_0', elements: 6 }, { name: 'predictions_1', elements: 3 }, { name: 'label_ids', elements: 6 }]),
    args: ['import', 'x.npz', '--out', 'out'],
    code: 0,
    stderr: /imported 6 samples from x\.npz into out/,
    mayChange: ['out'],
    check: (d) => {
      const m = JSON.parse(fs.readFileSync(path.join(d, 'out', 'manifest.json'), 'utf8'));
      assert.deepEqual(m.eval_prediction.predictions, { tuple: [{ npy: 'predictions_0.npy' }, { npy: 'predictions_1.npy' }] });
      assert.deepEqual(fs.readdirSync(path.join(d, 'out')).sort(), ['label_ids.npy', 'manifest.json', 'predictions_0.npy', 'predictions_1.npy']);
      assert.equal(fs.statSync(path.join(d, 'out', 'predictions_1.npy')).size, 128 + 12);
    },
  },
];

cliTable('import streams each .npz member to its file, held to what it declares', rows);

async function importMeasured(members: { name: string; elements: number }[]): Promise<{ dir: string; peakMb: number; npzBytes: number }> {
  const dir = tempDir();
  writeZerosNpz(path.join(dir, 'big.npz'), members);
  const npzBytes = fs.statSync(path.join(dir, 'big.npz')).size;
  const r = await runMeasured(CLI, ['import', 'big.npz', '--out', 'out'], dir);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(Number.isFinite(r.peakMb), 'the probe reported the peak RSS');
  return { dir, peakMb: r.peakMb, npzBytes };
}

test(`a ~1 MB .npz inflating to 1 GiB imports at a peak RSS under ${RSS_BOUND_MB} MB`, { timeout: 600_000 }, async (t) => {
  const { dir, peakMb, npzBytes } = await importMeasured([{ name: 'predictions', elements: GIB_OF_FLOATS }, { name: 'label_ids', elements: 1000 }]);
  try {
    t.diagnostic(`archive ${npzBytes} bytes, peak RSS ${peakMb.toFixed(1)} MB`);
    assert.ok(npzBytes < 4 * 1024 * 1024, `the archive is small (${npzBytes} bytes)`);
    assert.ok(peakMb < RSS_BOUND_MB, `peak RSS ${peakMb.toFixed(0)} MB`);
    assert.equal(fs.statSync(path.join(dir, 'out', 'predictions.npy')).size, 128 + GiB);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test(`three 1 GiB members (3 GiB written) import at a peak RSS under ${RSS_BOUND_MB} MB`, { timeout: 900_000 }, async (t) => {
  const { dir, peakMb } = await importMeasured([0, 1, 2].map((i) => ({ name: `predictions_${i}`, elements: GIB_OF_FLOATS })));
  try {
    t.diagnostic(`peak RSS ${peakMb.toFixed(1)} MB`);
    assert.ok(peakMb < RSS_BOUND_MB, `peak RSS ${peakMb.toFixed(0)} MB`);
    for (const i of [0, 1, 2]) assert.equal(fs.statSync(path.join(dir, 'out', `predictions_${i}.npy`)).size, 128 + GiB);
    const m = JSON.parse(fs.readFileSync(path.join(dir, 'out', 'manifest.json'), 'utf8'));
    assert.equal(m.eval_prediction.predictions.tuple.length, 3);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
