// Free disk space, for the checks made before arrays are written (an import, a run streaming its predictions).
import fs from 'node:fs';
import path from 'node:path';

/** Free bytes (for an unprivileged writer) on the disk that holds, or will hold, `dir`; Infinity when unknown. */
export function freeBytes(dir: string): number {
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    try {
      const sf = fs.statfsSync(d);
      return sf.bavail * sf.bsize;
    } catch {
      if (path.dirname(d) === d) return Infinity;
    }
  }
}

/** "2.3 GiB", "740.1 MiB": sizes in messages about disk space and array sizes. */
export function humanBytes(n: number): string {
  if (n >= 1024 ** 3) return `${(n / 1024 ** 3).toFixed(1)} GiB`;
  if (n >= 1024 ** 2) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${n} bytes`;
}
