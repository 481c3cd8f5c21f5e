// Content hashes and the cache key. The key is the SHA-256 of a canonical JSON text (object keys sorted at
// every depth, undefined members dropped), so the same model + dataset + settings give the same key
// whatever order the caller built its object in.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { EvalpredError, messageOf } from '../errors';

/** SHA-256 of a file, streamed (model files can be gigabytes). Lowercase hex. */
export function sha256File(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = crypto.createHash('sha256');
    const s = fs.createReadStream(file);
    s.on('error', (e) => reject(new EvalpredError(`cannot read ${file} to hash it: ${messageOf(e)}`, { file }, { cause: e })));
    s.on('data', (chunk) => h.update(chunk));
    s.on('end', () => resolve(h.digest('hex')));
  });
}

export function sha256Bytes(buf: Uint8Array | string): string {
  return crypto.createHash('sha256').update(buf).digest('hex');
}

/**
 * Canonical JSON: keys sorted (code-unit order) at every depth, undefined/function members dropped from
 * objects (and written as null in arrays, as JSON.stringify does), bigints as decimal strings, toJSON honoured.
 */
export function canonicalJson(value: unknown): string {
  const norm = (v: unknown): unknown => {
    if (v !== null && typeof v === 'object' && typeof (v as { toJSON?: unknown }).toJSON === 'function') {
      v = (v as { toJSON(): unknown }).toJSON();
    }
    if (typeof v === 'bigint') return v.toString();
    if (Array.isArray(v)) return v.map((x) => (x === undefined || typeof x === 'function' ? null : norm(x)));
    if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(v).sort()) {
        const x = (v as Record<string, unknown>)[k];
        if (x === undefined || typeof x === 'function') continue;
        out[k] = norm(x);
      }
      return out;
    }
    return v;
  };
  return JSON.stringify(norm(value)) ?? 'null';
}

/** The cache key for a description of what produced a cache (model hashes, dataset hash, settings, tool). */
export function cacheKey(parts: unknown): string {
  return sha256Bytes(canonicalJson(parts));
}

export interface ContentHash {
  path: string;
  sha256: string;
  bytes: number;
}

/** Hash each file (in the given order; two at a time so a folder of small files does not serialise on I/O). */
export async function contentHashes(paths: string[]): Promise<ContentHash[]> {
  const out = new Array<ContentHash>(paths.length);
  let next = 0;
  const worker = async () => {
    while (next < paths.length) {
      const i = next++;
      const p = paths[i];
      let bytes: number;
      try {
        bytes = (await fs.promises.stat(p)).size;
      } catch (e) {
        throw new EvalpredError(`cannot read ${p} to hash it: ${messageOf(e)}`, { file: p }, { cause: e });
      }
      out[i] = { path: p, sha256: await sha256File(p), bytes };
    }
  };
  await Promise.all([worker(), worker()]);
  return out;
}

/** A file, or every file under a folder (recursively, sorted): what a model or dataset path's key hashes. */
export function filesUnder(p: string): string[] {
  if (!fs.existsSync(p)) return [];
  const st = fs.statSync(p);
  if (st.isFile()) return [p];
  return fs
    .readdirSync(p, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? filesUnder(path.join(p, e.name)) : e.isFile() ? [path.join(p, e.name)] : []))
    .sort();
}
