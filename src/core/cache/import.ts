// `evalpred import DUMP --out CACHE`: turn an EvalPrediction saved elsewhere into a cache folder.
// Accepted: a .npz (np.savez(f, predictions=..., label_ids=...)), a folder of .npy files with the same
// names, or a folder written by `evalpred.capture` (already our format: validated, then copied).
// Tuple members are named `predictions_0`, `predictions_1`, ... (nested: `predictions_0_1`).
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EvalpredError, messageOf } from '../errors';
import { EvalPredictionData, Tensor, TensorNode, walkTensors } from '../tensor/tensor';
import { fileKind, readNpyFile, readRegularFile } from '../tensor/npy';
import { readNpz } from '../tensor/npz';
import { MAX_NODE_DEPTH } from './manifest';
import { assertCacheTarget } from './outputFolder';
import { readCache, writeCache, CacheManifest } from './store';

const FIELDS = { predictions: 'predictions', label_ids: 'labelIds', labels: 'labelIds', inputs: 'inputs', losses: 'losses' } as const;
type Field = (typeof FIELDS)[keyof typeof FIELDS];

export async function importDump(src: string, outDir: string): Promise<CacheManifest> {
  // Refuse a folder evalpred may not replace before reading a possibly large dump.
  assertCacheTarget(outDir);
  const abs = path.resolve(src);
  let st: fs.Stats;
  try {
    st = fs.statSync(abs);
  } catch {
    throw new EvalpredError(`${src} does not exist (expected a .npz file, a folder of .npy files or a capture folder)`, { file: src });
  }
  if (st.isDirectory() && fs.existsSync(path.join(abs, 'manifest.json'))) {
    let cache: ReturnType<typeof readCache>;
    try {
      cache = readCache(abs);
    } catch (e) {
      throw new EvalpredError(`${src} has a manifest.json but is not a valid evalpred cache/capture: ${messageOf(e)}`, { file: src });
    }
    const m = cache.manifest;
    return writeCache(outDir, cache.evalPred, {
      numSamples: m.num_samples ?? numSamplesOf(cache.evalPred),
      key: m.key ?? contentKey(cache.evalPred),
      producer: m.producer ?? { tool: 'evalpred import' },
      // A capture's step, epoch and logged metrics travel with the arrays (docs/cache-format.md, "Series").
      extra: { imported_from: abs, ...(m.capture !== undefined ? { capture: m.capture } : {}) },
    });
  }
  let named: Map<string, Tensor>;
  const budget = importBudget(outDir);
  if (st.isDirectory()) {
    named = new Map();
    const files = fs.readdirSync(abs).filter((f) => f.endsWith('.npy')).sort();
    // Regular files only (a FIFO would block the read), and their total size within what can be held and written.
    let total = 0;
    for (const f of files) {
      const fst = fs.statSync(path.join(abs, f));
      if (!fst.isFile()) throw new EvalpredError(`${path.join(src, f)} is ${fileKind(fst)}, not a regular file; evalpred imports arrays only from regular files`, { file: path.join(src, f) });
      total += fst.size;
    }
    if (total > budget.bytes) throw new EvalpredError(`${src}: its .npy files hold ${total} bytes, more than ${budget.bytes} bytes (${budget.why})`, { file: src });
    for (const f of files) {
      try {
        named.set(f.slice(0, -4), readNpyFile(path.join(abs, f)));
      } catch (e) {
        throw new EvalpredError(`${path.join(src, f)}: not a readable .npy file: ${messageOf(e)}`, { file: path.join(src, f) });
      }
    }
    if (!named.size) throw new EvalpredError(`${src} holds no .npy files and no manifest.json; nothing to import`, { file: src });
  } else if (abs.toLowerCase().endsWith('.npz')) {
    if (!st.isFile()) throw new EvalpredError(`${src} is ${fileKind(st)}, not a regular file; give a .npz file`, { file: src });
    try {
      named = readNpz(readRegularFile(abs), abs, { maxTotalBytes: budget.bytes, budgetNote: budget.why });
    } catch (e) {
      throw new EvalpredError(`${src}: not a readable .npz file: ${messageOf(e)}`, { file: src });
    }
  } else {
    throw new EvalpredError(`${src}: cannot import this file; give a .npz, a folder of .npy files or a capture folder`, { file: src });
  }
  const ep = assemble(named, src);
  return writeCache(outDir, ep, {
    numSamples: numSamplesOf(ep),
    key: contentKey(ep),
    producer: { tool: 'evalpred import', source: abs, time: new Date().toISOString() },
    extra: { imported_from: abs },
  });
}

/**
 * How many bytes of arrays an import may produce: it holds them in memory (half of physical memory) and
 * writes them to the output folder's disk (its free space).
 */
function importBudget(outDir: string): { bytes: number; why: string } {
  const mem = Math.floor(os.totalmem() / 2);
  let free = Infinity;
  for (let d = path.resolve(outDir); ; d = path.dirname(d)) {
    try {
      const sf = fs.statfsSync(d);
      free = sf.bavail * sf.bsize;
      break;
    } catch {
      if (path.dirname(d) === d) break;
    }
  }
  return free < mem
    ? { bytes: free, why: `the free space on the disk of ${outDir}` }
    : { bytes: mem, why: `half of this machine's memory, which an import holds at once` };
}


/** Names -> the four fields. `arr_0`/`arr_1` (np.savez with positional arrays) mean predictions, labels. */
export function assemble(named: Map<string, Tensor>, src: string): EvalPredictionData {
  const names = [...named.keys()];
  if (names.length && names.every((n) => /^arr_\d+$/.test(n))) {
    if (names.length > 2) {
      throw new EvalpredError(
        `${src}: arrays are unnamed (${names.join(', ')}); with more than two, save them by name: ` +
          `np.savez(f, predictions=..., label_ids=..., inputs=..., losses=...)`,
        { file: src },
      );
    }
    const renamed = new Map<string, Tensor>([['predictions', named.get('arr_0')!]]);
    if (named.has('arr_1')) renamed.set('label_ids', named.get('arr_1')!);
    named = renamed;
  }
  // Each field: either one array under its name, or members `<name>_<i>[_<j>...]` forming a tuple.
  const members: Record<Field, Array<[number[], Tensor]>> = { predictions: [], labelIds: [], inputs: [], losses: [] };
  const whole: Partial<Record<Field, Tensor>> = {};
  const seenAs = new Map<Field, string>();
  for (const [name, t] of named) {
    const m = /^(predictions|label_ids|labels|inputs|losses)((?:_\d+)*)$/.exec(name);
    if (!m) {
      throw new EvalpredError(
        `${src}: unexpected array '${name}'. Expected predictions, label_ids (or labels), inputs, losses, ` +
          `or tuple members such as predictions_0, predictions_1.`,
        { file: src, tensor: name },
      );
    }
    const depth = m[2] ? m[2].split('_').length - 1 : 0;
    if (depth > MAX_NODE_DEPTH) {
      throw new EvalpredError(`${src}: array '${name.slice(0, 60)}…' nests tuple members ${depth} levels deep, more than the ${MAX_NODE_DEPTH} a cache holds`, { file: src, tensor: name.slice(0, 60) });
    }
    const field = FIELDS[m[1] as keyof typeof FIELDS];
    const prev = seenAs.get(field);
    if (prev && prev !== m[1]) {
      throw new EvalpredError(`${src}: both '${prev}' and '${m[1]}' arrays are present; keep one of them`, { file: src, tensor: name });
    }
    seenAs.set(field, m[1]);
    if (!m[2]) whole[field] = t;
    else members[field].push([m[2].slice(1).split('_').map(Number), t]);
  }
  const node = (field: Field): TensorNode | null => {
    if (whole[field] && members[field].length) {
      throw new EvalpredError(`${src}: '${seenAs.get(field)}' is both an array and a tuple (${seenAs.get(field)}_0...)`, { file: src });
    }
    if (whole[field]) return whole[field]!;
    if (!members[field].length) return null;
    return buildTuple(members[field], `${seenAs.get(field)}`, src);
  };
  const ep: EvalPredictionData = { predictions: node('predictions'), labelIds: node('labelIds'), inputs: node('inputs'), losses: node('losses') };
  if (!ep.predictions) throw new EvalpredError(`${src}: no 'predictions' array (found: ${names.join(', ')})`, { file: src });
  return ep;
}

function buildTuple(items: Array<[number[], Tensor]>, name: string, src: string): TensorNode {
  const byFirst = new Map<number, Array<[number[], Tensor]>>();
  for (const [idx, t] of items) {
    const list = byFirst.get(idx[0]) ?? [];
    list.push([idx.slice(1), t]);
    byFirst.set(idx[0], list);
  }
  const n = Math.max(...byFirst.keys()) + 1;
  const out: TensorNode[] = [];
  for (let i = 0; i < n; i++) {
    const group = byFirst.get(i);
    if (!group) throw new EvalpredError(`${src}: tuple member ${name}_${i} is missing (have ${[...byFirst.keys()].sort().map((k) => `${name}_${k}`).join(', ')})`, { file: src });
    const leaf = group.find(([idx]) => idx.length === 0);
    if (leaf && group.length > 1) throw new EvalpredError(`${src}: ${name}_${i} is both an array and a tuple`, { file: src });
    out.push(leaf ? leaf[1] : buildTuple(group, `${name}_${i}`, src));
  }
  return { tuple: out };
}

function numSamplesOf(ep: EvalPredictionData): number {
  const first = (n: TensorNode | null): Tensor | undefined => (n ? walkTensors(n, '').next().value?.[1] : undefined);
  const t = first(ep.labelIds) ?? first(ep.predictions);
  return t && t.ndim ? t.shape[0] : 0;
}

function contentKey(ep: EvalPredictionData): string {
  const h = crypto.createHash('sha256');
  for (const [field, node] of Object.entries(ep)) {
    if (!node) continue;
    for (const [p, t] of walkTensors(node as TensorNode, field)) {
      h.update(`${p}:${t.dtype}:${t.shape.join(',')};`);
      h.update(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    }
  }
  return `import-${h.digest('hex').slice(0, 32)}`;
}
