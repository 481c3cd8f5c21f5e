// Where a cache may be written: evalpred deletes only what it wrote (README "Output folders").
// A folder is replaced only when it is a previous evalpred cache — a valid manifest.json with our format tag
// and nothing but the files that manifest lists. Temp folders beside it (`<name>.partial-<pid>-<hex>`,
// `<name>.old-<pid>-<hex>`) are ours by name and content, and are cleaned once their writer is gone.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { EvalpredError, messageOf } from '../errors';
import { MANIFEST_FILE, EVAL_PREDICTION_KEYS, nodeFiles, validateManifest } from './manifest';

/** Array files evalpred (and evalpred.capture) name: predictions.npy, predictions_0.npy, label_ids_b3.npy, ... */
const OUR_ARRAY = /^(predictions|label_ids|inputs|losses)(_b?\d+)*\.npy$/;

/** Why `target` may not be replaced by a new cache, or null when it may (absent, empty, or a cache of ours). */
export function whyNotReplaceable(target: string, shown: string): string | null {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(target);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    if (code === 'ENOTDIR') return `${blockingFile(target) ?? 'a part of that path'} is a file, not a folder`;
    return `it cannot be read (${messageOf(e)})`;
  }
  if (st.isSymbolicLink()) return 'it is a symbolic link, not a folder evalpred wrote';
  if (!st.isDirectory()) return 'it exists and is not a folder';
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(target, { withFileTypes: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null; // moved away by a concurrent writer just now
    return `it cannot be read (${messageOf(e)})`;
  }
  if (!entries.length) return null;
  const names = entries.map((e) => e.name).sort();
  if (!names.includes(MANIFEST_FILE)) {
    return `the folder holds ${listNames(names)} but no ${MANIFEST_FILE}, so it is not a previous cache and evalpred will not replace it`;
  }
  let listed: Set<string>;
  try {
    const m = validateManifest(JSON.parse(fs.readFileSync(path.join(target, MANIFEST_FILE), 'utf8')), path.join(shown, MANIFEST_FILE));
    listed = new Set([MANIFEST_FILE]);
    for (const k of EVAL_PREDICTION_KEYS) {
      const node = m.eval_prediction[k];
      if (node) for (const [, rel] of nodeFiles(node, k)) listed.add(rel);
    }
    for (const rel of Object.values(m.attachments ?? {})) listed.add(rel);
  } catch (e) {
    // Listed a moment ago and gone now: another writer is swapping the folder; the caller retries.
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    return `its ${MANIFEST_FILE} is not an evalpred cache manifest (${messageOf(e)}), so evalpred will not replace the folder`;
  }
  const foreign = entries.filter((e) => !e.isFile() || !listed.has(e.name)).map((e) => e.name + (e.isDirectory() ? '/' : ''));
  if (foreign.length) {
    return (
      `it is an evalpred cache but also holds ${listNames(foreign.sort())}, which evalpred did not write and will not delete; ` +
      `move ${foreign.length === 1 ? 'it' : 'them'} out of the folder, or choose another output folder`
    );
  }
  return null;
}

/** Throw a one-paragraph error when a cache may not be written at `dir` (run before any work is done). */
export function assertCacheTarget(dir: string): void {
  const target = path.resolve(dir);
  const why = whyNotReplaceable(target, dir);
  if (why) throw refusal(dir, why);
  const blocker = blockingFile(path.dirname(target));
  if (blocker) throw refusal(dir, `${blocker} is a file, not a folder`);
}

function refusal(shown: string, why: string): EvalpredError {
  const advice = /choose/.test(why) ? '' : ' Choose a new or empty folder (or an earlier evalpred cache) for the output.';
  return new EvalpredError(`cannot write the prediction cache to ${shown}: ${why}.${advice}`, { file: shown });
}

/** The first existing ancestor of `p` (or `p` itself) that is not a folder, if any. */
function blockingFile(p: string): string | undefined {
  for (let q = path.resolve(p); ; q = path.dirname(q)) {
    try {
      return fs.statSync(q).isDirectory() ? undefined : q;
    } catch {
      if (path.dirname(q) === q) return undefined;
    }
  }
}

function listNames(names: string[]): string {
  const shown = names.slice(0, 5).map((n) => JSON.stringify(n)).join(', ');
  return names.length > 5 ? `${shown} and ${names.length - 5} more` : shown;
}

// ------------------------------------------------------------------------------------ temp folders

export function tempName(target: string, kind: 'partial' | 'old'): string {
  return `${target}.${kind}-${process.pid}-${crypto.randomBytes(4).toString('hex')}`;
}

function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Remove `<target>.partial-*` / `<target>.old-*` folders left by a writer that was killed: only when the
 * writing process is gone and the folder holds nothing but cache files. Returns what was removed.
 */
export function removeLeftovers(target: string): string[] {
  const parent = path.dirname(target);
  const base = path.basename(target);
  let names: string[];
  try {
    names = fs.readdirSync(parent);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    if (!name.startsWith(base + '.')) continue;
    const m = /^\.(partial|old)-(\d+)(-[0-9a-f]{8})?$/.exec(name.slice(base.length));
    if (!m || processAlive(Number(m[2]))) continue;
    const p = path.join(parent, name);
    try {
      if (!fs.lstatSync(p).isDirectory()) continue;
      const entries = fs.readdirSync(p, { withFileTypes: true });
      if (!entries.every((e) => e.isFile() && (e.name === MANIFEST_FILE || OUR_ARRAY.test(e.name)))) continue;
      fs.rmSync(p, { recursive: true, force: true });
      removed.push(p);
    } catch {
      // another run cleaned it first, or it is unreadable: leave it
    }
  }
  return removed;
}

const RACE = new Set(['ENOTEMPTY', 'EEXIST', 'ENOENT']);

/**
 * Rename the finished temp folder `tmp` to `target`. A previous cache there is moved aside first and deleted
 * after. Several writers may race for one target: each retries until its rename wins; every state any of
 * them leaves at `target` is a complete cache. Throws (with the reason) when `target` is not replaceable.
 */
export function swapIntoPlace(tmp: string, target: string, shown: string): void {
  const olds: string[] = [];
  try {
    for (let attempt = 0; attempt < 200; attempt++) {
      try {
        fs.renameSync(tmp, target);
        return;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code ?? '';
        if (!RACE.has(code) || !fs.existsSync(tmp)) throw e;
      }
      // Something is at `target`: replace it only if it is a cache (another writer's may have just landed).
      // A concurrent writer can swap the folder between the listing and the manifest read: refuse only
      // when a second look agrees.
      const why = whyNotReplaceable(target, shown) && whyNotReplaceable(target, shown);
      if (why && fs.existsSync(target)) throw refusal(shown, why);
      const old = tempName(target, 'old');
      try {
        fs.renameSync(target, old);
        olds.push(old);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e; // another writer moved it first
      }
      if (attempt > 2) sleepMs(1 + Math.random() * 20);
    }
    throw new EvalpredError(`cannot write the prediction cache to ${shown}: other processes kept replacing it; run again when they are done.`, { file: shown });
  } catch (e) {
    // Put our own last move-aside back when nothing took its place.
    const last = olds.pop();
    if (last && !fs.existsSync(target)) {
      try {
        fs.renameSync(last, target);
      } catch {
        olds.push(last);
      }
    } else if (last) olds.push(last);
    throw e;
  } finally {
    for (const old of olds) fs.rmSync(old, { recursive: true, force: true });
  }
}

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

