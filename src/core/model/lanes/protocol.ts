// Messages between an inference lane (dist/laneWorker.js, worker.ts) and the session that dispatches batches to it
// (pool.ts). Tensors travel as onnxruntime's own triple: type name, typed array, dims.
import type * as ort from 'onnxruntime-node';

export interface WireTensor {
  type: ort.Tensor.Type;
  data: ort.Tensor.DataType;
  dims: number[];
}

export type ToLane =
  | { type: 'open'; file: string; options: ort.InferenceSession.SessionOptions }
  | { type: 'run'; id: number; feeds: Record<string, WireTensor> };

export type FromLane =
  | { type: 'ready' }
  | { type: 'openFailed'; message: string }
  | { type: 'ran'; id: number; outputs: Record<string, WireTensor> }
  | { type: 'failed'; id: number; message: string };
