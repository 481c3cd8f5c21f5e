// What "Run Evaluation" asks, decided from the workspace alone: the task a model folder holds (config.json
// architectures and the optimum file layout), whether a file can be a dataset (by its content, not only its
// name), and the launch attributes pre-filled from the dataset's own columns with Trainer's defaults.
// No vscode here, so the logic is tested under Node (test/unit/runPlan.test.ts); runEvaluation.ts asks.
import fs from 'node:fs';
import path from 'node:path';
import { COLUMN_GUESSES } from '../core/data/columnGuesses';
import { TaskName, taskOfArchitecture } from '../core/tasks';

/** How the ONNX files of a model folder are laid out (optimum's export names). */
export type ModelLayout = 'single' | 'seq2seq' | 'seq2seq-with-past' | 'seq2seq-merged';

export interface FolderTask {
  /** null: config.json does not say and the layout does not either; the run tells from the ONNX outputs. */
  task: TaskName | null;
  layout: ModelLayout;
  architecture?: string;
}

/** The task and layout of a model folder, or null when it holds no model evalpred opens. */
export function detectFolderTask(dir: string): FolderTask | null {
  let files: string[];
  try {
    files = fs.readdirSync(dir);
  } catch {
    return null;
  }
  const has = (f: string) => files.includes(f);
  let architecture: string | undefined;
  try {
    const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
    if (Array.isArray(cfg?.architectures) && typeof cfg.architectures[0] === 'string') architecture = cfg.architectures[0];
  } catch {
    /* no or broken config.json: the run reports it; the layout still tells a seq2seq export */
  }
  if (has('encoder_model.onnx') && (has('decoder_model.onnx') || has('decoder_model_merged.onnx'))) {
    const layout: ModelLayout = has('decoder_model_merged.onnx') ? 'seq2seq-merged' : has('decoder_with_past_model.onnx') ? 'seq2seq-with-past' : 'seq2seq';
    return { task: 'seq2seq-lm', layout, architecture };
  }
  if (!has('model.onnx')) return null;
  return { task: architecture ? taskOfArchitecture(architecture) : null, layout: 'single', architecture };
}

export const LAYOUT_NAMES: Record<ModelLayout, string> = {
  single: 'model.onnx',
  seq2seq: 'encoder_model.onnx + decoder_model.onnx',
  'seq2seq-with-past': 'encoder_model.onnx + decoder_model.onnx + decoder_with_past_model.onnx',
  'seq2seq-merged': 'encoder_model.onnx + decoder_model_merged.onnx',
};

export type DatasetVerdict = { ok: true; columns?: string[]; row?: Record<string, unknown> } | { ok: false; why: string };

const MAX_PARSE_BYTES = 64 * 1024 * 1024;
const HEAD_BYTES = 256 * 1024;

function head(file: string, bytes = HEAD_BYTES): string {
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.alloc(bytes);
    const n = fs.readSync(fd, buf, 0, bytes, 0);
    return buf.subarray(0, n).toString('utf8');
  } finally {
    fs.closeSync(fd);
  }
}

const isRow = (r: unknown): r is Record<string, unknown> => typeof r === 'object' && r !== null && !Array.isArray(r);
/** Every task reads text: a row with no string (or list of strings, or nested text) is a log, a config or a metric dump. */
const hasText = (v: unknown, depth = 0): boolean =>
  typeof v === 'string' || (depth < 3 && (Array.isArray(v) ? v.slice(0, 8).some((x) => hasText(x, depth + 1)) : isRow(v) && Object.values(v).some((x) => hasText(x, depth + 1))));

function verdictOfRow(row: unknown, what: string): DatasetVerdict {
  if (!isRow(row)) return { ok: false, why: `${what} is not a row object` };
  if (!Object.values(row).some((v) => hasText(v))) return { ok: false, why: `its rows hold no text (only ${Object.keys(row).slice(0, 4).join(', ')}…): a log or metrics, not a dataset` };
  return { ok: true, columns: Object.keys(row), row };
}

/** Whether a file can be a dataset `evalpred run` reads, judged from its content; with the columns of its first row. */
export function datasetFileVerdict(file: string): DatasetVerdict {
  const ext = path.extname(file).toLowerCase();
  try {
    if (ext === '.jsonl') {
      const first = head(file).split('\n').find((l) => l.trim());
      if (!first) return { ok: false, why: 'it is empty' };
      return verdictOfRow(JSON.parse(first), 'its first line');
    }
    if (ext === '.json') {
      if (fs.statSync(file).size > MAX_PARSE_BYTES) return { ok: true };
      const v: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
      if (Array.isArray(v)) return v.length ? verdictOfRow(v[0], 'its first item') : { ok: false, why: 'it is an empty list' };
      if (isRow(v)) {
        const cols = Object.keys(v);
        if (cols.length && cols.every((c) => Array.isArray(v[c]) && (v[c] as unknown[]).length === (v[cols[0]] as unknown[]).length)) {
          return verdictOfRow(Object.fromEntries(cols.map((c) => [c, (v[c] as unknown[])[0]])), 'its first row');
        }
        return { ok: false, why: 'it is an object of settings, not rows or columns (config, trainer state)' };
      }
      return { ok: false, why: 'it holds no rows' };
    }
    if (ext === '.csv' || ext === '.tsv') {
      const lines = head(file).split(/\r?\n/);
      if (!lines[0]?.trim() || lines.length < 2 || !lines[1].trim()) return { ok: false, why: 'it has no header and row' };
      const sep = ext === '.tsv' ? '\t' : ',';
      return { ok: true, columns: lines[0].split(sep).map((c) => c.trim().replace(/^"|"$/g, '')) };
    }
    if (ext === '.parquet' || ext === '.arrow') return { ok: true };
    return { ok: false, why: `${ext || 'no extension'} is not a dataset format` };
  } catch (e) {
    return { ok: false, why: `it does not parse (${e instanceof Error ? e.message.split('\n')[0] : String(e)})` };
  }
}

/** Launch attributes a task needs, pre-filled. Names are the launch attributes (RunSettings fields). */
export interface Prefill {
  textColumn?: string;
  textPairColumn?: string;
  textTemplate?: string;
  labelColumn?: string;
  predictWithGenerate?: boolean;
  generationMaxLength?: number;
  maxNewTokens?: number;
}

const first = (cols: readonly string[], names: readonly string[]) => names.find((n) => cols.includes(n));

/** SQuAD-style answers ({text: [...], answer_start: [...]}) give the target text as answers.text[0]. */
function targetPath(col: string, row?: Record<string, unknown>): string {
  const v = row?.[col];
  if (isRow(v) && Array.isArray(v.text)) return `${col}.text[0]`;
  return col;
}

/**
 * The attributes a task needs, guessed from the dataset's columns as the CLI guesses them (src/core/data/columnGuesses.ts),
 * with the defaults a Trainer user expects: Seq2SeqTrainer evaluated with
 * predict_with_generate=True, a causal LM by teacher forcing (run_clm), QA on question + context.
 */
export function prefill(task: TaskName | null, columns: readonly string[] = [], row?: Record<string, unknown>): Prefill {
  const out: Prefill = {};
  const has = (c: string) => columns.includes(c);
  if (task === 'seq2seq-lm') {
    if (has('question') && has('context')) out.textTemplate = 'question: {question} context: {context}';
    else out.textColumn = first(columns, COLUMN_GUESSES.seq2seqSource);
    const target = first(columns, COLUMN_GUESSES.seq2seqTarget) ?? (has('answers') ? 'answers' : undefined);
    if (target) out.labelColumn = targetPath(target, row);
    out.predictWithGenerate = true;
    return out;
  }
  if (task === 'causal-lm') {
    out.textColumn = first(columns, COLUMN_GUESSES.causalText);
    out.predictWithGenerate = false;
    return out;
  }
  if (task === 'question-answering') {
    if (has('question')) out.textColumn = 'question';
    if (has('context')) out.textPairColumn = 'context';
    out.labelColumn = first(columns, COLUMN_GUESSES.labels['question-answering']);
    return out;
  }
  const pair = COLUMN_GUESSES.text.find(([a]) => has(a));
  if (pair) {
    out.textColumn = pair[0];
    if (pair[1] && has(pair[1])) out.textPairColumn = pair[1];
  } else if (task === 'token-classification' && has('tokens')) out.textColumn = 'tokens';
  out.labelColumn = first(columns, COLUMN_GUESSES.labels[task ?? 'sequence-classification']);
  return out;
}

/** Columns of a `save_to_disk` split (its dataset_info.json features), when the folder says. */
export function folderColumns(dir: string, split: string | undefined): string[] | undefined {
  for (const f of [split ? path.join(dir, split, 'dataset_info.json') : undefined, path.join(dir, 'dataset_info.json')]) {
    try {
      if (!f) continue;
      const features = JSON.parse(fs.readFileSync(f, 'utf8'))?.features;
      if (isRow(features)) return Object.keys(features);
    } catch {
      /* not there: the next place, else unknown */
    }
  }
  return undefined;
}
