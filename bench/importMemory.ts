// Peak memory of `evalpred import` on a ~1 MB .npz that inflates to 1 GiB (issue 9: it used to take 3.2 GB).
// Each member is streamed to its cache file, so the import should cost about what the CLI costs doing nothing.
// Measured side by side in one run: the built CLI's peak RSS for `--version` and for the import.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeZerosNpz } from '../test/fixtures/zerosNpz';
import { runMeasured } from '../test/helpers/peakRss';
import { printTable } from './util';

const ELEMENTS = Number(process.env.BENCH_IMPORT_ELEMENTS ?? 2 ** 28); // float32: 1 GiB

export async function main(): Promise<void> {
  const cli = path.resolve(__dirname, '../../dist/cli.js');
  if (!fs.existsSync(cli)) throw new Error(`${cli} is missing: run node esbuild.mjs first`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'evalpred-bench-import-'));
  try {
    const inflated = ELEMENTS * 4;
    process.stderr.write(`building a .npz of zeros inflating to ${(inflated / 1024 ** 2).toFixed(0)} MiB...\n`);
    writeZerosNpz(path.join(dir, 'big.npz'), [{ name: 'predictions', elements: ELEMENTS }, { name: 'label_ids', elements: 1000 }]);
    const npzMb = fs.statSync(path.join(dir, 'big.npz')).size / 1024 ** 2;
    const idle = await runMeasured(cli, ['--version'], dir);
    const t0 = performance.now();
    const imp = await runMeasured(cli, ['import', 'big.npz', '--out', 'out'], dir);
    const ms = performance.now() - t0;
    if (imp.code !== 0) throw new Error(`import failed: ${imp.stderr}`);
    const inflatedMb = inflated / 1024 ** 2;
    printTable(
      `import memory: a ${npzMb.toFixed(1)} MiB .npz inflating to ${inflatedMb.toFixed(0)} MiB (peak RSS of the CLI process; import took ${(ms / 1000).toFixed(1)} s)`,
      [
        ['evalpred --version (baseline)', idle.peakMb, '1.00x', ''],
        ['evalpred import big.npz (streamed)', imp.peakMb, `${(imp.peakMb / idle.peakMb).toFixed(2)}x`, `${((imp.peakMb / inflatedMb) * 100).toFixed(1)} % of the inflated size`],
      ],
      'MB',
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
