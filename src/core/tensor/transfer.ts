// TensorNodes across postMessage: class instances lose their prototype in the structured clone, so send
// plain records and rebuild. Buffers that a tensor owns whole are transferred (no copy); views into a
// larger buffer are copied once.
import { DType, TensorData } from './dtype';
import { Tensor, TensorNode, EvalPredictionData } from './tensor';

export type WireNode = { t: DType; s: number[]; d: TensorData } | { tuple: WireNode[] } | { list: WireNode[] };
export type WireEvalPred = { [K in keyof EvalPredictionData]: WireNode | null };

export function toWire(node: TensorNode, transfer: Set<ArrayBuffer>): WireNode {
  if (node instanceof Tensor) {
    let d = node.data;
    const whole = d.byteOffset === 0 && d.byteLength === d.buffer.byteLength && d.buffer instanceof ArrayBuffer;
    if (!whole || transfer.has(d.buffer as ArrayBuffer)) d = d.slice() as TensorData;
    transfer.add(d.buffer as ArrayBuffer);
    return { t: node.dtype, s: [...node.shape], d };
  }
  return 'tuple' in node ? { tuple: node.tuple.map((n) => toWire(n, transfer)) } : { list: node.list.map((n) => toWire(n, transfer)) };
}

export function fromWire(w: WireNode): TensorNode {
  if ('t' in w) return new Tensor(w.t, w.s, w.d);
  return 'tuple' in w ? { tuple: w.tuple.map(fromWire) } : { list: w.list.map(fromWire) };
}

export function evalPredToWire(ep: EvalPredictionData, transfer: Set<ArrayBuffer>): WireEvalPred {
  const f = (n: TensorNode | null) => (n ? toWire(n, transfer) : null);
  return { predictions: f(ep.predictions), labelIds: f(ep.labelIds), inputs: f(ep.inputs), losses: f(ep.losses) };
}

export function evalPredFromWire(w: WireEvalPred): EvalPredictionData {
  const f = (n: WireNode | null) => (n ? fromWire(n) : null);
  return { predictions: f(w.predictions), labelIds: f(w.labelIds), inputs: f(w.inputs), losses: f(w.losses) };
}
