// The one module that talks to onnxruntime-node: open a model with clear errors, check feeds before running
// (names, dtypes, ranks, fixed dims, token ids against the vocabulary), and convert tensors both ways
// without copying where the typed arrays already agree (int64 <-> BigInt64Array, float16 <-> Uint16Array bits).
//
// Note: session.run does its native work synchronously on the calling thread (docs/architecture.md#processes): call it from a worker.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type * as ort from 'onnxruntime-node';
import { EvalpredError, messageOf } from '../errors';
import { onnxRuntime } from '../native';
import { DType, LITTLE_ENDIAN_HOST } from '../tensor/dtype';
import { Tensor } from '../tensor/tensor';
import { castBfloat16Outputs } from './onnx/castBfloat16';
import { embeddingRows } from './onnx/embeddingRows';
import { LanePool } from './lanes/pool';
import { lanesFromEnv, loopLanePlan, loopThreadOptions } from './threads';

/** Inputs evalpred can feed: the tokenizer's three, plus position_ids made as torch's default arange. */
export const BUILDABLE_INPUTS: readonly string[] = ['input_ids', 'attention_mask', 'token_type_ids', 'position_ids'];

/** What optimum / transformers.js name their exports, for the "no model.onnx" message and the lookup. */
const MODEL_FILE_CANDIDATES = ['model.onnx', path.join('onnx', 'model.onnx')];

export interface ValueInfo {
  name: string;
  /** ORT's type name ('float32', 'int64', 'float16', ...), or 'non-tensor' for sequences/maps. */
  type: string;
  /** Dims as the graph declares them (numbers fixed, strings symbolic, '' unnamed); null when the rank is unknown. */
  dims: (number | string)[] | null;
}

export interface OpenModelOptions {
  /** Threads for one operator (ORT's intraOpNumThreads); default: chosen for the machine as it is now (threads.ts). */
  intraOpNumThreads?: number;
  /** ORT graph optimizations; default 'all' (ORT's own default). */
  graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all';
  /** Upper bound for input_ids; default config.json's vocab_size beside the model, else the embedding's rows. */
  vocabSize?: number;
  /** Execution provider asked for (--device); default 'cpu'. Unavailable ones fall back to CPU with a note. */
  device?: Device;
  /** Given by a caller that runs batches at once (the encoder family): true when its run is long enough to pay
   *  for inference lanes (threads.ts loopLanePlan then asks the machine), false when not (EVALPRED_LANES still
   *  forces them); docs/architecture.md#inference-lanes. CPU only. */
  lanes?: boolean;
}

/** The --device values (README.md "Devices"), each the onnxruntime-node execution provider of that name. */
export const DEVICES = ['cpu', 'cuda', 'coreml', 'dml'] as const;
export type Device = (typeof DEVICES)[number];

/** What selectProvider decided: the providers to ask ORT for, and why it is not the one asked for. */
export interface ProviderChoice {
  providers: string[];
  provider: string;
  /** Set when the device asked for was replaced by CPU. */
  fallback?: string;
}

/**
 * The execution provider for `device`, given the backends this onnxruntime-node build lists
 * (ort.listSupportedBackends()) on this platform. Pure, so the fallback is testable without an accelerator.
 */
export function selectProvider(device: Device | undefined, supported: readonly { name: string }[], platform = `${process.platform}-${process.arch}`): ProviderChoice {
  if (!device || device === 'cpu') return { providers: ['cpu'], provider: 'cpu' };
  if (!supported.some((b) => b.name === device)) {
    const listed = supported.map((b) => b.name).join(', ') || 'none';
    return {
      providers: ['cpu'],
      provider: 'cpu',
      fallback: `--device ${device}: this onnxruntime-node build has no ${device} execution provider on ${platform} (it lists ${listed}); the model ran on the CPU.`,
    };
  }
  return { providers: [device], provider: device };
}

export interface ModelSession {
  /** The model.onnx actually opened. */
  readonly modelFile: string;
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputs: readonly ValueInfo[];
  readonly outputs: readonly ValueInfo[];
  /** The bound input_ids are checked against, and where it came from; null when unknown. */
  readonly vocab: { size: number; source: string } | null;
  /** What was done to make the model runnable (bfloat16 outputs cast to float32, a --device fallback to CPU). */
  readonly notes: readonly string[];
  /** The execution provider the session actually runs on ('cpu', 'cuda', ...). */
  readonly provider: string;
  /** How many batches may run at once (inference lanes); 1 for a session alone. */
  readonly lanes?: number;
  /** Run one batch. Feeds not named by the model are ignored; token_type_ids / position_ids are filled in as
   *  transformers' defaults (zeros / arange) when the model needs them and they are absent. */
  run(feeds: Record<string, Tensor>): Promise<Record<string, Tensor>>;
  close(): Promise<void>;
}

/** Open `model.onnx` in a model folder (or an .onnx file path). */
export async function openModel(modelDirOrFile: string, opts: OpenModelOptions = {}): Promise<ModelSession> {
  const file = locateModelFile(modelDirOrFile);
  checkFileLooksLikeOnnx(file);
  // Lanes only for a caller that runs batches at once (opts.lanes given) on the CPU: as the machine allows when the
  // run wants them, or as EVALPRED_LANES says (docs/architecture.md#inference-lanes).
  const plan =
    opts.lanes !== undefined && (!opts.device || opts.device === 'cpu')
      ? loopLanePlan({ wanted: opts.lanes, forced: lanesFromEnv(), intraOpNumThreads: opts.intraOpNumThreads, modelBytes: modelBytes(file), freeMemoryBytes: os.freemem() })
      : { options: loopThreadOptions(opts.intraOpNumThreads), lanes: 1 };
  const sessionOptions: ort.InferenceSession.SessionOptions = {
    graphOptimizationLevel: opts.graphOptimizationLevel ?? 'all',
    executionMode: 'sequential',
    interOpNumThreads: 1,
    // Fatal only: ORT prints its own log lines (`sequential_executor.cc ... Non-zero status code`) straight to
    // stderr; every error it logs also reaches us as an exception, which run() words as one paragraph.
    logSeverityLevel: 4,
    // Threads (and spinning) for the machine as it is now (threads.ts, docs/architecture.md#onnxruntime-threads).
    ...plan.options,
  };
  // The process-wide ORT environment takes its level at the first session; set it before that.
  onnxRuntime().env.logLevel = 'fatal';
  const choice = selectProvider(opts.device, opts.device && opts.device !== 'cpu' ? listBackends() : []);
  sessionOptions.executionProviders = choice.providers;
  // The lanes open the model in their threads while this one does (pool.ts), and take every batch once open.
  const { intraOpNumThreads: _threads, extra: _spin, ...shared } = sessionOptions;
  const lanes = plan.lanes > 1 && choice.provider === 'cpu' ? new LanePool(file, { ...shared, ...plan.laneOptions }, plan.lanes) : null;
  let created: CreatedSession;
  try {
    created = await createSession(file, sessionOptions, choice);
  } catch (e) {
    await lanes?.close();
    throw e;
  }
  // A patched model exists in this thread's memory only: its lanes (which opened the file) would fail; none for it.
  if (created.patched) await lanes?.close();
  const vocab = resolveVocab(file, opts.vocabSize);
  return new OrtModelSession(file, created.session, vocab, created.notes, created.provider, created.patched ? null : lanes);
}

interface CreatedSession {
  session: ort.InferenceSession;
  notes: string[];
  provider: string;
  /** Opened from bfloat16-patched bytes in memory, not from the file. */
  patched: boolean;
}

/** The loop thread's session of `file`, falling back to the CPU for a provider that cannot start and patching bfloat16 outputs. */
async function createSession(file: string, sessionOptions: ort.InferenceSession.SessionOptions, choice: ProviderChoice): Promise<CreatedSession> {
  let notes: string[] = choice.fallback ? [choice.fallback] : [];
  let provider = choice.provider;
  try {
    try {
      return { session: await onnxRuntime().InferenceSession.create(file, sessionOptions), notes, provider, patched: false };
    } catch (e) {
      // A listed provider can still fail to start (no driver, no device, a missing CUDA library): fall back to CPU
      // with the reason, unless the model itself is at fault (then the CPU session fails too, and says why).
      if (provider === 'cpu') throw e;
      const why = messageOf(e).split('\n')[0];
      notes = [`--device ${provider}: the ${provider} execution provider could not start on ${process.platform}-${process.arch} (${why}); the model ran on the CPU.`];
      provider = 'cpu';
      sessionOptions.executionProviders = ['cpu'];
      return { session: await onnxRuntime().InferenceSession.create(file, sessionOptions), notes, provider, patched: false };
    }
  } catch (e) {
    // onnxruntime-node cannot describe bfloat16 values: cast bfloat16 outputs to float32 in the graph, which is
    // exactly what Trainer's host conversion does to bfloat16 predictions (docs/trainer-semantics.md#host-dtypes).
    const patched = /Unsupported data type: 16\b/.test(messageOf(e)) ? castBfloat16Outputs(fs.readFileSync(file)) : null;
    if (!patched) throw loadError(file, e);
    let session: ort.InferenceSession;
    try {
      session = await onnxRuntime().InferenceSession.create(patched.model, sessionOptions);
    } catch {
      throw loadError(file, e);
    }
    notes = [...notes, `outputs ${patched.outputs.join(', ')} are bfloat16 in ${file}; they are cast to float32, as Trainer converts bfloat16 predictions.`];
    return { session, notes, provider, patched: true };
  }
}

/** The model file and its external-data files (model.onnx_data, model.onnx.data): what each session's weights weigh. */
function modelBytes(file: string): number {
  const dir = path.dirname(file), base = path.basename(file);
  let n = fs.statSync(file).size;
  for (const f of [`${base}_data`, `${base}.data`]) {
    try {
      n += fs.statSync(path.join(dir, f)).size;
    } catch {
      // no such file
    }
  }
  return n;
}

function listBackends(): readonly { name: string }[] {
  try {
    return onnxRuntime().listSupportedBackends();
  } catch {
    return [{ name: 'cpu' }];
  }
}

class OrtModelSession implements ModelSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputs: readonly ValueInfo[];
  readonly outputs: readonly ValueInfo[];
  private closed = false;

  constructor(
    readonly modelFile: string,
    private readonly session: ort.InferenceSession,
    readonly vocab: { size: number; source: string } | null,
    readonly notes: readonly string[],
    readonly provider: string,
    private readonly lanePool: LanePool | null = null,
  ) {
    this.inputNames = [...session.inputNames];
    this.outputNames = [...session.outputNames];
    this.inputs = session.inputMetadata.map(valueInfo);
    this.outputs = session.outputMetadata.map(valueInfo);
  }

  get lanes(): number {
    return this.lanePool?.size ?? 1;
  }

  async run(feeds: Record<string, Tensor>): Promise<Record<string, Tensor>> {
    if (this.closed) throw new Error(`${this.modelFile}: the session is closed`);
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const info of this.inputs) {
      const t = feeds[info.name] ?? defaultFeed(info.name, feeds);
      if (!t) throw this.missingInput(info, feeds);
      ortFeeds[info.name] = toOrt(this.checkFeed(info, t));
    }
    if (feeds.input_ids && this.vocab) this.checkVocab(feeds.input_ids);
    let out: ort.InferenceSession.ReturnType;
    try {
      const here = () => this.session.run(ortFeeds, { logSeverityLevel: 4 });
      // A lane's thread runs the batch while this one goes on (this thread's session only until the lanes are open).
      out = await (this.lanePool ? this.lanePool.run(ortFeeds, here) : here());
    } catch (e) {
      const shapes = Object.entries(ortFeeds)
        .map(([k, v]) => `${k} ${v.type}[${v.dims.join(', ')}]`)
        .join(', ');
      throw new EvalpredError(`${this.modelFile}: onnxruntime failed to run the model on a batch with ${shapes}: ${oneSentence(e)}`, { file: this.modelFile }, { cause: e });
    }
    const result: Record<string, Tensor> = {};
    for (const name of this.outputNames) {
      const v = out[name];
      if (v) result[name] = fromOrt(v as ort.Tensor, name, this.modelFile);
    }
    return result;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.lanePool?.close();
    } finally {
      await this.session.release();
    }
  }

  private missingInput(info: ValueInfo, feeds: Record<string, Tensor>): EvalpredError {
    const have = Object.keys(feeds);
    if (BUILDABLE_INPUTS.includes(info.name)) {
      // Only reachable without input_ids (the defaults above derive from it).
      return new EvalpredError(
        `${this.modelFile}: the model needs "${info.name}", and this batch has ${have.join(', ') || 'no inputs'}, without the ` +
          `input_ids it would be derived from; the model's inputs are ${this.inputNames.join(', ')}.`,
        { file: this.modelFile, tensor: info.name },
      );
    }
    return new EvalpredError(
      `${this.modelFile}: the model needs an input "${info.name}" (${info.type}[${(info.dims ?? ['?']).join(', ')}]) that evalpred cannot build. ` +
        `It builds ${BUILDABLE_INPUTS.join(', ')}` +
        (have.length ? ` (this batch has ${have.join(', ')})` : '') +
        `; the model's inputs are ${this.inputNames.join(', ')}. Re-export the model without "${info.name}" ` +
        `(for optimum, a task whose inputs are the tokenizer's).`,
      { file: this.modelFile, tensor: info.name },
    );
  }

  /** dtype / rank / fixed-dim checks; int64 ids are narrowed for int32 exports (values are identical). */
  private checkFeed(info: ValueInfo, t: Tensor): Tensor {
    let feed = t;
    if (info.type !== 'non-tensor' && info.type !== t.dtype) {
      if (info.type === 'int32' && t.dtype === 'int64') feed = narrowToInt32(t, info.name, this.modelFile);
      else if (info.type === 'int64' && (t.dtype === 'int32' || t.dtype === 'int16' || t.dtype === 'int8' || t.dtype === 'uint8')) {
        feed = Tensor.from('int64', t.shape, Array.from({ length: t.size }, (_, i) => t.at(i)));
      } else {
        throw new EvalpredError(
          `${this.modelFile}: input "${info.name}" must be ${info.type}, but evalpred built ${t} for it.`,
          { file: this.modelFile, tensor: info.name },
        );
      }
    }
    if (info.dims && info.dims.length > 0) {
      if (info.dims.length !== t.ndim) {
        throw new EvalpredError(
          `${this.modelFile}: input "${info.name}" has rank ${info.dims.length} ([${info.dims.join(', ')}]) in the model, ` +
            `but evalpred built a rank-${t.ndim} tensor ${t} for it.`,
          { file: this.modelFile, tensor: info.name },
        );
      }
      info.dims.forEach((d, k) => {
        if (typeof d === 'number' && d !== t.shape[k]) {
          throw new EvalpredError(
            `${this.modelFile}: input "${info.name}" was exported with a fixed size ${d} on axis ${k} ([${info.dims!.join(', ')}]), ` +
              `but this batch has ${t.shape[k]} (${t}). ` +
              (k === 1 ? `Pad every batch to ${d} (--max-length ${d} with padding to max length) or re-export with dynamic axes.` : `Use a batch size of ${d} or re-export with dynamic axes.`),
            { file: this.modelFile, tensor: info.name },
          );
        }
      });
    }
    return feed;
  }

  private checkVocab(ids: Tensor): void {
    const V = this.vocab!.size;
    // Nearly every batch passes: decide that on the typed array (at() made BigInts for every int64 id: the garbage
    // and the cold code cost the tiny bench's loop ~5%, issue 12); an id out of range falls through to the scan that words the error.
    if (ids.inMemory && allIdsBelow(ids.data, V)) return;
    let max = -Infinity;
    let min = Infinity;
    let at = 0;
    for (let i = 0; i < ids.size; i++) {
      const v = ids.at(i);
      if (v > max) {
        max = v;
        at = i;
      }
      if (v < min) min = v;
    }
    if (max >= V) {
      const row = ids.ndim > 1 ? Math.floor(at / ids.shape[ids.ndim - 1]) : at;
      throw new EvalpredError(
        `${this.modelFile}: input_ids holds token id ${max} (batch row ${row}), but the model's vocabulary has ${V} entries ` +
          `(${this.vocab!.source}), so ids must be below ${V}. The tokenizer does not fit the model: use the tokenizer.json ` +
          `saved with this model.`,
        { file: this.modelFile, tensor: 'input_ids' },
      );
    }
    if (min < 0) {
      throw new EvalpredError(`${this.modelFile}: input_ids holds a negative token id ${min}; torch's embedding would reject it.`, {
        file: this.modelFile,
        tensor: 'input_ids',
      });
    }
  }
}

/** Whether every id is in [0, V) (false also for an array this shortcut does not read: the caller's scan decides). */
function allIdsBelow(data: Tensor['data'], V: number): boolean {
  if (data instanceof BigInt64Array && LITTLE_ENDIAN_HOST) {
    // (low, high) int32 pairs: an id in [0, V) with V <= 2^31 has high word 0 and a low word in [0, V).
    if (V > 2 ** 31) return false;
    const w = new Int32Array(data.buffer, data.byteOffset, data.length * 2);
    for (let k = 0; k < w.length; k += 2) if (w[k + 1] !== 0 || w[k] < 0 || w[k] >= V) return false;
    return true;
  }
  if (data instanceof Int32Array) {
    for (let k = 0; k < data.length; k++) if (data[k] < 0 || data[k] >= V) return false;
    return true;
  }
  return false;
}

/** transformers' defaults when these are not passed: attention_mask ones, token_type_ids zeros, position_ids arange(L) per row. */
function defaultFeed(name: string, feeds: Record<string, Tensor>): Tensor | undefined {
  const ids = feeds.input_ids;
  if (!ids || ids.ndim !== 2) return undefined;
  if (name === 'attention_mask') return Tensor.full('int64', ids.shape, 1);
  if (name === 'token_type_ids') return Tensor.full('int64', ids.shape);
  if (name === 'position_ids') {
    const [n, L] = ids.shape;
    const t = Tensor.full('int64', ids.shape);
    const d = t.data as BigInt64Array;
    for (let r = 0; r < n; r++) for (let j = 0; j < L; j++) d[r * L + j] = BigInt(j);
    return t;
  }
  return undefined;
}

function narrowToInt32(t: Tensor, name: string, file: string): Tensor {
  const out = new Int32Array(t.size);
  for (let i = 0; i < t.size; i++) {
    const v = t.at(i);
    if (v > 2147483647 || v < -2147483648) {
      throw new EvalpredError(`${file}: input "${name}" is int32 in the model, but value ${v} does not fit int32.`, { file, tensor: name });
    }
    out[i] = v;
  }
  return new Tensor('int32', t.shape, out);
}

function valueInfo(m: ort.InferenceSession.ValueMetadata): ValueInfo {
  if (!m.isTensor) return { name: m.name, type: 'non-tensor', dims: null };
  // ORT reports an unknown shape as []: we cannot tell it from a scalar, and no model input we feed is a scalar.
  return { name: m.name, type: m.type, dims: m.shape.length ? [...m.shape] : null };
}

const DIRECT: Partial<Record<string, DType>> = {
  float32: 'float32',
  float64: 'float64',
  float16: 'float16',
  int8: 'int8',
  uint8: 'uint8',
  int16: 'int16',
  int32: 'int32',
  int64: 'int64',
  bool: 'bool',
};

/** Our Tensor -> ORT tensor, sharing the typed array (ORT's 'bool' takes a Uint8Array, 'float16' the Uint16Array bits). */
export function toOrt(t: Tensor): ort.Tensor {
  return new (onnxRuntime().Tensor)(t.dtype, t.data as never, [...t.shape]);
}

/** ORT tensor -> our Tensor, sharing the typed array; types we do not carry are widened to one we do. */
export function fromOrt(v: ort.Tensor, name: string, file: string): Tensor {
  const dims = [...v.dims];
  const direct = DIRECT[v.type];
  if (direct) {
    let data = v.data as unknown as Tensor['data'];
    // onnxruntime ≥1.22 may hand float16 back as a Float16Array where the runtime has one: keep the bits.
    if (direct === 'float16' && !(data instanceof Uint16Array)) data = new Uint16Array((data as unknown as ArrayBufferView).buffer, (data as unknown as ArrayBufferView).byteOffset, v.size);
    return new Tensor(direct, dims, data);
  }
  if (v.type === 'uint16') return new Tensor('int32', dims, Int32Array.from(v.data as Uint16Array));
  if (v.type === 'uint32') return new Tensor('int64', dims, BigInt64Array.from(v.data as Uint32Array, (x) => BigInt(x)));
  if (v.type === 'uint64') return new Tensor('int64', dims, new BigInt64Array((v.data as BigUint64Array).buffer, (v.data as BigUint64Array).byteOffset, v.size));
  throw new EvalpredError(`${file}: output "${name}" is ${v.type}, which evalpred cannot turn into an array for compute_metrics.`, { file, tensor: name });
}

// ---- locating and checking the file -------------------------------------------------------------------

function locateModelFile(p: string): string {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(p);
  } catch {
    throw new EvalpredError(`${p} does not exist: --model takes a folder holding model.onnx (and config.json, tokenizer.json) or an .onnx file.`, { file: p });
  }
  if (stat.isFile()) return p;
  for (const c of MODEL_FILE_CANDIDATES) {
    const f = path.join(p, c);
    if (fs.existsSync(f)) return f;
  }
  const files = listFolder(p);
  const onnx = files.filter((f) => f.endsWith('.onnx'));
  const hint = onnx.length
    ? ` It has ${onnx.join(', ')}: pass one of them as the model file (model_quantized.onnx / model_optimized.onnx are optimum's ` +
      `quantized and optimized variants; encoder_model.onnx / decoder_model.onnx are seq2seq halves, which evalpred run opens together when the folder holds them).`
    : ` Export one with \`optimum-cli export onnx --model <checkpoint> ${p}\`, which writes model.onnx beside config.json and tokenizer.json.`;
  throw new EvalpredError(
    `${p} has no model.onnx (looked for ${MODEL_FILE_CANDIDATES.join(' and ')}); the folder holds ${files.length ? files.join(', ') : 'nothing'}.${hint}`,
    { file: p },
  );
}

function listFolder(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) {
      for (const f of fs.readdirSync(path.join(dir, e.name))) out.push(path.join(e.name, f));
    } else out.push(e.name);
  }
  return out.sort();
}

/** Empty files and Git LFS pointers fail in ORT with an unhelpful protobuf message: say what they are. */
function checkFileLooksLikeOnnx(file: string): void {
  const size = fs.statSync(file).size;
  if (size === 0) throw new EvalpredError(`${file} is empty (0 bytes), so it is not an ONNX model; the export or the download did not finish.`, { file });
  if (size < 1024) {
    const head = fs.readFileSync(file, 'utf8');
    if (head.startsWith('version https://git-lfs')) {
      throw new EvalpredError(`${file} is a Git LFS pointer, not the model: run \`git lfs pull\` in that repository (or download the file itself).`, { file });
    }
  }
}

function loadError(file: string, e: unknown): EvalpredError {
  const msg = messageOf(e);
  if (/Unsupported data type: 16/.test(msg)) {
    return new EvalpredError(
      `${file} has a bfloat16 input or output, which onnxruntime-node cannot pass to JavaScript. Re-export it in float32 ` +
        `(Trainer converts bfloat16 predictions to float32 anyway), or add a Cast to float32 before each bfloat16 output.`,
      { file },
      { cause: e },
    );
  }
  const why = /Protobuf parsing failed/i.test(msg)
    ? ` The file (${fs.statSync(file).size} bytes) is cut short or is not an ONNX ModelProto: export or download it again.`
    : '';
  return new EvalpredError(`${file} is not a model onnxruntime can load: ${oneSentence(e)}${why}`, { file }, { cause: e });
}

/** ORT's reason without its "Load model from <path> failed:" / "[ONNXRuntimeError] : 7 : ..." preamble. */
function oneSentence(e: unknown): string {
  let m = messageOf(e).trim();
  m = m.replace(/^Load model from .*? failed:\s*/s, '');
  m = m.replace(/^\[ONNXRuntimeError\]\s*:\s*\d+\s*:\s*\w+\s*:\s*/, '');
  m = m.replace(/\s+/g, ' ');
  if (m.length > 400) m = `${m.slice(0, 400)}…`;
  return /[.!?…]$/.test(m) ? m : `${m}.`;
}

// ---- the vocabulary bound -------------------------------------------------------------------------------

function resolveVocab(file: string, explicit: number | undefined): { size: number; source: string } | null {
  if (explicit !== undefined) return { size: explicit, source: 'as given' };
  const cfg = path.join(path.dirname(file), 'config.json');
  try {
    const raw = JSON.parse(fs.readFileSync(cfg, 'utf8')) as { vocab_size?: unknown };
    if (typeof raw.vocab_size === 'number' && Number.isInteger(raw.vocab_size) && raw.vocab_size > 0) {
      return { size: raw.vocab_size, source: `vocab_size in ${cfg}` };
    }
  } catch {
    /* no or bad config.json: config.ts reports that; fall back to the graph */
  }
  try {
    const rows = embeddingRows(file);
    if (rows !== null) return { size: rows, source: `rows of the word-embedding initializer in ${path.basename(file)}` };
  } catch {
    /* a graph we cannot read: no bound (ORT's own Gather check remains) */
  }
  return null;
}
