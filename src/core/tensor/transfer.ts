// TensorNodes across postMessage: class instances lose their prototype in the structured clone, so send
// plain records and rebuild. Buffers that a tensor owns whole are transferred (no copy); views into a
// larger buffer are copied once. A file-backed tensor goes as its file's path and is opened again on the
// other side (docs/cache-format.md#arrays-larger-than-memory): its bytes never cross.
import { DType, TensorData } from './dtype';
import { openNpyFile } from './npy';
import { BatchInputs, Tensor, TensorNode, EvalPredictionData, EvalPredictionField } from './tensor';

export type WireTensor = { t: DType; s: number[]; d: TensorData };
/** A file-backed tensor: the .npy file that holds it. */
export type WireFile = { t: DType; s: number[]; f: string };
export type WireNode = WireTensor | WireFile | { tuple: WireNode[] } | { list: WireNode[] };

export function isWireFile(w: WireNode): w is WireFile {
  return 'f' in w;
}
export type WireBatchInputs = { keys: string[]; main: string; lists: Record<string, WireNode> };
export type WireEvalPred = { [K in EvalPredictionField]: WireNode | null } & { batchInputs?: WireBatchInputs };

export function toWire(node: TensorNode, transfer: Set<ArrayBuffer>): WireNode {
  if (node instanceof Tensor) {
    if (node.backing) return { t: node.dtype, s: [...node.shape], f: node.backing.file };
    let d = node.data;
    const whole = d.byteOffset === 0 && d.byteLength === d.buffer.byteLength && d.buffer instanceof ArrayBuffer;
    if (!whole || transfer.has(d.buffer as ArrayBuffer)) d = d.slice() as TensorData;
    transfer.add(d.buffer as ArrayBuffer);
    return { t: node.dtype, s: [...node.shape], d };
  }
  return 'tuple' in node ? { tuple: node.tuple.map((n) => toWire(n, transfer)) } : { list: node.list.map((n) => toWire(n, transfer)) };
}

export function fromWire(w: WireNode): TensorNode {
  if ('f' in w) {
    const t = openNpyFile(w.f);
    return t.shape.join(',') === w.s.join(',') ? t : t.reshape(w.s);
  }
  if ('t' in w) return new Tensor(w.t, w.s, w.d);
  return 'tuple' in w ? { tuple: w.tuple.map(fromWire) } : { list: w.list.map(fromWire) };
}

export function evalPredToWire(ep: EvalPredictionData, transfer: Set<ArrayBuffer>): WireEvalPred {
  const f = (n: TensorNode | null) => (n ? toWire(n, transfer) : null);
  const w: WireEvalPred = { predictions: f(ep.predictions), labelIds: f(ep.labelIds), inputs: f(ep.inputs), losses: f(ep.losses) };
  const b = ep.batchInputs;
  if (b) w.batchInputs = { keys: [...b.keys], main: b.main, lists: mapValues(b.lists, (n) => toWire(n, transfer)) };
  return w;
}

export function evalPredFromWire(w: WireEvalPred): EvalPredictionData {
  const f = (n: WireNode | null) => (n ? fromWire(n) : null);
  const ep: EvalPredictionData = { predictions: f(w.predictions), labelIds: f(w.labelIds), inputs: f(w.inputs), losses: f(w.losses) };
  const b = w.batchInputs;
  if (b) ep.batchInputs = { keys: [...b.keys], main: b.main, lists: mapValues(b.lists, fromWire) } satisfies BatchInputs;
  return ep;
}

function mapValues<A, B>(o: Record<string, A>, f: (a: A) => B): Record<string, B> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, f(v)]));
}
