// Where the package's own files live, whether we run from dist/ (CLI, extension, workers),
// out/test/ (tests) or out/bench/ (benchmarks): walk up to evalpred's package.json.
import fs from 'node:fs';
import path from 'node:path';

let root: string | undefined;

export function packageRoot(): string {
  if (root) return root;
  let dir = __dirname;
  for (;;) {
    const pj = path.join(dir, 'package.json');
    if (fs.existsSync(pj)) {
      try {
        if (JSON.parse(fs.readFileSync(pj, 'utf8')).name === 'evalpred') return (root = dir);
      } catch {
        /* keep walking */
      }
    }
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`cannot find evalpred's package.json above ${__dirname}`);
    dir = up;
  }
}

/** A bundle built by esbuild.mjs, e.g. distFile('loopWorker.js'). */
export function distFile(name: string): string {
  const p = path.join(packageRoot(), 'dist', name);
  if (!fs.existsSync(p)) throw new Error(`${p} is missing: run \`npm run build\` first`);
  return p;
}

/** The same file: resolved paths equal (case-insensitively off Linux, where file systems usually are). */
export function samePath(a: string, b: string): boolean {
  return path.resolve(a) === path.resolve(b) || (process.platform !== 'linux' && path.resolve(a).toLowerCase() === path.resolve(b).toLowerCase());
}
