// `evalpred import DUMP --out CACHE_DIR`: a .npz, a folder of .npy files or a capture folder -> a cache.
import { importDump } from '../../core/cache/import';
import { EvalpredError } from '../../core/errors';
import { parseArgs } from '../args';
import { importSeries, isSeries } from '../../core/series/series';

export async function importCommand(argv: string[]): Promise<number> {
  const p = parseArgs(argv, [{ name: 'out', type: 'string', help: 'cache folder to write (new, empty, or an earlier evalpred cache)' }], 'import', [
    { name: 'DUMP', help: 'a .npz, a folder of .npy files, an evalpred.capture folder, or a captured series (series.json)' },
  ]);
  const src = p.positional[0];
  const out = p.flags.out as string | undefined;
  if (!src || !out) throw new EvalpredError('usage: evalpred import DUMP --out CACHE_DIR (DUMP: a .npz, a folder of .npy files, or a capture folder).');
  if (isSeries(src)) {
    const r = await importSeries(src, out);
    for (const f of r.failed) process.stderr.write(`warning: step ${f.dir} was not imported: ${f.error}\n`);
    process.stderr.write(`imported a series of ${r.steps} step${r.steps === 1 ? '' : 's'} from ${src} into ${out}\n`);
    return r.failed.length ? 1 : 0;
  }
  const manifest = await importDump(src, out);
  process.stderr.write(`imported ${manifest.num_samples} samples from ${src} into ${out}\n`);
  return 0;
}
