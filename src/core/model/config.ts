// config.json as transformers' PretrainedConfig reads it: only the fields the loop, the heads and the
// session need. Label maps follow PretrainedConfig.__init__: id2label keys become numbers, num_labels is
// len(id2label) when id2label is given, and a config without either gets LABEL_0/LABEL_1 (num_labels 2).
import fs from 'node:fs';
import path from 'node:path';
import { EvalpredError, messageOf } from '../errors';

export type ProblemType = 'regression' | 'single_label_classification' | 'multi_label_classification';
const PROBLEM_TYPES: readonly ProblemType[] = ['regression', 'single_label_classification', 'multi_label_classification'];

export interface ModelConfig {
  /** The config.json read, or null when the folder has none (then every field below is at its default). */
  configFile: string | null;
  /** e.g. ['BertForSequenceClassification']; [] when absent. */
  architectures: string[];
  model_type?: string;
  /** Always set when config.json exists (LABEL_i defaults as transformers makes them); undefined without config.json. */
  id2label?: Record<number, string>;
  label2id?: Record<string, number>;
  /** len(id2label); undefined without config.json (the heads then take it from the logits). */
  num_labels?: number;
  problem_type?: ProblemType;
  max_position_embeddings?: number;
  vocab_size?: number;
  pad_token_id?: number;
  type_vocab_size?: number;
  /** Trainer's default ignore_keys; ['past_key_values'] when the config does not define it (docs/trainer-semantics.md#predictions-from-model-outputs). */
  keys_to_ignore_at_inference: string[];
  /** The parsed JSON, for anything else a caller needs. */
  raw: Record<string, unknown>;
}

/**
 * Read `<modelDir>/config.json` (modelDir may also be the model.onnx path: its folder is used).
 * Without config.json: architectures [], no label maps, num_labels undefined (taken from the logits),
 * keys_to_ignore_at_inference ['past_key_values'] — the task then comes from the ONNX outputs.
 */
export function readModelConfig(modelDir: string): ModelConfig {
  const dir = isFile(modelDir) ? path.dirname(modelDir) : modelDir;
  const file = path.join(dir, 'config.json');
  if (!fs.existsSync(file)) {
    return { configFile: null, architectures: [], keys_to_ignore_at_inference: ['past_key_values'], raw: {} };
  }
  const text = fs.readFileSync(file, 'utf8');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new EvalpredError(`${file} is not valid JSON: ${describeJsonError(text, e)}.`, { file }, { cause: e });
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new EvalpredError(`${file} must hold a JSON object (as transformers' save_pretrained writes), not ${jsonKind(raw)}.`, { file });
  }
  return parseConfig(raw as Record<string, unknown>, file);
}

/** The same as readModelConfig for an already-parsed object (`file` names it in errors). */
export function parseConfig(raw: Record<string, unknown>, file: string): ModelConfig {
  const bad = (field: string, want: string): never => {
    throw new EvalpredError(`${file}: "${field}" must be ${want}, got ${JSON.stringify(raw[field])}.`, { file, column: field });
  };
  const optInt = (field: string): number | undefined => {
    const v = raw[field];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v)) return bad(field, 'an integer');
    return v;
  };

  const architectures = raw.architectures ?? [];
  if (!Array.isArray(architectures) || architectures.some((a) => typeof a !== 'string')) bad('architectures', 'a list of class names');

  let id2label: Record<number, string> | undefined;
  if (raw.id2label !== undefined && raw.id2label !== null) {
    if (typeof raw.id2label !== 'object' || Array.isArray(raw.id2label)) bad('id2label', 'an object such as {"0": "NEG", "1": "POS"}');
    id2label = {};
    for (const [k, v] of Object.entries(raw.id2label as Record<string, unknown>)) {
      const id = Number(k);
      if (!Number.isInteger(id) || k.trim() === '') {
        throw new EvalpredError(`${file}: id2label key ${JSON.stringify(k)} is not an integer id.`, { file, column: 'id2label' });
      }
      id2label[id] = String(v);
    }
  }
  const declaredNum = optInt('num_labels');
  if (!id2label) {
    // PretrainedConfig: num_labels (default 2) makes LABEL_i names.
    const n = declaredNum ?? 2;
    id2label = {};
    for (let i = 0; i < n; i++) id2label[i] = `LABEL_${i}`;
  }
  const numLabels = Object.keys(id2label).length;

  let label2id: Record<string, number>;
  if (raw.label2id !== undefined && raw.label2id !== null) {
    if (typeof raw.label2id !== 'object' || Array.isArray(raw.label2id)) bad('label2id', 'an object such as {"NEG": 0, "POS": 1}');
    label2id = {};
    for (const [k, v] of Object.entries(raw.label2id as Record<string, unknown>)) {
      const id = typeof v === 'string' ? Number(v) : v;
      if (typeof id !== 'number' || !Number.isInteger(id)) {
        throw new EvalpredError(`${file}: label2id[${JSON.stringify(k)}] must be an integer id, got ${JSON.stringify(v)}.`, { file, column: 'label2id' });
      }
      label2id[k] = id;
    }
  } else {
    label2id = {};
    for (const [id, name] of Object.entries(id2label)) label2id[name] = Number(id);
  }

  let problemType: ProblemType | undefined;
  if (raw.problem_type !== undefined && raw.problem_type !== null) {
    if (!PROBLEM_TYPES.includes(raw.problem_type as ProblemType)) bad('problem_type', `one of ${PROBLEM_TYPES.join(', ')} (or null)`);
    problemType = raw.problem_type as ProblemType;
  }

  let ignore = ['past_key_values'];
  if (raw.keys_to_ignore_at_inference !== undefined && raw.keys_to_ignore_at_inference !== null) {
    const k = raw.keys_to_ignore_at_inference;
    if (!Array.isArray(k) || k.some((x) => typeof x !== 'string')) bad('keys_to_ignore_at_inference', 'a list of output names');
    ignore = [...(k as string[])];
  }

  return {
    configFile: file,
    architectures: [...(architectures as string[])],
    model_type: typeof raw.model_type === 'string' ? raw.model_type : undefined,
    id2label,
    label2id,
    num_labels: numLabels,
    problem_type: problemType,
    max_position_embeddings: optInt('max_position_embeddings'),
    vocab_size: optInt('vocab_size'),
    pad_token_id: optInt('pad_token_id'),
    type_vocab_size: optInt('type_vocab_size'),
    keys_to_ignore_at_inference: ignore,
    raw,
  };
}

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

function jsonKind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  return `a ${typeof v}`;
}

/** V8's JSON error with a line and column added (V8 gives only a character offset, or nothing). */
function describeJsonError(text: string, e: unknown): string {
  const msg = messageOf(e);
  const m = /position (\d+)/.exec(msg);
  let offset = m ? Number(m[1]) : undefined;
  if (offset === undefined && /Unexpected end of JSON input/.test(msg)) offset = text.length;
  if (offset === undefined) return msg;
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - before.lastIndexOf('\n');
  return `${msg.replace(/\s*\(line \d+ column \d+\)/, '')} (line ${line}, column ${column})`;
}
