// Messages between an inference lane (dist/laneWorker.js, worker.ts) and the session that dispatches batches to it
// (pool.ts). Tensors travel as onnxruntime's own triple: type name, typed array, dims.
import type * as ort from 'onnxruntime-node';
import { onnxRuntime } from '../../native';

export interface WireTensor {
  type: ort.Tensor.Type;
  data: ort.Tensor.DataType;
  dims: number[];
}

export type ToLane =
  | { type: 'open'; file: string; options: ort.InferenceSession.SessionOptions }
  | { type: 'run'; feeds: Record<string, WireTensor> };

export type FromLane =
  | { type: 'ready' }
  | { type: 'openFailed'; message: string }
  | { type: 'ran'; outputs: Record<string, WireTensor> }
  | { type: 'failed'; message: string };

/** onnxruntime tensors as they travel (their typed arrays are copied, or moved when listed for transfer). */
export function toWire(tensors: Readonly<Record<string, ort.Tensor>>): Record<string, WireTensor> {
  const out: Record<string, WireTensor> = {};
  for (const [k, t] of Object.entries(tensors)) out[k] = { type: t.type, data: t.data, dims: [...t.dims] };
  return out;
}

/** Tensors that travelled, as onnxruntime tensors again (sharing their typed arrays). */
export function fromWire(tensors: Record<string, WireTensor>): Record<string, ort.Tensor> {
  const rt = onnxRuntime();
  const out: Record<string, ort.Tensor> = {};
  for (const [k, t] of Object.entries(tensors)) out[k] = new rt.Tensor(t.type, t.data as never, t.dims);
  return out;
}
