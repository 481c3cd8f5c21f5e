// What the editor shows next to `eval_pred`, `predictions`, `labels`… while paused: one short line per
// EvalPrediction field with its structure (dtype + shape, tuples) and the first samples decoded for people
// (argmax -> id2label names, token ids -> text). Built from the cache folder; pure Node, no `vscode`.
import fs from 'node:fs';
import path from 'node:path';
import { core } from './core';
import type { LoopRecord } from '../core/evaluate';
import type { EvalPredictionData, Tensor, TensorNode } from '../core/tensor/tensor';
import type { LoadedTokenizer } from '../core/text';
import { formatDecimal } from '../shared/format';

export type FieldName = 'eval_pred' | 'predictions' | 'label_ids' | 'inputs' | 'losses';

export interface CacheSummary {
  cacheDir: string;
  numSamples: number;
  /** One line per field present (eval_pred always). */
  text: Partial<Record<FieldName, string>>;
}

const SHOWN = 3; // samples decoded inline: enough to recognise the data, short enough for one line
const MAX_TEXT = 48;

/** "float32[10, 3]", "tuple(float32[10, 3], float32[10, 8])". Local so the inline text never says "tuple of". */
export function structure(node: TensorNode | null): string {
  if (!node) return 'None';
  if (node instanceof core().Tensor) return `${node.dtype}[${node.shape.join(', ')}]`;
  if ('tuple' in node) return `tuple(${node.tuple.map(structure).join(', ')})`;
  return `list of ${node.list.length} arrays`;
}

function clip(s: string): string {
  const one = s.replace(/\s+/g, ' ').trim();
  return one.length > MAX_TEXT ? one.slice(0, MAX_TEXT - 1) + '…' : one;
}

function firstValues(t: Tensor): string {
  const row = t.ndim > 1 ? t.row(0) : t;
  const n = Math.min(SHOWN, row.size);
  const vals = Array.from({ length: n }, (_, i) => formatDecimal(row.at(i)));
  return `[${vals.join(', ')}${row.size > n ? ', …' : ''}]`;
}

function isIntTensor(t: Tensor): boolean {
  return /^u?int/.test(t.dtype);
}

/**
 * The summary without decoded text, synchronously (manifest + arrays; no tokenizer). The inline-values
 * provider needs an answer the moment VS Code asks after a stop, and VS Code 1.100 never asks again when
 * `onDidChangeInlineValues` fires, so the part that can be had without waiting must be had at once.
 */
export function summarizeCacheSync(cacheDir: string, tokenizer?: LoadedTokenizer): CacheSummary {
  return summarizeLoaded(loadForSummary(cacheDir), tokenizer);
}

interface LoadedCache {
  cacheDir: string;
  numSamples: number;
  ep: EvalPredictionData;
  loop?: LoopRecord;
}

function loadForSummary(cacheDir: string): LoadedCache {
  const { manifest, evalPred: ep } = core().readCache(cacheDir);
  return { cacheDir, numSamples: manifest.num_samples, ep, loop: (manifest as unknown as { loop?: LoopRecord }).loop };
}

function summarizeLoaded(c: LoadedCache, tokenizer?: LoadedTokenizer): CacheSummary {
  return { cacheDir: c.cacheDir, numSamples: c.numSamples, text: fieldTexts(c.ep, { tokenizer, id2label: c.loop?.info?.id2label, task: c.loop?.task }) };
}

/** The tokenizer of the model that produced the cache (for decoded text), or undefined when it is gone or unreadable. */
export async function cacheTokenizer(cacheDir: string): Promise<LoadedTokenizer | undefined> {
  const manifest = core().tryReadCacheManifest(cacheDir);
  // The model path a manifest names is read only after checking it (src/core/cache/producerPaths.ts).
  const modelDir = manifest && core().checkedModelDir(manifest).path;
  if (!modelDir) return undefined;
  try {
    return await core().loadTokenizer(modelDir);
  } catch {
    return undefined; // decoded text is a nicety; shapes still show
  }
}

interface StoreEntry {
  mtimeMs: number;
  summary?: CacheSummary;
  /** The summary with decoded text, while the tokenizer loads; undefined once settled. */
  pending?: Promise<CacheSummary | undefined>;
}

/**
 * Cache summaries for the inline values, ready before VS Code asks: `prepare()` runs when the `stopped`
 * event passes the DebugAdapterTracker (before VS Code itself has the event). The shapes/dtypes part is
 * computed synchronously; decoded text follows when the tokenizer has loaded (`onUpgrade`). A rewritten
 * cache (new manifest mtime) is summarised again.
 */
export class SummaryStore {
  private readonly entries = new Map<string, StoreEntry>();

  constructor(private readonly onUpgrade: (s: CacheSummary) => void = () => undefined) {}

  /** Start (or reuse) the summary of `cacheDir`; returns what is known now (undefined: no readable cache). */
  prepare(cacheDir: string): CacheSummary | undefined {
    return this.entry(cacheDir)?.summary;
  }

  /** The summary with decoded text if it arrives within `waitMs`, else the shapes-only one. */
  async get(cacheDir: string, waitMs: number): Promise<CacheSummary | undefined> {
    const e = this.entry(cacheDir);
    if (!e?.summary) return undefined;
    if (!e.pending) return e.summary;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<CacheSummary | undefined>((r) => (timer = setTimeout(() => r(e.summary), waitMs)));
    try {
      return await Promise.race([e.pending, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  private entry(cacheDir: string): StoreEntry | undefined {
    let mtimeMs: number;
    try {
      mtimeMs = fs.statSync(path.join(cacheDir, 'manifest.json')).mtimeMs; // a rerun of the loop rewrites the cache
    } catch {
      return undefined;
    }
    const hit = this.entries.get(cacheDir);
    if (hit && hit.mtimeMs === mtimeMs) return hit;
    const e: StoreEntry = { mtimeMs };
    this.entries.set(cacheDir, e);
    let loaded: LoadedCache;
    try {
      loaded = loadForSummary(cacheDir);
    } catch {
      return e; // an unreadable cache shows nothing inline (the adapter reports it)
    }
    e.summary = summarizeLoaded(loaded);
    e.pending = cacheTokenizer(cacheDir).then(
      (tok) => {
        e.pending = undefined;
        if (!tok || this.entries.get(cacheDir) !== e) return e.summary;
        e.summary = summarizeLoaded(loaded, tok);
        this.onUpgrade(e.summary);
        return e.summary;
      },
      () => ((e.pending = undefined), e.summary),
    );
    return e;
  }
}

export async function summarizeCache(cacheDir: string): Promise<CacheSummary> {
  const loaded = loadForSummary(cacheDir);
  return summarizeLoaded(loaded, await cacheTokenizer(cacheDir));
}

export function fieldTexts(
  ep: EvalPredictionData,
  opts: { tokenizer?: LoadedTokenizer; id2label?: Record<number, string>; task?: string },
): Partial<Record<FieldName, string>> {
  const views = core().sampleViews(ep, SHOWN, opts);
  const out: Partial<Record<FieldName, string>> = {};
  const parts = [`predictions=${structure(ep.predictions)}`, `label_ids=${structure(ep.labelIds)}`];
  if (ep.inputs) parts.push(`inputs=${structure(ep.inputs)}`);
  if (ep.losses) parts.push(`losses=${structure(ep.losses)}`);
  out.eval_pred = `EvalPrediction(${parts.join(', ')})`;

  if (ep.predictions) {
    const shown = views.filter((v) => v.prediction).map((v) => v.prediction);
    const t = ep.predictions instanceof core().Tensor ? ep.predictions : undefined;
    out.predictions =
      structure(ep.predictions) +
      (shown.length ? ` → ${shown.map((p) => clip(p)).join(' | ')}${t && t.shape[0] > shown.length ? ' …' : ''}` : t && t.size ? ` ${firstValues(t)}` : '');
  }
  if (ep.labelIds) {
    const shown = views.filter((v) => v.label !== undefined).map((v) => v.label!);
    const t = ep.labelIds instanceof core().Tensor ? ep.labelIds : undefined;
    let extra = shown.length ? ` → ${shown.map((l) => clip(l)).join(' | ')}` : '';
    // Token-id labels (seq2seq): decoded text of the first sample, -100 skipped as the tokenizer would pad.
    if (!shown.length && t && t.ndim === 2 && isIntTensor(t) && opts.tokenizer) extra = ` → "${clip(decodeRow(t, 0, opts.tokenizer))}"`;
    else if (!shown.length && t && t.size) extra = ` ${firstValues(t)}`;
    if (t && isIntTensor(t)) {
      const m100 = core().tensorStats(t).minus100Count;
      if (m100 > 0) extra += ` (${m100} × -100)`;
    }
    out.label_ids = structure(ep.labelIds) + extra;
  }
  if (ep.inputs) {
    const first = views.find((v) => v.input !== undefined)?.input;
    out.inputs = structure(ep.inputs) + (first !== undefined ? ` → "${clip(first)}"` : '');
  }
  if (ep.losses) {
    const t = ep.losses instanceof core().Tensor ? ep.losses : undefined;
    out.losses = structure(ep.losses) + (t && t.size ? ` mean ${formatDecimal(core().tensorStats(t).mean ?? NaN)}` : '');
  }
  return out;
}

function decodeRow(t: Tensor, i: number, tok: LoadedTokenizer): string {
  const row = t.row(i);
  const ids: number[] = [];
  for (let k = 0; k < row.size; k++) ids.push(row.at(k));
  return tok.decode(ids, { skipSpecialTokens: true });
}
