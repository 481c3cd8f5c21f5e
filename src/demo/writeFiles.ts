// `evalpred demo --dir P` never overwrites a file it did not write (README "Output folders"). A file at a demo
// path is (re)written only when it is absent, already holds the demo's bytes, or is unchanged since an earlier
// demo wrote it (its hash is in P/.evalpred-demo.json). Anything else is refused before a single file is written.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { EvalpredError } from '../core/errors';

export const DEMO_RECORD = '.evalpred-demo.json';

const sha256 = (b: Uint8Array | string) => crypto.createHash('sha256').update(b).digest('hex');

/** Paths (relative to `dir`) that the demo may not write: they hold something the demo did not put there. */
export function demoConflicts(dir: string, files: Map<string, Uint8Array | string>): string[] {
  const record = readRecord(dir);
  const conflicts: string[] = [];
  if (record === 'foreign') conflicts.push(DEMO_RECORD);
  const recorded = record === 'foreign' ? {} : record;
  for (const [rel, body] of files) {
    const abs = path.join(dir, rel);
    let st: fs.Stats;
    try {
      st = fs.lstatSync(abs);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
      conflicts.push(rel); // ENOTDIR: a parent is a file
      continue;
    }
    if (!st.isFile()) {
      conflicts.push(rel);
      continue;
    }
    const now = sha256(fs.readFileSync(abs));
    if (now !== sha256(body) && now !== recorded[rel]) conflicts.push(rel);
  }
  return conflicts;
}

/** Write the demo's files under `dir`, or refuse (naming the files) when any would overwrite one of the user's. */
export function writeDemoFiles(dir: string, files: Map<string, Uint8Array | string>): void {
  const conflicts = demoConflicts(dir, files);
  if (conflicts.length) {
    throw new EvalpredError(
      `the demo will not overwrite files in ${dir} that it did not write or that were changed since: ` +
        `${conflicts.map((c) => path.join(dir, c)).join(', ')}. Nothing was written. Run \`evalpred demo --dir NEW_FOLDER\`, ` +
        `or move these files away first.`,
      { file: path.join(dir, conflicts[0]) },
    );
  }
  const record = readRecord(dir);
  const hashes: Record<string, string> = record === 'foreign' ? {} : { ...record };
  for (const [rel, body] of files) {
    const abs = path.join(dir, rel);
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    fs.writeFileSync(abs, body);
    hashes[rel] = sha256(body);
  }
  fs.writeFileSync(path.join(dir, DEMO_RECORD), JSON.stringify({ tool: 'evalpred demo', files: hashes }, null, 2) + '\n');
}

/** The hashes an earlier demo recorded; {} when there is no record; 'foreign' when the file is not ours. */
function readRecord(dir: string): Record<string, string> | 'foreign' {
  const file = path.join(dir, DEMO_RECORD);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT' ? {} : 'foreign';
  }
  try {
    const json = JSON.parse(text);
    if (json?.tool !== 'evalpred demo' || typeof json.files !== 'object' || json.files === null) return 'foreign';
    return Object.fromEntries(Object.entries(json.files).filter(([, v]) => typeof v === 'string')) as Record<string, string>;
  } catch {
    return 'foreign';
  }
}
