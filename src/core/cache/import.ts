// `evalpred import DUMP --out CACHE`: turn an EvalPrediction saved elsewhere into a cache folder.
// Accepted: a .npz (np.savez(f, predictions=..., label_ids=...)), a folder of .npy files with the same
// names, or a folder written by `evalpred.capture` (already our format: validated, then copied).
// Tuple members are named `predictions_0`, `predictions_1`, ... (nested: `predictions_0_1`).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { EvalpredError, describeWriteError, isEvalpredError, messageOf } from '../errors';
import { EvalPredictionData, Tensor, TensorNode, walkTensors } from '../tensor/tensor';
import { NpyHeader, fileKind, openRegularFile } from '../tensor/npy';
import { writeNpyStream } from '../tensor/npyStream';
import { NpzArchive, memberError, memberStream, openNpz } from '../tensor/npz';
import { CacheNode, EVAL_PREDICTION_KEYS, EvalPredictionNodes, MAX_NODE_DEPTH } from './manifest';
import { assertCacheTarget } from './outputFolder';
import { FIELD_OF } from './reader';
import { freeBytes } from '../tensor/diskSpace';
import { abandonCacheWrite, beginCacheWrite, commitCacheFiles, pendingFile, readCache, writeCache, CacheManifest } from './store';

const FIELDS = { predictions: 'predictions', label_ids: 'label_ids', labels: 'label_ids', inputs: 'inputs', losses: 'losses' } as const;
type Field = (typeof FIELDS)[keyof typeof FIELDS];

/** One array to import: a .npz member or a .npy file, read as a stream when its turn comes. */
interface ImportSource {
  /** The array's name (member or file name without `.npy`). */
  name: string;
  /** Bytes its container declares (the .npz directory's size; the file's size). */
  declared: number;
  /** For .npz members: the exact size and CRC-32 the stream must have. */
  exact?: { bytes: number; crc: number };
  /** Names the source in .npy header errors. */
  shown: string;
  fail: (why: string) => Error;
  open: () => Readable;
}

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
  let archive: NpzArchive | undefined;
  const sources = new Map<string, ImportSource>();
  if (st.isDirectory()) {
    const files = fs.readdirSync(abs).filter((f) => f.endsWith('.npy')).sort();
    // Regular files only (a FIFO would block the read); each is opened again without blocking when read.
    for (const f of files) {
      const file = path.join(abs, f);
      const shown = path.join(src, f);
      const fst = fs.statSync(file);
      if (!fst.isFile()) throw new EvalpredError(`${shown} is ${fileKind(fst)}, not a regular file; evalpred imports arrays only from regular files`, { file: shown });
      sources.set(f.slice(0, -4), {
        name: f.slice(0, -4),
        declared: fst.size,
        shown,
        fail: (why) => new EvalpredError(`${shown}: not a readable .npy file: ${why}`, { file: shown }),
        open: () => {
          const { fd } = openRegularFile(file);
          return fs.createReadStream('', { fd, highWaterMark: 256 * 1024 });
        },
      });
    }
    if (!sources.size) throw new EvalpredError(`${src} holds no .npy files and no manifest.json; nothing to import`, { file: src });
  } else if (abs.toLowerCase().endsWith('.npz')) {
    if (!st.isFile()) throw new EvalpredError(`${src} is ${fileKind(st)}, not a regular file; give a .npz file`, { file: src });
    try {
      archive = openNpz(abs, src);
    } catch (e) {
      if (isEvalpredError(e)) throw e;
      throw new EvalpredError(`${src}: not a readable .npz file: ${messageOf(e)}`, { file: src });
    }
    const a = archive;
    for (const m of a.members) {
      sources.set(m.name.slice(0, -4), {
        name: m.name.slice(0, -4),
        declared: m.size,
        exact: { bytes: m.size, crc: m.crc },
        shown: `${src}[${m.name}]`,
        fail: (why) => memberError(a, m, why),
        open: () => memberStream(a, m),
      });
    }
  } else {
    throw new EvalpredError(`${src}: cannot import this file; give a .npz, a folder of .npy files or a capture folder`, { file: src });
  }
  try {
    return await importSources(sources, src, abs, outDir);
  } finally {
    archive?.close();
  }
}

/**
 * Stream every array into its cache file (never whole in memory), then commit. Names are checked first and
 * the declared sizes against the free disk space, so a bad dump costs no writing; each stream is then held
 * to what its container and its .npy header declare (writeNpyStream). On failure only our temp folder goes.
 */
async function importSources(sources: Map<string, ImportSource>, src: string, abs: string, outDir: string): Promise<CacheManifest> {
  const tree = assemble(new Map([...sources.keys()].map((n) => [n, n])), src);
  const declared = [...sources.values()].reduce((a, s) => a + s.declared, 0);
  const free = freeBytes(outDir);
  if (declared > free) {
    throw new EvalpredError(`${src}: its arrays declare ${declared} bytes uncompressed, more than the ${free} bytes free on the disk of ${outDir}`, { file: src });
  }
  const pending = beginCacheWrite(outDir);
  try {
    const headers = new Map<string, NpyHeader>();
    const leaves: KeyLeaf[] = [];
    const nodes = {} as EvalPredictionNodes;
    for (const k of EVAL_PREDICTION_KEYS) {
      const t = tree[k];
      nodes[k] = t ? await writeTree(t, k, k) : null;
    }
    async function writeTree(t: NameTree<string>, file: string, where: string): Promise<CacheNode> {
      if ('tuple' in t) {
        const out: CacheNode[] = [];
        for (const [i, c] of t.tuple.entries()) out.push(await writeTree(c, `${file}_${i}`, `${where}[${i}]`));
        return { tuple: out };
      }
      const s = sources.get(t.leaf)!;
      const dest = pendingFile(pending, `${file}.npy`);
      let r;
      try {
        r = await writeNpyStream(s.open(), dest, {
          source: s.shown,
          fail: s.fail,
          exactBytes: s.exact?.bytes,
          crc: s.exact?.crc,
          onHeader: (h) => {
            const left = freeBytes(outDir);
            if (h.dataBytes > left) throw s.fail(`its ${h.dataBytes} bytes of data do not fit in the ${left} bytes free on the disk of ${outDir}`);
          },
        });
      } catch (e) {
        if (isEvalpredError(e)) throw e;
        throw new EvalpredError(`could not write the prediction cache ${outDir} (importing ${s.shown}): ${describeWriteError(e, outDir)}`, { file: outDir }, { cause: e });
      }
      headers.set(where, r.header);
      leaves.push({ path: where, dtype: r.header.dtype, shape: r.header.shape, digest: r.digest });
      return { npy: `${file}.npy` };
    }
    const first = (k: 'label_ids' | 'predictions') => [...headers.entries()].find(([w]) => w === k || w.startsWith(`${k}[`))?.[1];
    const h = first('label_ids') ?? first('predictions');
    return commitCacheFiles(pending, nodes, {
      numSamples: h && h.shape.length ? h.shape[0] : 0,
      key: keyOf(leaves),
      producer: { tool: 'evalpred import', source: abs, time: new Date().toISOString() },
      extra: { imported_from: abs },
    });
  } catch (e) {
    abandonCacheWrite(pending);
    throw e;
  }
}

/** An array's place in an EvalPrediction field: one named leaf, or tuple members. */
export type NameTree<L> = { leaf: L } | { tuple: NameTree<L>[] };

/**
 * Array names -> the four fields, before any data is read. `arr_0`/`arr_1` (np.savez with positional
 * arrays) mean predictions, labels. Leaves carry whatever the caller maps each name to.
 */
export function assemble<L>(named: Map<string, L>, src: string): Record<Field, NameTree<L> | null> {
  const names = [...named.keys()];
  if (names.length && names.every((n) => /^arr_\d+$/.test(n))) {
    if (names.length > 2) {
      throw new EvalpredError(
        `${src}: arrays are unnamed (${names.join(', ')}); with more than two, save them by name: ` +
          `np.savez(f, predictions=..., label_ids=..., inputs=..., losses=...)`,
        { file: src },
      );
    }
    const renamed = new Map<string, L>([['predictions', named.get('arr_0')!]]);
    if (named.has('arr_1')) renamed.set('label_ids', named.get('arr_1')!);
    named = renamed;
  }
  // Each field: either one array under its name, or members `<name>_<i>[_<j>...]` forming a tuple.
  const members: Record<Field, Array<[number[], L]>> = { predictions: [], label_ids: [], inputs: [], losses: [] };
  const whole: Partial<Record<Field, L>> = {};
  const seenAs = new Map<Field, string>();
  for (const [name, t] of named) {
    const m = /^(predictions|label_ids|labels|inputs|losses)((?:_\d+)*)$/.exec(name);
    if (!m) {
      throw new EvalpredError(
        `${src}: unexpected array '${name.slice(0, 200)}'. Expected predictions, label_ids (or labels), inputs, losses, ` +
          `or tuple members such as predictions_0, predictions_1.`,
        { file: src, tensor: name.slice(0, 200) },
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
  const node = (field: Field): NameTree<L> | null => {
    if (whole[field] !== undefined && members[field].length) {
      throw new EvalpredError(`${src}: '${seenAs.get(field)}' is both an array and a tuple (${seenAs.get(field)}_0...)`, { file: src });
    }
    if (whole[field] !== undefined) return { leaf: whole[field]! };
    if (!members[field].length) return null;
    return buildTuple(members[field], `${seenAs.get(field)}`, src);
  };
  const out: Record<Field, NameTree<L> | null> = { predictions: node('predictions'), label_ids: node('label_ids'), inputs: node('inputs'), losses: node('losses') };
  if (!out.predictions) throw new EvalpredError(`${src}: no 'predictions' array (found: ${names.join(', ')})`, { file: src });
  return out;
}

function buildTuple<L>(items: Array<[number[], L]>, name: string, src: string): NameTree<L> {
  const byFirst = new Map<number, Array<[number[], L]>>();
  for (const [idx, t] of items) {
    const list = byFirst.get(idx[0]) ?? [];
    list.push([idx.slice(1), t]);
    byFirst.set(idx[0], list);
  }
  const n = Math.max(...byFirst.keys()) + 1;
  const out: NameTree<L>[] = [];
  for (let i = 0; i < n; i++) {
    const group = byFirst.get(i);
    if (!group) throw new EvalpredError(`${src}: tuple member ${name}_${i} is missing (have ${[...byFirst.keys()].sort().map((k) => `${name}_${k}`).join(', ')})`, { file: src });
    const leaf = group.find(([idx]) => idx.length === 0);
    if (leaf && group.length > 1) throw new EvalpredError(`${src}: ${name}_${i} is both an array and a tuple`, { file: src });
    out.push(leaf ? { leaf: leaf[1] } : buildTuple(group, `${name}_${i}`, src));
  }
  return { tuple: out };
}

function numSamplesOf(ep: EvalPredictionData): number {
  const first = (n: TensorNode | null): Tensor | undefined => (n ? walkTensors(n, '').next().value?.[1] : undefined);
  const t = first(ep.labelIds) ?? first(ep.predictions);
  return t && t.ndim ? t.shape[0] : 0;
}

interface KeyLeaf {
  path: string;
  dtype: string;
  shape: readonly number[];
  /** SHA-256 (hex) of the array's little-endian data. */
  digest: string;
}

/** An import's cache key: its arrays' places, dtypes, shapes and data digests, in manifest order. */
function keyOf(leaves: KeyLeaf[]): string {
  const h = crypto.createHash('sha256');
  for (const l of leaves) h.update(`${l.path}:${l.dtype}:${l.shape.join(',')}:${l.digest};`);
  return `import-${h.digest('hex').slice(0, 32)}`;
}

/** keyOf for arrays in memory (a capture folder without a key), so the same arrays get the same key. */
function contentKey(ep: EvalPredictionData): string {
  const leaves: KeyLeaf[] = [];
  for (const k of EVAL_PREDICTION_KEYS) {
    const node = ep[FIELD_OF[k]];
    if (!node) continue;
    for (const [p, t] of walkTensors(node as TensorNode, k)) {
      const digest = crypto.createHash('sha256').update(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength)).digest('hex');
      leaves.push({ path: p, dtype: t.dtype, shape: t.shape, digest });
    }
  }
  return keyOf(leaves);
}
