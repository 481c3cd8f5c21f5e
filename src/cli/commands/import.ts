// `evalpred import DUMP --out CACHE_DIR`: a .npz, a folder of .npy files or a capture folder -> a cache.
import { importDump } from '../../core/cache/import';
import { EvalpredError } from '../../core/errors';
import { parseArgs } from '../args';

export async function importCommand(argv: string[]): Promise<number> {
  const p = parseArgs(argv, [{ name: 'out', type: 'string', help: 'cache folder to write (new, empty, or an earlier evalpred cache)' }], 'import', [
    { name: 'DUMP', help: 'a .npz, a folder of .npy files, or an evalpred.capture folder' },
  ]);
  const src = p.positional[0];
  const out = p.flags.out as string | undefined;
  if (!src || !out) throw new EvalpredError('usage: evalpred import DUMP --out CACHE_DIR (DUMP: a .npz, a folder of .npy files, or a capture folder).');
  const manifest = await importDump(src, out);
  process.stderr.write(`imported ${manifest.num_samples} samples from ${src} into ${out}\n`);
  return 0;
}
